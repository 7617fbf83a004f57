/*
 * lib/core/request_internal.h: what the rest of the library may do with a request beyond the public
 * API: store values without checking them (a data set from the wire is taken as it is, so that
 * validation can answer with the right status), and record attributes it did not recognise.
 */
#ifndef MCM_LIB_REQUEST_INTERNAL_H
#define MCM_LIB_REQUEST_INTERNAL_H

#include "dcmmcm/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Store an attribute's value unchecked: value NULL removes it; length 0 stores an empty value
 * (present, zero length). A CS value loses its leading and trailing spaces, which are not
 * significant (PS3.5 6.2), so a value of spaces only is stored empty. The tag must be a request
 * attribute (MCM_EINVAL otherwise). */
int mcm_request_set_attribute_raw(mcm_request *request, uint32_t tag, const char *value, size_t length);
/* The stored length of an attribute's value (values may hold embedded NULs), 0 if absent. */
size_t mcm_request_attribute_length(const mcm_request *request, uint32_t tag);

/* Append an item unchecked. A NULL UID means the attribute is absent from the item; a zero
 * length means present but empty. profile NULL: absent. */
int mcm_request_add_reference_raw(mcm_request *request, const char *sop_class_uid, size_t class_length,
                                  const char *sop_instance_uid, size_t instance_length, const char *profile,
                                  size_t profile_length);
/* Set an item's icon unchecked (validation checks the F.7 limits). */
int mcm_request_set_icon_raw(mcm_request *request, size_t index, const mcm_icon *icon);
/* Mark the Referenced SOP Sequence present (possibly with zero items) or absent. A new request has
 * it absent; adding an item makes it present. */
void mcm_request_set_reference_sequence_present(mcm_request *request, int present);
int mcm_request_reference_sequence_present(const mcm_request *request);
/* The raw lengths of an item's values (for embedded-NUL and empty checks); NULL pointers in the
 * public mcm_reference mean absent. */
int mcm_request_reference_lengths(const mcm_request *request, size_t index, size_t *class_length,
                                  size_t *instance_length, size_t *profile_length);

/* Record a data set attribute the request does not know (strict mode answers 0105 with it). Only
 * the first MCM_RESPONSE_MAX_TAGS distinct tags are kept (all that a 0105 reply can list); later
 * ones are ignored, so recording stays cheap however many a hostile data set carries. */
int mcm_request_note_unknown(mcm_request *request, uint32_t tag);
size_t mcm_request_unknown_count(const mcm_request *request);
uint32_t mcm_request_unknown(const mcm_request *request, size_t index);

#ifdef __cplusplus
}
#endif

#endif
