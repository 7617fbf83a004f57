/*
 * dcmmcm/request.h: the media creation request (the N-CREATE attributes of PS3.4 Table
 * S.3.2.1.1-1 plus the Initiate arguments of Table S.3.2.2.1-1) as a C object, and its validation.
 *
 * Setters check syntax at once (PS3.5 value representations, PS3.3 C.22.1 enumerated values) and
 * refuse a bad value with MCM_EINVAL and a message in mcm_last_error(). mcm_request_validate()
 * checks a whole request and says what an SCP must answer for it.
 *
 * Thread safety: a request is not locked; share it between threads read-only.
 */
#ifndef DCMMCM_REQUEST_H
#define DCMMCM_REQUEST_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tags are (group << 16) | element. */
#define MCM_TAG(group, element) ((uint32_t)(((uint32_t)(group) << 16) | (uint32_t)(element)))

/* Attributes of the Media Creation Management module (PS3.3 C.22.1) and SOP Common. */
#define MCM_TAG_SPECIFIC_CHARACTER_SET       MCM_TAG(0x0008, 0x0005) /* CS 1-n */
#define MCM_TAG_STORAGE_MEDIA_FILESET_ID     MCM_TAG(0x0088, 0x0130) /* SH */
#define MCM_TAG_STORAGE_MEDIA_FILESET_UID    MCM_TAG(0x0088, 0x0140) /* UI */
#define MCM_TAG_LABEL_USING_INFORMATION      MCM_TAG(0x2200, 0x0001) /* CS YES/NO */
#define MCM_TAG_LABEL_TEXT                   MCM_TAG(0x2200, 0x0002) /* UT */
#define MCM_TAG_LABEL_STYLE_SELECTION        MCM_TAG(0x2200, 0x0003) /* CS, no defined terms */
#define MCM_TAG_MEDIA_DISPOSITION            MCM_TAG(0x2200, 0x0004) /* LT */
#define MCM_TAG_BARCODE_VALUE                MCM_TAG(0x2200, 0x0005) /* LT */
#define MCM_TAG_BARCODE_SYMBOLOGY            MCM_TAG(0x2200, 0x0006) /* CS, defined terms */
#define MCM_TAG_ALLOW_MEDIA_SPLITTING        MCM_TAG(0x2200, 0x0007) /* CS YES/NO */
#define MCM_TAG_INCLUDE_NON_DICOM_OBJECTS    MCM_TAG(0x2200, 0x0008) /* CS, defined terms */
#define MCM_TAG_INCLUDE_DISPLAY_APPLICATION  MCM_TAG(0x2200, 0x0009) /* CS YES/NO */
#define MCM_TAG_PRESERVE_COMPOSITE_INSTANCES MCM_TAG(0x2200, 0x000A) /* CS YES/NO */
#define MCM_TAG_ALLOW_LOSSY_COMPRESSION      MCM_TAG(0x2200, 0x000F) /* CS YES/NO */
#define MCM_TAG_NUMBER_OF_COPIES             MCM_TAG(0x2000, 0x0010) /* IS, Initiate */
#define MCM_TAG_REQUEST_PRIORITY             MCM_TAG(0x2200, 0x0020) /* CS HIGH/MED/LOW, Initiate */
/* Sequences and their item attributes. */
#define MCM_TAG_REFERENCED_SOP_SEQUENCE      MCM_TAG(0x0008, 0x1199)
#define MCM_TAG_REFERENCED_SOP_CLASS_UID     MCM_TAG(0x0008, 0x1150)
#define MCM_TAG_REFERENCED_SOP_INSTANCE_UID  MCM_TAG(0x0008, 0x1155)
#define MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE MCM_TAG(0x2200, 0x000C)
#define MCM_TAG_ICON_IMAGE_SEQUENCE          MCM_TAG(0x0088, 0x0200)
#define MCM_TAG_FAILED_SOP_SEQUENCE          MCM_TAG(0x0008, 0x1198)
#define MCM_TAG_FAILURE_REASON               MCM_TAG(0x0008, 0x1197)
#define MCM_TAG_FAILURE_ATTRIBUTES           MCM_TAG(0x2200, 0x000E)
#define MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE MCM_TAG(0x2200, 0x000D)
/* Maintained by the SCP. */
#define MCM_TAG_EXECUTION_STATUS             MCM_TAG(0x2100, 0x0020)
#define MCM_TAG_EXECUTION_STATUS_INFO        MCM_TAG(0x2100, 0x0030)
#define MCM_TAG_TOTAL_NUMBER_OF_PIECES       MCM_TAG(0x2200, 0x000B)
/* Forbidden in the data set (PS3.4 5.4.2.3). */
#define MCM_TAG_SOP_CLASS_UID                MCM_TAG(0x0008, 0x0016)
#define MCM_TAG_SOP_INSTANCE_UID             MCM_TAG(0x0008, 0x0018)

/* Request Priority (2200,0020). */
typedef enum mcm_priority {
    MCM_PRIORITY_UNSET = 0, /* not sent; the SCP treats it as MED */
    MCM_PRIORITY_HIGH = 1,
    MCM_PRIORITY_MED = 2,
    MCM_PRIORITY_LOW = 3
} mcm_priority;

/* "HIGH", "MED", "LOW", or NULL for UNSET. */
MCM_EXTERN const char *mcm_priority_name(mcm_priority priority);
/* Parse "HIGH"/"MED"/"LOW" (exact, case-sensitive as CS requires) into *out; MCM_EINVAL otherwise. */
MCM_EXTERN int mcm_priority_parse(const char *name, mcm_priority *out);

/* An icon for the instance's DICOMDIR record (Icon Image Sequence item: the Image Pixel Macro
 * within the PS3.3 F.7 limits). All pointers are borrowed by the setter and copied. */
