/*
 * lib/scp/worker.c: the SCP's media workers.
 *
 * A media worker claims the next PENDING job (Request Priority, then arrival), checks its
 * referenced instances against the instance records (digest A11, A12, A14; section 5.13), calls
 * the application's write_media with an mcm_media_context, and applies the outcome through the
 * state machine (lib/core/job.c), saving it only if the job is still CREATING, so a job cancelled
 * meanwhile stays deleted. Owns the threads, the registry of running jobs and their contexts, and
 * the wake-up protocol. Never answers a request and never changes a job except through
 * mcm_job_apply() and the store. May call the job store, the media context
 * (lib/scp/media_context.c), the application's write_media and lib/core, and logs through the
 * channel it was given; never calls the service (worker.h).
 *
 * Locks: store mutex before `lock`, never the reverse (see worker.h). `lock` protects every field
 * below it in struct mcm_workers; a context's stop flag and cancel gate are atomics that other
 * threads touch only while the registry holds the context.
 */
#include "scp/worker.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "scp/deadline.h"
#include "scp/media_context.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* After a store failure a worker waits this long before trying again (no busy loop). */
#define ERROR_BACKOFF_MS 1000u
/* A result the store refused is saved again after these pauses, doubling (save_result). */
#define SAVE_BACKOFF_FIRST_MS 100u
#define SAVE_BACKOFF_MAX_MS 5000u

/* One job being processed by a worker. */
typedef struct running_job {
    char uid[MCM_UID_MAX + 1];
    mcm_media_context ctx;
    /* A Cancel deleted the job (mcm_workers_forget): nothing of it is saved, and the registry no
     * longer answers for its UID. Written and read with the store's mutex held. */
    int deleted;
    struct running_job *next;
} running_job;

struct mcm_workers {
    mcm_store *store;
    const mcm_scp_options *opts;
    mcm_log_channel log;

    pthread_mutex_t lock;
    pthread_cond_t wake;         /* media workers wait here */
    int running;                 /* threads exist */
    int stopping;                /* stop requested: threads leave their loops */
    unsigned long wake_sequence; /* bumped by every wake-up, so none is lost */
    pthread_t *threads;
    size_t thread_count;
    running_job *registry;
};

/* ---- time ---- */

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

/* ---- lifecycle ---- */

