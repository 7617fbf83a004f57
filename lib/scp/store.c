/*
 * lib/scp/store.c: the job store's front (lib/scp/store.h; digest A15 and A16): what every back end
 * shares.
 *
 * Owns the mcm_store handle: the back end chosen from the location's scheme (the table below), its
 * connection, and the recursive mutex that serialises every call on it. Checks the arguments, and
 * makes every lifecycle decision the store needs by asking lib/core/job.c rather than listing
 * states: the claim's target state and Execution Status Info (mcm_job_next(PENDING, START)),
 * recovery's (mcm_job_next(CREATING, TRANSIENT)), the states that expire (EXPIRE), the live states
 * (the queue limit, instance retention) and when a job takes its place in the queue (INITIATE).
 * It hands them to the back end as parameters of one atomic statement each. No SQL here.
 *
 * May call lib/core and the back ends (store_backend.h), never anything above it; a caller's expiry
 * callback runs only after the back end committed and the mutex is released.
 */
#include "scp/store_backend.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/vr.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The back ends, by location scheme; the first one also takes a plain path. A new back end (issue
 * 12: PostgreSQL) is one more file and one more line here. */
static const mcm_store_backend_ops *const backends[] = {
    &mcm_store_sqlite_ops,
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

/* The queue is the PENDING jobs: store.h defines the claim as taking the next PENDING job, and an
 * Initiate puts a job there with Execution Status Info QUEUED (digest 6). Every other state the store
 * writes or selects on is asked of the state machine. */
#define QUEUE_STATE MCM_JOB_PENDING

struct mcm_store {
    /* Recursive, so that a caller holding it (mcm_store_lock) can still call the store. It guards
     * the back end's connection: a back end is used by one thread at a time. */
    pthread_mutex_t mutex;
    const mcm_store_backend_ops *ops;
    mcm_store_backend *backend;
};

/* ---- choosing the back end ---- */

/* The length of location's scheme: the characters before its first ':' when they form a URI scheme
 * (RFC 3986 section 3.1: a letter, then letters, digits, '+', '-' or '.'); 0 when there is none. */
static size_t scheme_length(const char *location)
{
    size_t n = 0;
    if (!isalpha((unsigned char)location[0]))
        return 0;
    while (isalnum((unsigned char)location[n]) || location[n] == '+' || location[n] == '-' || location[n] == '.')
        n++;
    return location[n] == ':' ? n : 0;
}

/* A scheme the table names selects its back end, with the rest of the location as its target. A
 * plain path is SQLite's, as it always was, also when the text before a colon names no scheme
 * ("jobs:2024.db"); only "NAME://..." with an unknown NAME is refused: that is a server address for
 * a back end this build lacks, not a file anyone meant to create. The refusal names the scheme only:
 * the rest of such a location may hold a password. */
static int choose_backend(const char *location, const mcm_store_backend_ops **ops, const char **target)
{
    size_t n = scheme_length(location);
    if (n > 0) {
        for (size_t i = 0; i < BACKEND_COUNT; i++)
            if (strlen(backends[i]->scheme) == n && strncasecmp(location, backends[i]->scheme, n) == 0) {
                *ops = backends[i];
                *target = location + n + 1;
                if ((*target)[0] == '\0')
                    return mcm_fail(MCM_EINVAL, "job store location \"%s\" names no database", location);
                return MCM_OK;
            }
        if (strncmp(location + n + 1, "//", 2) == 0) {
            char known[128] = "";
            for (size_t i = 0; i < BACKEND_COUNT; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s:", i > 0 ? ", " : "",
                         backends[i]->scheme);
            return mcm_fail(MCM_EINVAL,
                            "job store location \"%.*s://...\": this dcmmcm has no back end for \"%.*s\" (it "
                            "knows %s and a plain file path)",
                            (int)n, location, (int)n, location, known);
        }
    }
    *ops = backends[0];
    *target = location;
    return MCM_OK;
}

/* ---- open, close, lock ---- */

int mcm_store_open(mcm_store **out, const char *location)
{
    if (out == NULL || location == NULL || location[0] == '\0')
        return mcm_fail(MCM_EINVAL, "mcm_store_open: NULL argument or empty path");
    *out = NULL;
    const mcm_store_backend_ops *ops = NULL;
    const char *target = NULL;
    int rc = choose_backend(location, &ops, &target);
    if (rc != MCM_OK)
        return rc;
    mcm_store *store = calloc(1, sizeof *store);
    if (store == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init(&store->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err != 0) {
        free(store);
        return mcm_fail(MCM_ENOMEM, "job database %s: cannot create its mutex: %s", target, strerror(err));
    }
    store->ops = ops;
    rc = ops->open(&store->backend, target);
    if (rc != MCM_OK) {
        pthread_mutex_destroy(&store->mutex);
        free(store);
        return rc;
    }
    *out = store;
    return MCM_OK;
}

void mcm_store_close(mcm_store *store)
{
    if (store == NULL)
        return;
    store->ops->close(store->backend);
    pthread_mutex_destroy(&store->mutex);
    free(store);
}

void mcm_store_set_busy_timeout(mcm_store *store, int milliseconds)
{
    if (store == NULL)
        return;
    mcm_store_lock(store);
    store->ops->set_busy_timeout(store->backend, milliseconds);
    mcm_store_unlock(store);
}

void mcm_store_lock(mcm_store *store)
{
    if (store != NULL)
        pthread_mutex_lock(&store->mutex);
}

void mcm_store_unlock(mcm_store *store)
{
    if (store != NULL)
        pthread_mutex_unlock(&store->mutex);
}

/* ---- the lifecycle, as job.c has it ---- */

/* What a claim makes of a queued job: mcm_job_next(PENDING, START) (CREATING, NORMAL). */
static int claim_transition(mcm_job_transition *start)
{
    mcm_job_event event = {.type = MCM_EVENT_START};
    return mcm_job_next(QUEUE_STATE, NULL, &event, start);
}

/* The live states (mcm_job_state_live): the queue limit counts them, and an instance that one of
 * them references is kept. */
static mcm_store_states live_states(void)
{
    mcm_store_states states = 0;
    for (unsigned s = 0; s <= MCM_JOB_DELETED; s++)
        if (mcm_job_state_live((mcm_job_state)s))
            states |= MCM_STORE_STATE(s);
    return states;
}

/* The states in which EXPIRE deletes a job, split by the clock that measures its retention: a live
 * one (IDLE, never initiated) from its N-CREATE, a final one (DONE, FAILURE) from its last change. */
static int expiring_states(mcm_store_states *by_created, mcm_store_states *by_updated)
{
    *by_created = *by_updated = 0;
    for (unsigned s = 0; s <= MCM_JOB_DELETED; s++) {
        mcm_job_event expire = {.type = MCM_EVENT_EXPIRE};
        mcm_job_transition t;
        if (!mcm_job_state_exists((mcm_job_state)s) || !mcm_job_event_applies((mcm_job_state)s, &expire))
            continue;
        int rc = mcm_job_next((mcm_job_state)s, NULL, &expire, &t);
        if (rc != MCM_OK)
            return rc;
        /* The store expires a job by deleting it; anything else would be a state change it cannot
         * make in the same statement. */
        if (t.state != MCM_JOB_DELETED)
            return mcm_fail(MCM_EINVAL, "the state machine expires a %s job to %s, not by deleting it",
                            mcm_job_state_name((mcm_job_state)s), mcm_job_state_name(t.state));
        if (mcm_job_state_live((mcm_job_state)s))
            *by_created |= MCM_STORE_STATE(s);
        else
            *by_updated |= MCM_STORE_STATE(s);
    }
    return MCM_OK;
}

/* A job takes its place in the queue when it is initiated (issue 3: arrival in the queue is the
 * Initiate): a job stored already past its Initiate (one that Initiate no longer applies to) on
 * insert; on update, when the stored state is one from which Initiate leads to the job's new state. */
static int initiated(mcm_job_state state)
{
    mcm_job_event initiate = {.type = MCM_EVENT_INITIATE};
    return !mcm_job_event_applies(state, &initiate);
}

static mcm_store_states queue_from(mcm_job_state new_state)
{
    mcm_store_states states = 0;
    for (unsigned s = 0; s <= MCM_JOB_DELETED; s++) {
        mcm_job_event initiate = {.type = MCM_EVENT_INITIATE};
        mcm_job_transition t;
        if (mcm_job_state_exists((mcm_job_state)s) && mcm_job_event_applies((mcm_job_state)s, &initiate) &&
            mcm_job_next((mcm_job_state)s, NULL, &initiate, &t) == MCM_OK && t.state == new_state)
            states |= MCM_STORE_STATE(s);
    }
    return states;
}

/* ---- jobs ---- */

static int check_storable(const mcm_job *job, const char *call)
{
    const char *uid = mcm_job_uid(job);
    if (uid == NULL || uid[0] == '\0')
        return mcm_fail(MCM_EINVAL, "%s: the job has no SOP Instance UID", call);
    if (!mcm_job_state_exists(mcm_job_state_of(job)))
        return mcm_fail(MCM_EINVAL, "%s: a job in state %s cannot be stored", call,
                        mcm_job_state_name(mcm_job_state_of(job)));
    return MCM_OK;
}

int mcm_store_recover(mcm_store *store, size_t *count)
{
    if (store == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_recover: store is NULL");
    /* A job a crash left behind is where a claim put it; it goes back as a transient problem sends a
     * CREATING job back (digest A4), with the machine's default term (QUEUED), ready at once. */
    mcm_job_transition start, back;
    mcm_job_event transient = {.type = MCM_EVENT_TRANSIENT};
    int result = claim_transition(&start);
    if (result == MCM_OK)
        result = mcm_job_next(start.state, NULL, &transient, &back);
    if (result == MCM_OK && back.state != QUEUE_STATE)
        return mcm_fail(MCM_EINVAL, "the state machine sends a %s job back to %s, not to the queue",
                        mcm_job_state_name(start.state), mcm_job_state_name(back.state));
    if (result != MCM_OK)
        return result;
    size_t changed = 0;
    mcm_store_lock(store);
    result = store->ops->recover(store->backend, start.state, back.state, back.info, &changed);
    mcm_store_unlock(store);
    if (result == MCM_OK && count != NULL)
        *count = changed;
    return result;
}

int mcm_store_insert_job(mcm_store *store, const mcm_job *job, int64_t now)
{
    if (store == NULL || job == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_insert_job: NULL argument");
    int result = check_storable(job, "mcm_store_insert_job");
    if (result != MCM_OK)
        return result;
    int queue = initiated(mcm_job_state_of(job));
    mcm_store_lock(store);
    result = store->ops->insert_job(store->backend, job, queue, now);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_load_job(mcm_store *store, const char *uid, mcm_job **out)
{
    if (store == NULL || uid == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_load_job: NULL argument");
    *out = NULL;
    mcm_store_lock(store);
    int result = store->ops->load_job(store->backend, uid, out);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_load_state(mcm_store *store, const char *uid, mcm_job_state *state, char info[65])
{
    if (store == NULL || uid == NULL || state == NULL || info == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_load_state: NULL argument");
    mcm_job_state found = MCM_JOB_ABSENT;
    char found_info[65] = "";
    mcm_store_lock(store);
    int result = store->ops->load_state(store->backend, uid, &found, found_info);
    mcm_store_unlock(store);
    if (result == MCM_OK) {
        *state = found;
        memcpy(info, found_info, sizeof found_info);
    }
    return result;
}

int mcm_store_update_job(mcm_store *store, const mcm_job *job, mcm_job_state expect_state, int64_t retry_after,
                         int64_t now)
{
    if (store == NULL || job == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_update_job: NULL argument");
    int result = check_storable(job, "mcm_store_update_job");
    if (result != MCM_OK)
        return result;
    mcm_store_states from = queue_from(mcm_job_state_of(job));
    mcm_store_lock(store);
    result = store->ops->update_job(store->backend, job, expect_state, from, retry_after, now);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_delete_job(mcm_store *store, const char *uid)
{
    if (store == NULL || uid == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_delete_job: NULL argument");
    mcm_store_lock(store);
    int result = store->ops->delete_job(store->backend, uid);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_claim_next(mcm_store *store, int64_t now, mcm_job **out)
{
    if (store == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_claim_next: NULL argument");
    *out = NULL;
    mcm_job_transition start;
    int result = claim_transition(&start);
    if (result != MCM_OK)
        return result;
    mcm_store_lock(store);
    result = store->ops->claim_next(store->backend, QUEUE_STATE, start.state, start.info, now, out);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_next_retry(mcm_store *store, int64_t now, int64_t *when)
{
    if (store == NULL || when == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_next_retry: NULL argument");
    int64_t value = 0;
    mcm_store_lock(store);
    int result = store->ops->next_retry(store->backend, QUEUE_STATE, now, &value);
    mcm_store_unlock(store);
    if (result == MCM_OK)
        *when = value;
    return result;
}

int mcm_store_count_live(mcm_store *store, size_t *count)
{
    if (store == NULL || count == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_count_live: NULL argument");
    size_t value = 0;
    mcm_store_lock(store);
    int result = store->ops->count_jobs(store->backend, live_states(), &value);
    mcm_store_unlock(store);
    if (result == MCM_OK)
        *count = value;
    return result;
}

/* ---- expiry ---- */

/* What a deleting statement removed, collected inside its transaction and handed to the caller's
 * callback after it, so that no callback hears of a deletion that could still roll back. */
typedef struct text_list {
    char **items;
    size_t count, capacity;
} text_list;

static int collect_text(const char *text, void *user)
{
    text_list *list = user;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        char **grown = realloc(list->items, capacity * sizeof *grown);
        if (grown == NULL)
            return mcm_fail(MCM_ENOMEM, "out of memory");
        list->items = grown;
        list->capacity = capacity;
    }
    char *copy = strdup(text);
    if (copy == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    list->items[list->count++] = copy;
    return MCM_OK;
}

/* Hand the collected texts to fn (outside the mutex, unless the caller holds it: fn may be slow,
 * e.g. remove a file, or call the store), then free them. */
static void deliver(text_list *list, int result, void (*fn)(const char *text, void *user), void *user, size_t *count)
{
    if (result == MCM_OK) {
        if (fn != NULL)
            for (size_t i = 0; i < list->count; i++)
                fn(list->items[i], user);
        if (count != NULL)
            *count = list->count;
    }
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
}

int mcm_store_expire_jobs(mcm_store *store, int64_t now, int64_t idle_seconds, int64_t done_seconds,
                          void (*fn)(const char *uid, void *user), void *user, size_t *count)
{
    if (store == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_expire_jobs: store is NULL");
    mcm_store_states by_created = 0, by_updated = 0;
    int result = expiring_states(&by_created, &by_updated);
    if (result != MCM_OK)
        return result;
    /* A negative period keeps those jobs forever: they are left out of the statement. */
    if (idle_seconds < 0)
        by_created = 0, idle_seconds = 0;
    if (done_seconds < 0)
        by_updated = 0, done_seconds = 0;
    text_list deleted = {NULL, 0, 0};
    mcm_store_lock(store);
    result = store->ops->expire_jobs(store->backend, now, by_created, idle_seconds, by_updated, done_seconds,
                                     collect_text, &deleted);
    mcm_store_unlock(store);
    deliver(&deleted, result, fn, user, count);
    return result;
}

/* ---- received instances ---- */

int mcm_store_put_instance(mcm_store *store, const char *sop_class_uid, const char *sop_instance_uid,
                           const char *transfer_syntax_uid, const char *path, uint64_t size, int64_t now)
{
    if (store == NULL || sop_class_uid == NULL || sop_instance_uid == NULL || transfer_syntax_uid == NULL ||
        path == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_put_instance: NULL argument");
    if (strlen(sop_class_uid) > MCM_UID_MAX || strlen(sop_instance_uid) > MCM_UID_MAX ||
        strlen(transfer_syntax_uid) > MCM_UID_MAX || size > INT64_MAX)
        return mcm_fail(MCM_EINVAL, "mcm_store_put_instance: UID longer than 64 characters or size out of range");
    mcm_store_lock(store);
    int result =
        store->ops->put_instance(store->backend, sop_class_uid, sop_instance_uid, transfer_syntax_uid, path, size, now);
    mcm_store_unlock(store);
    return result;
}

int mcm_store_get_instance(mcm_store *store, const char *sop_instance_uid, mcm_stored_instance *out)
{
    if (store == NULL || sop_instance_uid == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_get_instance: NULL argument");
    memset(out, 0, sizeof *out);
    mcm_store_lock(store);
    int result = store->ops->get_instance(store->backend, sop_instance_uid, out);
    mcm_store_unlock(store);
    if (result != MCM_OK)
        mcm_store_instance_free(out);
    return result;
}

void mcm_store_instance_free(mcm_stored_instance *instance)
{
    if (instance == NULL)
        return;
    free(instance->path);
    instance->path = NULL;
}

int mcm_store_expire_instances(mcm_store *store, int64_t now, int64_t seconds, void (*fn)(const char *path, void *user),
                               void *user, size_t *count)
{
    if (store == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_store_expire_instances: store is NULL");
    if (seconds < 0) { /* kept forever */
        if (count != NULL)
            *count = 0;
        return MCM_OK;
    }
    /* An instance is kept while a live job names it in its Referenced SOP Sequence (digest A15:
     * received instances have their own retention, but never vanish under a job that needs them).
     * The paths go to fn after the commit, so a file is removed only once its record is gone for
     * good. */
    text_list deleted = {NULL, 0, 0};
    mcm_store_lock(store);
    int result = store->ops->expire_instances(store->backend, now, seconds, live_states(), collect_text, &deleted);
    mcm_store_unlock(store);
    deliver(&deleted, result, fn, user, count);
    return result;
}
