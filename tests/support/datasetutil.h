/*
 * tests/support/datasetutil.h: C entry points into lib/dcmtk/dataset.cc for the C suites
 * (tests/support/datasetutil.cc): round trips through a real DcmDataset, optionally encoded to bytes in a
 * transfer syntax and parsed back, as DIMSE does on the wire.
 */
#ifndef MCM_TESTS_DATASETUTIL_H
#define MCM_TESTS_DATASETUTIL_H

#include "dcmmcm/job.h"
#include "dcmmcm/request.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a data set travels between encode and decode. */
typedef enum mcm_test_wire {
    MCM_TEST_WIRE_MEMORY = 0,   /* the same DcmDataset object */
    MCM_TEST_WIRE_EXPLICIT = 1, /* written as explicit VR little endian bytes, parsed back */
    MCM_TEST_WIRE_IMPLICIT = 2  /* written as implicit VR little endian bytes, parsed back */
} mcm_test_wire;

/* An extra element to add before decoding: tag, and a string value for string VRs (the
 * dictionary's VR; unknown private tags become OB with the string's bytes). item >= 0 puts it
 * into that Referenced SOP Sequence item (0-based) instead of the top level. */
typedef struct mcm_test_extra {
    uint32_t tag;
    const char *value;
    int item;
} mcm_test_extra;

/* request -> DcmDataset (part: 0 CREATE, 1 INITIATE) -> wire -> extras added -> request.
 * encode_ms / decode_ms (may be NULL) receive the time of each half (wire time excluded).
 * Returns the first mcm_error met (the library's codes), or MCM_OK. */
int mcm_test_request_roundtrip(const mcm_request *in, int part, mcm_test_wire wire, const mcm_test_extra *extras,
                               size_t extra_count, mcm_request **out, double *encode_ms, double *decode_ms);

/* job -> DcmDataset (tags/tag_count as mcm_dataset_from_job) -> wire -> extras -> job with uid. */
int mcm_test_job_roundtrip(const mcm_job *in, const uint32_t *tags, size_t tag_count, mcm_test_wire wire,
                           const mcm_test_extra *extras, size_t extra_count, const char *uid, mcm_job **out,
                           double *encode_ms, double *decode_ms);

/* 1 if tag occurs anywhere (any nesting depth) in the data set encoded from the request / job. */
int mcm_test_request_encodes_tag(const mcm_request *in, int part, uint32_t tag);
int mcm_test_job_encodes_tag(const mcm_job *in, const uint32_t *tags, size_t tag_count, uint32_t tag);

/* Number of top-level elements and of items of the Referenced SOP Sequence in the encoded request
 * (-1 if the sequence is absent). */
int mcm_test_request_encoded_shape(const mcm_request *in, int part, size_t *top_level, long *items);

#ifdef __cplusplus
}
#endif

#endif
