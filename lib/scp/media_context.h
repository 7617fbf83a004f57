/*
 * lib/scp/media_context.h: the handle through which a media writer reports (lib/scp/media_context.c).
 * A media worker makes one per job, passes it to the write_media callback, and afterwards turns
 * what it collected into the job's next state; the stop and cancel flags may be raised from any
 * thread (an N-ACTION Cancel or mcm_scp_stop()) while the writer runs.
 */
#ifndef MCM_LIB_MEDIA_CONTEXT_H
#define MCM_LIB_MEDIA_CONTEXT_H

#include "dcmmcm/scp.h"

#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mcm_media_outcome {
    MCM_MEDIA_OUTCOME_DONE = 0,    /* writer returned 0 and reported no failure */
    MCM_MEDIA_OUTCOME_FAILED = 1,  /* mcm_media_fail(), or a non-zero return */
    MCM_MEDIA_OUTCOME_DEFERRED = 2 /* mcm_media_defer() */
} mcm_media_outcome;

/* Whether a Cancel may interrupt the job (the context's cancel_gate). One atomic holds both the
 * writer's declaration and a Cancel's claim, and each moves it only by compare-and-swap, so that
 * "no longer interruptible" and "cancelled" cannot both win: a Cancel answered 0000 has always
 * stopped the writer (PS3.4 S.3.2.3.3, digest 5.12), and a writer that went on to finish its
 * media has always made the Cancel C202. */
typedef enum mcm_cancel_gate {
    MCM_CANCEL_OPEN = 0,   /* the writer may be interrupted (the default) */
    MCM_CANCEL_CLOSED = 1, /* the writer declared it cannot be (a Cancel gets C202) */
    MCM_CANCEL_TAKEN = 2   /* a Cancel took the job: mcm_media_should_stop() is non-zero for good */
} mcm_cancel_gate;

struct mcm_media_context {
    const mcm_job *job;
    const mcm_instance *instances;
    size_t instance_count;
    atomic_int stop_requested; /* raised by mcm_scp_stop() */
    atomic_int cancel_gate;    /* mcm_cancel_gate */
    mcm_job *results;          /* collects volumes, pieces and failed items (lib/core/job_internal.h) */
    mcm_media_outcome outcome;
    char term[65]; /* Execution Status Info for FAILED / DEFERRED */
    char message[256];
    unsigned retry_seconds;
    unsigned volume, volumes; /* last progress report */
    mcm_log_fn log;
    void *log_user;
    mcm_log_level log_level;
};

/* Prepare ctx for job (borrowed for the duration). log may be NULL. */
int mcm_media_context_init(mcm_media_context *ctx, const mcm_job *job, const mcm_instance *instances,
                           size_t instance_count, mcm_log_fn log, void *log_user, mcm_log_level log_level);
void mcm_media_context_destroy(mcm_media_context *ctx);

/* Settle the outcome after the writer returned rc: a non-zero rc without mcm_media_fail() or
 * mcm_media_defer() becomes FAILED with MCD_FAILURE. */
void mcm_media_context_finish(mcm_media_context *ctx, int rc);

#ifdef __cplusplus
}
#endif

#endif
