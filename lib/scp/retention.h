/*
 * lib/scp/retention.h: the SCP's retention (lib/scp/retention.c), as lib/scp/service.c drives it:
 * expiry of jobs and of received instances (digest A15; mcm_scp_options.retention_*), once on
 * demand or periodically from its own housekeeping thread.
 *
 * It is given everything it uses (the store, the storage directory, the service's instance lock,
 * the options and a log channel) and calls nothing above it.
 *
 * Locks: `instance_lock` (the service's: a received file's rename and record) before the store's
 * mutex, as C-STORE takes them (lib/scp/instances.c). The housekeeping thread's own lock guards only
 * its interval and stop flag and is never held while retention runs.
 */
#ifndef MCM_LIB_SCP_RETENTION_H
#define MCM_LIB_SCP_RETENTION_H

#include "scp/log_channel.h"
#include "scp/store.h"

#include <pthread.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_retention mcm_retention;

/* Retention of store's jobs and of the instance files in storage_dir (absolute, no trailing
 * slash), with the periods of opts (retention_idle_seconds, retention_done_seconds,
 * retention_instance_seconds), instance_lock held while instances expire, logging to log. store,
 * storage_dir, instance_lock and opts are borrowed and must outlive it. No thread starts. */
int mcm_retention_new(mcm_retention **out, mcm_store *store, const char *storage_dir, pthread_mutex_t *instance_lock,
                      const mcm_scp_options *opts, mcm_log_channel log);
/* Stop the thread (if running) and free. NULL is ignored. */
void mcm_retention_free(mcm_retention *retention);

/* Run retention once at time at (seconds since the epoch): expire jobs, then instances and their
 * files. Safe to call while the thread runs. */
int mcm_retention_run(mcm_retention *retention, int64_t at);

/* Start the housekeeping thread, which runs retention every interval. MCM_ESTATE if running. */
int mcm_retention_start(mcm_retention *retention);
/* Stop and join the housekeeping thread (a run in progress finishes first). Safe to call twice;
 * mcm_retention_start() may be called again afterwards. */
void mcm_retention_stop(mcm_retention *retention);
/* How often the thread runs retention (default 5000 ms); takes effect at its next wait. */
void mcm_retention_set_interval(mcm_retention *retention, unsigned milliseconds);

#ifdef __cplusplus
}
#endif

#endif
