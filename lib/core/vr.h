/*
 * lib/core/vr.h: syntax checks of DICOM values by value representation (PS3.5 6.2) and the module's
 * attribute table (tag, VR, enumerated values). Pure functions; owns no state.
 */
#ifndef MCM_LIB_VR_H
#define MCM_LIB_VR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcm_vr {
    MCM_VR_UI, MCM_VR_CS, MCM_VR_SH, MCM_VR_LO, MCM_VR_LT, MCM_VR_UT, MCM_VR_IS
} mcm_vr;

/* How an attribute's values are restricted beyond its VR. */
typedef enum mcm_value_rule {
    MCM_RULE_NONE,          /* any value of the VR */
    MCM_RULE_YES_NO,        /* enumerated YES / NO */
    MCM_RULE_PRIORITY,      /* enumerated HIGH / MED / LOW */
    MCM_RULE_NON_DICOM,     /* defined terms NO, FOR_PHYSICIAN, FOR_PATIENT, FOR_TEACHING, FOR_RESEARCH */
    MCM_RULE_CHARSET,       /* Specific Character Set: CS 1-n of PS3.3 C.12.1.1.2 defined terms */
    MCM_RULE_COPIES,        /* IS in 1..MCM_MAX_COPIES (checked as an IS at N-CREATE; 0115 at Initiate) */
    MCM_RULE_SYMBOLOGY      /* CS; defined terms are CODE128 CODE39 INTER_2_5 HIBC, others accepted (A10) */
} mcm_value_rule;

/* One single-valued attribute of the request (request.h's first group of MCM_TAG_* values). */
typedef struct mcm_attribute_def {
    uint32_t tag;
    const char *keyword;   /* e.g. "AllowMediaSplitting" */
    const char *name;      /* e.g. "Allow Media Splitting" */
    mcm_vr vr;
    mcm_value_rule rule;
} mcm_attribute_def;

/* The request attribute table, in tag order, and its length. */
extern const mcm_attribute_def mcm_request_attributes[];
extern const size_t mcm_request_attribute_count;

/* The definition of tag, or NULL if it is not a single-valued request attribute. */
const mcm_attribute_def *mcm_attribute_find(uint32_t tag);

/* Check value[0..length) against vr (length limits, character repertoire, no embedded NUL).
 * Returns 1 if valid; else 0 and a short reason ("longer than 16 characters") in why. */
int mcm_vr_check(mcm_vr vr, const char *value, size_t length, char *why, size_t why_size);

/* Check value against an attribute's VR and rule. Returns 1 if valid, else 0 and why. */
int mcm_attribute_check(const mcm_attribute_def *def, const char *value, size_t length, char *why,
                        size_t why_size);

/* 1 if value[0..length) is a valid UID (PS3.5 9.1), else 0. */
int mcm_uid_check(const char *value, size_t length);

/* 1 if title is a valid AE title (PS3.5 6.2 AE): 1-16 characters of the default repertoire (no
 * backslash, no control character, nothing outside ASCII), not only spaces (leading and trailing
 * spaces are padding); else 0. */
int mcm_ae_title_check(const char *title);

/* The name of a VR ("UI"). */
const char *mcm_vr_name(mcm_vr vr);

#ifdef __cplusplus
}
#endif

#endif
