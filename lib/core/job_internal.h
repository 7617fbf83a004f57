/*
 * lib/core/job_internal.h: building and changing an mcm_job inside the library (the public API only
 * reads it). The SCP changes a job's state only through mcm_job_apply(), which runs the state
 * machine; an SCU fills a job from an N-GET reply with the setters.
 */
#ifndef MCM_LIB_JOB_INTERNAL_H
#define MCM_LIB_JOB_INTERNAL_H

#include "dcmmcm/job.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCM_INFO_MAX 64 /* room for a CS term (16) with margin for a peer's longer private term */

/* A new job with uid (copied; may be NULL for an N-GET result without one), state ABSENT, an empty
 * request, no results. Free with mcm_job_free(). */
int mcm_job_new(mcm_job **out, const char *uid);
/* Replace the job's request (the job takes ownership of request, which must not be NULL). */
void mcm_job_set_request(mcm_job *job, mcm_request *request);
/* The job's request, for changing it (Initiate stores copies and priority there). */
mcm_request *mcm_job_request_mut(mcm_job *job);

/* Run the state machine for event on the job and apply the outcome (state, info). *out (may be
 * NULL) receives the transition. Returns mcm_job_next()'s result; on error the job is unchanged. */
int mcm_job_apply(mcm_job *job, const mcm_job_event *event, mcm_job_transition *out);

/* Questions the job store asks the state machine, so that it never lists states of its own (its
 * claim, recovery, expiry, queue limit and instance retention follow mcm_job_next()). None of them
 * touches mcm_last_error(). */
/* 1 if a job in state exists (IDLE, PENDING, CREATING, DONE, FAILURE): the states a store holds. */
int mcm_job_state_exists(mcm_job_state state);
/* 1 if mcm_job_next(state, NULL, event) succeeds with status 0000: the event takes effect (a
 * refused or unanswerable event, or one that is not legal in state, does not). */
int mcm_job_event_applies(mcm_job_state state, const mcm_job_event *event);
/* 1 if a job in state is live: it exists and some event other than deletion still moves it to
 * another state (IDLE, PENDING, CREATING). DONE and FAILURE are final (digest 6). */
int mcm_job_state_live(mcm_job_state state);

/* Set state and info directly: only for loading from the store or decoding an N-GET reply, never
 * to change a live job (use mcm_job_apply()). info may be NULL. */
int mcm_job_set_state(mcm_job *job, mcm_job_state state, const char *info);
void mcm_job_set_pieces(mcm_job *job, unsigned pieces);
/* Append a Failed SOP Sequence item (strings copied; profile may be NULL). */
int mcm_job_add_failed(mcm_job *job, const char *sop_class_uid, const char *sop_instance_uid, const char *profile,
                       uint16_t failure_reason, const uint32_t *failure_attributes, size_t failure_attribute_count);
/* Append a Referenced Storage Media Sequence item (strings copied). */
int mcm_job_add_media(mcm_job *job, const char *fileset_id, const char *fileset_uid);
/* Drop the results (pieces, failed items, media items): a job starting again starts clean. */
void mcm_job_clear_results(mcm_job *job);

/* Which attributes the job carries (mcm_job_has()). A job built by the SCP carries every
 * SCP-maintained attribute; an N-GET result carries those returned. */
void mcm_job_mark(mcm_job *job, uint32_t tag, int present);
/* Mark every SCP-maintained attribute present (Execution Status, Info, pieces, both sequences). */
void mcm_job_mark_maintained(mcm_job *job);

/* Bookkeeping kept with the job by the store. */
void mcm_job_set_times(mcm_job *job, int64_t created, int64_t updated);
int64_t mcm_job_created(const mcm_job *job);
int64_t mcm_job_updated(const mcm_job *job);

#ifdef __cplusplus
}
#endif

#endif
