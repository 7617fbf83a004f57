/*
 * lib/scu/wait.c: mcm_scu_wait(), an SCU convenience above the wire: it polls with N-GET
 * (mcm_scu_get, the public API of lib/dcmtk/scu.cc) under exponential backoff until the job is
 * DONE or FAILURE (digest A19: the SCP never pushes results). Owns no state between calls and
 * never touches DCMTK.
 */
#include "dcmmcm/scu.h"

#include "core/error.h"
#include "core/options.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000.0);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

MCM_EXTERN int mcm_scu_wait(mcm_scu *scu, const char *instance_uid, const mcm_wait_options *opts, mcm_job **job_out,
                            mcm_response *response)
{
    mcm_wait_options full = MCM_WAIT_OPTIONS_INIT;
    mcm_response local;
    if (job_out != NULL)
        *job_out = NULL;
    if (scu == NULL || instance_uid == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_scu_wait: NULL argument");
    /* Only the caller's version of its struct is read (lib/core/options.h); NULL: the defaults. */
    if (opts != NULL) {
        int rc = mcm_options_read(&full, sizeof full, opts, &mcm_wait_options_versions);
        if (rc != MCM_OK)
            return rc;
    }
    opts = &full;
    if (response == NULL)
        response = &local;

    const uint32_t *tags;
    size_t tag_count = mcm_scu_status_tags(&tags);
    /* A zero interval would poll as fast as the network allows: 1 ms is the floor. */
    double interval = opts->initial_interval_ms > 0 ? (double)opts->initial_interval_ms : 1.0;
    double max_interval = opts->max_interval_ms > interval ? (double)opts->max_interval_ms : interval;
    double deadline = opts->timeout_ms > 0 ? now_ms() + (double)opts->timeout_ms : 0;

    for (unsigned poll = 1;; poll++) {
        mcm_job *job = NULL;
        int rc = mcm_scu_get(scu, instance_uid, tags, tag_count, &job, response);
        if (rc != MCM_OK)
            return rc;
        if (job == NULL) /* a Failure reply, e.g. 0112 after a cancel or purge elsewhere (digest A19) */
            return MCM_OK;
        mcm_job_state state = mcm_job_state_of(job);
        int stop = opts->progress != NULL && opts->progress(job, poll, opts->progress_user) != 0;
        if (state == MCM_JOB_DONE || state == MCM_JOB_FAILURE) {
            if (job_out != NULL)
                *job_out = job;
            else
                mcm_job_free(job);
            return MCM_OK;
        }
        mcm_job_free(job);
        if (state != MCM_JOB_IDLE && state != MCM_JOB_PENDING && state != MCM_JOB_CREATING)
            return mcm_fail(MCM_EPROTOCOL, "N-GET reply for %s carries no valid Execution Status (2100,0020)",
                            instance_uid);
        if (stop)
            return mcm_fail(MCM_ECANCELED, "waiting for %s stopped by the progress callback after %u polls",
                            instance_uid, poll);
        double pause = interval;
        if (deadline > 0) {
            double left = deadline - now_ms();
            if (left <= 0)
                return mcm_fail(MCM_ETIMEOUT, "%s still %s after %u ms (%u polls)", instance_uid,
                                mcm_job_state_name(state), opts->timeout_ms, poll);
            if (pause > left)
                pause = left;
        }
        sleep_ms(pause);
        interval = interval * 2 < max_interval ? interval * 2 : max_interval;
    }
}
