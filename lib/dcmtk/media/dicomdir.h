/*
 * lib/dcmtk/media/dicomdir.h: what the media writer (lib/media/, C) asks of DCMTK (lib/dcmtk/media/dicomdir.cc):
 * inspecting a stored instance (its identity, the attributes a DICOMDIR and a label need, and its
 * conformance to a Media Application Profile), rewriting it in explicit VR little endian, building
 * a DICOMDIR with DicomDirInterface, and converting text to UTF-8. Plain C types only; every
 * function returns an mcm_error code with a message (mcm_error_set) and never throws.
 *
 * Threads: every function may run on several threads at once (one DicomDirInterface per builder;
 * DCMTK is built WITH_THREADS; codecs are registered once per process).
 */
#ifndef MCM_LIB_DCMTK_DICOMDIR_H
#define MCM_LIB_DCMTK_DICOMDIR_H

#include "dcmmcm/common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The DICOMDIR rule sets of the supported profiles (DCMTK's DicomDirInterface application
 * profiles, which follow PS3.11). */
typedef enum mcm_dd_profile {
    MCM_DD_GENERAL_PURPOSE = 0, /* STD-GEN-CD, STD-GEN-BD: explicit VR little endian only */
    MCM_DD_DVD_JPEG,
    MCM_DD_DVD_J2K,
    MCM_DD_BD_JPEG,
    MCM_DD_BD_J2K,
    MCM_DD_USB_JPEG,            /* USB, MMC, CF, SD */
    MCM_DD_USB_J2K,
    MCM_DD_DVD_MPEG2_MPML,
    MCM_DD_BD_MPEG2_MPML,
    MCM_DD_BD_MPEG2_MPHL,
    MCM_DD_BD_MPEG4_HPLV41,
    MCM_DD_BD_MPEG4_HPLV41BD,
    MCM_DD_BD_MPEG4_HPLV42_2D,
    MCM_DD_BD_MPEG4_HPLV42_3D,
    MCM_DD_BD_MPEG4_SHPLV42
} mcm_dd_profile;

/* The verdict of checking one instance against a profile. */
typedef enum mcm_dicom_verdict {
    MCM_DICOM_OK = 0,
    MCM_DICOM_UNREADABLE,         /* not a Part 10 file DCMTK can read */
    MCM_DICOM_SOP_CLASS,          /* the profile does not allow the SOP class (0202H) */
    MCM_DICOM_TRANSFER_SYNTAX,    /* the profile does not allow the transfer syntax as it is */
    MCM_DICOM_ATTRIBUTES          /* attributes the DICOMDIR needs are absent (missing[]: 0120H)
                                   * or empty (empty[]: 0121H); both lists may be empty when DCMTK
                                   * refused for a rule this layer does not name */
} mcm_dicom_verdict;

#define MCM_DICOM_MAX_TAGS 16

/* What inspecting one stored instance found. Strings are UTF-8 (converted from the instance's
 * Specific Character Set), never NULL ("" when absent), owned by the info: free them with
 * mcm_dicom_info_clear(). */
typedef struct mcm_dicom_info {
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char transfer_syntax_uid[65];
    char *patient_id, *patient_name, *patient_birth_date, *patient_sex;
    char *study_instance_uid, *study_date, *study_time, *study_description, *study_id, *accession_number;
    char *series_instance_uid, *series_number, *modality;
    char *instance_number;
    mcm_dicom_verdict verdict;
    uint32_t missing[MCM_DICOM_MAX_TAGS];
    size_t missing_count;
    uint32_t empty[MCM_DICOM_MAX_TAGS];
    size_t empty_count;
} mcm_dicom_info;

/* Read the file at path (without loading bulk data) into *out and check it against profile: the
 * SOP class, the attributes the DICOMDIR records need, and, if check_transfer_syntax, the
 * transfer syntax as it is. *out is filled (and must be cleared) whenever MCM_OK is returned,
 * whatever the verdict; an unreadable file is the verdict MCM_DICOM_UNREADABLE, not an error.
 * Errors: MCM_EINVAL, MCM_ENOMEM, MCM_EINTERNAL. */
int mcm_dicom_inspect(const char *path, mcm_dd_profile profile, int check_transfer_syntax, mcm_dicom_info *out);
void mcm_dicom_info_clear(mcm_dicom_info *info);

/* Write the instance at src as a new Part 10 file dst in explicit VR little endian, decoding
 * compressed pixel data (JPEG, JPEG-LS, RLE) if needed; the data set is otherwise unchanged
 * (SOP Instance UID kept: nothing is lost). dst is removed on failure. MCM_EDICOM if DCMTK cannot
 * read, decode or write it. */
int mcm_dicom_rewrite_explicit_le(const char *src, const char *dst);

/* A DICOMDIR being built for one file-set (one volume). */
typedef struct mcm_dicomdir mcm_dicomdir;

/* Start a DICOMDIR at "<root>/DICOMDIR" with File-set ID fileset_id (DICOMDIR-safe, at most 16
 * characters) under profile's rules; check_transfer_syntax 0 turns DCMTK's transfer syntax check
 * into a warning (a file-set mixing profiles of one medium, each file already checked against its
 * own profile). */
int mcm_dicomdir_begin(mcm_dicomdir **out, mcm_dd_profile profile, const char *root, const char *fileset_id,
                       int check_transfer_syntax);
/* Add the file at "<root>/<file_id>" (file_id with '/' separators, PS3.10 components).
 * MCM_EDICOM if DCMTK refuses it. */
int mcm_dicomdir_add(mcm_dicomdir *dd, const char *file_id);
/* Write the DICOMDIR and give it File-set UID fileset_uid (Media Storage SOP Instance UID in its
 * File Meta Information, PS3.10 8.6). */
int mcm_dicomdir_finish(mcm_dicomdir *dd, const char *fileset_uid);
void mcm_dicomdir_free(mcm_dicomdir *dd);

/* Read a DICOMDIR's File-set ID (0004,1130) and File-set UID (0002,0003). */
int mcm_dicomdir_read_ids(const char *path, char fileset_id[17], char fileset_uid[65]);

/* Convert text of length bytes, encoded in Specific Character Set charset (its value as sent,
 * backslash-separated terms; NULL or "" for the default repertoire), to a new UTF-8 string in *out
 * (free it with free()). Characters that cannot be converted become '?'; never fails for text
 * reasons. MCM_ENOMEM only. */
int mcm_dicom_text_to_utf8(const char *charset, const char *text, size_t length, char **out);

#ifdef __cplusplus
}
#endif

#endif
