/*
 * lib/scp/retention.c: the SCP's retention (digest A15): jobs that expire (IDLE ones after
 * retention_idle_seconds, DONE and FAILURE ones after retention_done_seconds; never a PENDING or
 * CREATING one, digest section 6), then received instances that no live job references after
 * retention_instance_seconds, and their files; and the housekeeping thread that runs it
 * periodically. Owns that thread, its interval and its stop flag.
 *
 * May call the job store and lib/core, and logs through the channel it was given; never calls
 * the service or the workers (retention.h). Which jobs may expire is the store's query
 * (mcm_store_expire_jobs); this file only decides when and removes the files.
 *
 * Locks: `lock` guards every field below it in struct mcm_retention and is never held while
 * retention runs; a run takes the service's instance lock, then (inside the store) the store's
 * mutex (retention.h).
 */
#include "scp/retention.h"

#include "core/error.h"
#include "scp/deadline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOUSEKEEPING_MS 5000u

struct mcm_retention {
    mcm_store *store;
    const char *storage_dir;
    pthread_mutex_t *instance_lock;
    const mcm_scp_options *opts;
    mcm_log_channel log;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* the housekeeping thread waits here */
    int running;         /* the thread exists */
    int stopping;        /* stop requested: the thread leaves its loop */
    unsigned interval_ms;
    unsigned long changes; /* bumped when the interval changes: start a new wait */
    pthread_t thread;
};

int mcm_retention_new(mcm_retention **out, mcm_store *store, const char *storage_dir, pthread_mutex_t *instance_lock,
                      const mcm_scp_options *opts, mcm_log_channel log)
{
    if (out == NULL || store == NULL || storage_dir == NULL || instance_lock == NULL || opts == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_retention_new: NULL argument");
    mcm_retention *r = calloc(1, sizeof *r);
    if (r == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    r->store = store;
    r->storage_dir = storage_dir;
    r->instance_lock = instance_lock;
    r->opts = opts;
    r->log = log;
    r->interval_ms = DEFAULT_HOUSEKEEPING_MS;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    *out = r;
    return MCM_OK;
}

void mcm_retention_free(mcm_retention *retention)
{
    if (retention == NULL)
        return;
    mcm_retention_stop(retention);
    pthread_cond_destroy(&retention->wake);
    pthread_mutex_destroy(&retention->lock);
    free(retention);
}

/* ---- one run ---- */

static void log_expired_job(const char *uid, void *user)
{
    mcm_retention *r = user;
    mcm_log_channel_write(&r->log, MCM_LOG_INFO, "job %s expired (retention period ended)", uid);
}

static void remove_expired_instance(const char *path, void *user)
{
    mcm_retention *r = user;
    size_t dir_length = strlen(r->storage_dir);
    /* Only files of our storage directory are ever removed, whatever the record says. */
    if (path == NULL || strncmp(path, r->storage_dir, dir_length) != 0 || path[dir_length] != '/' ||
        strchr(path + dir_length + 1, '/') != NULL) {
        mcm_log_channel_write(&r->log, MCM_LOG_WARNING, "expired instance file %s is outside %s: left in place",
                              path != NULL ? path : "(null)", r->storage_dir);
        return;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        mcm_log_channel_write(&r->log, MCM_LOG_WARNING, "cannot remove expired instance file %s: %s", path,
                              strerror(errno));
    else
        mcm_log_channel_write(&r->log, MCM_LOG_DEBUG, "instance file %s expired", path);
}

int mcm_retention_run(mcm_retention *retention, int64_t at)
{
    if (retention == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_retention_run: NULL argument");
    mcm_retention *r = retention;
    size_t jobs = 0, instances = 0;
    /* Jobs first: an expired job no longer protects its instances. */
    int rc = mcm_store_expire_jobs(r->store, at, r->opts->retention_idle_seconds, r->opts->retention_done_seconds,
                                   log_expired_job, r, &jobs);
    if (rc == MCM_OK) {
        pthread_mutex_lock(r->instance_lock);
        rc = mcm_store_expire_instances(r->store, at, r->opts->retention_instance_seconds, remove_expired_instance, r,
                                        &instances);
        pthread_mutex_unlock(r->instance_lock);
    }
    if (rc != MCM_OK)
        mcm_log_channel_write(&r->log, MCM_LOG_ERROR, "housekeeping failed: %s", mcm_last_error());
    else if (jobs > 0 || instances > 0)
        mcm_log_channel_write(&r->log, MCM_LOG_INFO, "housekeeping: %zu job(s) and %zu instance(s) expired", jobs,
                              instances);
    return rc;
}

/* ---- the housekeeping thread ---- */

static void *housekeeping_main(void *arg)
{
    mcm_retention *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        struct timespec until = mcm_deadline_after(r->interval_ms);
        unsigned long changes = r->changes;
        int waited = 0;
        while (!r->stopping && waited != ETIMEDOUT && changes == r->changes)
            waited = pthread_cond_timedwait(&r->wake, &r->lock, &until);
        if (r->stopping)
            break;
        if (changes != r->changes)
            continue; /* a new interval: wait again with it */
        pthread_mutex_unlock(&r->lock);
        mcm_retention_run(r, (int64_t)time(NULL));
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int mcm_retention_start(mcm_retention *retention)
{
    if (retention == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_retention_start: NULL argument");
    mcm_retention *r = retention;
    pthread_mutex_lock(&r->lock);
    if (r->running) {
        pthread_mutex_unlock(&r->lock);
        return mcm_fail(MCM_ESTATE, "the housekeeping thread is already running");
    }
    r->stopping = 0;
    int err = pthread_create(&r->thread, NULL, housekeeping_main, r);
    if (err == 0)
        r->running = 1;
    pthread_mutex_unlock(&r->lock);
    if (err != 0)
        return mcm_fail(MCM_ENOMEM, "cannot start the housekeeping thread: %s", strerror(err));
    return MCM_OK;
}

void mcm_retention_stop(mcm_retention *retention)
{
    if (retention == NULL)
        return;
    mcm_retention *r = retention;
    pthread_mutex_lock(&r->lock);
    if (!r->running) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    r->stopping = 1;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);

    pthread_join(r->thread, NULL);

    pthread_mutex_lock(&r->lock);
    r->running = 0;
    r->stopping = 0;
    pthread_mutex_unlock(&r->lock);
}

void mcm_retention_set_interval(mcm_retention *retention, unsigned milliseconds)
{
    if (retention == NULL)
        return;
    pthread_mutex_lock(&retention->lock);
    retention->interval_ms = milliseconds > 0 ? milliseconds : 1;
    retention->changes++;
    pthread_cond_broadcast(&retention->wake);
    pthread_mutex_unlock(&retention->lock);
}
