/*
 * lib/dcmtk/dataset.h: conversion between DCMTK data sets and the core's request and job objects
 * (lib/dcmtk/dataset.cc). C++ only; used by lib/dcmtk/scu.cc and the SCP (lib/dcmtk/scp*.cc).
 *
 * Rules (digest 2, 3, 8): SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) never go into a
 * data set; values travel byte for byte in the Specific Character Set they came with (that set is
 * itself an attribute of the request and is returned with it); sequences are walked, never indexed
 * (dcmtk-notes.md section 6: indexing a 100,000-item sequence is quadratic). Every function returns
 * an mcm_error code with a message (mcm_fail) and never throws.
 */
#ifndef MCM_LIB_DCMTK_DATASET_H
#define MCM_LIB_DCMTK_DATASET_H

#include "dcmmcm/job.h"
#include "dcmmcm/request.h"

#include <stddef.h>
#include <stdint.h>

class DcmDataset;

/* What to encode from a request. */
enum mcm_request_part {
    MCM_PART_CREATE,   /* N-CREATE: every set attribute but Number of Copies and Request Priority,
                        * the Referenced SOP Sequence with profiles and icons */
    MCM_PART_INITIATE  /* Initiate Action Information: Number of Copies and Request Priority only */
};

/* Encode request into out (which is cleared first). */
int mcm_dataset_from_request(const mcm_request *request, mcm_request_part part, DcmDataset &out);

/* Decode a received data set (an N-CREATE Attribute List or an N-ACTION Action Information) into a
 * new request, taking values as they are (mcm_request_set_attribute_raw: empty values kept empty,
 * invalid values kept for validation to judge), the Referenced SOP Sequence item by item (absent
 * attributes NULL, icons decoded), and noting every other top-level or item attribute with
 * mcm_request_note_unknown() (group lengths excepted). Only MCM_ENOMEM / MCM_EDICOM are errors. */
int mcm_request_from_dataset(DcmDataset &in, mcm_request **out);

/* Encode the attributes of job listed in tags (top-level tags, in any order; tags == NULL: every
 * attribute the job carries) into out, cleared first: Execution Status, Execution Status Info,
 * Total Number of Pieces (US), Failed SOP Sequence (with Failure Reason and Failure Attributes),
 * Referenced Storage Media Sequence, the request's attributes (Specific Character Set included)
 * and its Referenced SOP Sequence. A listed tag the job does not carry is skipped; sequences with
 * no items are sent empty (3/2 allows zero length, digest A6). */
int mcm_dataset_from_job(const mcm_job *job, const uint32_t *tags, size_t tag_count, DcmDataset &out);

/* Decode an N-GET Attribute List into a new job with uid (SCU side); marks present exactly what
 * the data set holds (mcm_job_has()). */
int mcm_job_from_dataset(DcmDataset &in, const char *uid, mcm_job **out);

#endif
