/*
 * tests/support/service_fixture.h: what suite_service.c and suite_worker.c share: a service on a real job
 * store in a scratch directory, real DICOM instances fed through store_begin/store_finish, request
 * builders, and a media writer whose behaviour each test chooses (complete, fail, defer, hold).
 */
#ifndef MCM_TESTS_SERVICE_FIXTURE_H
#define MCM_TESTS_SERVICE_FIXTURE_H

#include "dcmmcm.h"
#include "scp/service.h"
#include "testutil.h"

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcm_fx_mode {
    MCM_FX_COMPLETE = 0,        /* copy every instance into output_dir/<job uid>/, one volume, return 0 */
    MCM_FX_FAIL,                /* mcm_media_fail_instance(0, 0x0120, Patient ID) + mcm_media_fail(DIR_PROC_ERR) */
    MCM_FX_FAIL_RETURN,         /* return -1 without reporting anything (FAILURE MCD_FAILURE) */
    MCM_FX_DEFER_THEN_COMPLETE, /* first call: mcm_media_defer(OUT_OF_SUPPLIES, defer_seconds); then complete */
    MCM_FX_HOLD,                /* set interruptible, say so, wait for release or mcm_media_should_stop() */
    MCM_FX_FAIL_INSTANCE_ONLY,  /* mcm_media_fail_instance(0, 0x0205) and return 0 */
    MCM_FX_GATED                /* call k waits, deaf to mcm_media_should_stop(), until release_upto >= k (or
                                 * abandon); then declares itself non-interruptible and, unless
                                 * mcm_media_should_stop() now says stop (saw_stop; returns hold_returns),
                                 * completes like MCM_FX_COMPLETE, as a writer does that commits its media */
} mcm_fx_mode;

typedef struct mcm_fx_writer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    mcm_fx_mode mode;
    int interruptible;      /* MCM_FX_HOLD: what the writer declares (default 1) */
    int hold_returns;       /* MCM_FX_HOLD: what to return when stopped (default -1) */
    unsigned defer_seconds; /* MCM_FX_DEFER_THEN_COMPLETE */
    char output_dir[4096];
    /* observed, under lock */
    unsigned calls, returns;
    int holding;                     /* inside an MCM_FX_HOLD call, waiting */
    int release;                     /* set by the test: a held writer completes */
    int saw_stop;                    /* mcm_media_should_stop() was seen non-zero */
    unsigned release_upto;           /* MCM_FX_GATED: calls 1..release_upto may go on */
    int abandon;                     /* MCM_FX_GATED: every waiting call returns hold_returns */
    mcm_job_state state_seen;        /* the job's state as the writer saw it */
    char order[64][MCM_UID_MAX + 1]; /* job UIDs in call order */
    size_t order_count;
    size_t instance_count; /* of the last call */
    char profiles[8][65];  /* of the last call's first 8 instances */
    char classes[8][65];
    char paths[8][4096];
    uint64_t sizes[8];
} mcm_fx_writer;

typedef struct mcm_fx {
    char *dir;
    char storage_dir[4096];
    char database_path[4096];
    char output_dir[4096];
    mcm_scp_options opts;
    mcm_service *service;
    mcm_fx_writer writer;
} mcm_fx;

/* A scratch directory and options (storage, database, the fixture's writer); nothing opened. */
void mcm_fx_setup(mcm_fx *fx);
/* mcm_service_open with fx->opts (asserted). */
void mcm_fx_open(mcm_fx *fx);
/* Close the service (if open) and open it again on the same directory. */
void mcm_fx_reopen(mcm_fx *fx);
/* Close the service and remove the scratch directory. */
void mcm_fx_teardown(mcm_fx *fx);

/* Write a real DICOM instance of sop_class into a temporary file from store_begin and record it
 * with store_finish (both asserted 0000); uid_out receives its SOP Instance UID. */
void mcm_fx_store(mcm_fx *fx, const char *sop_class, char uid_out[MCM_UID_MAX + 1]);
/* A request referencing n instances (classes[i], uids[i]; profiles may be NULL or hold NULLs). */
mcm_request *mcm_fx_request(size_t n, const char *const *classes, const char *const *uids, const char *const *profiles);
/* A request for one freshly stored CT instance. */
mcm_request *mcm_fx_request_one(mcm_fx *fx);
/* N-CREATE (asserted 0000), uid receives the new instance UID. */
void mcm_fx_create(mcm_fx *fx, mcm_request *request, char uid[MCM_UID_MAX + 1]);
/* N-ACTION Initiate with copies (0: not sent) and priority (NULL: not sent); returns the status. */
uint16_t mcm_fx_initiate(mcm_fx *fx, const char *uid, int copies, const char *priority);
/* N-ACTION Cancel; returns the status; rsp (may be NULL) receives the reply. */
uint16_t mcm_fx_cancel(mcm_fx *fx, const char *uid, mcm_response *rsp);
/* The job's state now (MCM_JOB_ABSENT if there is none); info (65 bytes, may be NULL) its info. */
mcm_job_state mcm_fx_state(mcm_fx *fx, const char *uid, char *info);
/* Wait (polling, up to a generous deadline) until the job is in state (with info, if not NULL);
 * returns 1 if it got there. */
int mcm_fx_wait_state(mcm_fx *fx, const char *uid, mcm_job_state state, const char *info);
/* Wait until the writer has been called at least calls times / has returned returns times / is
 * holding; 1 if it happened before the deadline. */
int mcm_fx_wait_calls(mcm_fx *fx, unsigned calls);
int mcm_fx_wait_returns(mcm_fx *fx, unsigned returns);
int mcm_fx_wait_holding(mcm_fx *fx);
/* Let a held writer complete. */
void mcm_fx_release(mcm_fx *fx);
/* Let MCM_FX_GATED calls 1..call go on. */
void mcm_fx_release_upto(mcm_fx *fx, unsigned call);
/* Number of entries in a directory (without . and ..), -1 if it cannot be read. */
int mcm_fx_count_entries(const char *dir);

#ifdef __cplusplus
}
#endif

#endif
