/*
 * lib/media/profile.c: the table of Media Application Profiles the media writer supports (PS3.11
 * Annexes D, H, J, M, N; digest section 9 and A17), their media and capacities, and the transfer
 * syntax rules of each (which encodings a profile allows, what the writer may convert). Pure
 * functions over constant tables; must not touch files or DCMTK.
 */
#include "media/profile.h"

#include <string.h>

/* Secure profiles (STD-GEN-SEC-*) need encrypted files (PS3.15): not supported, so they fail with
 * 0204H like any unknown profile. STD-GEN-DVD-RAM is left out too: PS3.12 Annex P writes DVD-RAM
 * with UDF, and this writer makes ISO 9660 images only. */
static const mcm_profile profiles[] = {
    {"STD-GEN-CD", MCM_MEDIUM_CD, MCM_DD_GENERAL_PURPOSE},
    {"STD-GEN-DVD-JPEG", MCM_MEDIUM_DVD, MCM_DD_DVD_JPEG},
    {"STD-GEN-DVD-J2K", MCM_MEDIUM_DVD, MCM_DD_DVD_J2K},
    {"STD-DVD-MPEG2-MPML", MCM_MEDIUM_DVD, MCM_DD_DVD_MPEG2_MPML},
    {"STD-GEN-BD", MCM_MEDIUM_BD, MCM_DD_GENERAL_PURPOSE},
    {"STD-GEN-BD-JPEG", MCM_MEDIUM_BD, MCM_DD_BD_JPEG},
    {"STD-GEN-BD-J2K", MCM_MEDIUM_BD, MCM_DD_BD_J2K},
    {"STD-GEN-BD-MPEG2-MPML", MCM_MEDIUM_BD, MCM_DD_BD_MPEG2_MPML},
    {"STD-GEN-BD-MPEG2-MPHL", MCM_MEDIUM_BD, MCM_DD_BD_MPEG2_MPHL},
    {"STD-GEN-BD-MPEG4-HPLV41", MCM_MEDIUM_BD, MCM_DD_BD_MPEG4_HPLV41},
    {"STD-GEN-BD-MPEG4-HPLV41BD", MCM_MEDIUM_BD, MCM_DD_BD_MPEG4_HPLV41BD},
    {"STD-GEN-BD-MPEG4-HPLV42-2D", MCM_MEDIUM_BD, MCM_DD_BD_MPEG4_HPLV42_2D},
    {"STD-GEN-BD-MPEG4-HPLV42-3D", MCM_MEDIUM_BD, MCM_DD_BD_MPEG4_HPLV42_3D},
    {"STD-GEN-BD-MPEG4-SHPLV42", MCM_MEDIUM_BD, MCM_DD_BD_MPEG4_SHPLV42},
    /* PS3.11 Annex J: one profile per compression for USB, MMC, CF and SD alike. */
    {"STD-GEN-USB-JPEG", MCM_MEDIUM_FLASH, MCM_DD_USB_JPEG},
    {"STD-GEN-USB-J2K", MCM_MEDIUM_FLASH, MCM_DD_USB_J2K},
    {"STD-GEN-MMC-JPEG", MCM_MEDIUM_FLASH, MCM_DD_USB_JPEG},
    {"STD-GEN-MMC-J2K", MCM_MEDIUM_FLASH, MCM_DD_USB_J2K},
    {"STD-GEN-CF-JPEG", MCM_MEDIUM_FLASH, MCM_DD_USB_JPEG},
    {"STD-GEN-CF-J2K", MCM_MEDIUM_FLASH, MCM_DD_USB_J2K},
    {"STD-GEN-SD-JPEG", MCM_MEDIUM_FLASH, MCM_DD_USB_JPEG},
    {"STD-GEN-SD-J2K", MCM_MEDIUM_FLASH, MCM_DD_USB_J2K},
};
#define PROFILE_COUNT (sizeof profiles / sizeof profiles[0])

const char *mcm_medium_name(mcm_medium medium)
{
    switch (medium) {
    case MCM_MEDIUM_CD: return "CD";
    case MCM_MEDIUM_DVD: return "DVD";
    case MCM_MEDIUM_BD: return "BD";
    case MCM_MEDIUM_FLASH: return "USB/flash";
    }
    return "?";
}

uint64_t mcm_medium_capacity(mcm_medium medium)
{
    switch (medium) {
    case MCM_MEDIUM_CD: return 360000ull * 2048;
    case MCM_MEDIUM_DVD: return 2295104ull * 2048;
    case MCM_MEDIUM_BD: return 12219392ull * 2048;
    case MCM_MEDIUM_FLASH: return 0;
    }
    return 0;
}

const mcm_profile *mcm_profile_find(const char *name)
{
    if (name == NULL)
        return NULL;
    size_t length = strlen(name);
    while (length > 0 && name[length - 1] == ' ')
        length--;
    for (size_t i = 0; i < PROFILE_COUNT; i++)
        if (strlen(profiles[i].name) == length && memcmp(profiles[i].name, name, length) == 0)
            return &profiles[i];
    return NULL;
}

/* ---- transfer syntaxes (PS3.5 Annex A; PS3.6 Table A-1) ---- */

