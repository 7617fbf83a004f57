/*
 * lib/scp/store_sqlite.c: the SQLite back end of the job store (lib/scp/store_backend.h; digest A15
 * and A16), the default one: "sqlite:PATH" or a plain PATH.
 *
 * Owns one SQLite connection and its prepared statements, the schema and its version checks, and
 * everything that is SQL. Saves and loads whole jobs (state, Execution Status Info, the request with
 * every Referenced SOP item and icon, results, times, arrival order) and the received-instance
 * records. It decides nothing about the lifecycle: the states the claim, recovery, expiry, counting
 * and instance retention write or select on, and when a job takes its place in the queue, arrive as
 * bound parameters from lib/scp/store.c, which asked lib/core/job.c. May call lib/core and SQLite;
 * never store.c (deleted rows go back through the collect callback).
 *
 * Threads: store.c holds the store's mutex around every call, so the connection is opened
 * SQLITE_OPEN_NOMUTEX and used by one thread at a time; other connections (threads or processes) are
 * kept apart by SQLite's own locks.
 *
 * Durability: WAL journal with synchronous=FULL, so COMMIT returns only after the WAL is fsynced;
 * a writing call returns MCM_OK only after its COMMIT. Each call is one transaction (BEGIN
 * IMMEDIATE for writers, so that two connections never deadlock upgrading a read lock).
 */
#include "scp/store_backend.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "core/vr.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Schema version (PRAGMA user_version) written by this code. A database with a higher version was
 * written by a newer dcmmcm and is refused rather than misread. */
#define SCHEMA_VERSION 1
/* PRAGMA application_id marks the file as ours ("DMCM"), so another program's database is refused. */
#define APPLICATION_ID 0x444D434D
/* How long a writer waits for another connection's transaction before giving up with SQLITE_BUSY. */
#define BUSY_TIMEOUT_MS 10000

/* Schema 1. States are stored by name (readable with the sqlite3 shell; the CHECK keeps ABSENT and
 * DELETED out: it is the file format's rule for what a stored state may be, not a lifecycle
 * decision). A statement that selects on a set of states binds it as a JSON array of names
 * (json_each, built into SQLite since 3.38), so that one prepared statement serves any set.
 * queued is the job's place in the queue: the next number when a save records its Initiate or it
 * is inserted already initiated (store.c decides which, from job.c, and binds the answer), kept
 * when it goes back to PENDING (a deferral, a recovery) so that a retried job does not lose its
 * turn; the AUTOINCREMENT id (N-CREATE order, a sequence that never goes back) breaks ties.
 * priority_rank is 0 for HIGH, 1 for MED or absent, 2 for LOW, so that ORDER BY priority_rank,
 * queued, id is the queue order: Request Priority, then arrival in the queue (digest 5.10, issue
 * 3). Request values are stored raw: TEXT, or a BLOB when the value holds an embedded NUL (see
 * bind_raw), NULL when absent. The Referenced SOP items are indexed by instance UID for the
 * instance retention query. */
static const char schema_sql[] =
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " uid TEXT NOT NULL UNIQUE,"
    " state TEXT NOT NULL CHECK (state IN ('IDLE','PENDING','CREATING','DONE','FAILURE')),"
    " info TEXT NOT NULL,"
    " pieces INTEGER NOT NULL,"
    " priority_rank INTEGER NOT NULL,"
    " queued INTEGER NOT NULL DEFAULT 0,"
    " retry_after INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " present INTEGER NOT NULL,"
    " reference_sequence_present INTEGER NOT NULL);"
    "CREATE INDEX jobs_queue ON jobs (state, priority_rank, queued, id);"
    "CREATE TABLE job_attributes ("
    " job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " tag INTEGER NOT NULL,"
    " value NOT NULL,"
    " PRIMARY KEY (job_id, tag)) WITHOUT ROWID;"
    "CREATE TABLE job_references ("
    " job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " sop_class_uid,"
    " sop_instance_uid,"
    " profile,"
    " PRIMARY KEY (job_id, position)) WITHOUT ROWID;"
    "CREATE INDEX job_references_instance ON job_references (sop_instance_uid);"
    "CREATE TABLE job_icons ("
    " job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " rows INTEGER NOT NULL, columns INTEGER NOT NULL,"
    " bits_allocated INTEGER NOT NULL, bits_stored INTEGER NOT NULL, high_bit INTEGER NOT NULL,"
    " photometric TEXT,"
    " pixel_data BLOB,"
    " palette_descriptor_0 INTEGER NOT NULL, palette_descriptor_1 INTEGER NOT NULL,"
    " palette_descriptor_2 INTEGER NOT NULL,"
    " palette_length INTEGER NOT NULL,"
    " red_palette BLOB, green_palette BLOB, blue_palette BLOB,"
    " PRIMARY KEY (job_id, position)) WITHOUT ROWID;"
    "CREATE TABLE job_failed ("
    " job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " sop_class_uid TEXT, sop_instance_uid TEXT, profile TEXT,"
    " failure_reason INTEGER NOT NULL,"
    " failure_attributes BLOB," /* uint32 tags, 4 bytes each, little endian */
    " PRIMARY KEY (job_id, position)) WITHOUT ROWID;"
    "CREATE TABLE job_media ("
    " job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL,"
    " fileset_id TEXT, fileset_uid TEXT,"
    " PRIMARY KEY (job_id, position)) WITHOUT ROWID;"
    "CREATE TABLE instances ("
    " sop_instance_uid TEXT PRIMARY KEY,"
    " sop_class_uid TEXT NOT NULL,"
    " transfer_syntax_uid TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " received INTEGER NOT NULL);"
    "CREATE INDEX instances_received ON instances (received);";

