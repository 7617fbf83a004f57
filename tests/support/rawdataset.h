/*
 * tests/support/rawdataset.h: decode data sets given as raw bytes, as a peer could send them (hostile or
 * broken encodings that the library's own encoder never writes), through lib/dcmtk/dataset.cc
 * (tests/support/rawdataset.cc).
 */
#ifndef MCM_TESTS_RAWDATASET_H
#define MCM_TESTS_RAWDATASET_H

#include "dcmmcm/job.h"
#include "dcmmcm/request.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parse bytes (explicit VR little endian when explicit_vr, else implicit) with DCMTK as DIMSE
 * does, then decode the data set as an N-CREATE attribute list (request) or an N-GET reply (job
 * with uid). Returns MCM_EDICOM if DCMTK cannot parse the bytes, else the decoder's result. */
int mcm_test_request_from_bytes(const void *bytes, size_t length, int explicit_vr, mcm_request **out);
int mcm_test_job_from_bytes(const void *bytes, size_t length, int explicit_vr, const char *uid, mcm_job **out);

#ifdef __cplusplus
}
#endif

#endif