static int is_one_of(const char *uid, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(uid, *list) == 0)
            return 1;
    return 0;
}

/* Uncompressed encodings other than explicit VR little endian: rewriting them loses nothing. */
static const char *const uncompressed_other[] = {"1.2.840.10008.1.2",      /* implicit VR little endian */
                                                 "1.2.840.10008.1.2.2",    /* explicit VR big endian (retired) */
                                                 "1.2.840.10008.1.2.1.99", /* deflated explicit VR little endian */
                                                 NULL};

/* Compressed encodings that DCMTK decodes (dcmjpeg, dcmjpls, dcmdata's RLE codec). */
static const char *const decodable[] = {
    "1.2.840.10008.1.2.4.50", /* JPEG baseline (process 1) */
    "1.2.840.10008.1.2.4.51", /* JPEG extended (processes 2 and 4) */
    "1.2.840.10008.1.2.4.57", /* JPEG lossless (process 14) */
    "1.2.840.10008.1.2.4.70", /* JPEG lossless, first-order prediction (process 14 SV1) */
    "1.2.840.10008.1.2.4.80", /* JPEG-LS lossless */
    "1.2.840.10008.1.2.4.81", /* JPEG-LS near-lossless */
    "1.2.840.10008.1.2.5",    /* RLE lossless */
    NULL};

/* What each DICOMDIR rule set allows (DCMTK 3.6.7 DicomDirInterface::checkSOPClassAndXfer, which
 * follows PS3.11). */
static const char *const allow_uncompressed[] = {MCM_UID_EXPLICIT_VR_LE, NULL};
static const char *const allow_jpeg[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.50",
                                         "1.2.840.10008.1.2.4.51", NULL};
static const char *const allow_j2k[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
                                        NULL};
static const char *const allow_dvd_mpeg2[] = {"1.2.840.10008.1.2.4.100", NULL};
/* The BD video profiles allow their video encoding for multi-frame IODs (which DCMTK checks when
 * the file is kept as it is) and explicit VR little endian for everything. */
static const char *const allow_bd_mpeg2_mpml[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.100", NULL};
static const char *const allow_bd_mpeg2_mphl[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.101", NULL};
static const char *const allow_bd_mpeg4_41[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.102", NULL};
static const char *const allow_bd_mpeg4_41bd[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.103", NULL};
static const char *const allow_bd_mpeg4_42_2d[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.104", NULL};
static const char *const allow_bd_mpeg4_42_3d[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.105", NULL};
static const char *const allow_bd_mpeg4_s42[] = {MCM_UID_EXPLICIT_VR_LE, "1.2.840.10008.1.2.4.106", NULL};

static const char *const *allowed_for(mcm_dd_profile dicomdir)
{
    switch (dicomdir) {
    case MCM_DD_GENERAL_PURPOSE: return allow_uncompressed;
    case MCM_DD_DVD_JPEG:
    case MCM_DD_BD_JPEG:
    case MCM_DD_USB_JPEG: return allow_jpeg;
    case MCM_DD_DVD_J2K:
    case MCM_DD_BD_J2K:
    case MCM_DD_USB_J2K: return allow_j2k;
    case MCM_DD_DVD_MPEG2_MPML: return allow_dvd_mpeg2;
    case MCM_DD_BD_MPEG2_MPML: return allow_bd_mpeg2_mpml;
    case MCM_DD_BD_MPEG2_MPHL: return allow_bd_mpeg2_mphl;
    case MCM_DD_BD_MPEG4_HPLV41: return allow_bd_mpeg4_41;
    case MCM_DD_BD_MPEG4_HPLV41BD: return allow_bd_mpeg4_41bd;
    case MCM_DD_BD_MPEG4_HPLV42_2D: return allow_bd_mpeg4_42_2d;
    case MCM_DD_BD_MPEG4_HPLV42_3D: return allow_bd_mpeg4_42_3d;
    case MCM_DD_BD_MPEG4_SHPLV42: return allow_bd_mpeg4_s42;
    }
    return allow_uncompressed;
}

mcm_ts_action mcm_profile_ts_action(const mcm_profile *profile, const char *transfer_syntax_uid)
{
    const char *const *allowed = allowed_for(profile->dicomdir);
    if (transfer_syntax_uid == NULL)
        return MCM_TS_IMPOSSIBLE;
    if (is_one_of(transfer_syntax_uid, allowed))
        return MCM_TS_KEEP;
    /* Every conversion the writer makes ends in explicit VR little endian (PS3.4 S.3.2.1.1.9: lossy
     * compression only where the profile needs it and the SCU allows it). */
    if (!is_one_of(MCM_UID_EXPLICIT_VR_LE, allowed))
        return MCM_TS_NEEDS_LOSSY;
    if (strcmp(transfer_syntax_uid, MCM_UID_EXPLICIT_VR_LE) == 0 || is_one_of(transfer_syntax_uid, uncompressed_other))
        return MCM_TS_REWRITE;
    if (is_one_of(transfer_syntax_uid, decodable))
        return MCM_TS_DECODE;
    return MCM_TS_IMPOSSIBLE;
}