/* Every statement the store runs, prepared once at open (SQLITE_PREPARE_PERSISTENT). */
enum statement_id {
    ST_BEGIN_READ,
    ST_BEGIN_WRITE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_JOB_FIND,
    ST_JOB_INSERT,
    ST_JOB_SELECT,
    ST_JOB_UPDATE,
    ST_JOB_DELETE,
    ST_JOB_RECOVER,
    ST_JOB_NEXT,
    ST_JOB_CLAIM,
    ST_JOB_NEXT_RETRY,
    ST_JOB_COUNT,
    ST_JOB_EXPIRE,
    ST_ATTRIBUTE_PUT,
    ST_ATTRIBUTE_DELETE,
    ST_ATTRIBUTE_SELECT,
    ST_REFERENCE_INSERT,
    ST_REFERENCE_SELECT,
    ST_ICON_INSERT,
    ST_ICON_SELECT,
    ST_FAILED_INSERT,
    ST_FAILED_DELETE,
    ST_FAILED_SELECT,
    ST_MEDIA_INSERT,
    ST_MEDIA_DELETE,
    ST_MEDIA_SELECT,
    ST_INSTANCE_PUT,
    ST_INSTANCE_GET,
    ST_INSTANCE_EXPIRE,
    ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_JOB_FIND] = "SELECT id, state, info FROM jobs WHERE uid = ?1",
    [ST_JOB_INSERT] = "INSERT INTO jobs (uid, state, info, pieces, priority_rank, queued, retry_after, created, updated,"
                      " present, reference_sequence_present) VALUES (?1, ?2, ?3, ?4, ?5,"
                      " CASE WHEN ?9 THEN (SELECT COALESCE(MAX(queued), 0) + 1 FROM jobs) ELSE 0 END,"
                      " 0, ?6, ?6, ?7, ?8)",
    [ST_JOB_SELECT] = "SELECT uid, state, info, pieces, created, updated, present, reference_sequence_present"
                      " FROM jobs WHERE id = ?1",
    [ST_JOB_UPDATE] = "UPDATE jobs SET state = ?2, info = ?3, pieces = ?4, priority_rank = ?5, retry_after = ?6,"
                      " updated = ?7, present = ?8,"
                      " queued = CASE WHEN ?9 THEN (SELECT COALESCE(MAX(queued), 0) + 1 FROM jobs) ELSE queued END"
                      " WHERE id = ?1",
    [ST_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
    /* The states below are parameters (store.c has them from job.c). The queue statements compare
     * with one state so that the jobs_queue index gives the queue order without a sort. */
    [ST_JOB_RECOVER] = "UPDATE jobs SET state = ?2, info = ?3, retry_after = 0 WHERE state = ?1",
    [ST_JOB_NEXT] = "SELECT id FROM jobs WHERE state = ?2 AND retry_after <= ?1"
                    " ORDER BY priority_rank, queued, id LIMIT 1",
    [ST_JOB_CLAIM] = "UPDATE jobs SET state = ?3, info = ?4, updated = ?2 WHERE id = ?1",
    [ST_JOB_NEXT_RETRY] = "SELECT MIN(retry_after) FROM jobs WHERE state = ?2 AND retry_after > ?1",
    [ST_JOB_COUNT] = "SELECT COUNT(*) FROM jobs WHERE state IN (SELECT value FROM json_each(?1))",
    [ST_JOB_EXPIRE] = "DELETE FROM jobs WHERE (state IN (SELECT value FROM json_each(?2)) AND created < ?1 - ?3)"
                      " OR (state IN (SELECT value FROM json_each(?4)) AND updated < ?1 - ?5) RETURNING uid",
    [ST_ATTRIBUTE_PUT] = "INSERT OR REPLACE INTO job_attributes (job_id, tag, value) VALUES (?1, ?2, ?3)",
    [ST_ATTRIBUTE_DELETE] = "DELETE FROM job_attributes WHERE job_id = ?1 AND tag = ?2",
    [ST_ATTRIBUTE_SELECT] = "SELECT tag, value FROM job_attributes WHERE job_id = ?1 ORDER BY tag",
    [ST_REFERENCE_INSERT] = "INSERT INTO job_references (job_id, position, sop_class_uid, sop_instance_uid, profile)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_REFERENCE_SELECT] = "SELECT position, sop_class_uid, sop_instance_uid, profile FROM job_references"
                            " WHERE job_id = ?1 ORDER BY position",
    [ST_ICON_INSERT] = "INSERT INTO job_icons (job_id, position, rows, columns, bits_allocated, bits_stored, high_bit,"
                       " photometric, pixel_data, palette_descriptor_0, palette_descriptor_1, palette_descriptor_2,"
                       " palette_length, red_palette, green_palette, blue_palette)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [ST_ICON_SELECT] = "SELECT position, rows, columns, bits_allocated, bits_stored, high_bit, photometric,"
                       " pixel_data, palette_descriptor_0, palette_descriptor_1, palette_descriptor_2, palette_length,"
                       " red_palette, green_palette, blue_palette FROM job_icons WHERE job_id = ?1 ORDER BY position",
    [ST_FAILED_INSERT] = "INSERT INTO job_failed (job_id, position, sop_class_uid, sop_instance_uid, profile,"
                         " failure_reason, failure_attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_FAILED_DELETE] = "DELETE FROM job_failed WHERE job_id = ?1",
    [ST_FAILED_SELECT] = "SELECT sop_class_uid, sop_instance_uid, profile, failure_reason, failure_attributes"
                         " FROM job_failed WHERE job_id = ?1 ORDER BY position",
    [ST_MEDIA_INSERT] = "INSERT INTO job_media (job_id, position, fileset_id, fileset_uid) VALUES (?1, ?2, ?3, ?4)",
    [ST_MEDIA_DELETE] = "DELETE FROM job_media WHERE job_id = ?1",
    [ST_MEDIA_SELECT] = "SELECT fileset_id, fileset_uid FROM job_media WHERE job_id = ?1 ORDER BY position",
    [ST_INSTANCE_PUT] = "INSERT OR REPLACE INTO instances (sop_instance_uid, sop_class_uid, transfer_syntax_uid, path,"
                        " size, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_INSTANCE_GET] = "SELECT sop_class_uid, sop_instance_uid, transfer_syntax_uid, path, size, received"
                        " FROM instances WHERE sop_instance_uid = ?1",
    /* An instance is kept while any job in the kept states (?3: the live ones) names it in its
     * Referenced SOP Sequence (digest A15: received instances have their own retention, but never
     * vanish under a job that needs them). */
    [ST_INSTANCE_EXPIRE] = "DELETE FROM instances WHERE received < ?1 - ?2 AND NOT EXISTS (SELECT 1 FROM"
                           " job_references r JOIN jobs j ON j.id = r.job_id WHERE r.sop_instance_uid ="
                           " instances.sop_instance_uid AND j.state IN (SELECT value FROM json_each(?3)))"
                           " RETURNING path",
};

/* The SCP-maintained attributes whose presence a job records (mcm_job_has()), one bit each in
 * jobs.present. The order is part of the schema. */
static const uint32_t present_tags[] = {
    MCM_TAG_EXECUTION_STATUS,
    MCM_TAG_EXECUTION_STATUS_INFO,
    MCM_TAG_TOTAL_NUMBER_OF_PIECES,
    MCM_TAG_FAILED_SOP_SEQUENCE,
    MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
    MCM_TAG_REFERENCED_SOP_SEQUENCE,
};
#define PRESENT_COUNT (sizeof present_tags / sizeof present_tags[0])

/* The back end's connection (mcm_store_backend). Used by one thread at a time: store.c's mutex
 * guards db, every statement and the connection's error message. */
typedef struct sqlite_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *statements[ST_COUNT];
} sqlite_store;

/* ---- errors ---- */

/* Turn a SQLite failure into MCM_EDB (MCM_ENOMEM when SQLite ran out of memory) with a message that
 * says what was being done, SQLite's own message and its extended result code. */
static int db_fail(sqlite_store *store, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int db_fail(sqlite_store *store, int rc, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *message = store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc);
    int extended = store->db != NULL ? sqlite3_extended_errcode(store->db) : rc;
    /* The connection's message may belong to a later call than rc (e.g. after a reset); prefer
     * rc's own text then. */
    if ((extended & 0xFF) != (rc & 0xFF)) {
        message = sqlite3_errstr(rc);
        extended = rc;
    }
    return mcm_fail((rc & 0xFF) == SQLITE_NOMEM ? MCM_ENOMEM : MCM_EDB, "job database %s: %s: %s (SQLite code %d)",
                    store->path, what, message, extended);
}

/* ---- statements and values ---- */

static sqlite3_stmt *statement(sqlite_store *store, enum statement_id id)
{
    return store->statements[id];
}

/* Make a statement ready for its next use and drop its bound values (they may point to a job the
 * caller frees next). */
static void release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Bind a raw value: NULL when absent; TEXT normally, so that the instance retention query can
 * compare Referenced SOP Instance UIDs with instances.sop_instance_uid; a BLOB when the value holds
 * an embedded NUL (SQL string functions stop at a NUL; a BLOB keeps every byte, and such a value is
 * no valid UID so it never needs to match an instance). */
static int bind_raw(sqlite3_stmt *st, int index, const char *value, size_t length)
{
    if (value == NULL)
        return sqlite3_bind_null(st, index);
    if (memchr(value, '\0', length) != NULL)
        return sqlite3_bind_blob64(st, index, value, length, SQLITE_STATIC);
    return sqlite3_bind_text64(st, index, value, length, SQLITE_STATIC, SQLITE_UTF8);
}

static int bind_text_or_null(sqlite3_stmt *st, int index, const char *value)
{
    return value != NULL ? sqlite3_bind_text(st, index, value, -1, SQLITE_STATIC) : sqlite3_bind_null(st, index);
}

static int bind_bytes_or_null(sqlite3_stmt *st, int index, const void *data, size_t length)
{
    /* A zero-length array is stored as a zero-length BLOB; the request keeps such an array as NULL
     * anyway (clone_icon copies nothing for length 0), so it loads back the same. */
    return data != NULL ? sqlite3_bind_blob64(st, index, data, length, SQLITE_STATIC) : sqlite3_bind_null(st, index);
}

