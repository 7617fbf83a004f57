/*
 * lib/scp/media_context.c: what a media writer can report through its mcm_media_context: progress,
 * volumes, pieces, failed instances, failure or deferral, whether it may be interrupted, and its
 * log lines (through the SCP's log callback).
 * Owns the context's collected results; never changes a job's state (the worker does, through
 * the state machine, after the writer returns).
 */
#include "scp/media_context.h"

#include "core/error.h"
#include "core/log.h"
#include "core/job_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

MCM_EXTERN void mcm_media_log(mcm_media_context *ctx, mcm_log_level level, const char *fmt, ...)
{
    if (ctx == NULL || fmt == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    mcm_log_vcall(ctx->log, ctx->log_user, ctx->log_level, level, fmt, ap);
    va_end(ap);
}

int mcm_media_context_init(mcm_media_context *ctx, const mcm_job *job, const mcm_instance *instances,
                           size_t instance_count, mcm_log_fn log, void *log_user, mcm_log_level log_level)
{
    if (ctx == NULL || job == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_context_init: NULL argument");
    memset(ctx, 0, sizeof *ctx);
    ctx->job = job;
    ctx->instances = instances;
    ctx->instance_count = instance_count;
    atomic_init(&ctx->stop_requested, 0);
    atomic_init(&ctx->cancel_gate, MCM_CANCEL_OPEN);
    ctx->log = log;
    ctx->log_user = log_user;
    ctx->log_level = log_level;
    return mcm_job_new(&ctx->results, mcm_job_uid(job));
}

void mcm_media_context_destroy(mcm_media_context *ctx)
{
    if (ctx != NULL) {
        mcm_job_free(ctx->results);
        ctx->results = NULL;
    }
}

void mcm_media_context_finish(mcm_media_context *ctx, int rc)
{
    if (ctx->outcome == MCM_MEDIA_OUTCOME_DONE && rc != 0) {
        ctx->outcome = MCM_MEDIA_OUTCOME_FAILED;
        snprintf(ctx->term, sizeof ctx->term, "MCD_FAILURE");
        if (ctx->message[0] == '\0')
            snprintf(ctx->message, sizeof ctx->message, "media writer returned %d", rc);
    }
}

MCM_EXTERN void mcm_media_progress(mcm_media_context *ctx, unsigned volume, unsigned volumes)
{
    if (ctx == NULL)
        return;
    ctx->volume = volume;
    ctx->volumes = volumes;
    mcm_media_log(ctx, MCM_LOG_INFO, "job %s: volume %u of %u", mcm_job_uid(ctx->job), volume, volumes);
}

MCM_EXTERN int mcm_media_add_volume(mcm_media_context *ctx, const char *fileset_id, const char *fileset_uid)
{
    if (ctx == NULL || fileset_id == NULL || fileset_uid == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_add_volume: NULL argument");
    if (strlen(fileset_id) > 16)
        return mcm_fail(MCM_EINVAL, "File-set ID \"%.40s\" is longer than 16 characters", fileset_id);
    if (!mcm_uid_is_valid(fileset_uid))
        return mcm_fail(MCM_EINVAL, "File-set UID \"%.80s\" is not a valid UID", fileset_uid);
    return mcm_job_add_media(ctx->results, fileset_id, fileset_uid);
}

MCM_EXTERN int mcm_media_set_pieces(mcm_media_context *ctx, unsigned pieces)
{
    if (ctx == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_set_pieces: NULL context");
    if (pieces > 65535)
        return mcm_fail(MCM_EINVAL, "%u pieces do not fit Total Number of Pieces of Media Created (US)", pieces);
    mcm_job_set_pieces(ctx->results, pieces);
    return MCM_OK;
}

MCM_EXTERN int mcm_media_fail_instance(mcm_media_context *ctx, size_t index, uint16_t failure_reason,
                                       const uint32_t *failure_attributes, size_t failure_attribute_count)
{
    if (ctx == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_fail_instance: NULL context");
    if (index >= ctx->instance_count)
        return mcm_fail(MCM_ENOTFOUND, "no instance %zu (the job has %zu)", index, ctx->instance_count);
    if (failure_attribute_count > 0 && failure_attributes == NULL)
        return mcm_fail(MCM_EINVAL, "failure attributes missing");
    const mcm_instance *in = &ctx->instances[index];
    return mcm_job_add_failed(ctx->results, in->sop_class_uid, in->sop_instance_uid, in->profile, failure_reason,
                              failure_attributes, failure_attribute_count);
}

MCM_EXTERN int mcm_media_fail(mcm_media_context *ctx, const char *term, const char *message)
{
    if (ctx == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_fail: NULL context");
    if (term == NULL)
        term = "PROC_FAILURE";
    if (!mcm_execution_status_info_allowed(MCM_JOB_FAILURE, term))
        return mcm_fail(MCM_EINVAL, "\"%.40s\" is not an Execution Status Info term for FAILURE", term);
    ctx->outcome = MCM_MEDIA_OUTCOME_FAILED;
    snprintf(ctx->term, sizeof ctx->term, "%s", term);
    snprintf(ctx->message, sizeof ctx->message, "%s", message != NULL ? message : "");
    mcm_media_log(ctx, MCM_LOG_WARNING, "job %s: media writer failed: %s%s%s", mcm_job_uid(ctx->job), term,
                message != NULL ? ": " : "", message != NULL ? message : "");
    return MCM_OK;
}

MCM_EXTERN int mcm_media_defer(mcm_media_context *ctx, const char *term, unsigned retry_seconds)
{
    if (ctx == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_media_defer: NULL context");
    if (term == NULL)
        term = "MCD_BUSY";
    if (!mcm_execution_status_info_allowed(MCM_JOB_PENDING, term))
        return mcm_fail(MCM_EINVAL, "\"%.40s\" is not an Execution Status Info term for PENDING", term);
    ctx->outcome = MCM_MEDIA_OUTCOME_DEFERRED;
    snprintf(ctx->term, sizeof ctx->term, "%s", term);
    ctx->retry_seconds = retry_seconds;
    mcm_media_log(ctx, MCM_LOG_INFO, "job %s: deferred (%s), retry in %u s", mcm_job_uid(ctx->job), term,
                retry_seconds);
    return MCM_OK;
}

MCM_EXTERN int mcm_media_should_stop(const mcm_media_context *ctx)
{
    return ctx != NULL && (atomic_load(&ctx->stop_requested) || atomic_load(&ctx->cancel_gate) == MCM_CANCEL_TAKEN);
}

/* A compare-and-swap, never a store: a job a Cancel has taken stays taken (media_context.h). */
MCM_EXTERN void mcm_media_set_interruptible(mcm_media_context *ctx, int interruptible)
{
    if (ctx == NULL)
        return;
    int expected = interruptible ? MCM_CANCEL_CLOSED : MCM_CANCEL_OPEN;
    atomic_compare_exchange_strong(&ctx->cancel_gate, &expected, interruptible ? MCM_CANCEL_OPEN : MCM_CANCEL_CLOSED);
}
