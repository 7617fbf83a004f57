/*
 * lib/scp/store.h: the durable job store of the SCP: one interface (lib/scp/store.c) over back ends
 * chosen when the store opens (lib/scp/store_sqlite.c, SQLite, the first and the default; the
 * contract a back end keeps is lib/scp/store_backend.h).
 *
 * Promises (digest A15, DESIGN.md), kept by every back end (store_backend.h says how each one
 * must), except the mutex, which store.c keeps for all of them:
 * - Durable before reply: when a writing call returns MCM_OK its change is on disk, so the SCP can
 *   acknowledge N-CREATE or Initiate after it and lose nothing to a crash or SIGKILL. SQLite: WAL
 *   journal, synchronous=FULL.
 * - Everything a job carries survives a restart: state, Execution Status Info, the whole request
 *   (every attribute and every Referenced SOP Sequence item with profile and icon), copies,
 *   priority, pieces, Failed SOP items (with Failure Attributes), Referenced Storage Media items,
 *   times, arrival order.
 * - Received instances are recorded (SOP class, instance UID, transfer syntax, path, size, time).
 * - The store never decides a job's state: the states its claim, recovery and expiry write, and
 *   those it counts as live, come from the state machine (lib/core/job.c, mcm_job_next), each
 *   applied as one atomic statement.
 *
 * Threads: one mcm_store may be used from many threads; calls are serialised by its own mutex
 * (one connection to the database; store.c). Each call is one transaction. mcm_store_lock()/unlock()
 * let a caller make a read-modify-write sequence of calls atomic (the mutex is recursive). Other
 * connections (threads or processes that open the same database) are kept apart by the database's
 * own locks: the claim takes each job once across all of them.
 */
#ifndef MCM_LIB_STORE_H
#define MCM_LIB_STORE_H

#include "dcmmcm/job.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_store mcm_store;

/* Open (creating if needed) the job store at location: "SCHEME:TARGET" for the back end of that
 * scheme ("sqlite:PATH"), or a plain file path, which means SQLite (a path whose text before a
 * colon names no scheme, "jobs:2024.db", stays a path). A location of the form "NAME://..." naming
 * no back end of this build is refused with MCM_EINVAL (it is no file name anyone meant). A newer
 * schema version than this code knows is refused with MCM_EDB. */
int mcm_store_open(mcm_store **out, const char *location);
void mcm_store_close(mcm_store *store);

/* How long a call waits for another connection's write lock before failing with MCM_EDB
 * (default 10000 ms; tests shorten it). */
void mcm_store_set_busy_timeout(mcm_store *store, int milliseconds);

/* Hold the store's (recursive) mutex across several calls. */
void mcm_store_lock(mcm_store *store);
void mcm_store_unlock(mcm_store *store);

/* Put every job a crash left where the claim puts it (CREATING) back as a transient problem puts
 * it (mcm_job_next(CREATING, TRANSIENT): PENDING, info QUEUED), ready at once and keeping its place
 * in the queue: called at start, after a crash. *count (may be NULL) receives how many. */
int mcm_store_recover(mcm_store *store, size_t *count);

/* Insert a new job (its state, info, request and results) with created = updated = now and the
 * next arrival sequence number (and, if it is already past Initiate, the next place in the queue).
 * MCM_ESTATE if a job with that UID exists (0111). */
int mcm_store_insert_job(mcm_store *store, const mcm_job *job, int64_t now);

/* Load a whole job (request included); MCM_ENOTFOUND if there is none. */
int mcm_store_load_job(mcm_store *store, const char *uid, mcm_job **out);

/* Load only state and info (fast path of N-ACTION and housekeeping); MCM_ENOTFOUND if none.
 * info receives "" when the job has none. */
int mcm_store_load_state(mcm_store *store, const char *uid, mcm_job_state *state, char info[65]);

/* Save what changes after creation: state, info, copies and priority (from the job's request),
 * pieces, Failed SOP items and Referenced Storage Media items (replacing the old ones), updated =
 * now; retry_after (seconds since the epoch, 0 = now) says when a PENDING job may start. A save
 * that records an Initiate (the stored state is one Initiate leads from to the job's new state)
 * gives the job the next place in the queue.
 * MCM_ENOTFOUND if the job is gone. If expect_state is not MCM_JOB_ABSENT, the save happens only
 * if the stored state is expect_state (MCM_ESTATE otherwise): a worker's result never resurrects
 * a job cancelled meanwhile. */
int mcm_store_update_job(mcm_store *store, const mcm_job *job, mcm_job_state expect_state, int64_t retry_after,
                         int64_t now);

/* Delete a job and everything it carries; MCM_ENOTFOUND if none. */
int mcm_store_delete_job(mcm_store *store, const char *uid);

/* Take the next PENDING job whose retry_after has passed, ordered by Request Priority (HIGH, then
 * MED or none, then LOW) then arrival in the queue (the Initiate; a job deferred or recovered keeps
 * its place), and mark it as mcm_job_next(PENDING, START) says (CREATING, info NORMAL) in the same
 * transaction.
 * *out receives the whole job (now CREATING). MCM_ENOTFOUND if there is none. */
int mcm_store_claim_next(mcm_store *store, int64_t now, mcm_job **out);

/* The earliest retry_after of a PENDING job in the future, or 0 if none (workers sleep until then). */
int mcm_store_next_retry(mcm_store *store, int64_t now, int64_t *when);

/* Number of live jobs (mcm_job_state_live: IDLE, PENDING, CREATING), for the queue limit (digest
 * A16). */
int mcm_store_count_live(mcm_store *store, size_t *count);

/* Delete expired jobs, in the states where mcm_job_next(state, EXPIRE) deletes: those still live
 * (IDLE: never initiated) created before now - idle_seconds, the final ones (DONE, FAILURE) last
 * updated before now - done_seconds (a negative period keeps them forever). Each deleted UID is
 * passed to fn (may be NULL) after the commit, outside the store's mutex unless the caller holds
 * it. *count (may be NULL) receives how many. */
int mcm_store_expire_jobs(mcm_store *store, int64_t now, int64_t idle_seconds, int64_t done_seconds,
                          void (*fn)(const char *uid, void *user), void *user, size_t *count);

/* A received instance. Strings are owned by the store record (see mcm_store_instance_free). */
typedef struct mcm_stored_instance {
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char transfer_syntax_uid[65];
    char *path;
    uint64_t size;
    int64_t received;
} mcm_stored_instance;

/* Record (or replace: a re-sent instance wins) a received instance. */
int mcm_store_put_instance(mcm_store *store, const char *sop_class_uid, const char *sop_instance_uid,
                           const char *transfer_syntax_uid, const char *path, uint64_t size, int64_t now);
/* Look up an instance by SOP Instance UID; MCM_ENOTFOUND if unknown. Free with mcm_store_instance_free(). */
int mcm_store_get_instance(mcm_store *store, const char *sop_instance_uid, mcm_stored_instance *out);
void mcm_store_instance_free(mcm_stored_instance *instance);

/* Delete instance records received before now - seconds that no live job (IDLE, PENDING, CREATING)
 * references; fn (may be NULL) gets each one's path after the commit (as for expire_jobs), to
 * remove the file.
 * seconds < 0: nothing expires. */
int mcm_store_expire_instances(mcm_store *store, int64_t now, int64_t seconds,
                               void (*fn)(const char *path, void *user), void *user, size_t *count);

#ifdef __cplusplus
}
#endif

#endif