/* Read a column as raw bytes: *value NULL for SQL NULL, else the bytes ("" for an empty value)
 * valid until the statement steps again. Returns SQLITE_OK or SQLITE_NOMEM. */
static int column_raw(sqlite3_stmt *st, int column, const char **value, size_t *length)
{
    int type = sqlite3_column_type(st, column);
    *value = NULL;
    *length = 0;
    if (type == SQLITE_NULL)
        return SQLITE_OK;
    const void *bytes =
        type == SQLITE_BLOB ? sqlite3_column_blob(st, column) : (const void *)sqlite3_column_text(st, column);
    int n = sqlite3_column_bytes(st, column);
    if (bytes == NULL) {
        if (n > 0 || sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
            return SQLITE_NOMEM;
        bytes = ""; /* a zero-length BLOB */
    }
    *value = bytes;
    *length = (size_t)n;
    return SQLITE_OK;
}

/* A column as a C string, NULL for SQL NULL. Returns SQLITE_OK or SQLITE_NOMEM. */
static int column_text(sqlite3_stmt *st, int column, const char **value)
{
    *value = NULL;
    if (sqlite3_column_type(st, column) == SQLITE_NULL)
        return SQLITE_OK;
    *value = (const char *)sqlite3_column_text(st, column);
    return *value != NULL ? SQLITE_OK : SQLITE_NOMEM;
}

/* Step a statement that returns no row, then release it. */
static int run(sqlite_store *store, sqlite3_stmt *st, int bind_rc, const char *what, const char *uid)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
    int result =
        rc == SQLITE_DONE ? MCM_OK : db_fail(store, rc, "%s%s%s", what, uid != NULL ? " " : "", uid != NULL ? uid : "");
    release(st);
    return result;
}

/* Accumulate bind results: the first failure wins. */
#define BIND(call)                                                                                                     \
    do {                                                                                                               \
        if (brc == SQLITE_OK)                                                                                          \
            brc = (call);                                                                                              \
    } while (0)

/* ---- transactions ---- */

/* Roll back after a failure; the caller's error message stays. Should ROLLBACK itself fail, the
 * next call's begin() tries again, and reports its own error if it still cannot. */
static void rollback(sqlite_store *store)
{
    if (sqlite3_get_autocommit(store->db))
        return;
    sqlite3_stmt *st = statement(store, ST_ROLLBACK);
    sqlite3_step(st);
    release(st);
}

static int begin(sqlite_store *store, int write, const char *what)
{
    /* A transaction left open by a failed call would swallow the next one: close it first. */
    rollback(store);
    sqlite3_stmt *st = statement(store, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
    int rc = sqlite3_step(st);
    /* The message is taken before the reset, while the connection still describes this failure. */
    int result = rc == SQLITE_DONE ? MCM_OK : db_fail(store, rc, "starting a transaction to %s", what);
    release(st);
    return result;
}

static int commit(sqlite_store *store, const char *what)
{
    sqlite3_stmt *st = statement(store, ST_COMMIT);
    int rc = sqlite3_step(st);
    int result = rc == SQLITE_DONE ? MCM_OK : db_fail(store, rc, "committing (%s)", what);
    release(st);
    if (result != MCM_OK)
        rollback(store);
    return result;
}

/* Finish a call's transaction: commit if rc is MCM_OK (the commit's failure becomes the result),
 * roll back otherwise. */
static int finish(sqlite_store *store, int rc, const char *what)
{
    if (rc == MCM_OK)
        return commit(store, what);
    rollback(store);
    return rc;
}

/* ---- open and close ---- */

static int exec_sql(sqlite_store *store, const char *sql, const char *what)
{
    int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? MCM_OK : db_fail(store, rc, "%s", what);
}

/* Run a PRAGMA (or any one-row query) and read its first column as an integer or text. */
static int query_int(sqlite_store *store, const char *sql, int64_t *out, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    int result = rc == SQLITE_OK ? MCM_OK : db_fail(store, rc, "%s", what);
    sqlite3_finalize(st);
    return result;
}

static int query_text(sqlite_store *store, const char *sql, char *out, size_t out_size, const char *what)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    int rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *text = sqlite3_column_text(st, 0);
            snprintf(out, out_size, "%s", text != NULL ? (const char *)text : "");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    int result = rc == SQLITE_OK ? MCM_OK : db_fail(store, rc, "%s", what);
    sqlite3_finalize(st);
    return result;
}

/* Create the schema in an empty database, check the version of an existing one. */
static int check_schema(sqlite_store *store)
{
    int64_t version = 0, application_id = 0, objects = 0;
    int rc = begin(store, 1, "check the schema");
    if (rc == MCM_OK)
        rc = query_int(store, "PRAGMA user_version", &version, "reading the schema version");
    if (rc == MCM_OK)
        rc = query_int(store, "PRAGMA application_id", &application_id, "reading the application id");
    if (rc == MCM_OK)
        rc = query_int(store, "SELECT COUNT(*) FROM sqlite_schema", &objects, "reading the schema");
    if (rc == MCM_OK && application_id != 0 && application_id != APPLICATION_ID)
        rc = mcm_fail(MCM_EDB, "job database %s: not a dcmmcm job database (application id 0x%08llX)", store->path,
                      (unsigned long long)application_id);
    else if (rc == MCM_OK && version > SCHEMA_VERSION)
        rc = mcm_fail(MCM_EDB,
                      "job database %s: schema version %lld is newer than version %d that this dcmmcm %s knows; "
                      "use a newer dcmmcm or another database",
                      store->path, (long long)version, SCHEMA_VERSION, MCM_VERSION_STRING);
    else if (rc == MCM_OK && version == 0 && objects > 0)
        rc = mcm_fail(MCM_EDB, "job database %s: the file holds another program's tables (schema version 0)",
                      store->path);
    else if (rc == MCM_OK && version == 0) {
        char pragmas[96];
        rc = exec_sql(store, schema_sql, "creating the schema");
        snprintf(pragmas, sizeof pragmas, "PRAGMA user_version = %d; PRAGMA application_id = %d", SCHEMA_VERSION,
                 APPLICATION_ID);
        if (rc == MCM_OK)
            rc = exec_sql(store, pragmas, "writing the schema version");
    } else if (rc == MCM_OK && version < SCHEMA_VERSION) {
        /* No older schema exists yet; a future version migrates here, inside this transaction. */
        rc = mcm_fail(MCM_EDB, "job database %s: unknown schema version %lld", store->path, (long long)version);
    }
    return finish(store, rc, "creating the schema");
}

/* The directory part of path in out ("." when there is none). */
static void parent_directory(const char *path, char *out, size_t out_size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(out, out_size, ".");
    else if (slash == path)
        snprintf(out, out_size, "/");
    else
        snprintf(out, out_size, "%.*s", (int)(slash - path), path);
}

/* Why the database file could not be opened, in words an operator can act on. SQLite's own errno
 * is that of its last attempt (a read-only fallback), which can mislead: look for ourselves. */
static void describe_open_failure(const char *path, int system_errno, char *out, size_t out_size)
{
    char dir[4096];
    struct stat st;
    parent_directory(path, dir, sizeof dir);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            snprintf(out, out_size, "it is a directory");
        else if (access(path, R_OK | W_OK) != 0)
            snprintf(out, out_size, "no read and write access to the file: %s", strerror(errno));
        else
            snprintf(out, out_size, "%s", system_errno != 0 ? strerror(system_errno) : "unknown reason");
    } else if (errno != ENOENT) {
        snprintf(out, out_size, "%s", strerror(errno));
    } else if (stat(dir, &st) != 0) {
        snprintf(out, out_size, "directory %s: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(out, out_size, "%s is not a directory", dir);
    } else if (access(dir, W_OK | X_OK) != 0) {
        snprintf(out, out_size, "cannot create files in directory %s: %s", dir, strerror(errno));
    } else {
        snprintf(out, out_size, "%s", system_errno != 0 ? strerror(system_errno) : "unknown reason");
    }
}

