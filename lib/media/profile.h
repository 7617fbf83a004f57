/*
 * lib/media/profile.h: the Media Application Profiles the media writer supports (PS3.11; digest
 * section 9), the medium each one writes, and what a profile does with a transfer syntax
 * (lib/media/profile.c). Pure tables: no I/O, no DCMTK.
 */
#ifndef MCM_LIB_MEDIA_PROFILE_H
#define MCM_LIB_MEDIA_PROFILE_H

#include "dcmtk/media/dicomdir.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The physical medium class of a profile. Profiles of different media cannot share one request
 * (Failure Reason 0201H, digest 4.6); profiles of one medium can (PS3.4 S.3.2.1.1.2). */
typedef enum mcm_medium {
    MCM_MEDIUM_CD = 0,
    MCM_MEDIUM_DVD = 1,
    MCM_MEDIUM_BD = 2,
    MCM_MEDIUM_FLASH = 3 /* USB, MMC, CF, SD (PS3.11 Annex J) */
} mcm_medium;

/* "CD", "DVD", "BD", "USB/flash". */
const char *mcm_medium_name(mcm_medium medium);

/* Capacity of a medium in bytes (2048-byte sectors of the smallest common recordable disc of the
 * class: CD-R 80 min 360,000; DVD+R 2,295,104; BD-R single layer 12,219,392). FLASH: 0, set by
 * the writer's options. */
uint64_t mcm_medium_capacity(mcm_medium medium);

typedef struct mcm_profile {
    const char *name;           /* the PS3.11 identifier, e.g. "STD-GEN-CD" */
    mcm_medium medium;
    mcm_dd_profile dicomdir;    /* the DICOMDIR rules (DCMTK's application profile) */
} mcm_profile;

/* The supported profile named name (trailing spaces ignored, as LO padding), or NULL. */
const mcm_profile *mcm_profile_find(const char *name);

/* What the writer must do with an instance in transfer syntax ts for a profile. */
typedef enum mcm_ts_action {
    MCM_TS_KEEP = 0,           /* the profile allows it: the file goes on the media as it is */
    MCM_TS_REWRITE = 1,        /* uncompressed in another encoding (implicit VR, big endian,
                                * deflated): rewrite as explicit VR little endian, lossless */
    MCM_TS_DECODE = 2,         /* compressed in a form DCMTK decodes (JPEG, JPEG-LS, RLE): decode to
                                * explicit VR little endian, which adds no loss */
    MCM_TS_NEEDS_LOSSY = 3,    /* the profile only allows lossy encodings (video profiles): 0203H
                                * when Allow Lossy Compression is NO; the writer has no video
                                * encoder, so 0202H otherwise */
    MCM_TS_IMPOSSIBLE = 4      /* compressed in a form the writer cannot decode (JPEG 2000, video,
                                * unknown) and not allowed by the profile: 0202H */
} mcm_ts_action;

mcm_ts_action mcm_profile_ts_action(const mcm_profile *profile, const char *transfer_syntax_uid);

#define MCM_UID_EXPLICIT_VR_LE "1.2.840.10008.1.2.1"

#ifdef __cplusplus
}
#endif

#endif
