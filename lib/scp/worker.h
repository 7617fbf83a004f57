/*
 * lib/scp/worker.h: the SCP's media workers (lib/scp/worker.c), as the service drives them
 * (lib/scp/service.c starts and stops them, lib/scp/action.c wakes and interrupts them).
 *
 * Media workers claim PENDING jobs from the store (Request Priority, then arrival), check the
 * referenced instances, run the application's write_media callback with an mcm_media_context,
 * and turn the outcome into the job's next state through the state machine (digest section 6).
 * A registry of running jobs lets an N-ACTION Cancel or a stop reach the context of a job being
 * written. The workers are given what they use (the store, the options, a log channel) and call
 * nothing above them; retention and its housekeeping thread are lib/scp/retention.c's.
 *
 * Locks: the store's mutex comes before the workers' own lock, never the other way round.
 * Claiming a job and registering it happen under the store's mutex, and so do saving a job's
 * result and unregistering it: whoever holds the store's mutex sees a CREATING job in the
 * registry, so mcm_workers_interrupt() is exact for a caller that holds it.
 */
#ifndef MCM_LIB_WORKER_H
#define MCM_LIB_WORKER_H

#include "scp/log_channel.h"
#include "scp/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_workers mcm_workers;

/* Workers claiming from store, configured by opts (media_workers, write_media, user,
 * default_profile, and log for the media contexts), logging their own lines to log; store and
 * opts are borrowed and must outlive the workers. No thread starts. */
int mcm_workers_new(mcm_workers **out, mcm_store *store, const mcm_scp_options *opts, mcm_log_channel log);
/* Stop (if running) and free. NULL is ignored. */
void mcm_workers_free(mcm_workers *workers);

/* Start opts->media_workers media threads. MCM_ESTATE if running. */
int mcm_workers_start(mcm_workers *workers);
/* Raise the stop flag of every running job's context, wake every thread and join them: a job being
 * written goes back to PENDING (QUEUED) unless its writer finishes first. Safe to call twice;
 * mcm_workers_start() may be called again afterwards. */
void mcm_workers_stop(mcm_workers *workers);

/* A job became PENDING (Initiate): wake idle workers. */
void mcm_workers_wake(mcm_workers *workers);

/* With the store's mutex held, for a Cancel of the CREATING job uid: 0 if no worker here runs it.
 * Otherwise 1, and *interrupted says whether the Cancel got the job: with take, a job whose writer
 * may be interrupted is taken from it in the same atomic step that reads the writer's declaration
 * (its mcm_media_should_stop() is non-zero from then on, and it can no longer declare itself
 * non-interruptible: media_context.h); without take (a Cancel that will be refused anyway) the
 * declaration is only read. *interrupted 0: the writer declared it cannot be interrupted (C202). */
int mcm_workers_interrupt(mcm_workers *workers, const char *uid, int take, int *interrupted);
/* With the store's mutex held, right after a Cancel deleted the CREATING job uid: its worker's
 * result is dropped unsaved. The UID is free again at once (an SCU may N-CREATE it anew and a
 * second worker take the new job before the first has finished with the old one): a save guarded
 * by the UID and the state CREATING alone would land on the new job. */
void mcm_workers_forget(mcm_workers *workers, const char *uid);

#ifdef __cplusplus
}
#endif

#endif