/* fsync the directory holding path, so that a newly created database file's directory entry is on
 * disk too (SQLite syncs the directory for its WAL, not for the main file it creates). */
static void sync_parent_directory(const char *path)
{
    char dir[4096];
    parent_directory(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static void sqlite_close(mcm_store_backend *backend);

/* path: the file (store.c checked that it is not empty). */
static int sqlite_open(mcm_store_backend **out, const char *path)
{
    *out = NULL;
    sqlite_store *store = calloc(1, sizeof *store);
    if (store == NULL || (store->path = strdup(path)) == NULL) {
        free(store);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }

    struct stat st;
    int existed = stat(path, &st) == 0;
    /* NOMUTEX: the store's own mutex (store.c) serialises every use of the connection. */
    int rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    int result = MCM_OK;
    if (rc != SQLITE_OK) {
        char why[4300];
        describe_open_failure(path, store->db != NULL ? sqlite3_system_errno(store->db) : 0, why, sizeof why);
        result = mcm_fail(rc == SQLITE_NOMEM ? MCM_ENOMEM : MCM_EDB, "job database %s: cannot open it: %s (%s)", path,
                          why, store->db != NULL ? sqlite3_errmsg(store->db) : sqlite3_errstr(rc));
    }
    if (result == MCM_OK) {
        sqlite3_extended_result_codes(store->db, 1);
        sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
        if (sqlite3_db_readonly(store->db, "main") == 1)
            result = mcm_fail(MCM_EDB, "job database %s: opened read-only (no write permission on the file)", path);
    }
    /* journal_mode reads the header first, so a file that is not a database fails here. */
    char journal_mode[16];
    if (result == MCM_OK)
        result = query_text(store, "PRAGMA journal_mode = WAL", journal_mode, sizeof journal_mode,
                            "switching to the WAL journal");
    if (result == MCM_OK && strcmp(journal_mode, "wal") != 0)
        result = mcm_fail(MCM_EDB, "job database %s: cannot use the WAL journal (journal mode stays \"%s\")", path,
                          journal_mode);
    /* synchronous=FULL: COMMIT fsyncs the WAL, so a returned write survives power loss, not only a
     * crash (digest A15). foreign_keys: deleting a job deletes everything it carries. The WAL is
     * cut back to 16 MiB after a checkpoint so one large job does not leave a large file behind.
     * A 16 MiB page cache holds the pages a 100,000-item job touches (its rows and its part of the
     * instance UID index, about 10 MB): with SQLite's 2 MiB default such an insert spills dirty
     * pages to the WAL mid-transaction and took 0.5-1 s instead of 0.25 s once the database held a
     * few such jobs (measured). The cache grows only as pages are used. */
    if (result == MCM_OK)
        result = exec_sql(store,
                          "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 16777216;"
                          " PRAGMA cache_size = -16384",
                          "setting the connection's pragmas");
    int64_t foreign_keys = 0;
    if (result == MCM_OK)
        result = query_int(store, "PRAGMA foreign_keys", &foreign_keys, "reading foreign_keys");
    if (result == MCM_OK && foreign_keys != 1)
        result = mcm_fail(MCM_EDB, "job database %s: this SQLite cannot enforce foreign keys", path);
    /* The transaction statements first (the schema check runs in a transaction), the rest once the
     * tables they name exist. */
    for (int i = 0; i < ST_COUNT && result == MCM_OK; i++) {
        if (i == ST_ROLLBACK + 1)
            result = check_schema(store);
        if (result != MCM_OK)
            break;
        rc =
            sqlite3_prepare_v3(store->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &store->statements[i], NULL);
        if (rc != SQLITE_OK)
            result = db_fail(store, rc, "preparing statement %d", i);
    }
    if (result != MCM_OK) {
        sqlite_close((mcm_store_backend *)store);
        return result;
    }
    if (!existed)
        sync_parent_directory(path);
    *out = (mcm_store_backend *)store;
    return MCM_OK;
}

static void sqlite_close(mcm_store_backend *backend)
{
    sqlite_store *store = (sqlite_store *)backend;
    if (store == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(store->statements[i]);
    /* With every statement finalised sqlite3_close succeeds; the last connection checkpoints the
     * WAL into the database file and removes it. */
    sqlite3_close(store->db);
    free(store->path);
    free(store);
}

static void sqlite_set_busy_timeout(mcm_store_backend *backend, int milliseconds)
{
    sqlite3_busy_timeout(((sqlite_store *)backend)->db, milliseconds);
}

/* ---- writing a job ---- */

static int priority_rank(const mcm_request *request)
{
    switch (mcm_request_priority(request)) {
    case MCM_PRIORITY_HIGH: return 0;
    case MCM_PRIORITY_LOW: return 2;
    default: return 1; /* MED, or absent: the SCP treats it as MED */
    }
}

static int64_t present_mask(const mcm_job *job)
{
    int64_t mask = 0;
    for (size_t i = 0; i < PRESENT_COUNT; i++)
        if (mcm_job_has(job, present_tags[i]))
            mask |= (int64_t)1 << i;
    return mask;
}

/* Find a job by UID: *id, and optionally its state and info. MCM_ENOTFOUND if none. */
static int find_job(sqlite_store *store, const char *uid, int64_t *id, mcm_job_state *state, char info[65])
{
    sqlite3_stmt *st = statement(store, ST_JOB_FIND);
    int result = MCM_OK;
    int rc = sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        const char *state_name = (const char *)sqlite3_column_text(st, 1);
        const char *info_text = (const char *)sqlite3_column_text(st, 2);
        if (state_name == NULL || info_text == NULL)
            result = db_fail(store, SQLITE_NOMEM, "reading job %s", uid);
        else if (state != NULL && mcm_job_state_parse(state_name, state) != MCM_OK)
            result = mcm_fail(MCM_EDB, "job database %s: job %s has an unknown state \"%.20s\"", store->path, uid,
                              state_name);
        else if (info != NULL)
            snprintf(info, 65, "%s", info_text);
    } else if (rc == SQLITE_DONE) {
        result = mcm_fail(MCM_ENOTFOUND, "no job %s in the store", uid);
    } else {
        result = db_fail(store, rc, "looking up job %s", uid);
    }
    release(st);
    return result;
}

static int put_attribute(sqlite_store *store, int64_t job_id, const mcm_request *request, uint32_t tag, const char *uid)
{
    const char *value = mcm_request_attribute(request, tag);
    sqlite3_stmt *st = statement(store, value != NULL ? ST_ATTRIBUTE_PUT : ST_ATTRIBUTE_DELETE);
    int brc = SQLITE_OK;
    BIND(sqlite3_bind_int64(st, 1, job_id));
    BIND(sqlite3_bind_int64(st, 2, tag));
    if (value != NULL)
        BIND(bind_raw(st, 3, value, mcm_request_attribute_length(request, tag)));
    return run(store, st, brc, "saving a request attribute of job", uid);
}

static int insert_icon(sqlite_store *store, int64_t job_id, size_t position, const mcm_icon *icon, const char *uid)
{
    sqlite3_stmt *st = statement(store, ST_ICON_INSERT);
    int brc = SQLITE_OK;
    BIND(sqlite3_bind_int64(st, 1, job_id));
    BIND(sqlite3_bind_int64(st, 2, (sqlite3_int64)position));
    BIND(sqlite3_bind_int(st, 3, icon->rows));
    BIND(sqlite3_bind_int(st, 4, icon->columns));
    BIND(sqlite3_bind_int(st, 5, icon->bits_allocated));
    BIND(sqlite3_bind_int(st, 6, icon->bits_stored));
    BIND(sqlite3_bind_int(st, 7, icon->high_bit));
    BIND(bind_text_or_null(st, 8, icon->photometric));
    BIND(bind_bytes_or_null(st, 9, icon->pixel_data, icon->pixel_data_length));
    BIND(sqlite3_bind_int(st, 10, icon->palette_descriptor[0]));
    BIND(sqlite3_bind_int(st, 11, icon->palette_descriptor[1]));
    BIND(sqlite3_bind_int(st, 12, icon->palette_descriptor[2]));
    BIND(sqlite3_bind_int64(st, 13, (sqlite3_int64)icon->palette_length));
    BIND(bind_bytes_or_null(st, 14, icon->red_palette, icon->palette_length));
    BIND(bind_bytes_or_null(st, 15, icon->green_palette, icon->palette_length));
    BIND(bind_bytes_or_null(st, 16, icon->blue_palette, icon->palette_length));
    return run(store, st, brc, "saving an icon of job", uid);
}

/* Everything the request carries: its attributes and the Referenced SOP items with icons. */
static int insert_request(sqlite_store *store, int64_t job_id, const mcm_request *request, const char *uid)
{
    int result = MCM_OK;
    for (size_t i = 0; i < mcm_request_attribute_count && result == MCM_OK; i++)
        if (mcm_request_attribute(request, mcm_request_attributes[i].tag) != NULL)
            result = put_attribute(store, job_id, request, mcm_request_attributes[i].tag, uid);
    /* One statement, reused for every item, all in the caller's transaction: 100,000 items cost
     * one fsync. */
    sqlite3_stmt *st = statement(store, ST_REFERENCE_INSERT);
    size_t count = mcm_request_reference_count(request);
    for (size_t i = 0; i < count && result == MCM_OK; i++) {
        mcm_reference item;
        size_t class_length = 0, instance_length = 0, profile_length = 0;
        result = mcm_request_reference(request, i, &item);
        if (result == MCM_OK)
            result = mcm_request_reference_lengths(request, i, &class_length, &instance_length, &profile_length);
        if (result != MCM_OK)
            break;
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_int64(st, 1, job_id));
        BIND(sqlite3_bind_int64(st, 2, (sqlite3_int64)i));
        BIND(bind_raw(st, 3, item.sop_class_uid, class_length));
        BIND(bind_raw(st, 4, item.sop_instance_uid, instance_length));
        BIND(bind_raw(st, 5, item.profile, profile_length));
        int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            result = db_fail(store, rc, "saving Referenced SOP item %zu of job %s", i + 1, uid);
        else if (item.icon != NULL)
            result = insert_icon(store, job_id, i, item.icon, uid);
    }
    sqlite3_clear_bindings(st);
    return result;
}

/* Failure Attributes as 4-byte little-endian tags (a fixed byte order keeps the file portable). */
static unsigned char *encode_tags(const uint32_t *tags, size_t count)
{
    unsigned char *bytes = malloc(count * 4 + 1);
    if (bytes == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        bytes[4 * i] = (unsigned char)(tags[i] & 0xFF);
        bytes[4 * i + 1] = (unsigned char)((tags[i] >> 8) & 0xFF);
        bytes[4 * i + 2] = (unsigned char)((tags[i] >> 16) & 0xFF);
        bytes[4 * i + 3] = (unsigned char)((tags[i] >> 24) & 0xFF);
    }
    return bytes;
}

/* The results: Failed SOP items and Referenced Storage Media items (the caller removed old ones). */
static int insert_results(sqlite_store *store, int64_t job_id, const mcm_job *job)
{
    const char *uid = mcm_job_uid(job);
    int result = MCM_OK;
    for (size_t i = 0; i < mcm_job_failed_count(job) && result == MCM_OK; i++) {
        mcm_failed_sop item;
        result = mcm_job_failed(job, i, &item);
        if (result != MCM_OK)
            break;
        unsigned char *tags = NULL;
        if (item.failure_attribute_count > 0 && item.failure_attributes != NULL &&
            (tags = encode_tags(item.failure_attributes, item.failure_attribute_count)) == NULL) {
            result = mcm_fail(MCM_ENOMEM, "out of memory");
            break;
        }
        sqlite3_stmt *st = statement(store, ST_FAILED_INSERT);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_int64(st, 1, job_id));
        BIND(sqlite3_bind_int64(st, 2, (sqlite3_int64)i));
        BIND(bind_text_or_null(st, 3, item.sop_class_uid));
        BIND(bind_text_or_null(st, 4, item.sop_instance_uid));
        BIND(bind_text_or_null(st, 5, item.profile));
        BIND(sqlite3_bind_int(st, 6, item.failure_reason));
        BIND(bind_bytes_or_null(st, 7, tags, tags != NULL ? item.failure_attribute_count * 4 : 0));
        result = run(store, st, brc, "saving a Failed SOP item of job", uid);
        free(tags);
    }
    for (size_t i = 0; i < mcm_job_media_count(job) && result == MCM_OK; i++) {
        mcm_storage_media item;
        result = mcm_job_media(job, i, &item);
        if (result != MCM_OK)
            break;
        sqlite3_stmt *st = statement(store, ST_MEDIA_INSERT);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_int64(st, 1, job_id));
        BIND(sqlite3_bind_int64(st, 2, (sqlite3_int64)i));
        BIND(bind_text_or_null(st, 3, item.fileset_id));
        BIND(bind_text_or_null(st, 4, item.fileset_uid));
        result = run(store, st, brc, "saving a Referenced Storage Media item of job", uid);
    }
    return result;
}

