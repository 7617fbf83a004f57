/*
 * lib/worker.h: the SCP's media workers and housekeeping thread (lib/worker.c), as lib/service.c
 * drives them.
 *
 * Media workers claim PENDING jobs from the store (Request Priority, then arrival), check the
 * referenced instances, run the application's write_media callback with an mcm_media_context,
 * and turn the outcome into the job's next state through the state machine (digest section 6).
 * A registry of running jobs lets an N-ACTION Cancel or a stop reach the context of a job being
 * written.
 *
 * Locks: the store's mutex comes before the workers' own lock, never the other way round.
 * Claiming a job and registering it happen under the store's mutex, and so do saving a job's
 * result and unregistering it: whoever holds the store's mutex sees a CREATING job in the
 * registry, so mcm_workers_find() is exact for a caller that holds it.
 */
#ifndef MCM_LIB_WORKER_H
#define MCM_LIB_WORKER_H

#include "service.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_workers mcm_workers;

/* Workers for service, claiming from store, configured by opts (media_workers, write_media,
 * default_profile, log); all three are borrowed and must outlive the workers. No thread starts. */
int mcm_workers_new(mcm_workers **out, mcm_service *service, mcm_store *store, const mcm_scp_options *opts);
/* Stop (if running) and free. NULL is ignored. */
void mcm_workers_free(mcm_workers *workers);

/* Start opts->media_workers media threads and the housekeeping thread. MCM_ESTATE if running. */
int mcm_workers_start(mcm_workers *workers);
/* Raise the stop flag of every running job's context, wake every thread and join them: a job being
 * written goes back to PENDING (QUEUED) unless its writer finishes first. Safe to call twice;
 * mcm_workers_start() may be called again afterwards. */
void mcm_workers_stop(mcm_workers *workers);

/* A job became PENDING (Initiate): wake idle workers. */
void mcm_workers_wake(mcm_workers *workers);

/* How often the housekeeping thread runs retention (default 5000 ms); takes effect at its next wait. */
void mcm_workers_set_housekeeping_interval(mcm_workers *workers, unsigned milliseconds);

/* With the store's mutex held: 1 if the job uid is being processed by a worker here, with
 * *interruptible (may be NULL) its writer's declaration; 0 if not. */
int mcm_workers_find(mcm_workers *workers, const char *uid, int *interruptible);
/* Raise the cancel flag of the running job uid (after the job was deleted): its writer sees
 * mcm_media_should_stop() and the worker's result finds nothing to save. 1 if found, else 0. */
int mcm_workers_cancel(mcm_workers *workers, const char *uid);

#ifdef __cplusplus
}
#endif

#endif