typedef struct mcm_icon {
    uint16_t rows;
    uint16_t columns;
    uint16_t bits_allocated;           /* 1 or 8 */
    uint16_t bits_stored;              /* equal to bits_allocated */
    uint16_t high_bit;                 /* bits_stored - 1 */
    const char *photometric;           /* "MONOCHROME1", "MONOCHROME2" or "PALETTE COLOR" */
    const uint8_t *pixel_data;         /* rows*columns*bits_allocated/8 bytes (rounded up) */
    size_t pixel_data_length;
    /* PALETTE COLOR only: descriptors (entries, first mapped value, bits) and LUT data. */
    uint16_t palette_descriptor[3];
    const uint8_t *red_palette, *green_palette, *blue_palette;
    size_t palette_length;             /* bytes in each of the three LUTs */
} mcm_icon;

/* One Referenced SOP Sequence item, as read back. Strings are owned by the request. */
typedef struct mcm_reference {
    const char *sop_class_uid;         /* Referenced SOP Class UID (0008,1150) */
    const char *sop_instance_uid;      /* Referenced SOP Instance UID (0008,1155) */
    const char *profile;               /* Requested Media Application Profile, NULL if absent */
    const mcm_icon *icon;              /* Icon Image Sequence item, NULL if absent */
} mcm_reference;

typedef struct mcm_request mcm_request;

/* A new empty request in *out; free it with mcm_request_free(). */
MCM_EXTERN int mcm_request_new(mcm_request **out);
/* Free a request and everything it owns. NULL is ignored. */
MCM_EXTERN void mcm_request_free(mcm_request *request);
/* A deep copy of request in *out; free it with mcm_request_free(). */
MCM_EXTERN int mcm_request_clone(mcm_request **out, const mcm_request *request);

/* Append a Referenced SOP Sequence item. The UIDs must be valid (PS3.5 9.1); profile may be NULL,
 * else an LO value (at most 64 characters, no backslash or control character). */
MCM_EXTERN int mcm_request_add_reference(mcm_request *request, const char *sop_class_uid,
                                         const char *sop_instance_uid, const char *profile);
/* Set (icon != NULL) or remove the icon of item index; MCM_ENOTFOUND if there is no such item,
 * MCM_EINVAL if the icon breaks the PS3.3 F.7 limits. */
MCM_EXTERN int mcm_request_set_icon(mcm_request *request, size_t index, const mcm_icon *icon);
/* Number of Referenced SOP Sequence items. */
MCM_EXTERN size_t mcm_request_reference_count(const mcm_request *request);
/* Item index into *out (pointers valid until the request changes or is freed). */
MCM_EXTERN int mcm_request_reference(const mcm_request *request, size_t index, mcm_reference *out);

/* Set a single-valued attribute of the module by tag, from its DICOM string value (e.g.
 * MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"); value NULL removes it. The value is checked against the
 * attribute's VR and enumerated values; MCM_EINVAL for an unknown tag (sequences included) or a
 * bad value, leaving the request unchanged. A CS value is stored without its leading and trailing
 * spaces (not significant, PS3.5 6.2). Accepted tags: every MCM_TAG_* of the first group above. */
MCM_EXTERN int mcm_request_set_attribute(mcm_request *request, uint32_t tag, const char *value);
/* The value of an attribute set on the request, or NULL if absent. */
MCM_EXTERN const char *mcm_request_attribute(const mcm_request *request, uint32_t tag);

/* Typed conveniences for the Initiate arguments: Number of Copies (1..MCM_MAX_COPIES; 0 removes it)
 * and Request Priority (MCM_PRIORITY_UNSET removes it). Getters return 0 / UNSET when absent or invalid. */
#define MCM_MAX_COPIES 9999
MCM_EXTERN int mcm_request_set_copies(mcm_request *request, int copies);
MCM_EXTERN int mcm_request_copies(const mcm_request *request);
MCM_EXTERN int mcm_request_set_priority(mcm_request *request, mcm_priority priority);
MCM_EXTERN mcm_priority mcm_request_priority(const mcm_request *request);

/* Validation flags. */
#define MCM_VALIDATE_STRICT 0x1u /* unknown attributes 0105, empty optional values 0121,
                                  * File-set IDs not DICOMDIR-safe 0106 (digest A8, A9) */

/* Check a whole N-CREATE request and fill *out with what an SCP must answer: status 0000, or
 * 0120 (missing Referenced SOP Sequence or item attributes), 0121 (empty values), 0106 (invalid
 * values), 0105 (unknown attributes, strict mode only), with the offending tags and an Error
 * Comment of at most 64 characters. Returns MCM_OK whatever the status (MCM_EINVAL for NULLs). */
MCM_EXTERN int mcm_request_validate(const mcm_request *request, unsigned flags, mcm_response *out);

/* Make a File-set ID safe for a DICOMDIR (CS: A-Z 0-9 _, at most 16 characters): upper-case,
 * other characters become '_' (digest A8). out must hold 17 bytes. Returns out. */
MCM_EXTERN char *mcm_fileset_id_sanitize(const char *fileset_id, char out[17]);

/* A new UID "2.25.<random 128-bit UUID as decimal>" (PS3.5 B.2) in out (65 bytes). */
MCM_EXTERN int mcm_uid_generate(char out[MCM_UID_MAX + 1]);

/* 1 if uid is a valid UID (PS3.5 9.1: digits and dots, no empty component, no leading zero in a
 * component of more than one digit, at most 64 characters), else 0. */
MCM_EXTERN int mcm_uid_is_valid(const char *uid);

#ifdef __cplusplus
}
#endif

#endif