/* ---- loading a job ---- */

static int load_request(sqlite_store *store, int64_t job_id, const char *uid, mcm_request *request)
{
    int result = MCM_OK, rc;
    sqlite3_stmt *st = statement(store, ST_ATTRIBUTE_SELECT);
    rc = sqlite3_bind_int64(st, 1, job_id);
    while (result == MCM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *value;
        size_t length;
        uint32_t tag = (uint32_t)sqlite3_column_int64(st, 0);
        if ((rc = column_raw(st, 1, &value, &length)) != SQLITE_OK)
            break;
        if (mcm_attribute_find(tag) == NULL)
            result = mcm_fail(MCM_EDB, "job database %s: job %s has unknown attribute (%04X,%04X)", store->path, uid,
                              (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
        else
            result = mcm_request_set_attribute_raw(request, tag, value, length);
    }
    if (result == MCM_OK && rc != SQLITE_DONE)
        result = db_fail(store, rc, "loading the request attributes of job %s", uid);
    release(st);

    st = statement(store, ST_REFERENCE_SELECT);
    rc = sqlite3_bind_int64(st, 1, job_id);
    size_t expected = 0;
    while (result == MCM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *class_uid, *instance_uid, *profile;
        size_t class_length, instance_length, profile_length;
        if ((rc = column_raw(st, 1, &class_uid, &class_length)) != SQLITE_OK ||
            (rc = column_raw(st, 2, &instance_uid, &instance_length)) != SQLITE_OK ||
            (rc = column_raw(st, 3, &profile, &profile_length)) != SQLITE_OK)
            break;
        if (sqlite3_column_int64(st, 0) != (sqlite3_int64)expected++)
            result =
                mcm_fail(MCM_EDB, "job database %s: job %s: Referenced SOP items out of sequence", store->path, uid);
        else
            result = mcm_request_add_reference_raw(request, class_uid, class_length, instance_uid, instance_length,
                                                   profile, profile_length);
    }
    if (result == MCM_OK && rc != SQLITE_DONE)
        result = db_fail(store, rc, "loading the Referenced SOP items of job %s", uid);
    release(st);

    st = statement(store, ST_ICON_SELECT);
    rc = sqlite3_bind_int64(st, 1, job_id);
    while (result == MCM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        mcm_icon icon;
        const char *pixels, *red, *green, *blue;
        size_t pixel_length, red_length, green_length, blue_length;
        memset(&icon, 0, sizeof icon);
        icon.rows = (uint16_t)sqlite3_column_int(st, 1);
        icon.columns = (uint16_t)sqlite3_column_int(st, 2);
        icon.bits_allocated = (uint16_t)sqlite3_column_int(st, 3);
        icon.bits_stored = (uint16_t)sqlite3_column_int(st, 4);
        icon.high_bit = (uint16_t)sqlite3_column_int(st, 5);
        icon.palette_descriptor[0] = (uint16_t)sqlite3_column_int(st, 8);
        icon.palette_descriptor[1] = (uint16_t)sqlite3_column_int(st, 9);
        icon.palette_descriptor[2] = (uint16_t)sqlite3_column_int(st, 10);
        icon.palette_length = (size_t)sqlite3_column_int64(st, 11);
        if ((rc = column_text(st, 6, &icon.photometric)) != SQLITE_OK ||
            (rc = column_raw(st, 7, &pixels, &pixel_length)) != SQLITE_OK ||
            (rc = column_raw(st, 12, &red, &red_length)) != SQLITE_OK ||
            (rc = column_raw(st, 13, &green, &green_length)) != SQLITE_OK ||
            (rc = column_raw(st, 14, &blue, &blue_length)) != SQLITE_OK)
            break;
        icon.pixel_data = (const uint8_t *)pixels;
        icon.pixel_data_length = pixel_length;
        icon.red_palette = (const uint8_t *)red;
        icon.green_palette = (const uint8_t *)green;
        icon.blue_palette = (const uint8_t *)blue;
        /* Each LUT is copied with palette_length bytes: a shorter stored one is damage, not data. */
        if ((red != NULL && red_length != icon.palette_length) ||
            (green != NULL && green_length != icon.palette_length) ||
            (blue != NULL && blue_length != icon.palette_length))
            result = mcm_fail(MCM_EDB, "job database %s: job %s: icon palette length mismatch", store->path, uid);
        else
            result = mcm_request_set_icon_raw(request, (size_t)sqlite3_column_int64(st, 0), &icon);
    }
    if (result == MCM_OK && rc != SQLITE_DONE)
        result = db_fail(store, rc, "loading the icons of job %s", uid);
    release(st);
    return result;
}

static uint32_t *decode_tags(const unsigned char *bytes, size_t count)
{
    uint32_t *tags = malloc(count * sizeof *tags + 1);
    if (tags == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        tags[i] = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 | (uint32_t)bytes[4 * i + 2] << 16 |
                  (uint32_t)bytes[4 * i + 3] << 24;
    return tags;
}

static int load_results(sqlite_store *store, int64_t job_id, mcm_job *job)
{
    const char *uid = mcm_job_uid(job);
    int result = MCM_OK, rc;
    sqlite3_stmt *st = statement(store, ST_FAILED_SELECT);
    rc = sqlite3_bind_int64(st, 1, job_id);
    while (result == MCM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *class_uid, *instance_uid, *profile, *bytes;
        size_t length;
        if ((rc = column_text(st, 0, &class_uid)) != SQLITE_OK ||
            (rc = column_text(st, 1, &instance_uid)) != SQLITE_OK || (rc = column_text(st, 2, &profile)) != SQLITE_OK ||
            (rc = column_raw(st, 4, &bytes, &length)) != SQLITE_OK)
            break;
        uint32_t *tags = NULL;
        size_t count = length / 4;
        if (length % 4 != 0) {
            result = mcm_fail(MCM_EDB, "job database %s: job %s: Failure Attributes damaged", store->path, uid);
            break;
        }
        if (count > 0 && (tags = decode_tags((const unsigned char *)bytes, count)) == NULL) {
            result = mcm_fail(MCM_ENOMEM, "out of memory");
            break;
        }
        result =
            mcm_job_add_failed(job, class_uid, instance_uid, profile, (uint16_t)sqlite3_column_int(st, 3), tags, count);
        free(tags);
    }
    if (result == MCM_OK && rc != SQLITE_DONE)
        result = db_fail(store, rc, "loading the Failed SOP items of job %s", uid);
    release(st);

    st = statement(store, ST_MEDIA_SELECT);
    rc = sqlite3_bind_int64(st, 1, job_id);
    while (result == MCM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *fileset_id, *fileset_uid;
        if ((rc = column_text(st, 0, &fileset_id)) != SQLITE_OK || (rc = column_text(st, 1, &fileset_uid)) != SQLITE_OK)
            break;
        result = mcm_job_add_media(job, fileset_id, fileset_uid);
    }
    if (result == MCM_OK && rc != SQLITE_DONE)
        result = db_fail(store, rc, "loading the Referenced Storage Media items of job %s", uid);
    release(st);
    return result;
}

/* Load the whole job with row id job_id (inside the caller's transaction). */
static int load_job(sqlite_store *store, int64_t job_id, mcm_job **out)
{
    *out = NULL;
    sqlite3_stmt *st = statement(store, ST_JOB_SELECT);
    mcm_job *job = NULL;
    mcm_request *request = NULL;
    int64_t present = 0, reference_sequence_present = 0;
    int result = MCM_OK;
    int rc = sqlite3_bind_int64(st, 1, job_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(st, 0);
        const char *state_name = (const char *)sqlite3_column_text(st, 1);
        const char *info = (const char *)sqlite3_column_text(st, 2);
        mcm_job_state state = MCM_JOB_ABSENT;
        if (uid == NULL || state_name == NULL || info == NULL)
            result = mcm_fail(MCM_ENOMEM, "out of memory");
        else if (mcm_job_state_parse(state_name, &state) != MCM_OK)
            result = mcm_fail(MCM_EDB, "job database %s: job %s has an unknown state \"%.20s\"", store->path, uid,
                              state_name);
        else if ((result = mcm_job_new(&job, uid)) == MCM_OK)
            result = mcm_job_set_state(job, state, info[0] != '\0' ? info : NULL);
        if (result == MCM_OK) {
            mcm_job_set_pieces(job, (unsigned)sqlite3_column_int64(st, 3));
            mcm_job_set_times(job, sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
            present = sqlite3_column_int64(st, 6);
            reference_sequence_present = sqlite3_column_int64(st, 7);
        }
    } else if (rc == SQLITE_DONE) {
        result = mcm_fail(MCM_ENOTFOUND, "job row %lld vanished from the store", (long long)job_id);
    } else {
        result = db_fail(store, rc, "loading job row %lld", (long long)job_id);
    }
    release(st);
    if (result == MCM_OK)
        result = mcm_request_new(&request);
    if (result == MCM_OK)
        result = load_request(store, job_id, mcm_job_uid(job), request);
    if (result == MCM_OK) {
        mcm_request_set_reference_sequence_present(request, reference_sequence_present != 0);
        mcm_job_set_request(job, request);
        request = NULL;
        for (size_t i = 0; i < PRESENT_COUNT; i++)
            mcm_job_mark(job, present_tags[i], (present >> i) & 1);
        result = load_results(store, job_id, job);
    }
    mcm_request_free(request);
    if (result != MCM_OK) {
        mcm_job_free(job);
        return result;
    }
    *out = job;
    return MCM_OK;
}

/* ---- state sets ---- */

/* A set of states as the JSON array of their names that json_each() expands ("[]" for none). */
static void states_json(mcm_store_states states, char *out, size_t size)
{
    size_t length = (size_t)snprintf(out, size, "[");
    for (unsigned s = 0; s <= MCM_JOB_DELETED && length < size; s++)
        if (states & MCM_STORE_STATE(s))
            length += (size_t)snprintf(out + length, size - length, "%s\"%s\"", length > 1 ? "," : "",
                                       mcm_job_state_name((mcm_job_state)s));
    if (length < size)
        snprintf(out + length, size - length, "]");
}

/* Room for every state's name, quoted, with commas and brackets. */
#define STATES_JSON_SIZE 128

/* ---- the operations ---- */

static int sqlite_recover(mcm_store_backend *backend, mcm_job_state from, mcm_job_state to, const char *info,
                          size_t *count)
{
    sqlite_store *store = (sqlite_store *)backend;
    size_t changed = 0;
    int result = begin(store, 1, "recover interrupted jobs");
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_JOB_RECOVER);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_text(st, 1, mcm_job_state_name(from), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 2, mcm_job_state_name(to), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 3, info != NULL ? info : "", -1, SQLITE_STATIC));
        char what[64];
        snprintf(what, sizeof what, "putting %s jobs back to %s", mcm_job_state_name(from), mcm_job_state_name(to));
        result = run(store, st, brc, what, NULL);
        changed = (size_t)sqlite3_changes64(store->db);
        result = finish(store, result, "recovering interrupted jobs");
    }
    if (result == MCM_OK)
        *count = changed;
    return result;
}

static int sqlite_insert_job(mcm_store_backend *backend, const mcm_job *job, int queue, int64_t now)
{
    sqlite_store *store = (sqlite_store *)backend;
    const char *uid = mcm_job_uid(job);
    const mcm_request *request = mcm_job_request(job);
    const char *info = mcm_job_status_info(job);

    int result = begin(store, 1, "insert a job");
    if (result == MCM_OK) {
        int64_t existing;
        result = find_job(store, uid, &existing, NULL, NULL);
        if (result == MCM_OK)
            result = mcm_fail(MCM_ESTATE, "job %s already exists in the store (0111 Duplicate SOP Instance)", uid);
        else if (result == MCM_ENOTFOUND)
            result = MCM_OK;
    }
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_JOB_INSERT);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 2, mcm_job_state_name(mcm_job_state_of(job)), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 3, info != NULL ? info : "", -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(st, 4, mcm_job_pieces(job)));
        BIND(sqlite3_bind_int(st, 5, priority_rank(request)));
        BIND(sqlite3_bind_int64(st, 6, now));
        BIND(sqlite3_bind_int64(st, 7, present_mask(job)));
        BIND(sqlite3_bind_int(st, 8, mcm_request_reference_sequence_present(request)));
        BIND(sqlite3_bind_int(st, 9, queue != 0));
        result = run(store, st, brc, "inserting job", uid);
    }
    if (result == MCM_OK) {
        int64_t job_id = sqlite3_last_insert_rowid(store->db);
        result = insert_request(store, job_id, request, uid);
        if (result == MCM_OK)
            result = insert_results(store, job_id, job);
    }
    return finish(store, result, "inserting a job");
}

