/*
 * lib/scp/store_backend.h: the contract between the job store's front (lib/scp/store.c) and each
 * back end (lib/scp/store_<name>.c, SQLite the first). Only those files include it; the rest of the
 * SCP sees store.h alone.
 *
 * A back end is a table of operations (mcm_store_backend_ops) and an opaque connection handle. It
 * stores and loads; it decides nothing about the lifecycle: every state it writes or selects on is
 * handed to it by store.c, which asked lib/core/job.c (mcm_job_next and the questions in
 * job_internal.h). A back end may call lib/core; it never calls store.c or anything above it
 * (results go back through the collect callback it is given).
 *
 * What every back end must keep (store.h lists the promises callers rely on):
 * - Durability before reply: a writing operation returns MCM_OK only once its change would survive
 *   a crash, SIGKILL or power loss (SQLite: WAL with synchronous=FULL; a server database: a
 *   synchronous commit). The SCP acknowledges N-CREATE and Initiate after that (digest A15).
 * - One transaction per operation: all of it or none of it is stored, whatever kills the process.
 * - Each operation that the header calls a single statement (claim, recover, count, expire) is one
 *   atomic statement over the states it is given, so that no other connection sees half of it.
 * - Several connections, threads or processes, may open the same database: the claim takes each job
 *   once across all of them; a writer waits up to the busy timeout for another's lock, then fails
 *   with MCM_EDB.
 * - Whole jobs: everything store.h lists round-trips exactly (raw request values, embedded NULs,
 *   icons, results, presence marks, times, queue order).
 * - A database written by a newer schema, or by another program, is refused with MCM_EDB and left
 *   untouched.
 * - Errors: MCM_EDB (MCM_ENOMEM when out of memory) with a message that names the database, what was
 *   being done and the engine's own words; MCM_ENOTFOUND / MCM_ESTATE as store.h says.
 * store.c holds the store's recursive mutex around every operation, so a back end's handle is used
 * by one thread at a time and needs no lock of its own; operations never call back into store.c.
 */
#ifndef MCM_LIB_STORE_BACKEND_H
#define MCM_LIB_STORE_BACKEND_H

#include "scp/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A set of job states: bit (1 << state) for each mcm_job_state in it. */
typedef uint32_t mcm_store_states;
#define MCM_STORE_STATE(state) ((mcm_store_states)1 << (unsigned)(state))

/* One back end's connection; each back end converts it to its own type. */
typedef struct mcm_store_backend mcm_store_backend;

/* Collects what a deleting operation removed (a job UID, an instance path), inside its transaction;
 * store.c hands the list to the caller's callback after the commit. Returns MCM_OK or MCM_ENOMEM (the
 * operation then rolls back). */
typedef int (*mcm_store_collect_fn)(const char *text, void *list);

typedef struct mcm_store_backend_ops {
    /* The location scheme that selects this back end ("sqlite" for "sqlite:PATH"). */
    const char *scheme;
    /* Open (creating if needed) the database at target, the location without "scheme:". */
    int (*open)(mcm_store_backend **out, const char *target);
    void (*close)(mcm_store_backend *backend);
    void (*set_busy_timeout)(mcm_store_backend *backend, int milliseconds);

    /* Insert a whole job; queue: give it the next place in the queue. MCM_ESTATE if the UID exists. */
    int (*insert_job)(mcm_store_backend *backend, const mcm_job *job, int queue, int64_t now);
    int (*load_job)(mcm_store_backend *backend, const char *uid, mcm_job **out);
    int (*load_state)(mcm_store_backend *backend, const char *uid, mcm_job_state *state, char info[65]);
    /* Save what changes (store.h), guarded by expect_state (MCM_JOB_ABSENT: no guard); if the stored
     * state is in queue_from, the job takes the next place in the queue. */
    int (*update_job)(mcm_store_backend *backend, const mcm_job *job, mcm_job_state expect_state,
                      mcm_store_states queue_from, int64_t retry_after, int64_t now);
    int (*delete_job)(mcm_store_backend *backend, const char *uid);

    /* In one transaction: choose the first job in state from whose retry_after has passed (queue
     * order), set it to (to, info) with updated = now, and load it. MCM_ENOTFOUND if none. */
    int (*claim_next)(mcm_store_backend *backend, mcm_job_state from, mcm_job_state to, const char *info, int64_t now,
                      mcm_job **out);
    /* One statement: every job in state from becomes (to, info) and may start at once (retry_after
     * 0), keeping its place in the queue. *count receives how many. */
    int (*recover)(mcm_store_backend *backend, mcm_job_state from, mcm_job_state to, const char *info, size_t *count);
    /* The earliest retry_after after now of a job in state queued, 0 if none. */
    int (*next_retry)(mcm_store_backend *backend, mcm_job_state queued, int64_t now, int64_t *when);
    /* How many jobs are in one of states. */
    int (*count_jobs)(mcm_store_backend *backend, mcm_store_states states, size_t *count);
    /* One statement: delete the jobs in by_created created before now - created_seconds and those in
     * by_updated last updated before now - updated_seconds; collect each deleted UID. */
    int (*expire_jobs)(mcm_store_backend *backend, int64_t now, mcm_store_states by_created, int64_t created_seconds,
                       mcm_store_states by_updated, int64_t updated_seconds, mcm_store_collect_fn collect, void *list);

    int (*put_instance)(mcm_store_backend *backend, const char *sop_class_uid, const char *sop_instance_uid,
                        const char *transfer_syntax_uid, const char *path, uint64_t size, int64_t now);
    int (*get_instance)(mcm_store_backend *backend, const char *sop_instance_uid, mcm_stored_instance *out);
    /* One statement: delete the instance records received before now - seconds that no job in one of
     * kept_by references; collect each deleted record's path. */
    int (*expire_instances)(mcm_store_backend *backend, int64_t now, int64_t seconds, mcm_store_states kept_by,
                            mcm_store_collect_fn collect, void *list);
} mcm_store_backend_ops;

/* The back ends (one file each). store.c's table of schemes lists them. */
extern const mcm_store_backend_ops mcm_store_sqlite_ops;

#ifdef __cplusplus
}
#endif

#endif