int mcm_workers_new(mcm_workers **out, mcm_store *store, const mcm_scp_options *opts, mcm_log_channel log)
{
    if (out == NULL || store == NULL || opts == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_workers_new: NULL argument");
    mcm_workers *w = calloc(1, sizeof *w);
    if (w == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    w->store = store;
    w->opts = opts;
    w->log = log;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    *out = w;
    return MCM_OK;
}

void mcm_workers_free(mcm_workers *workers)
{
    if (workers == NULL)
        return;
    mcm_workers_stop(workers);
    pthread_cond_destroy(&workers->wake);
    pthread_mutex_destroy(&workers->lock);
    free(workers);
}

void mcm_workers_wake(mcm_workers *workers)
{
    if (workers == NULL)
        return;
    pthread_mutex_lock(&workers->lock);
    workers->wake_sequence++;
    pthread_cond_broadcast(&workers->wake);
    pthread_mutex_unlock(&workers->lock);
}

/* ---- registry ---- */

/* The running job uid (deleted ones are gone as far as a UID goes); w->lock and the store's mutex held. */
static running_job *find_locked(mcm_workers *w, const char *uid)
{
    for (running_job *r = w->registry; r != NULL; r = r->next)
        if (!r->deleted && strcmp(r->uid, uid) == 0)
            return r;
    return NULL;
}

int mcm_workers_interrupt(mcm_workers *workers, const char *uid, int take, int *interrupted)
{
    if (interrupted != NULL)
        *interrupted = 0;
    if (workers == NULL || uid == NULL)
        return 0;
    pthread_mutex_lock(&workers->lock);
    running_job *r = find_locked(workers, uid);
    if (r != NULL) {
        int gate = MCM_CANCEL_OPEN;
        int got = take ? atomic_compare_exchange_strong(&r->ctx.cancel_gate, &gate, MCM_CANCEL_TAKEN)
                       : (gate = atomic_load(&r->ctx.cancel_gate)) != MCM_CANCEL_CLOSED;
        /* TAKEN already: an earlier Cancel took it but could not delete the job; this one may. */
        if (interrupted != NULL)
            *interrupted = got || gate == MCM_CANCEL_TAKEN;
    }
    pthread_mutex_unlock(&workers->lock);
    return r != NULL;
}

void mcm_workers_forget(mcm_workers *workers, const char *uid)
{
    if (workers == NULL || uid == NULL)
        return;
    pthread_mutex_lock(&workers->lock);
    running_job *r = find_locked(workers, uid);
    if (r != NULL)
        r->deleted = 1;
    pthread_mutex_unlock(&workers->lock);
}

static void register_job(mcm_workers *w, running_job *r)
{
    pthread_mutex_lock(&w->lock);
    r->next = w->registry;
    w->registry = r;
    if (w->stopping) /* a stop that came before the registration still reaches the job */
        atomic_store(&r->ctx.stop_requested, 1);
    pthread_mutex_unlock(&w->lock);
}

static void unregister_job(mcm_workers *w, running_job *r)
{
    pthread_mutex_lock(&w->lock);
    for (running_job **p = &w->registry; *p != NULL; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    pthread_mutex_unlock(&w->lock);
}

/* ---- one job ---- */

/* Save job (whose state the state machine has just changed from CREATING) and take it out of the
 * registry, both under the store's mutex (worker.h). A job deleted meanwhile (Cancel) is not
 * resurrected, nor is a new job with its UID overwritten: the save is skipped.
 * A save the store refuses (locked by another program, a full disk) is tried again until it
 * works or the workers stop: given up, the job would stay CREATING in the store with no worker
 * behind it until the next start, its N-GET saying CREATING and a Cancel getting C203 all along.
 * Meanwhile the job stays in the registry, so a Cancel still reaches it. */
static void save_result(mcm_workers *w, running_job *r, mcm_job *job, int64_t retry_after)
{
    unsigned backoff_ms = SAVE_BACKOFF_FIRST_MS;
    int rc;
    for (;;) {
        mcm_store_lock(w->store);
        rc = r->deleted ? MCM_ENOTFOUND
                        : mcm_store_update_job(w->store, job, MCM_JOB_CREATING, retry_after, now_seconds());
        int stopping = 0;
        if (rc != MCM_OK && rc != MCM_ENOTFOUND && rc != MCM_ESTATE) {
            pthread_mutex_lock(&w->lock);
            stopping = w->stopping;
            pthread_mutex_unlock(&w->lock);
        }
        if (rc == MCM_OK || rc == MCM_ENOTFOUND || rc == MCM_ESTATE || stopping) {
            unregister_job(w, r);
            mcm_store_unlock(w->store);
            break;
        }
        mcm_store_unlock(w->store);
        mcm_log_channel_write(&w->log, MCM_LOG_ERROR, "job %s: cannot save its result (%s), trying again in %u ms: %s",
                              r->uid, mcm_job_state_name(mcm_job_state_of(job)), backoff_ms, mcm_last_error());
        pthread_mutex_lock(&w->lock);
        struct timespec until = mcm_deadline_after(backoff_ms);
        while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&w->lock);
        backoff_ms = backoff_ms * 2 < SAVE_BACKOFF_MAX_MS ? backoff_ms * 2 : SAVE_BACKOFF_MAX_MS;
    }
    if (rc == MCM_ENOTFOUND || rc == MCM_ESTATE)
        mcm_log_channel_write(&w->log, MCM_LOG_INFO, "job %s was cancelled while it ran: result discarded", r->uid);
    else if (rc != MCM_OK)
        mcm_log_channel_write(&w->log, MCM_LOG_ERROR,
                              "job %s: result (%s) not saved before the stop: the job stays CREATING in the store and "
                              "goes back to PENDING at the next start",
                              r->uid, mcm_job_state_name(mcm_job_state_of(job)));
    else
        mcm_log_channel_write(&w->log, MCM_LOG_INFO, "job %s: %s (%s)", r->uid,
                              mcm_job_state_name(mcm_job_state_of(job)),
                              mcm_job_status_info(job) != NULL ? mcm_job_status_info(job) : "");
}

/* Put the job back in the queue (PENDING with term): a stop, a deferral, or a local failure
 * that is not the request's fault. */
static void requeue(mcm_workers *w, running_job *r, mcm_job *job, const char *term, int64_t retry_after)
{
    mcm_job_clear_results(job);
    mcm_job_event event = {.type = MCM_EVENT_TRANSIENT, .info = term};
    if (mcm_job_apply(job, &event, NULL) != MCM_OK) {
        mcm_job_event queued = {.type = MCM_EVENT_TRANSIENT, .info = "QUEUED"};
        mcm_job_apply(job, &queued, NULL);
    }
    save_result(w, r, job, retry_after);
    /* Idle workers sleep until a retry time computed before this one existed: let them look again,
     * so the job is retried by whichever worker is free when it is due. */
    mcm_workers_wake(w);
}

static void fail_job(mcm_workers *w, running_job *r, mcm_job *job, const char *term)
{
    mcm_job_event event = {.type = MCM_EVENT_FAIL, .info = term};
    if (mcm_job_apply(job, &event, NULL) != MCM_OK) {
        mcm_job_event fallback = {.type = MCM_EVENT_FAIL, .info = "PROC_FAILURE"};
        mcm_job_apply(job, &fallback, NULL);
    }
    save_result(w, r, job, 0);
}

/* A Referenced SOP Sequence item's instance UID and position, for finding repeats. */
typedef struct indexed_uid {
    const char *uid;
    size_t index;
} indexed_uid;

static int compare_indexed_uids(const void *a, const void *b)
{
    const indexed_uid *x = a, *y = b;
    int c = strcmp(x->uid, y->uid);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* The profile an item's instance is written with (digest A17): its Requested Media Application
 * Profile, or the SCP's default when it has none or an empty one (an empty optional value is
 * absent, lenient validation, PS3.4 5.4.2.1). */
static const char *profile_of(const mcm_workers *w, const mcm_reference *ref)
{
    return ref->profile != NULL && ref->profile[0] != '\0' ? ref->profile : w->opts->default_profile;
}

/* What the check of the referenced instances found. */
typedef struct reference_check {
    mcm_stored_instance *stored; /* per item; zeroed when not found or a repeat */
    unsigned char *found;        /* per item: record present, file present, class matches */
    size_t duplicates, missing, conflicts;
} reference_check;

static void reference_check_free(reference_check *check, size_t count)
{
    if (check->stored != NULL)
        for (size_t i = 0; i < count; i++)
            if (check->found[i])
                mcm_store_instance_free(&check->stored[i]);
    free(check->stored);
    free(check->found);
}

/* Check every referenced instance (digest 5.13, A12, A14): repeated in the Referenced SOP
 * Sequence (one Failed SOP item per repeated instance, Failure Reason 0110H: the standard defines
 * no reason for it), not received (0112H), or received with another SOP class (0119H). All
 * problems are recorded in job's Failed SOP Sequence. Returns MCM_OK (problems or not) or a store
 * error. */
static int check_references(mcm_workers *w, mcm_job *job, reference_check *check)
{
    const mcm_request *request = mcm_job_request(job);
    size_t count = mcm_request_reference_count(request);
    memset(check, 0, sizeof *check);
    check->stored = calloc(count > 0 ? count : 1, sizeof *check->stored);
    check->found = calloc(count > 0 ? count : 1, 1);
    indexed_uid *sorted = calloc(count > 0 ? count : 1, sizeof *sorted);
    unsigned char *repeat = calloc(count > 0 ? count : 1, 1);
    if (check->stored == NULL || check->found == NULL || sorted == NULL || repeat == NULL) {
        free(sorted);
        free(repeat);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    int rc = MCM_OK;

    /* Duplicates: sort (UID, position) pairs, so that every item whose UID an earlier item already
     * has is marked in one pass, and each repeated instance is reported once (on its second
     * occurrence) whatever the request's size. */
    for (size_t i = 0; i < count; i++) {
        mcm_reference ref;
        mcm_request_reference(request, i, &ref);
        sorted[i].uid = ref.sop_instance_uid != NULL ? ref.sop_instance_uid : "";
        sorted[i].index = i;
    }
    qsort(sorted, count, sizeof *sorted, compare_indexed_uids);
    for (size_t i = 1; i < count; i++) {
        if (strcmp(sorted[i].uid, sorted[i - 1].uid) != 0)
            continue;
        repeat[sorted[i].index] = 1;
        if (i >= 2 && strcmp(sorted[i - 1].uid, sorted[i - 2].uid) == 0)
            continue; /* a third or later occurrence: already reported */
        mcm_reference ref;
        mcm_request_reference(request, sorted[i].index, &ref);
        check->duplicates++;
        rc = mcm_job_add_failed(job, ref.sop_class_uid, ref.sop_instance_uid, profile_of(w, &ref),
                                MCM_FAILURE_PROCESSING, NULL, 0);
        if (rc != MCM_OK)
            break;
    }

    for (size_t i = 0; i < count && rc == MCM_OK; i++) {
        if (repeat[i])
            continue;
        mcm_reference ref;
        mcm_request_reference(request, i, &ref);
        const char *profile = profile_of(w, &ref);
        int got = mcm_store_get_instance(w->store, ref.sop_instance_uid, &check->stored[i]);
        if (got != MCM_OK && got != MCM_ENOTFOUND) {
            rc = got;
            break;
        }
        struct stat st;
        if (got == MCM_OK && (check->stored[i].path == NULL || stat(check->stored[i].path, &st) != 0)) {
            /* The record outlived its file (removed by hand): the instance is not available. */
            mcm_log_channel_write(&w->log, MCM_LOG_WARNING, "instance %s: file %s is missing", ref.sop_instance_uid,
                                  check->stored[i].path != NULL ? check->stored[i].path : "(none)");
            mcm_store_instance_free(&check->stored[i]);
            got = MCM_ENOTFOUND;
        }
        if (got == MCM_ENOTFOUND) {
            memset(&check->stored[i], 0, sizeof check->stored[i]);
            check->missing++;
            rc = mcm_job_add_failed(job, ref.sop_class_uid, ref.sop_instance_uid, profile, MCM_FAILURE_NO_SUCH_INSTANCE,
                                    NULL, 0);
            continue;
        }
        check->found[i] = 1;
        if (strcmp(check->stored[i].sop_class_uid, ref.sop_class_uid) != 0) {
            check->conflicts++;
            rc = mcm_job_add_failed(job, ref.sop_class_uid, ref.sop_instance_uid, profile,
                                    MCM_FAILURE_CLASS_INSTANCE_CONFLICT, NULL, 0);
        }
    }
    free(sorted);
    free(repeat);
    return rc;
}

/* Copy what the writer reported (ctx->results) into job. */
static int copy_results(mcm_job *job, const mcm_job *results, int with_failed)
{
    int rc = MCM_OK;
    size_t n = mcm_job_media_count(results);
    for (size_t i = 0; i < n && rc == MCM_OK; i++) {
        mcm_storage_media media;
        mcm_job_media(results, i, &media);
        rc = mcm_job_add_media(job, media.fileset_id, media.fileset_uid);
    }
    n = with_failed ? mcm_job_failed_count(results) : 0;
    for (size_t i = 0; i < n && rc == MCM_OK; i++) {
        mcm_failed_sop failed;
        mcm_job_failed(results, i, &failed);
        rc = mcm_job_add_failed(job, failed.sop_class_uid, failed.sop_instance_uid, failed.profile,
                                failed.failure_reason, failed.failure_attributes, failed.failure_attribute_count);
    }
    mcm_job_set_pieces(job, mcm_job_pieces(results));
    return rc;
}

static void run_job(mcm_workers *w, running_job *r, mcm_job *job)
{
    const mcm_request *request = mcm_job_request(job);
    size_t count = mcm_request_reference_count(request);
    mcm_job_clear_results(job); /* a job that starts again starts clean */

    reference_check check;
    int rc = check_references(w, job, &check);
    if (rc != MCM_OK) {
        /* The store failed, not the request: try again later. */
        mcm_log_channel_write(&w->log, MCM_LOG_ERROR, "job %s: cannot check its instances: %s", r->uid,
                              mcm_last_error());
        reference_check_free(&check, count);
        requeue(w, r, job, "QUEUED", now_seconds() + ERROR_BACKOFF_MS / 1000 + 1);
        return;
    }
    if (check.duplicates > 0 || check.missing > 0 || check.conflicts > 0) {
        /* A job never produces partial media (digest A12). The term names the first kind found, in
         * this order; the Failed SOP Sequence lists every problem. */
        const char *term = check.duplicates > 0 ? "DUPL_REF_INST"
                           : check.missing > 0  ? "NO_INSTANCE"
                                                : "INST_AP_CONFLICT";
        mcm_log_channel_write(&w->log, MCM_LOG_WARNING,
                              "job %s: %zu repeated, %zu missing, %zu conflicting instance(s): FAILURE %s", r->uid,
                              check.duplicates, check.missing, check.conflicts, term);
        reference_check_free(&check, count);
        fail_job(w, r, job, term);
        return;
    }

    mcm_instance *instances = calloc(count > 0 ? count : 1, sizeof *instances);
    if (instances == NULL) {
        reference_check_free(&check, count);
        requeue(w, r, job, "INSUFFIC_MEMORY", now_seconds() + 1);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        mcm_reference ref;
        mcm_request_reference(request, i, &ref);
        instances[i].sop_class_uid = check.stored[i].sop_class_uid;
        instances[i].sop_instance_uid = check.stored[i].sop_instance_uid;
        instances[i].transfer_syntax_uid = check.stored[i].transfer_syntax_uid;
        instances[i].path = check.stored[i].path;
        instances[i].profile = profile_of(w, &ref);
        instances[i].size = check.stored[i].size;
    }
    r->ctx.instances = instances;
    r->ctx.instance_count = count;

    int writer_rc = 0;
    int ran = 0;
    if (!mcm_media_should_stop(&r->ctx)) {
        mcm_log_channel_write(&w->log, MCM_LOG_INFO, "job %s: writing media for %zu instance(s)", r->uid, count);
        writer_rc = w->opts->write_media(job, instances, count, &r->ctx, w->opts->user);
        ran = 1;
    }
    int completed = ran && writer_rc == 0 && r->ctx.outcome == MCM_MEDIA_OUTCOME_DONE;
    mcm_media_context_finish(&r->ctx, writer_rc);
    const mcm_job *results = r->ctx.results;

    if (atomic_load(&r->ctx.cancel_gate) == MCM_CANCEL_TAKEN) {
        /* Taken by a Cancel, which deleted the job: the save below finds nothing. (Had the
         * Cancel failed to delete it, the job waits in the queue again.) */
        requeue(w, r, job, "QUEUED", 0);
    } else if (!completed && r->ctx.outcome != MCM_MEDIA_OUTCOME_DEFERRED && atomic_load(&r->ctx.stop_requested)) {
        /* Stopped before it finished: not the request's fault, and no partial media stands
         * (A12), so it simply waits in the queue for the next start (scp.h). */
        requeue(w, r, job, "QUEUED", 0);
    } else if (r->ctx.outcome == MCM_MEDIA_OUTCOME_DEFERRED) {
        unsigned delay = r->ctx.retry_seconds > 0 ? r->ctx.retry_seconds : 1; /* never a busy loop */
        requeue(w, r, job, r->ctx.term, now_seconds() + (int64_t)delay);
    } else if (r->ctx.outcome == MCM_MEDIA_OUTCOME_FAILED) {
        if (copy_results(job, results, 1) != MCM_OK)
            mcm_job_clear_results(job);
        fail_job(w, r, job, r->ctx.term);
    } else if (mcm_job_failed_count(results) > 0) {
        /* The writer returned success but reported instances it could not write: the media lack
         * images, which must never pass for success (A12). */
        mcm_log_channel_write(&w->log, MCM_LOG_WARNING, "job %s: writer reported %zu failed instance(s) yet returned 0",
                              r->uid, mcm_job_failed_count(results));
        if (copy_results(job, results, 1) != MCM_OK)
            mcm_job_clear_results(job);
        mcm_job_set_pieces(job, 0);
        fail_job(w, r, job, "PROC_FAILURE");
    } else {
        rc = copy_results(job, results, 0);
        if (rc == MCM_OK && mcm_job_pieces(job) == 0) {
            /* Digest A13: pieces = copies x volumes, unless the writer said otherwise. */
            int copies = mcm_request_copies(request);
            unsigned long pieces = (unsigned long)(copies > 0 ? copies : 1) * mcm_job_media_count(job);
            mcm_job_set_pieces(job, pieces > 65535 ? 65535 : (unsigned)pieces);
        }
        if (rc != MCM_OK) {
            mcm_job_clear_results(job);
            requeue(w, r, job, "INSUFFIC_MEMORY", now_seconds() + 1);
        } else {
            mcm_job_event event = {.type = MCM_EVENT_COMPLETE};
            mcm_job_apply(job, &event, NULL);
            save_result(w, r, job, 0);
        }
    }
    reference_check_free(&check, count);
    free(instances);
}

/* Claim and process one job ready at now. Returns 1 if a job was processed, 0 if none was ready,
 * -1 on error. */
static int process_next(mcm_workers *w, int64_t now)
{
    mcm_job *job = NULL;
    mcm_store_lock(w->store);
    int rc = mcm_store_claim_next(w->store, now, &job);
    if (rc == MCM_ENOTFOUND) {
        mcm_store_unlock(w->store);
        return 0;
    }
    if (rc != MCM_OK) {
        mcm_store_unlock(w->store);
        mcm_log_channel_write(&w->log, MCM_LOG_ERROR, "media worker: cannot claim a job: %s", mcm_last_error());
        return -1;
    }
    running_job *r = calloc(1, sizeof *r);
    if (r == NULL ||
        mcm_media_context_init(&r->ctx, job, NULL, 0, w->opts->log, w->opts->user, w->opts->log_level) != MCM_OK) {
        /* Back to the queue; the claim stays atomic with this under the store's mutex. */
        mcm_job_event event = {.type = MCM_EVENT_TRANSIENT, .info = "INSUFFIC_MEMORY"};
        mcm_job_apply(job, &event, NULL);
        if (mcm_store_update_job(w->store, job, MCM_JOB_CREATING, now_seconds() + 1, now_seconds()) != MCM_OK)
            mcm_log_channel_write(
                &w->log, MCM_LOG_ERROR,
                "job %s: out of memory and cannot be put back to PENDING (%s): it stays CREATING until "
                "the SCP restarts",
                mcm_job_uid(job), mcm_last_error());
        mcm_store_unlock(w->store);
        if (r != NULL)
            mcm_media_context_destroy(&r->ctx);
        free(r);
        mcm_job_free(job);
        return -1;
    }
    snprintf(r->uid, sizeof r->uid, "%s", mcm_job_uid(job));
    register_job(w, r);
    mcm_store_unlock(w->store);

    mcm_log_channel_write(&w->log, MCM_LOG_INFO, "job %s: CREATING (priority %s)", r->uid,
                          mcm_priority_name(mcm_request_priority(mcm_job_request(job))) != NULL
                              ? mcm_priority_name(mcm_request_priority(mcm_job_request(job)))
                              : "MED");
    run_job(w, r, job); /* saves the result and unregisters r */
    mcm_media_context_destroy(&r->ctx);
    free(r);
    mcm_job_free(job);
    return 1;
}

static void *media_worker_main(void *arg)
{
    mcm_workers *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        unsigned long seen = w->wake_sequence;
        pthread_mutex_unlock(&w->lock);

        /* One clock reading for both questions: a job due at a later second than the claim's
         * would otherwise be neither ready for the claim nor in the future for next_retry, and
         * the worker would sleep until the next wake-up instead of until its retry time. */
        int64_t now = now_seconds();
        int processed = process_next(w, now);
        int64_t next_retry = 0;
        if (processed == 0 && mcm_store_next_retry(w->store, now, &next_retry) != MCM_OK)
            next_retry = now + 1;

        pthread_mutex_lock(&w->lock);
        if (processed > 0 || w->stopping || w->wake_sequence != seen)
            continue;
        if (processed < 0) {
            struct timespec until = mcm_deadline_after(ERROR_BACKOFF_MS);
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        } else if (next_retry > 0) {
            /* A deferred job becomes ready at next_retry (seconds since the epoch). */
            struct timespec until = {.tv_sec = (time_t)next_retry, .tv_nsec = 0};
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        } else {
            pthread_cond_wait(&w->wake, &w->lock);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Join every started thread; w->lock not held. */
static void join_all(mcm_workers *w)
{
    for (size_t i = 0; i < w->thread_count; i++)
        pthread_join(w->threads[i], NULL);
    free(w->threads);
    w->threads = NULL;
    w->thread_count = 0;
}

int mcm_workers_start(mcm_workers *workers)
{
    if (workers == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_workers_start: NULL argument");
    mcm_workers *w = workers;
    pthread_mutex_lock(&w->lock);
    if (w->running) {
        pthread_mutex_unlock(&w->lock);
        return mcm_fail(MCM_ESTATE, "the media workers are already running");
    }
    w->running = 1;
    w->stopping = 0;
    pthread_mutex_unlock(&w->lock);

    unsigned count = w->opts->media_workers;
    w->threads = calloc(count, sizeof *w->threads);
    int rc = MCM_OK;
    if (w->threads == NULL) {
        mcm_fail(MCM_ENOMEM, "out of memory");
        rc = MCM_ENOMEM;
    }
    for (unsigned i = 0; i < count && rc == MCM_OK; i++) {
        int err = pthread_create(&w->threads[i], NULL, media_worker_main, w);
        if (err != 0)
            rc = mcm_fail(MCM_ENOMEM, "cannot start media worker %u: %s", i + 1, strerror(err));
        else
            w->thread_count++;
    }
    if (rc != MCM_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", mcm_last_error());
        mcm_workers_stop(w);
        return mcm_fail(rc, "%s", message);
    }
    return MCM_OK;
}

void mcm_workers_stop(mcm_workers *workers)
{
    if (workers == NULL)
        return;
    mcm_workers *w = workers;
    pthread_mutex_lock(&w->lock);
    if (!w->running) {
        pthread_mutex_unlock(&w->lock);
        return;
    }
    w->stopping = 1;
    for (running_job *r = w->registry; r != NULL; r = r->next)
        atomic_store(&r->ctx.stop_requested, 1);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);

    join_all(w);

    pthread_mutex_lock(&w->lock);
    w->running = 0;
    w->stopping = 0;
    pthread_mutex_unlock(&w->lock);
}