static int sqlite_load_job(mcm_store_backend *backend, const char *uid, mcm_job **out)
{
    sqlite_store *store = (sqlite_store *)backend;
    mcm_job *job = NULL;
    int result = begin(store, 0, "load a job");
    if (result == MCM_OK) {
        int64_t job_id;
        result = find_job(store, uid, &job_id, NULL, NULL);
        if (result == MCM_OK)
            result = load_job(store, job_id, &job);
        result = finish(store, result, "loading a job");
    }
    if (result != MCM_OK) {
        mcm_job_free(job);
        return result;
    }
    *out = job;
    return MCM_OK;
}

static int sqlite_load_state(mcm_store_backend *backend, const char *uid, mcm_job_state *state, char info[65])
{
    sqlite_store *store = (sqlite_store *)backend;
    int64_t job_id;
    int result = begin(store, 0, "load a job's state");
    if (result == MCM_OK) {
        result = find_job(store, uid, &job_id, state, info);
        result = finish(store, result, "loading a job's state");
    }
    return result;
}

static int sqlite_update_job(mcm_store_backend *backend, const mcm_job *job, mcm_job_state expect_state,
                             mcm_store_states queue_from, int64_t retry_after, int64_t now)
{
    sqlite_store *store = (sqlite_store *)backend;
    const char *uid = mcm_job_uid(job);
    const mcm_request *request = mcm_job_request(job);
    const char *info = mcm_job_status_info(job);

    int64_t job_id = 0;
    mcm_job_state stored = MCM_JOB_ABSENT;
    int result = begin(store, 1, "update a job");
    if (result == MCM_OK)
        result = find_job(store, uid, &job_id, &stored, NULL);
    /* The guard: a worker's result must not overwrite a job that a Cancel deleted (ENOTFOUND above)
     * or that changed state meanwhile. */
    if (result == MCM_OK && expect_state != MCM_JOB_ABSENT && stored != expect_state)
        result = mcm_fail(MCM_ESTATE, "job %s is %s, not %s as expected: not updated", uid, mcm_job_state_name(stored),
                          mcm_job_state_name(expect_state));
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_JOB_UPDATE);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_int64(st, 1, job_id));
        BIND(sqlite3_bind_text(st, 2, mcm_job_state_name(mcm_job_state_of(job)), -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 3, info != NULL ? info : "", -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(st, 4, mcm_job_pieces(job)));
        BIND(sqlite3_bind_int(st, 5, priority_rank(request)));
        BIND(sqlite3_bind_int64(st, 6, retry_after));
        BIND(sqlite3_bind_int64(st, 7, now));
        BIND(sqlite3_bind_int64(st, 8, present_mask(job)));
        /* The stored state was read in this transaction, so the queue place follows what is saved. */
        BIND(sqlite3_bind_int(st, 9, (queue_from & MCM_STORE_STATE(stored)) != 0));
        result = run(store, st, brc, "updating job", uid);
    }
    /* Initiate stores Number of Copies and Request Priority in the request (PS3.4 S.3.2.2). */
    if (result == MCM_OK)
        result = put_attribute(store, job_id, request, MCM_TAG_NUMBER_OF_COPIES, uid);
    if (result == MCM_OK)
        result = put_attribute(store, job_id, request, MCM_TAG_REQUEST_PRIORITY, uid);
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_FAILED_DELETE);
        result = run(store, st, sqlite3_bind_int64(st, 1, job_id), "replacing the Failed SOP items of job", uid);
    }
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_MEDIA_DELETE);
        result = run(store, st, sqlite3_bind_int64(st, 1, job_id),
                     "replacing the Referenced Storage Media items of job", uid);
    }
    if (result == MCM_OK)
        result = insert_results(store, job_id, job);
    return finish(store, result, "updating a job");
}

static int sqlite_delete_job(mcm_store_backend *backend, const char *uid)
{
    sqlite_store *store = (sqlite_store *)backend;
    int64_t job_id;
    int result = begin(store, 1, "delete a job");
    if (result == MCM_OK) {
        result = find_job(store, uid, &job_id, NULL, NULL);
        if (result == MCM_OK) {
            sqlite3_stmt *st = statement(store, ST_JOB_DELETE);
            result = run(store, st, sqlite3_bind_int64(st, 1, job_id), "deleting job", uid);
        }
        result = finish(store, result, "deleting a job");
    }
    return result;
}

static int sqlite_claim_next(mcm_store_backend *backend, mcm_job_state from, mcm_job_state to, const char *info,
                             int64_t now, mcm_job **out)
{
    sqlite_store *store = (sqlite_store *)backend;
    mcm_job *job = NULL;
    /* BEGIN IMMEDIATE takes the write lock before the SELECT, so no other connection can pick the
     * same job between the choice and the UPDATE; store.c's mutex does the same for this connection. */
    int result = begin(store, 1, "claim the next job");
    if (result == MCM_OK) {
        int64_t job_id = 0;
        sqlite3_stmt *st = statement(store, ST_JOB_NEXT);
        int rc = sqlite3_bind_int64(st, 1, now);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 2, mcm_job_state_name(from), -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            job_id = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE)
            result = mcm_fail(MCM_ENOTFOUND, "no %s job is ready to start", mcm_job_state_name(from));
        else
            result = db_fail(store, rc, "choosing the next %s job", mcm_job_state_name(from));
        release(st);
        if (result == MCM_OK) {
            char what[48];
            snprintf(what, sizeof what, "marking the next job %s", mcm_job_state_name(to));
            st = statement(store, ST_JOB_CLAIM);
            int brc = SQLITE_OK;
            BIND(sqlite3_bind_int64(st, 1, job_id));
            BIND(sqlite3_bind_int64(st, 2, now));
            BIND(sqlite3_bind_text(st, 3, mcm_job_state_name(to), -1, SQLITE_STATIC));
            BIND(sqlite3_bind_text(st, 4, info != NULL ? info : "", -1, SQLITE_STATIC));
            result = run(store, st, brc, what, NULL);
        }
        if (result == MCM_OK)
            result = load_job(store, job_id, &job);
        result = finish(store, result, "claiming the next job");
    }
    if (result != MCM_OK) {
        mcm_job_free(job);
        return result;
    }
    *out = job;
    return MCM_OK;
}

/* A one-row integer query, already bound, in its own read transaction; *value 0 when the result is
 * NULL. bind_rc: the result of binding its parameters. */
static int read_single_int(sqlite_store *store, sqlite3_stmt *st, int bind_rc, int64_t *value, const char *what)
{
    int result = begin(store, 0, what);
    if (result == MCM_OK) {
        int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
        if (rc == SQLITE_ROW)
            *value = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
        else
            result = db_fail(store, rc, "%s", what);
        release(st);
        return finish(store, result, what);
    }
    release(st); /* its bound values may point to the caller's buffers */
    return result;
}

static int sqlite_next_retry(mcm_store_backend *backend, mcm_job_state queued, int64_t now, int64_t *when)
{
    sqlite_store *store = (sqlite_store *)backend;
    sqlite3_stmt *st = statement(store, ST_JOB_NEXT_RETRY);
    int brc = SQLITE_OK;
    BIND(sqlite3_bind_int64(st, 1, now));
    BIND(sqlite3_bind_text(st, 2, mcm_job_state_name(queued), -1, SQLITE_STATIC));
    return read_single_int(store, st, brc, when, "find the next retry time");
}

static int sqlite_count_jobs(mcm_store_backend *backend, mcm_store_states states, size_t *count)
{
    sqlite_store *store = (sqlite_store *)backend;
    char names[STATES_JSON_SIZE];
    states_json(states, names, sizeof names);
    sqlite3_stmt *st = statement(store, ST_JOB_COUNT);
    int64_t value = 0;
    int result = read_single_int(store, st, sqlite3_bind_text(st, 1, names, -1, SQLITE_STATIC), &value, "count jobs");
    if (result == MCM_OK)
        *count = (size_t)value;
    return result;
}

/* Run a DELETE ... RETURNING statement (bound; bind_rc the result of binding) in one write
 * transaction and pass the returned text column to collect. */
static int delete_returning(sqlite_store *store, sqlite3_stmt *st, int bind_rc, const char *what,
                            mcm_store_collect_fn collect, void *list)
{
    int result = begin(store, 1, what);
    if (result == MCM_OK && bind_rc != SQLITE_OK)
        result = db_fail(store, bind_rc, "%s", what);
    if (result == MCM_OK) {
        int rc = SQLITE_DONE;
        while (result == MCM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(st, 0);
            result = text != NULL ? collect(text, list) : mcm_fail(MCM_ENOMEM, "out of memory");
        }
        if (result == MCM_OK && rc != SQLITE_DONE)
            result = db_fail(store, rc, "%s", what);
    }
    release(st);
    return finish(store, result, what);
}

static int sqlite_expire_jobs(mcm_store_backend *backend, int64_t now, mcm_store_states by_created,
                              int64_t created_seconds, mcm_store_states by_updated, int64_t updated_seconds,
                              mcm_store_collect_fn collect, void *list)
{
    sqlite_store *store = (sqlite_store *)backend;
    char created_names[STATES_JSON_SIZE], updated_names[STATES_JSON_SIZE];
    states_json(by_created, created_names, sizeof created_names);
    states_json(by_updated, updated_names, sizeof updated_names);
    sqlite3_stmt *st = statement(store, ST_JOB_EXPIRE);
    int brc = SQLITE_OK;
    BIND(sqlite3_bind_int64(st, 1, now));
    BIND(sqlite3_bind_text(st, 2, created_names, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_int64(st, 3, created_seconds));
    BIND(sqlite3_bind_text(st, 4, updated_names, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_int64(st, 5, updated_seconds));
    return delete_returning(store, st, brc, "expiring jobs", collect, list);
}

static int sqlite_put_instance(mcm_store_backend *backend, const char *sop_class_uid, const char *sop_instance_uid,
                               const char *transfer_syntax_uid, const char *path, uint64_t size, int64_t now)
{
    sqlite_store *store = (sqlite_store *)backend;
    int result = begin(store, 1, "record an instance");
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_INSTANCE_PUT);
        int brc = SQLITE_OK;
        BIND(sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 2, sop_class_uid, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 3, transfer_syntax_uid, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(st, 5, (sqlite3_int64)size));
        BIND(sqlite3_bind_int64(st, 6, now));
        result = run(store, st, brc, "recording instance", sop_instance_uid);
        result = finish(store, result, "recording an instance");
    }
    return result;
}

static int sqlite_get_instance(mcm_store_backend *backend, const char *sop_instance_uid, mcm_stored_instance *out)
{
    sqlite_store *store = (sqlite_store *)backend;
    int result = begin(store, 0, "look up an instance");
    if (result == MCM_OK) {
        sqlite3_stmt *st = statement(store, ST_INSTANCE_GET);
        int rc = sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *class_uid = (const char *)sqlite3_column_text(st, 0);
            const char *instance_uid = (const char *)sqlite3_column_text(st, 1);
            const char *syntax = (const char *)sqlite3_column_text(st, 2);
            const char *path = (const char *)sqlite3_column_text(st, 3);
            if (class_uid == NULL || instance_uid == NULL || syntax == NULL || path == NULL ||
                (out->path = strdup(path)) == NULL) {
                result = mcm_fail(MCM_ENOMEM, "out of memory");
            } else {
                snprintf(out->sop_class_uid, sizeof out->sop_class_uid, "%s", class_uid);
                snprintf(out->sop_instance_uid, sizeof out->sop_instance_uid, "%s", instance_uid);
                snprintf(out->transfer_syntax_uid, sizeof out->transfer_syntax_uid, "%s", syntax);
                out->size = (uint64_t)sqlite3_column_int64(st, 4);
                out->received = sqlite3_column_int64(st, 5);
            }
        } else if (rc == SQLITE_DONE) {
            result = mcm_fail(MCM_ENOTFOUND, "no instance %s in the store", sop_instance_uid);
        } else {
            result = db_fail(store, rc, "looking up instance %s", sop_instance_uid);
        }
        release(st);
        result = finish(store, result, "looking up an instance");
    }
    return result; /* store.c frees out->path on failure */
}

static int sqlite_expire_instances(mcm_store_backend *backend, int64_t now, int64_t seconds, mcm_store_states kept_by,
                                   mcm_store_collect_fn collect, void *list)
{
    sqlite_store *store = (sqlite_store *)backend;
    char names[STATES_JSON_SIZE];
    states_json(kept_by, names, sizeof names);
    sqlite3_stmt *st = statement(store, ST_INSTANCE_EXPIRE);
    int brc = SQLITE_OK;
    BIND(sqlite3_bind_int64(st, 1, now));
    BIND(sqlite3_bind_int64(st, 2, seconds));
    BIND(sqlite3_bind_text(st, 3, names, -1, SQLITE_STATIC));
    return delete_returning(store, st, brc, "expiring instances", collect, list);
}

const mcm_store_backend_ops mcm_store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .set_busy_timeout = sqlite_set_busy_timeout,
    .insert_job = sqlite_insert_job,
    .load_job = sqlite_load_job,
    .load_state = sqlite_load_state,
    .update_job = sqlite_update_job,
    .delete_job = sqlite_delete_job,
    .claim_next = sqlite_claim_next,
    .recover = sqlite_recover,
    .next_retry = sqlite_next_retry,
    .count_jobs = sqlite_count_jobs,
    .expire_jobs = sqlite_expire_jobs,
    .put_instance = sqlite_put_instance,
    .get_instance = sqlite_get_instance,
    .expire_instances = sqlite_expire_instances,
};
