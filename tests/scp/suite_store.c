/*
 * tests/scp/suite_store.c: the durable job store (lib/scp/store.c and its back ends) on real
 * databases in scratch directories: every field of a job round-trips, the queue order and the
 * claim are right and atomic under threads and connections, the update guard holds, retention
 * deletes what it should and keeps what it must, and a process killed with SIGKILL loses nothing it
 * was told was saved and leaves no half-written job. These generic tests run once per back end
 * (the table `backends` below: SQLite now; a server back end adds one entry whose setup starts its
 * server). SQLite's own tests (the file: schema version, foreign files, paths and permissions, the
 * WAL, location syntax) come after them. Set MCM_TEST_TIMINGS=1 to print the measured figures.
 */
#include <check.h>

#include "dcmmcm.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "scp/store.h"
#include "testutil.h"
#include "core/vr.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG_JOB_ITEMS 100000

/* ---- helpers ---- */

static int timings_wanted(void)
{
    const char *v = getenv("MCM_TEST_TIMINGS");
    return v != NULL && v[0] == '1';
}

/* The 100,000-item job shrinks under valgrind (every figure there is 20-50 times slower); the
 * code path is the same. */
static size_t big_job_items(void)
{
    return mcm_test_under_valgrind() ? 10000 : BIG_JOB_ITEMS;
}

/* ---- the back ends the generic tests run against ---- */

typedef struct store_backend store_backend;

typedef struct scratch {
    const store_backend *backend;
    char *dir;           /* a scratch directory, removed after the test */
    char path[4200];     /* the database file, for a file back end */
    char location[4300]; /* what mcm_store_open() is given */
} scratch;

struct store_backend {
    const char *name;
    /* Once per test case, in the runner before its tests and after them (NULL: nothing to do): a
     * server back end starts and stops its server here. */
    void (*setup)(void);
    void (*teardown)(void);
    /* Fill s->location (and s->path) with a fresh, empty store of this back end; s->dir exists. */
    void (*create)(scratch *s);
    /* Run sql (one integer result) through a second connection of the back end's own client: for
     * what the API does not show (rows left behind, states as stored). */
    long long (*count)(const scratch *s, const char *sql);
    /* The back end's own consistency check of the whole database (after a SIGKILL). */
    void (*check_intact)(const scratch *s);
    /* Called after a child was SIGKILLed right after a write returned, before the store is opened
     * again: asserts that the write exists only in the back end's log, so that the test exercised
     * recovery from it (NULL: nothing to assert). */
    void (*check_unflushed)(const scratch *s);
};

static void sqlite_create(scratch *s)
{
    snprintf(s->path, sizeof s->path, "%s/jobs.db", s->dir);
    /* The generic tests name the back end; SQLite's own tests use the plain path. */
    snprintf(s->location, sizeof s->location, "sqlite:%s", s->path);
}

static long long sql_count(const char *path, const char *sql);
static char *sql_text(const char *path, const char *sql);

static long long sqlite_count(const scratch *s, const char *sql)
{
    return sql_count(s->path, sql);
}

static void sqlite_check_intact(const scratch *s)
{
    char *check = sql_text(s->path, "PRAGMA integrity_check");
    ck_assert_str_eq(check, "ok");
    free(check);
}

static void sqlite_check_unflushed(const scratch *s)
{
    struct stat wal;
    char wal_path[4300];
    snprintf(wal_path, sizeof wal_path, "%s-wal", s->path);
    ck_assert_msg(stat(wal_path, &wal) == 0 && wal.st_size > 0, "the killed child left no WAL");
}

static const store_backend backends[] = {
    {"sqlite", NULL, NULL, sqlite_create, sqlite_count, sqlite_check_intact, sqlite_check_unflushed},
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

/* A fresh store of back end number backend (a generic test's _i). */
static void scratch_init(scratch *s, int backend)
{
    memset(s, 0, sizeof *s);
    s->backend = &backends[backend];
    s->dir = mcm_test_tempdir();
    s->backend->create(s);
}

/* A fresh SQLite file, opened by its plain path (SQLite's own tests). */
static void scratch_init_file(scratch *s)
{
    memset(s, 0, sizeof *s);
    s->dir = mcm_test_tempdir();
    snprintf(s->path, sizeof s->path, "%s/jobs.db", s->dir);
    snprintf(s->location, sizeof s->location, "%s", s->path);
}

/* One integer from raw SQL on the store's database (generic tests). */
static long long peek(const scratch *s, const char *sql)
{
    return s->backend->count(s, sql);
}

static void scratch_free(scratch *s)
{
    mcm_test_rmtree(s->dir);
    free(s->dir);
}

static mcm_store *open_store(const char *path)
{
    mcm_store *store = NULL;
    int rc = mcm_store_open(&store, path);
    ck_assert_msg(rc == MCM_OK, "mcm_store_open(%s): %d %s", path, rc, mcm_last_error());
    return store;
}

static void item_uid(char out[96], const char *job_uid, size_t i)
{
    snprintf(out, 96, "%s.%zu", job_uid, i + 1);
}

/* A job as N-CREATE makes it: IDLE, NORMAL, every maintained attribute, items Referenced SOP items
 * (CT images whose instance UIDs derive from the job's UID). */
static mcm_job *make_job(const char *uid, size_t items)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_job_new(&job, uid), MCM_OK);
    mcm_request *request = mcm_job_request_mut(job);
    for (size_t i = 0; i < items; i++) {
        char instance[96];
        item_uid(instance, uid, i);
        ck_assert_int_eq(
            mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, instance, i % 3 == 0 ? "STD-GEN-CD" : NULL), MCM_OK);
    }
    mcm_request_set_reference_sequence_present(request, 1);
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_IDLE, "NORMAL"), MCM_OK);
    mcm_job_mark_maintained(job);
    return job;
}

/* Move a job to PENDING as Initiate does, with a priority (UNSET leaves it absent). */
static void initiate(mcm_store *store, mcm_job *job, mcm_priority priority, int64_t now)
{
    mcm_job_event event = {.type = MCM_EVENT_INITIATE};
    ck_assert_int_eq(mcm_job_apply(job, &event, NULL), MCM_OK);
    ck_assert_int_eq(mcm_request_set_priority(mcm_job_request_mut(job), priority), MCM_OK);
    int rc = mcm_store_update_job(store, job, MCM_JOB_IDLE, 0, now);
    ck_assert_msg(rc == MCM_OK, "update: %s", mcm_last_error());
}

static void insert(mcm_store *store, const mcm_job *job, int64_t now)
{
    int rc = mcm_store_insert_job(store, job, now);
    ck_assert_msg(rc == MCM_OK, "insert %s: %d %s", mcm_job_uid(job), rc, mcm_last_error());
}

static mcm_job *load(mcm_store *store, const char *uid)
{
    mcm_job *job = NULL;
    int rc = mcm_store_load_job(store, uid, &job);
    ck_assert_msg(rc == MCM_OK, "load %s: %d %s", uid, rc, mcm_last_error());
    return job;
}

static void assert_same_string(const char *a, const char *b, const char *what, size_t index)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s %zu: one is NULL", what, index);
    if (a != NULL)
        ck_assert_msg(strcmp(a, b) == 0, "%s %zu: \"%s\" != \"%s\"", what, index, a, b);
}

static void assert_same_bytes(const void *a, size_t a_length, const void *b, size_t b_length, const char *what,
                              size_t index)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s %zu: one is NULL", what, index);
    ck_assert_msg(a_length == b_length, "%s %zu: length %zu != %zu", what, index, a_length, b_length);
    if (a != NULL && a_length > 0)
        ck_assert_msg(memcmp(a, b, a_length) == 0, "%s %zu: bytes differ", what, index);
}

static void assert_same_icon(const mcm_icon *a, const mcm_icon *b, size_t index)
{
    ck_assert_msg((a == NULL) == (b == NULL), "icon %zu: one is absent", index);
    if (a == NULL)
        return;
    ck_assert_uint_eq(a->rows, b->rows);
    ck_assert_uint_eq(a->columns, b->columns);
    ck_assert_uint_eq(a->bits_allocated, b->bits_allocated);
    ck_assert_uint_eq(a->bits_stored, b->bits_stored);
    ck_assert_uint_eq(a->high_bit, b->high_bit);
    assert_same_string(a->photometric, b->photometric, "icon photometric", index);
    assert_same_bytes(a->pixel_data, a->pixel_data_length, b->pixel_data, b->pixel_data_length, "icon pixels", index);
    for (int k = 0; k < 3; k++)
        ck_assert_uint_eq(a->palette_descriptor[k], b->palette_descriptor[k]);
    ck_assert_uint_eq(a->palette_length, b->palette_length);
    assert_same_bytes(a->red_palette, a->red_palette ? a->palette_length : 0, b->red_palette,
                      b->red_palette ? b->palette_length : 0, "red LUT", index);
    assert_same_bytes(a->green_palette, a->green_palette ? a->palette_length : 0, b->green_palette,
                      b->green_palette ? b->palette_length : 0, "green LUT", index);
    assert_same_bytes(a->blue_palette, a->blue_palette ? a->palette_length : 0, b->blue_palette,
                      b->blue_palette ? b->palette_length : 0, "blue LUT", index);
}

/* Every field a stored job carries, except the store's bookkeeping (times), compared raw. */
static void assert_same_job(const mcm_job *a, const mcm_job *b)
{
    ck_assert_str_eq(mcm_job_uid(a), mcm_job_uid(b));
    ck_assert_int_eq(mcm_job_state_of(a), mcm_job_state_of(b));
    assert_same_string(mcm_job_status_info(a), mcm_job_status_info(b), "info", 0);
    ck_assert_uint_eq(mcm_job_pieces(a), mcm_job_pieces(b));
    static const uint32_t maintained[] = {MCM_TAG_EXECUTION_STATUS,
                                          MCM_TAG_EXECUTION_STATUS_INFO,
                                          MCM_TAG_TOTAL_NUMBER_OF_PIECES,
                                          MCM_TAG_FAILED_SOP_SEQUENCE,
                                          MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
                                          MCM_TAG_REFERENCED_SOP_SEQUENCE};
    for (size_t i = 0; i < sizeof maintained / sizeof maintained[0]; i++)
        ck_assert_int_eq(mcm_job_has(a, maintained[i]), mcm_job_has(b, maintained[i]));

    const mcm_request *ra = mcm_job_request(a), *rb = mcm_job_request(b);
    for (size_t i = 0; i < mcm_request_attribute_count; i++) {
        uint32_t tag = mcm_request_attributes[i].tag;
        assert_same_bytes(mcm_request_attribute(ra, tag), mcm_request_attribute_length(ra, tag),
                          mcm_request_attribute(rb, tag), mcm_request_attribute_length(rb, tag),
                          mcm_request_attributes[i].keyword, i);
        ck_assert_int_eq(mcm_job_has(a, tag), mcm_job_has(b, tag));
    }
    ck_assert_int_eq(mcm_request_reference_sequence_present(ra), mcm_request_reference_sequence_present(rb));
    ck_assert_uint_eq(mcm_request_reference_count(ra), mcm_request_reference_count(rb));
    for (size_t i = 0; i < mcm_request_reference_count(ra); i++) {
        mcm_reference x, y;
        size_t xc, xi, xp, yc, yi, yp;
        ck_assert_int_eq(mcm_request_reference(ra, i, &x), MCM_OK);
        ck_assert_int_eq(mcm_request_reference(rb, i, &y), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(ra, i, &xc, &xi, &xp), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(rb, i, &yc, &yi, &yp), MCM_OK);
        assert_same_bytes(x.sop_class_uid, xc, y.sop_class_uid, yc, "item class", i);
        assert_same_bytes(x.sop_instance_uid, xi, y.sop_instance_uid, yi, "item instance", i);
        assert_same_bytes(x.profile, xp, y.profile, yp, "item profile", i);
        assert_same_icon(x.icon, y.icon, i);
    }

    ck_assert_uint_eq(mcm_job_failed_count(a), mcm_job_failed_count(b));
    for (size_t i = 0; i < mcm_job_failed_count(a); i++) {
        mcm_failed_sop x, y;
        ck_assert_int_eq(mcm_job_failed(a, i, &x), MCM_OK);
        ck_assert_int_eq(mcm_job_failed(b, i, &y), MCM_OK);
        assert_same_string(x.sop_class_uid, y.sop_class_uid, "failed class", i);
        assert_same_string(x.sop_instance_uid, y.sop_instance_uid, "failed instance", i);
        assert_same_string(x.profile, y.profile, "failed profile", i);
        ck_assert_uint_eq(x.failure_reason, y.failure_reason);
        assert_same_bytes(x.failure_attributes, x.failure_attribute_count * 4, y.failure_attributes,
                          y.failure_attribute_count * 4, "failure attributes", i);
    }
    ck_assert_uint_eq(mcm_job_media_count(a), mcm_job_media_count(b));
    for (size_t i = 0; i < mcm_job_media_count(a); i++) {
        mcm_storage_media x, y;
        ck_assert_int_eq(mcm_job_media(a, i, &x), MCM_OK);
        ck_assert_int_eq(mcm_job_media(b, i, &y), MCM_OK);
        assert_same_string(x.fileset_id, y.fileset_id, "media id", i);
        assert_same_string(x.fileset_uid, y.fileset_uid, "media uid", i);
    }
}

/* A job that uses every field: every request attribute (raw, some with embedded NULs, some empty),
 * items with and without profile and icons (monochrome, 1-bit, palette), raw items with an
 * absent class UID, an empty profile and an instance UID holding a NUL, failed items with several
 * Failure Attributes, media items. */
static mcm_job *make_full_job(const char *uid)
{
    mcm_job *job = make_job(uid, 0);
    mcm_request *request = mcm_job_request_mut(job);
    for (size_t i = 0; i < mcm_request_attribute_count; i++) {
        char value[64];
        int length = snprintf(value, sizeof value, "value %zu", i);
        if (i % 4 == 1) { /* an embedded NUL in the middle */
            value[3] = '\0';
        } else if (i % 4 == 3) { /* present but empty */
            length = 0;
        }
        ck_assert_int_eq(mcm_request_set_attribute_raw(request, mcm_request_attributes[i].tag, value, (size_t)length),
                         MCM_OK);
    }
    ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, "1.2.3.100.1", "STD-GEN-CD"), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_MR_IMAGE, "1.2.3.100.2", NULL), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_SC_IMAGE, "1.2.3.100.3", "STD-GEN-DVD-JPEG"), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(request, NULL, 0, "1.2\0.3", 6, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(request, "", 0, "1.2.3.100.5", 11, "P\0Q", 3), MCM_OK);

    uint8_t pixels[64 * 64];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 7 + (i >> 8)); /* includes zero bytes */
    mcm_icon mono = {.rows = 64,
                     .columns = 64,
                     .bits_allocated = 8,
                     .bits_stored = 8,
                     .high_bit = 7,
                     .photometric = "MONOCHROME2",
                     .pixel_data = pixels,
                     .pixel_data_length = sizeof pixels};
    ck_assert_int_eq(mcm_request_set_icon(request, 0, &mono), MCM_OK);

    uint8_t lut_r[512], lut_g[512], lut_b[512];
    for (size_t i = 0; i < 512; i++) {
        lut_r[i] = (uint8_t)i;
        lut_g[i] = (uint8_t)(255 - i);
        lut_b[i] = (uint8_t)(i * 3);
    }
    mcm_icon palette = {.rows = 64,
                        .columns = 64,
                        .bits_allocated = 8,
                        .bits_stored = 8,
                        .high_bit = 7,
                        .photometric = "PALETTE COLOR",
                        .pixel_data = pixels,
                        .pixel_data_length = sizeof pixels,
                        .palette_descriptor = {256, 0, 16},
                        .red_palette = lut_r,
                        .green_palette = lut_g,
                        .blue_palette = lut_b,
                        .palette_length = 512};
    ck_assert_int_eq(mcm_request_set_icon(request, 2, &palette), MCM_OK);

    uint8_t bits[8 * 8 / 8] = {0xFF, 0x00, 0x81, 0x42, 0x24, 0x18, 0x00, 0xAA};
    mcm_icon one_bit = {.rows = 8,
                        .columns = 8,
                        .bits_allocated = 1,
                        .bits_stored = 1,
                        .high_bit = 0,
                        .photometric = "MONOCHROME1",
                        .pixel_data = bits,
                        .pixel_data_length = sizeof bits};
    /* An icon with a NULL photometric and no pixels: set raw, it must still come back as it was. */
    mcm_icon odd = {.rows = 3, .columns = 5, .bits_allocated = 8, .bits_stored = 7, .high_bit = 2};
    ck_assert_int_eq(mcm_request_set_icon_raw(request, 3, &one_bit), MCM_OK);
    ck_assert_int_eq(mcm_request_set_icon_raw(request, 4, &odd), MCM_OK);

    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_FAILURE, "INST_OVERSIZED"), MCM_OK);
    mcm_job_set_pieces(job, 7);
    const uint32_t attributes[] = {MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE, MCM_TAG_ALLOW_LOSSY_COMPRESSION,
                                   0xFFFFFFFFu, 0x00000000u, MCM_TAG_BARCODE_VALUE};
    ck_assert_int_eq(mcm_job_add_failed(job, MCM_TEST_CT_IMAGE, "1.2.3.100.1", "STD-GEN-CD",
                                        MCM_FAILURE_PROFILE_COMPRESSION_CONFLICT, attributes, 5),
                     MCM_OK);
    ck_assert_int_eq(
        mcm_job_add_failed(job, MCM_TEST_MR_IMAGE, "1.2.3.100.2", NULL, MCM_FAILURE_NO_SUCH_INSTANCE, NULL, 0), MCM_OK);
    ck_assert_int_eq(
        mcm_job_add_failed(job, NULL, "1.2.3.100.3", NULL, MCM_FAILURE_INSTANCE_SIZE_EXCEEDED, attributes + 2, 2),
        MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "PATIENT_1", "1.2.3.200.1"), MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "PATIENT_2", "1.2.3.200.2"), MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, NULL, "1.2.3.200.3"), MCM_OK);
    return job;
}

/* Raw SQL on the database (a second connection) for what the API does not show. */
static long long sql_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long value = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return value;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    char *error = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &error);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, error != NULL ? error : "?");
    sqlite3_close(db);
}

static char *sql_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return text;
}

/* ---- round trips ---- */

START_TEST(roundtrip_every_field)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_full_job("1.2.3.1");
    insert(store, job, 1000);
    mcm_job *back = load(store, "1.2.3.1");
    assert_same_job(job, back);
    ck_assert_int_eq(mcm_job_created(back), 1000);
    ck_assert_int_eq(mcm_job_updated(back), 1000);
    mcm_job_free(back);

    /* And across a close and a reopen. */
    mcm_store_close(store);
    store = open_store(s.location);
    back = load(store, "1.2.3.1");
    assert_same_job(job, back);
    mcm_job_state state = MCM_JOB_ABSENT;
    char info[65];
    ck_assert_int_eq(mcm_store_load_state(store, "1.2.3.1", &state, info), MCM_OK);
    ck_assert_int_eq(state, MCM_JOB_FAILURE);
    ck_assert_str_eq(info, "INST_OVERSIZED");
    mcm_job_free(back);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(roundtrip_zero_and_one_item)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);

    /* Sequence present with no item, sequence absent, one item; info absent on the last. */
    mcm_job *empty = make_job("1.2.3.10", 0);
    mcm_job *absent = make_job("1.2.3.11", 0);
    mcm_request_set_reference_sequence_present(mcm_job_request_mut(absent), 0);
    mcm_job_mark(absent, MCM_TAG_TOTAL_NUMBER_OF_PIECES, 0);
    mcm_job *one = make_job("1.2.3.12", 1);
    ck_assert_int_eq(mcm_job_set_state(one, MCM_JOB_IDLE, NULL), MCM_OK);
    insert(store, empty, 1);
    insert(store, absent, 2);
    insert(store, one, 3);

    mcm_job *back = load(store, "1.2.3.10");
    assert_same_job(empty, back);
    ck_assert_int_eq(mcm_request_reference_sequence_present(mcm_job_request(back)), 1);
    mcm_job_free(back);
    back = load(store, "1.2.3.11");
    assert_same_job(absent, back);
    ck_assert_int_eq(mcm_request_reference_sequence_present(mcm_job_request(back)), 0);
    ck_assert_int_eq(mcm_job_has(back, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 0);
    mcm_job_free(back);
    back = load(store, "1.2.3.12");
    assert_same_job(one, back);
    ck_assert_ptr_null(mcm_job_status_info(back));
    mcm_job_free(back);

    mcm_job_free(empty);
    mcm_job_free(absent);
    mcm_job_free(one);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(roundtrip_100000_items)
{
    scratch s;
    scratch_init(&s, _i);
    size_t items = big_job_items();
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_job("1.2.3.20", items);
    /* A few icons spread over the sequence. */
    uint8_t pixels[16 * 16];
    memset(pixels, 0x5A, sizeof pixels);
    mcm_icon icon = {.rows = 16,
                     .columns = 16,
                     .bits_allocated = 8,
                     .bits_stored = 8,
                     .high_bit = 7,
                     .photometric = "MONOCHROME2",
                     .pixel_data = pixels,
                     .pixel_data_length = sizeof pixels};
    for (size_t i = 0; i < items; i += items / 10)
        ck_assert_int_eq(mcm_request_set_icon(mcm_job_request_mut(job), i, &icon), MCM_OK);

    double t0 = mcm_test_now_ms();
    insert(store, job, 5);
    double t1 = mcm_test_now_ms();
    mcm_job *back = load(store, "1.2.3.20");
    double t2 = mcm_test_now_ms();
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(back)), items);
    assert_same_job(job, back);

    /* The same, claimed: a claim loads the whole job too. */
    initiate(store, job, MCM_PRIORITY_HIGH, 6);
    mcm_job *claimed = NULL;
    double t3 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_store_claim_next(store, 6, &claimed), MCM_OK);
    double t4 = mcm_test_now_ms();
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(claimed)), items);
    double t5 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_store_delete_job(store, "1.2.3.20"), MCM_OK);
    double t6 = mcm_test_now_ms();
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_references"), 0);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_icons"), 0);
    if (timings_wanted())
        fprintf(stderr,
                "store timings: %zu items: insert %.1f ms, load %.1f ms, claim (with load) %.1f ms, delete %.1f ms\n",
                items, t1 - t0, t2 - t1, t4 - t3, t6 - t5);
    mcm_job_free(claimed);
    mcm_job_free(back);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(update_saves_what_changes)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_full_job("1.2.3.30");
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_IDLE, "NORMAL"), MCM_OK);
    mcm_job_clear_results(job);
    insert(store, job, 100);

    /* Initiate: copies and priority go into the request; then results arrive. */
    ck_assert_int_eq(mcm_request_set_copies(mcm_job_request_mut(job), 3), MCM_OK);
    ck_assert_int_eq(mcm_request_set_priority(mcm_job_request_mut(job), MCM_PRIORITY_LOW), MCM_OK);
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_DONE, "NORMAL"), MCM_OK);
    mcm_job_set_pieces(job, 6);
    const uint32_t attributes[] = {0x00100010, 0x00100020, 0x00080060};
    ck_assert_int_eq(mcm_job_add_failed(job, MCM_TEST_CT_IMAGE, "1.2.3.9", "STD-GEN-CD", MCM_FAILURE_MISSING_ATTRIBUTE,
                                        attributes, 3),
                     MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "VOL1", "1.2.3.300.1"), MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "VOL2", "1.2.3.300.2"), MCM_OK);
    ck_assert_int_eq(mcm_store_update_job(store, job, MCM_JOB_IDLE, 0, 200), MCM_OK);
    mcm_job *back = load(store, "1.2.3.30");
    assert_same_job(job, back);
    ck_assert_int_eq(mcm_job_created(back), 100);
    ck_assert_int_eq(mcm_job_updated(back), 200);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(back)), 3);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(back)), MCM_PRIORITY_LOW);
    mcm_job_free(back);

    /* A second update replaces the results (not appends) and can remove copies and priority. */
    mcm_job_clear_results(job);
    ck_assert_int_eq(mcm_job_add_media(job, "ONLY", "1.2.3.300.9"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(mcm_job_request_mut(job), 0), MCM_OK);
    ck_assert_int_eq(mcm_request_set_priority(mcm_job_request_mut(job), MCM_PRIORITY_UNSET), MCM_OK);
    ck_assert_int_eq(mcm_store_update_job(store, job, MCM_JOB_ABSENT, 0, 300), MCM_OK);
    back = load(store, "1.2.3.30");
    assert_same_job(job, back);
    ck_assert_uint_eq(mcm_job_failed_count(back), 0);
    ck_assert_uint_eq(mcm_job_media_count(back), 1);
    ck_assert_ptr_null(mcm_request_attribute(mcm_job_request(back), MCM_TAG_NUMBER_OF_COPIES));
    mcm_job_free(back);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(duplicate_and_unknown)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_job("1.2.3.40", 2);
    insert(store, job, 1);
    ck_assert_int_eq(mcm_store_insert_job(store, job, 2), MCM_ESTATE);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "1.2.3.40"));
    /* The failed duplicate changed nothing. */
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM jobs"), 1);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_references"), 2);

    mcm_job *out = (mcm_job *)1;
    mcm_job_state state;
    char info[65];
    ck_assert_int_eq(mcm_store_load_job(store, "1.2.3.41", &out), MCM_ENOTFOUND);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(mcm_store_load_state(store, "1.2.3.41", &state, info), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_store_delete_job(store, "1.2.3.41"), MCM_ENOTFOUND);
    mcm_job *other = make_job("1.2.3.41", 0);
    ck_assert_int_eq(mcm_store_update_job(store, other, MCM_JOB_ABSENT, 0, 3), MCM_ENOTFOUND);
    mcm_stored_instance instance;
    ck_assert_int_eq(mcm_store_get_instance(store, "1.2.3.41", &instance), MCM_ENOTFOUND);

    /* Delete removes the job and everything it carries. */
    ck_assert_int_eq(mcm_store_delete_job(store, "1.2.3.40"), MCM_OK);
    ck_assert_int_eq(mcm_store_load_job(store, "1.2.3.40", &out), MCM_ENOTFOUND);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_references"), 0);
    /* A deleted UID may be used again (a new N-CREATE after a Cancel). */
    insert(store, job, 4);

    /* A job without UID or in a state that does not exist is refused. */
    mcm_job *nameless = make_job(NULL, 0);
    ck_assert_int_eq(mcm_store_insert_job(store, nameless, 1), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_set_state(other, MCM_JOB_DELETED, NULL), MCM_OK);
    ck_assert_int_eq(mcm_store_insert_job(store, other, 1), MCM_EINVAL);
    mcm_job_free(nameless);
    mcm_job_free(other);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* ---- the queue ---- */

START_TEST(claim_order_priority_then_arrival)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    /* Arrival order a..g, all at the same second (arrival is a sequence, not a time); UIDs chosen so
     * that their text order is not the arrival order. */
    static const struct {
        const char *uid;
        mcm_priority priority;
    } jobs[] = {
        {"1.2.3.59", MCM_PRIORITY_LOW},   {"1.2.3.58", MCM_PRIORITY_UNSET}, {"1.2.3.57", MCM_PRIORITY_HIGH},
        {"1.2.3.56", MCM_PRIORITY_MED},   {"1.2.3.55", MCM_PRIORITY_HIGH},  {"1.2.3.54", MCM_PRIORITY_LOW},
        {"1.2.3.53", MCM_PRIORITY_UNSET},
    };
    /* Initiated in reverse: within a priority, the queue follows the Initiates. */
    static const char *const expected[] = {"1.2.3.55", "1.2.3.57", "1.2.3.53", "1.2.3.56",
                                           "1.2.3.58", "1.2.3.54", "1.2.3.59"};
    const size_t n = sizeof jobs / sizeof jobs[0];
    for (size_t i = 0; i < n; i++) {
        mcm_job *job = make_job(jobs[i].uid, 1);
        insert(store, job, 500);
        mcm_job_free(job);
    }
    /* Initiate in reverse order: the queue follows arrival in the queue (Initiate), not N-CREATE. */
    for (size_t i = n; i-- > 0;) {
        mcm_job *job = load(store, jobs[i].uid);
        initiate(store, job, jobs[i].priority, 500);
        mcm_job_free(job);
    }
    /* An IDLE job of high priority is not in the queue. */
    mcm_job *idle = make_job("1.2.3.50", 1);
    ck_assert_int_eq(mcm_request_set_priority(mcm_job_request_mut(idle), MCM_PRIORITY_HIGH), MCM_OK);
    insert(store, idle, 400);
    mcm_job_free(idle);

    for (size_t i = 0; i < n; i++) {
        mcm_job *claimed = NULL;
        int rc = mcm_store_claim_next(store, 500, &claimed);
        ck_assert_msg(rc == MCM_OK, "claim %zu: %s", i, mcm_last_error());
        ck_assert_str_eq(mcm_job_uid(claimed), expected[i]);
        ck_assert_int_eq(mcm_job_state_of(claimed), MCM_JOB_CREATING);
        ck_assert_str_eq(mcm_job_status_info(claimed), "NORMAL");
        ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(claimed)), 1);
        mcm_job_free(claimed);
        mcm_job_state state;
        char info[65];
        ck_assert_int_eq(mcm_store_load_state(store, expected[i], &state, info), MCM_OK);
        ck_assert_int_eq(state, MCM_JOB_CREATING);
    }
    mcm_job *none = (mcm_job *)1;
    ck_assert_int_eq(mcm_store_claim_next(store, 500, &none), MCM_ENOTFOUND);
    ck_assert_ptr_null(none);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(claim_respects_retry_after)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *waiting = make_job("1.2.3.60", 1);
    mcm_job *ready = make_job("1.2.3.61", 1);
    insert(store, waiting, 1000);
    insert(store, ready, 1000);
    int64_t when = -1;
    ck_assert_int_eq(mcm_store_next_retry(store, 1000, &when), MCM_OK);
    ck_assert_int_eq(when, 0);

    /* The first job to arrive had a transient problem: PENDING (MCD_BUSY) until 1100. */
    mcm_job_event initiate_event = {.type = MCM_EVENT_INITIATE};
    mcm_job_event busy = {.type = MCM_EVENT_TRANSIENT, .info = "MCD_BUSY"};
    ck_assert_int_eq(mcm_job_apply(waiting, &initiate_event, NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_apply(waiting, &busy, NULL), MCM_OK);
    ck_assert_int_eq(mcm_store_update_job(store, waiting, MCM_JOB_IDLE, 1100, 1000), MCM_OK);
    initiate(store, ready, MCM_PRIORITY_LOW, 1000);

    mcm_job *claimed = NULL;
    ck_assert_int_eq(mcm_store_claim_next(store, 1000, &claimed), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(claimed), "1.2.3.61");
    mcm_job_free(claimed);
    ck_assert_int_eq(mcm_store_claim_next(store, 1099, &claimed), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_store_next_retry(store, 1000, &when), MCM_OK);
    ck_assert_int_eq(when, 1100);
    ck_assert_int_eq(mcm_store_claim_next(store, 1100, &claimed), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(claimed), "1.2.3.60");
    ck_assert_int_eq(mcm_job_updated(claimed), 1100);
    mcm_job_free(claimed);
    ck_assert_int_eq(mcm_store_next_retry(store, 1100, &when), MCM_OK);
    ck_assert_int_eq(when, 0);
    mcm_job_free(waiting);
    mcm_job_free(ready);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

#define CLAIM_JOBS 600
#define CLAIM_THREADS 6

typedef struct claimer {
    const char *path;
    pthread_barrier_t *start;
    mcm_store *shared; /* NULL: the thread opens its own connection */
    int claimed[CLAIM_JOBS];
    int count;
    int error;
    char message[512];
} claimer;

static void *claim_until_empty(void *arg)
{
    claimer *c = arg;
    mcm_store *store = c->shared;
    if (store == NULL && mcm_store_open(&store, c->path) != MCM_OK) {
        c->error = 1;
        snprintf(c->message, sizeof c->message, "open: %s", mcm_last_error());
        pthread_barrier_wait(c->start);
        return NULL;
    }
    pthread_barrier_wait(c->start); /* every thread claims from the same moment on */
    for (;;) {
        mcm_job *job = NULL;
        int rc = mcm_store_claim_next(store, 10, &job);
        if (rc == MCM_ENOTFOUND)
            break;
        if (rc != MCM_OK) {
            c->error = 1;
            snprintf(c->message, sizeof c->message, "claim: %s", mcm_last_error());
            break;
        }
        int index = atoi(strrchr(mcm_job_uid(job), '.') + 1);
        if (index >= 0 && index < CLAIM_JOBS && c->count < CLAIM_JOBS)
            c->claimed[c->count++] = index;
        if (mcm_job_state_of(job) != MCM_JOB_CREATING)
            c->error = 1;
        mcm_job_free(job);
        /* A worker works between claims: give the others their turn, so that claims interleave
         * across threads and connections instead of one thread emptying the queue alone. */
        struct timespec pause = {0, 200000L};
        nanosleep(&pause, NULL);
    }
    if (c->shared == NULL)
        mcm_store_close(store);
    return NULL;
}

/* Queue CLAIM_JOBS PENDING jobs, let CLAIM_THREADS threads claim until the queue is empty (all
 * sharing store, or each with its own connection when store is NULL), and check that every job was
 * claimed exactly once. Returns the elapsed milliseconds; *busy_threads how many got any job. */
static double claim_concurrently(const char *path, mcm_store *store, const char *uid_prefix, int *busy_threads)
{
    mcm_store *setup = store != NULL ? store : open_store(path);
    for (int i = 0; i < CLAIM_JOBS; i++) {
        char uid[65];
        snprintf(uid, sizeof uid, "%s.%d", uid_prefix, i);
        mcm_job *job = make_job(uid, 2);
        insert(setup, job, 1);
        initiate(setup, job, (mcm_priority)(i % 4), 1);
        mcm_job_free(job);
    }
    if (store == NULL)
        mcm_store_close(setup);

    static claimer claimers[CLAIM_THREADS];
    pthread_t threads[CLAIM_THREADS];
    pthread_barrier_t start;
    memset(claimers, 0, sizeof claimers);
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, CLAIM_THREADS), 0);
    double t0 = mcm_test_now_ms();
    for (int t = 0; t < CLAIM_THREADS; t++) {
        claimers[t].path = path;
        claimers[t].start = &start;
        claimers[t].shared = store;
        ck_assert_int_eq(pthread_create(&threads[t], NULL, claim_until_empty, &claimers[t]), 0);
    }
    for (int t = 0; t < CLAIM_THREADS; t++)
        pthread_join(threads[t], NULL);
    double elapsed = mcm_test_now_ms() - t0;
    pthread_barrier_destroy(&start);

    int seen[CLAIM_JOBS] = {0};
    int total = 0;
    *busy_threads = 0;
    for (int t = 0; t < CLAIM_THREADS; t++) {
        ck_assert_msg(!claimers[t].error, "thread %d: %s", t, claimers[t].message);
        for (int k = 0; k < claimers[t].count; k++) {
            ck_assert_msg(seen[claimers[t].claimed[k]] == 0, "job %d claimed twice", claimers[t].claimed[k]);
            seen[claimers[t].claimed[k]] = 1;
        }
        total += claimers[t].count;
        *busy_threads += claimers[t].count > 0;
    }
    ck_assert_int_eq(total, CLAIM_JOBS);
    return elapsed;
}

START_TEST(concurrent_claims_take_each_job_once)
{
    scratch s;
    scratch_init(&s, _i);
    /* Threads sharing one store: its mutex serialises them (the SCP's case). */
    mcm_store *store = open_store(s.location);
    int shared_busy = 0, own_busy = 0;
    double shared_ms = claim_concurrently(s.location, store, "1.2.3.70", &shared_busy);
    mcm_store_close(store);
    /* Threads with a connection each: SQLite's write lock, taken by BEGIN IMMEDIATE, does. */
    double own_ms = claim_concurrently(s.location, NULL, "1.2.3.71", &own_busy);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM jobs WHERE state = 'CREATING'"), 2 * CLAIM_JOBS);
    if (timings_wanted())
        fprintf(stderr,
                "store timings: %d concurrent claims by %d threads: sharing one store %.1f ms (%d threads got "
                "some), a connection each %.1f ms (%d threads got some)\n",
                CLAIM_JOBS, CLAIM_THREADS, shared_ms, shared_busy, own_ms, own_busy);
    scratch_free(&s);
}
END_TEST

START_TEST(update_guard_stops_resurrection)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_job("1.2.3.80", 1);
    insert(store, job, 1);
    initiate(store, job, MCM_PRIORITY_UNSET, 1);
    mcm_job *worker_copy = NULL;
    ck_assert_int_eq(mcm_store_claim_next(store, 2, &worker_copy), MCM_OK);

    /* The worker finishes, but a Cancel deleted the job meanwhile: its result must not bring the
     * job back. */
    mcm_job_event complete = {.type = MCM_EVENT_COMPLETE};
    ck_assert_int_eq(mcm_job_apply(worker_copy, &complete, NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(worker_copy, "VOL1", "1.2.3.400.1"), MCM_OK);
    ck_assert_int_eq(mcm_store_delete_job(store, "1.2.3.80"), MCM_OK);
    ck_assert_int_eq(mcm_store_update_job(store, worker_copy, MCM_JOB_CREATING, 0, 3), MCM_ENOTFOUND);
    mcm_job *gone = NULL;
    ck_assert_int_eq(mcm_store_load_job(store, "1.2.3.80", &gone), MCM_ENOTFOUND);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_media"), 0);

    /* The job changed state meanwhile (a restart's recover put it back to PENDING): refused, and
     * the stored job is untouched. */
    insert(store, job, 4);
    mcm_job *second = NULL;
    ck_assert_int_eq(mcm_store_claim_next(store, 5, &second), MCM_OK);
    size_t recovered = 0;
    ck_assert_int_eq(mcm_store_recover(store, &recovered), MCM_OK);
    ck_assert_uint_eq(recovered, 1);
    ck_assert_int_eq(mcm_store_update_job(store, worker_copy, MCM_JOB_CREATING, 0, 6), MCM_ESTATE);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "PENDING"));
    mcm_job_state state;
    char info[65];
    ck_assert_int_eq(mcm_store_load_state(store, "1.2.3.80", &state, info), MCM_OK);
    ck_assert_int_eq(state, MCM_JOB_PENDING);
    ck_assert_str_eq(info, "QUEUED");
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_media"), 0);

    /* With the right expectation it goes through. */
    ck_assert_int_eq(mcm_store_update_job(store, worker_copy, MCM_JOB_PENDING, 0, 7), MCM_OK);
    ck_assert_int_eq(mcm_store_load_state(store, "1.2.3.80", &state, info), MCM_OK);
    ck_assert_int_eq(state, MCM_JOB_DONE);
    mcm_job_free(second);
    mcm_job_free(worker_copy);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

START_TEST(recover_and_count_live)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    static const struct {
        const char *uid;
        mcm_job_state state;
        const char *info;
    } jobs[] = {
        {"1.2.3.90", MCM_JOB_IDLE, "NORMAL"},     {"1.2.3.91", MCM_JOB_PENDING, "MCD_BUSY"},
        {"1.2.3.92", MCM_JOB_CREATING, "NORMAL"}, {"1.2.3.93", MCM_JOB_CREATING, "NORMAL"},
        {"1.2.3.94", MCM_JOB_DONE, "NORMAL"},     {"1.2.3.95", MCM_JOB_FAILURE, "NO_INSTANCE"},
    };
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        mcm_job *job = make_job(jobs[i].uid, 1);
        ck_assert_int_eq(mcm_job_set_state(job, jobs[i].state, jobs[i].info), MCM_OK);
        insert(store, job, 1);
        mcm_job_free(job);
    }
    size_t count = 0;
    ck_assert_int_eq(mcm_store_count_live(store, &count), MCM_OK);
    ck_assert_uint_eq(count, 4);
    ck_assert_int_eq(mcm_store_recover(store, &count), MCM_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(mcm_store_recover(store, NULL), MCM_OK);
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        mcm_job_state state;
        char info[65];
        ck_assert_int_eq(mcm_store_load_state(store, jobs[i].uid, &state, info), MCM_OK);
        if (jobs[i].state == MCM_JOB_CREATING) {
            ck_assert_int_eq(state, MCM_JOB_PENDING);
            ck_assert_str_eq(info, "QUEUED");
        } else {
            ck_assert_int_eq(state, jobs[i].state);
            ck_assert_str_eq(info, jobs[i].info);
        }
    }
    ck_assert_int_eq(mcm_store_count_live(store, &count), MCM_OK);
    ck_assert_uint_eq(count, 4);
    /* The recovered jobs are claimable again, in arrival order after the older PENDING one. */
    mcm_job *claimed = NULL;
    ck_assert_int_eq(mcm_store_claim_next(store, 2, &claimed), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(claimed), "1.2.3.91");
    mcm_job_free(claimed);
    ck_assert_int_eq(mcm_store_claim_next(store, 2, &claimed), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(claimed), "1.2.3.92");
    mcm_job_free(claimed);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* ---- retention ---- */

typedef struct collected {
    mcm_store *store;
    char names[16][128];
    int count;
    int visible_in_callback; /* how many the callback could still see in the store: must stay 0 */
} collected;

static void collect_job(const char *uid, void *user)
{
    collected *c = user;
    mcm_job_state state;
    char info[65];
    if (mcm_store_load_state(c->store, uid, &state, info) != MCM_ENOTFOUND)
        c->visible_in_callback++;
    if (c->count < 16)
        snprintf(c->names[c->count++], sizeof c->names[0], "%s", uid);
}

static int collected_has(const collected *c, const char *name)
{
    for (int i = 0; i < c->count; i++)
        if (strcmp(c->names[i], name) == 0)
            return 1;
    return 0;
}

static void insert_in_state(mcm_store *store, const char *uid, mcm_job_state state, const char *info, int64_t created,
                            int64_t updated)
{
    mcm_job *job = make_job(uid, 1);
    insert(store, job, created);
    if (state != MCM_JOB_IDLE) {
        ck_assert_int_eq(mcm_job_set_state(job, state, info), MCM_OK);
        ck_assert_int_eq(mcm_store_update_job(store, job, MCM_JOB_ABSENT, 0, updated), MCM_OK);
    }
    mcm_job_free(job);
}

START_TEST(expire_jobs_by_period)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    insert_in_state(store, "1.2.3.100", MCM_JOB_IDLE, "NORMAL", 0, 0);          /* idle, old: expires */
    insert_in_state(store, "1.2.3.101", MCM_JOB_IDLE, "NORMAL", 50, 50);        /* idle, recent */
    insert_in_state(store, "1.2.3.102", MCM_JOB_DONE, "NORMAL", 0, 10);         /* done, old: expires */
    insert_in_state(store, "1.2.3.103", MCM_JOB_FAILURE, "NO_INSTANCE", 0, 10); /* failure, old: expires */
    insert_in_state(store, "1.2.3.104", MCM_JOB_DONE, "NORMAL", 0, 90);         /* done, recent */
    insert_in_state(store, "1.2.3.105", MCM_JOB_PENDING, "QUEUED", 0, 0);       /* live: never */
    insert_in_state(store, "1.2.3.106", MCM_JOB_CREATING, "NORMAL", 0, 0);      /* live: never */
    insert_in_state(store, "1.2.3.107", MCM_JOB_DONE, "NORMAL", 95, 95);        /* done long after creation */

    /* Both periods forever: nothing goes, however late. */
    collected c;
    memset(&c, 0, sizeof c);
    c.store = store;
    size_t count = 99;
    ck_assert_int_eq(mcm_store_expire_jobs(store, INT64_C(4000000000), -1, -1, collect_job, &c, &count), MCM_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(c.count, 0);

    /* At 100: IDLE older than 60 s, DONE/FAILURE not updated for 30 s. */
    ck_assert_int_eq(mcm_store_expire_jobs(store, 100, 60, 30, collect_job, &c, &count), MCM_OK);
    ck_assert_uint_eq(count, 3);
    ck_assert_int_eq(c.count, 3);
    ck_assert(collected_has(&c, "1.2.3.100"));
    ck_assert(collected_has(&c, "1.2.3.102"));
    ck_assert(collected_has(&c, "1.2.3.103"));
    ck_assert_int_eq(c.visible_in_callback, 0);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM jobs"), 5);

    /* IDLE forever, DONE after 0 s: only the finished ones go, the recent idle one stays. */
    memset(&c, 0, sizeof c);
    c.store = store;
    ck_assert_int_eq(mcm_store_expire_jobs(store, 1000, -1, 0, collect_job, &c, NULL), MCM_OK);
    ck_assert_int_eq(c.count, 2);
    ck_assert(collected_has(&c, "1.2.3.104"));
    ck_assert(collected_has(&c, "1.2.3.107"));
    /* DONE forever, IDLE after 0 s. */
    memset(&c, 0, sizeof c);
    c.store = store;
    ck_assert_int_eq(mcm_store_expire_jobs(store, 1000, 0, -1, NULL, NULL, &count), MCM_OK);
    ck_assert_uint_eq(count, 1);
    size_t live = 0;
    ck_assert_int_eq(mcm_store_count_live(store, &live), MCM_OK);
    ck_assert_uint_eq(live, 2);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_references"), 2);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

static void collect_path(const char *path, void *user)
{
    collected *c = user;
    /* The record is gone before the callback runs. */
    const char *name = strrchr(path, '/') + 1;
    mcm_stored_instance instance;
    if (mcm_store_get_instance(c->store, name, &instance) != MCM_ENOTFOUND) {
        c->visible_in_callback++;
        mcm_store_instance_free(&instance);
    }
    if (c->count < 16)
        snprintf(c->names[c->count++], sizeof c->names[0], "%s", path);
}

START_TEST(instances_put_get_expire)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    /* Instance 1.2.3.110.N at path /data/1.2.3.110.N, received at 0 except .6 (at 90). */
    for (int i = 1; i <= 6; i++) {
        char uid[65], path[128];
        snprintf(uid, sizeof uid, "1.2.3.110.%d", i);
        snprintf(path, sizeof path, "/data/first/%s", uid);
        ck_assert_int_eq(mcm_store_put_instance(store, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, path, 100, 0),
                         MCM_OK);
    }
    /* A re-sent instance replaces the record. */
    for (int i = 1; i <= 6; i++) {
        char uid[65], path[128];
        snprintf(uid, sizeof uid, "1.2.3.110.%d", i);
        snprintf(path, sizeof path, "/data/%s", uid);
        ck_assert_int_eq(mcm_store_put_instance(store, MCM_TEST_MR_IMAGE, uid, MCM_TEST_IMPLICIT_LE, path,
                                                UINT64_C(5000000000) + (uint64_t)i, i == 6 ? 90 : 0),
                         MCM_OK);
    }
    mcm_stored_instance instance;
    ck_assert_int_eq(mcm_store_get_instance(store, "1.2.3.110.2", &instance), MCM_OK);
    ck_assert_str_eq(instance.sop_class_uid, MCM_TEST_MR_IMAGE);
    ck_assert_str_eq(instance.sop_instance_uid, "1.2.3.110.2");
    ck_assert_str_eq(instance.transfer_syntax_uid, MCM_TEST_IMPLICIT_LE);
    ck_assert_str_eq(instance.path, "/data/1.2.3.110.2");
    ck_assert(instance.size == UINT64_C(5000000002));
    ck_assert_int_eq(instance.received, 0);
    mcm_store_instance_free(&instance);
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM instances"), 6);

    /* References: .1 by an IDLE job, .2 by a DONE job, .4 by a PENDING job, .5 by a CREATING job
     * and by a FAILURE job; .3 by nobody; .6 by nobody but recent. */
    static const struct {
        const char *uid;
        mcm_job_state state;
        const char *info;
        const char *instance;
    } jobs[] = {
        {"1.2.3.111", MCM_JOB_IDLE, "NORMAL", "1.2.3.110.1"},
        {"1.2.3.112", MCM_JOB_DONE, "NORMAL", "1.2.3.110.2"},
        {"1.2.3.113", MCM_JOB_PENDING, "QUEUED", "1.2.3.110.4"},
        {"1.2.3.114", MCM_JOB_CREATING, "NORMAL", "1.2.3.110.5"},
        {"1.2.3.115", MCM_JOB_FAILURE, "NO_INSTANCE", "1.2.3.110.5"},
    };
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        mcm_job *job = make_job(jobs[i].uid, 0);
        ck_assert_int_eq(mcm_request_add_reference(mcm_job_request_mut(job), MCM_TEST_CT_IMAGE, "9.9.9", NULL), MCM_OK);
        ck_assert_int_eq(mcm_request_add_reference(mcm_job_request_mut(job), MCM_TEST_CT_IMAGE, jobs[i].instance, NULL),
                         MCM_OK);
        ck_assert_int_eq(mcm_job_set_state(job, jobs[i].state, jobs[i].info), MCM_OK);
        insert(store, job, 0);
        mcm_job_free(job);
    }

    collected c;
    memset(&c, 0, sizeof c);
    c.store = store;
    size_t count = 99;
    ck_assert_int_eq(mcm_store_expire_instances(store, 100, -1, collect_path, &c, &count), MCM_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(c.count, 0);

    ck_assert_int_eq(mcm_store_expire_instances(store, 100, 50, collect_path, &c, &count), MCM_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(c.count, 2);
    ck_assert(collected_has(&c, "/data/1.2.3.110.2"));
    ck_assert(collected_has(&c, "/data/1.2.3.110.3"));
    ck_assert_int_eq(c.visible_in_callback, 0);
    for (int i = 1; i <= 6; i++) {
        char uid[65];
        snprintf(uid, sizeof uid, "1.2.3.110.%d", i);
        int rc = mcm_store_get_instance(store, uid, &instance);
        ck_assert_int_eq(rc, i == 2 || i == 3 ? MCM_ENOTFOUND : MCM_OK);
        mcm_store_instance_free(&instance);
    }

    /* Once the jobs are done (or gone), their instances expire too. */
    mcm_job *job = load(store, "1.2.3.111");
    ck_assert_int_eq(mcm_store_delete_job(store, "1.2.3.111"), MCM_OK);
    mcm_job_free(job);
    job = load(store, "1.2.3.113");
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_DONE, "NORMAL"), MCM_OK);
    ck_assert_int_eq(mcm_store_update_job(store, job, MCM_JOB_PENDING, 0, 100), MCM_OK);
    mcm_job_free(job);
    memset(&c, 0, sizeof c);
    c.store = store;
    ck_assert_int_eq(mcm_store_expire_instances(store, 100, 50, collect_path, &c, &count), MCM_OK);
    ck_assert_uint_eq(count, 2);
    ck_assert(collected_has(&c, "/data/1.2.3.110.1"));
    ck_assert(collected_has(&c, "/data/1.2.3.110.4"));
    /* .5 stays while the CREATING job needs it, .6 until it is old enough. */
    ck_assert_int_eq(mcm_store_expire_instances(store, 100, 50, NULL, NULL, &count), MCM_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(mcm_store_expire_instances(store, 1000, 0, NULL, NULL, &count), MCM_OK);
    ck_assert_uint_eq(count, 1);
    ck_assert_int_eq(mcm_store_get_instance(store, "1.2.3.110.5", &instance), MCM_OK);
    mcm_store_instance_free(&instance);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* ---- durability: a process killed with SIGKILL ---- */

/* The store a child keeps open when it kills itself. Valgrind runs a leak check when a process
 * sends itself SIGKILL: the child frees what it no longer needs first and keeps the store reachable
 * from here (closing it would defeat the test). */
static mcm_store *volatile child_store;

/* Wait for a child that must have killed itself with SIGKILL after its last store call returned;
 * any exit code is the number of the step that failed. */
static void wait_for_self_kill(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child did not reach its SIGKILL (exit %d)",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

START_TEST(sigkill_after_insert_keeps_the_job)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_job *job = make_full_job("1.2.3.120");
    for (int i = 0; i < 1000; i++) {
        char instance[96];
        item_uid(instance, "1.2.3.120.7", (size_t)i);
        ck_assert_int_eq(mcm_request_add_reference(mcm_job_request_mut(job), MCM_TEST_CT_IMAGE, instance, NULL),
                         MCM_OK);
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The child: no Check calls here, only exit codes. The database is opened after fork. */
        mcm_store *store = NULL;
        if (mcm_store_open(&store, s.location) != MCM_OK)
            _exit(10);
        child_store = store;
        if (mcm_store_insert_job(store, job, 77) != MCM_OK)
            _exit(11);
        mcm_job_free(job);
        kill(getpid(), SIGKILL); /* before close: no checkpoint, the job lives only in the WAL */
        _exit(12);
    }
    wait_for_self_kill(pid);
    if (s.backend->check_unflushed != NULL)
        s.backend->check_unflushed(&s); /* SQLite: before close, no checkpoint: the job lives only in the WAL */
    mcm_store *store = open_store(s.location);
    mcm_job *back = load(store, "1.2.3.120");
    assert_same_job(job, back);
    ck_assert_int_eq(mcm_job_created(back), 77);
    mcm_job_free(back);
    mcm_store_close(store);
    s.backend->check_intact(&s);
    mcm_job_free(job);
    scratch_free(&s);
}
END_TEST

START_TEST(sigkill_after_update_keeps_the_update)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_job("1.2.3.130", 10);
    insert(store, job, 1);
    initiate(store, job, MCM_PRIORITY_HIGH, 2);
    mcm_store_close(store);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mcm_store *opened = NULL;
        mcm_job *claimed = NULL;
        mcm_job_event complete = {.type = MCM_EVENT_COMPLETE};
        mcm_job_free(job);
        if (mcm_store_open(&opened, s.location) != MCM_OK)
            _exit(10);
        child_store = opened;
        if (mcm_store_claim_next(opened, 3, &claimed) != MCM_OK)
            _exit(11);
        if (mcm_job_apply(claimed, &complete, NULL) != MCM_OK)
            _exit(12);
        mcm_job_set_pieces(claimed, 2);
        if (mcm_job_add_media(claimed, "KILLED_1", "1.2.3.500.1") != MCM_OK)
            _exit(13);
        if (mcm_store_update_job(opened, claimed, MCM_JOB_CREATING, 0, 4) != MCM_OK)
            _exit(14);
        mcm_job_free(claimed);
        kill(getpid(), SIGKILL);
        _exit(15);
    }
    wait_for_self_kill(pid);
    store = open_store(s.location);
    mcm_job *back = load(store, "1.2.3.130");
    ck_assert_int_eq(mcm_job_state_of(back), MCM_JOB_DONE);
    ck_assert_str_eq(mcm_job_status_info(back), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(back), 2);
    ck_assert_uint_eq(mcm_job_media_count(back), 1);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(back, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "KILLED_1");
    ck_assert_int_eq(mcm_job_updated(back), 4);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(back)), MCM_PRIORITY_HIGH);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(back)), 10);
    size_t recovered = 99;
    ck_assert_int_eq(mcm_store_recover(store, &recovered), MCM_OK);
    ck_assert_uint_eq(recovered, 0);
    mcm_job_free(back);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* Read what the child reported on the pipe: "B k" when it starts inserting job k, "E k" when the
 * insert returned MCM_OK. */
typedef struct progress {
    char text[65536];
    size_t length;
} progress;

static void progress_read(progress *p, int fd, int block)
{
    char buffer[4096];
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, block ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0 && p->length + (size_t)n < sizeof p->text) {
        memcpy(p->text + p->length, buffer, (size_t)n);
        p->length += (size_t)n;
        p->text[p->length] = '\0';
    }
}

static int progress_has(const progress *p, char kind, int k)
{
    char line[32];
    snprintf(line, sizeof line, "%c %d\n", kind, k);
    return strstr(p->text, line) != NULL;
}

START_TEST(sigkill_mid_transaction_leaves_all_or_nothing)
{
    size_t items = big_job_items();
    /* Kill after the child has started its second insert, then after various short delays. */
    static const int delays_ms[] = {0, 15, 60, 150};
    int rounds_in_flight_absent = 0, rounds_in_flight_present = 0;
    for (size_t round = 0; round < sizeof delays_ms / sizeof delays_ms[0]; round++) {
        scratch s;
        scratch_init(&s, _i);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            mcm_store *store = NULL;
            if (mcm_store_open(&store, s.location) != MCM_OK)
                _exit(10);
            for (int k = 0;; k++) {
                char uid[65], line[32];
                snprintf(uid, sizeof uid, "1.2.3.140.%d", k);
                mcm_job *job = NULL;
                if (mcm_job_new(&job, uid) != MCM_OK || mcm_job_set_state(job, MCM_JOB_IDLE, "NORMAL") != MCM_OK)
                    _exit(11);
                for (size_t i = 0; i < items; i++) {
                    char instance[96];
                    item_uid(instance, uid, i);
                    if (mcm_request_add_reference(mcm_job_request_mut(job), MCM_TEST_CT_IMAGE, instance, NULL) !=
                        MCM_OK)
                        _exit(12);
                }
                int n = snprintf(line, sizeof line, "B %d\n", k);
                if (write(fds[1], line, (size_t)n) != n)
                    _exit(13);
                if (mcm_store_insert_job(store, job, k) != MCM_OK)
                    _exit(14);
                n = snprintf(line, sizeof line, "E %d\n", k);
                if (write(fds[1], line, (size_t)n) != n)
                    _exit(15);
                mcm_job_free(job);
            }
        }
        close(fds[1]);
        progress p;
        memset(&p, 0, sizeof p);
        while (!progress_has(&p, 'B', 1)) {
            size_t before = p.length;
            progress_read(&p, fds[0], 1);
            ck_assert_msg(p.length > before, "child stopped before its second insert: %s", p.text);
        }
        if (delays_ms[round] > 0) {
            struct timespec delay = {0, delays_ms[round] * 1000000L};
            nanosleep(&delay, NULL);
        }
        kill(pid, SIGKILL);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child exited %d before the kill",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        for (size_t before = (size_t)-1; before != p.length;) {
            before = p.length;
            progress_read(&p, fds[0], 0);
        }
        close(fds[0]);

        /* The database opens cleanly; every job it holds is whole; every acknowledged job is there. */
        mcm_store *store = open_store(s.location);
        s.backend->check_intact(&s);
        long long jobs = peek(&s, "SELECT COUNT(*) FROM jobs");
        ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM job_references"), jobs * (long long)items);
        int last_started = -1, acknowledged = 0, present_in_flight = 0;
        for (int k = 0; progress_has(&p, 'B', k); k++)
            last_started = k;
        for (int k = 0; k <= last_started; k++) {
            char uid[65];
            snprintf(uid, sizeof uid, "1.2.3.140.%d", k);
            mcm_job *back = NULL;
            int rc = mcm_store_load_job(store, uid, &back);
            if (progress_has(&p, 'E', k)) {
                ck_assert_msg(rc == MCM_OK, "acknowledged job %d lost: %s", k, mcm_last_error());
                acknowledged++;
            }
            if (rc == MCM_OK) {
                ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(back)), items);
                mcm_reference last;
                char expected[96];
                ck_assert_int_eq(mcm_request_reference(mcm_job_request(back), items - 1, &last), MCM_OK);
                item_uid(expected, uid, items - 1);
                ck_assert_str_eq(last.sop_instance_uid, expected);
                if (!progress_has(&p, 'E', k)) {
                    rounds_in_flight_present++;
                    present_in_flight++;
                }
            } else {
                ck_assert_int_eq(rc, MCM_ENOTFOUND);
                ck_assert_msg(!progress_has(&p, 'E', k), "job %d", k);
                rounds_in_flight_absent++;
            }
            mcm_job_free(back);
        }
        /* Nothing but the jobs the child started: each acknowledged one, the one in flight or not. */
        ck_assert_int_eq(jobs, acknowledged + present_in_flight);
        mcm_store_close(store);
        scratch_free(&s);
    }
    if (timings_wanted())
        fprintf(stderr, "store timings: SIGKILL mid-insert: in-flight job absent %d times, complete %d times\n",
                rounds_in_flight_absent, rounds_in_flight_present);
}
END_TEST

/* ---- refusing what is not ours ---- */

START_TEST(newer_schema_refused)
{
    scratch s;
    scratch_init_file(&s);
    mcm_store *store = open_store(s.path);
    mcm_store_close(store);
    sql_exec(s.path, "PRAGMA user_version = 7");
    store = (mcm_store *)1;
    ck_assert_int_eq(mcm_store_open(&store, s.path), MCM_EDB);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(mcm_last_error(), "version 7") != NULL && strstr(mcm_last_error(), "version 1") != NULL,
                  "message: %s", mcm_last_error());
    /* Refused untouched: still version 7. */
    ck_assert_int_eq(sql_count(s.path, "PRAGMA user_version"), 7);
    scratch_free(&s);
}
END_TEST

START_TEST(garbage_and_foreign_files_refused)
{
    scratch s;
    scratch_init_file(&s);
    FILE *f = fopen(s.path, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 1000; i++)
        fputs("this is not a database at all\n", f);
    fclose(f);
    mcm_store *store = NULL;
    ck_assert_int_eq(mcm_store_open(&store, s.path), MCM_EDB);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(mcm_last_error(), "not a database") != NULL && strstr(mcm_last_error(), s.path) != NULL,
                  "message: %s", mcm_last_error());
    /* Binary garbage too, and the file is left as it was. */
    unsigned char bytes[6000];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof bytes; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32: reproducible noise */
        bytes[i] = (unsigned char)x;
    }
    f = fopen(s.path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, sizeof bytes, f), sizeof bytes);
    fclose(f);
    ck_assert_int_eq(mcm_store_open(&store, s.path), MCM_EDB);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "not a database"));
    unsigned char reread[sizeof bytes + 1];
    f = fopen(s.path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(reread, 1, sizeof reread, f), sizeof bytes);
    fclose(f);
    ck_assert(memcmp(bytes, reread, sizeof bytes) == 0);

    /* Another program's SQLite database is not taken over. */
    char other[4300];
    snprintf(other, sizeof other, "%s/other.db", s.dir);
    sql_exec(other, "CREATE TABLE photos (name TEXT)");
    ck_assert_int_eq(mcm_store_open(&store, other), MCM_EDB);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "another program"));
    sql_exec(other, "DROP TABLE photos; PRAGMA application_id = 1234");
    ck_assert_int_eq(mcm_store_open(&store, other), MCM_EDB);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "application id"));
    scratch_free(&s);
}
END_TEST

/* Make path unwritable for us: permission bits for an ordinary user, the immutable flag for root
 * (who ignores permission bits). Returns 0 if that is not possible here (e.g. tmpfs as root). */
static int make_read_only(const char *path, int on)
{
    if (geteuid() != 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            return 0;
        mode_t mode = S_ISDIR(st.st_mode) ? (on ? 0555 : 0755) : (on ? 0444 : 0644);
        return chmod(path, mode) == 0;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int flags = 0, ok = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
        ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
    return ok;
}

START_TEST(missing_directory_and_read_only_location)
{
    scratch s;
    scratch_init_file(&s);
    char path[4400], message[1024];
    snprintf(path, sizeof path, "%s/no/such/dir/jobs.db", s.dir);
    mcm_store *store = NULL;
    ck_assert_int_eq(mcm_store_open(&store, path), MCM_EDB);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(mcm_last_error(), "cannot open") != NULL && strstr(mcm_last_error(), path) != NULL &&
                      strstr(mcm_last_error(), "/no/such/dir: No such file or directory") != NULL,
                  "message: %s", mcm_last_error());
    /* A location where nobody may create files. */
    ck_assert_int_eq(mcm_store_open(&store, "/proc/dcmmcm-test-jobs.db"), MCM_EDB);
    ck_assert_ptr_null(store);
    /* A directory where the file should be, a file where a directory should be. */
    ck_assert_int_eq(mcm_store_open(&store, s.dir), MCM_EDB);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "is a directory"));
    ck_assert_int_eq(mcm_store_open(&store, ""), MCM_EINVAL);
    ck_assert_int_eq(mcm_store_open(NULL, s.path), MCM_EINVAL);

    /* A read-only directory: the file cannot be created. A read-only database file: refused rather
     * than opened read-only (every write would fail later). Assertions come after the flags are
     * cleared, so a failure never leaves an undeletable file behind. */
    char ro_dir[4300];
    snprintf(ro_dir, sizeof ro_dir, "%s/ro", s.dir);
    ck_assert_int_eq(mkdir(ro_dir, 0755), 0);
    snprintf(path, sizeof path, "%s/jobs.db", ro_dir);
    if (make_read_only(ro_dir, 1)) {
        int rc = mcm_store_open(&store, path);
        snprintf(message, sizeof message, "%s", mcm_last_error());
        make_read_only(ro_dir, 0);
        mcm_store_close(store != NULL && rc == MCM_OK ? store : NULL);
        ck_assert_int_eq(rc, MCM_EDB);
        ck_assert_msg(strstr(message, "cannot create files in directory") != NULL, "message: %s", message);
    }
    store = open_store(path);
    mcm_job *job = make_job("1.2.3.160", 1);
    insert(store, job, 1);
    mcm_store_close(store);
    store = NULL;
    if (make_read_only(path, 1)) {
        int rc = mcm_store_open(&store, path);
        snprintf(message, sizeof message, "%s", mcm_last_error());
        make_read_only(path, 0);
        mcm_store_close(rc == MCM_OK ? store : NULL);
        ck_assert_int_eq(rc, MCM_EDB);
        ck_assert_msg(strstr(message, "read-only") != NULL, "message: %s", message);
    }
    /* Nothing was lost by the refusals. */
    store = open_store(path);
    mcm_job *back = load(store, "1.2.3.160");
    assert_same_job(job, back);
    mcm_job_free(back);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* The durability settings a second connection can see: the WAL journal (synchronous=FULL is the
 * connection's own; the SIGKILL tests show what it buys). */
START_TEST(wal_journal)
{
    scratch s;
    scratch_init_file(&s);
    mcm_store *store = open_store(s.location);
    mcm_job *job = make_job("1.2.3.170", 1);
    insert(store, job, 1);
    char *mode = sql_text(s.path, "PRAGMA journal_mode");
    ck_assert_str_eq(mode, "wal");
    free(mode);
    mcm_job_free(job);
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* Restores the working directory when a test changed it (CK_FORK=no runs every test in one process). */
static int enter_directory(const char *dir)
{
    int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(chdir(dir), 0);
    return fd;
}

static void leave_directory(int fd)
{
    ck_assert_int_eq(fchdir(fd), 0);
    close(fd);
}

/* mcm_store_open's location: "sqlite:PATH" and a plain PATH are the same SQLite database; a plain
 * path stays a path even with a colon in it; a server address for a back end this build lacks is
 * refused with a message that names its scheme and nothing else of it (it may hold a password). */
START_TEST(locations_choose_the_back_end)
{
    scratch s;
    scratch_init_file(&s);
    char location[4400];
    mcm_store *store = open_store(s.path);
    mcm_job *job = make_full_job("1.2.3.180");
    insert(store, job, 1);
    mcm_store_close(store);
    snprintf(location, sizeof location, "sqlite:%s", s.path);
    store = open_store(location);
    mcm_job *back = load(store, "1.2.3.180");
    assert_same_job(job, back);
    mcm_job_free(back);
    mcm_store_close(store);
    /* Schemes are case-insensitive (RFC 3986 section 3.1). */
    snprintf(location, sizeof location, "SQLite:%s", s.path);
    store = open_store(location);
    back = load(store, "1.2.3.180");
    mcm_job_free(back);
    mcm_store_close(store);
    ck_assert_int_eq(sql_count(s.path, "SELECT COUNT(*) FROM jobs"), 1);

    /* A relative plain path whose text before the colon names no back end, in the scratch directory. */
    int cwd = enter_directory(s.dir);
    int rc = mcm_store_open(&store, "jobs:2024.db");
    struct stat st;
    int created = stat("jobs:2024.db", &st) == 0;
    leave_directory(cwd);
    ck_assert_msg(rc == MCM_OK, "jobs:2024.db: %s", mcm_last_error());
    ck_assert(created);
    mcm_store_close(store);

    store = (mcm_store *)1;
    ck_assert_int_eq(mcm_store_open(&store, "sqlite:"), MCM_EINVAL);
    ck_assert_ptr_null(store);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "names no database"));
    ck_assert_int_eq(mcm_store_open(&store, "postgresql://mcm:s3cret@127.0.0.1:5432/jobs"), MCM_EINVAL);
    ck_assert_ptr_null(store);
    ck_assert_msg(strstr(mcm_last_error(), "\"postgresql\"") != NULL && strstr(mcm_last_error(), "sqlite:") != NULL &&
                      strstr(mcm_last_error(), "s3cret") == NULL && strstr(mcm_last_error(), "127.0.0.1") == NULL,
                  "message: %s", mcm_last_error());
    ck_assert_int_eq(mcm_store_open(&store, "file:///tmp/jobs.db"), MCM_EINVAL);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "\"file\""));
    mcm_job_free(job);
    scratch_free(&s);
}
END_TEST

/* ---- figures ---- */

START_TEST(commit_latency_and_claim_rate)
{
    scratch s;
    scratch_init(&s, _i);
    mcm_store *store = open_store(s.location);
    const int n = mcm_test_under_valgrind() ? 20 : 200;
    double t0 = mcm_test_now_ms();
    for (int i = 0; i < n; i++) {
        char uid[65];
        snprintf(uid, sizeof uid, "1.2.3.150.%d", i);
        ck_assert_int_eq(mcm_store_put_instance(store, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, "/x", 1, i),
                         MCM_OK);
    }
    double t1 = mcm_test_now_ms();
    for (int i = 0; i < n; i++) {
        char uid[65];
        snprintf(uid, sizeof uid, "1.2.3.151.%d", i);
        mcm_job *job = make_job(uid, 10);
        insert(store, job, 1);
        initiate(store, job, MCM_PRIORITY_UNSET, 1);
        mcm_job_free(job);
    }
    double t2 = mcm_test_now_ms();
    for (int i = 0; i < n; i++) {
        mcm_job *job = NULL;
        ck_assert_int_eq(mcm_store_claim_next(store, 1, &job), MCM_OK);
        mcm_job_free(job);
    }
    double t3 = mcm_test_now_ms();
    ck_assert_int_eq(peek(&s, "SELECT COUNT(*) FROM jobs WHERE state = 'CREATING'"), n);
    if (timings_wanted())
        fprintf(stderr,
                "store timings: commit (put_instance) %.3f ms each; insert+initiate of a 10-item job %.3f ms; "
                "claim %.3f ms each (%.0f claims/s)\n",
                (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n, n / ((t3 - t2) / 1000.0));
    mcm_store_close(store);
    scratch_free(&s);
}
END_TEST

/* The generic tests' groups, each a test case per back end ("jobs-sqlite", ...) whose tests get the
 * back end's index as _i; the back end's setup and teardown run once around each of its cases. */
static void add_generic(Suite *suite, size_t backend, const char *group, int timeout, const TTest *const *tests,
                        size_t count)
{
    /* Check keeps the name pointer, so the names live as long as the suite. */
    static char names[BACKEND_COUNT][8][64];
    static size_t used[BACKEND_COUNT];
    if (used[backend] >= 8)
        abort(); /* more groups than names: grow the table */
    char *name = names[backend][used[backend]++];
    snprintf(name, sizeof names[0][0], "%s-%s", group, backends[backend].name);
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    if (backends[backend].setup != NULL || backends[backend].teardown != NULL)
        tcase_add_unchecked_fixture(tc, backends[backend].setup, backends[backend].teardown);
    for (size_t i = 0; i < count; i++)
        tcase_add_loop_test(tc, tests[i], (int)backend, (int)backend + 1);
    suite_add_tcase(suite, tc);
}

#define ADD_GENERIC(suite, backend, group, timeout, ...)                                                               \
    do {                                                                                                               \
        const TTest *const tests_[] = {__VA_ARGS__};                                                                   \
        add_generic(suite, backend, group, timeout, tests_, sizeof tests_ / sizeof tests_[0]);                         \
    } while (0)

Suite *mcm_suite_store(void)
{
    Suite *s = suite_create("store");
    for (size_t b = 0; b < BACKEND_COUNT; b++) {
        ADD_GENERIC(s, b, "jobs", 60, roundtrip_every_field, roundtrip_zero_and_one_item, roundtrip_100000_items,
                    update_saves_what_changes, duplicate_and_unknown);
        ADD_GENERIC(s, b, "queue", 60, claim_order_priority_then_arrival, claim_respects_retry_after,
                    concurrent_claims_take_each_job_once, update_guard_stops_resurrection, recover_and_count_live);
        ADD_GENERIC(s, b, "retention", 30, expire_jobs_by_period, instances_put_get_expire);
        ADD_GENERIC(s, b, "durability", 120, sigkill_after_insert_keeps_the_job, sigkill_after_update_keeps_the_update,
                    sigkill_mid_transaction_leaves_all_or_nothing);
        ADD_GENERIC(s, b, "figures", 60, commit_latency_and_claim_rate);
    }

    /* SQLite's own: the file and the location syntax. */
    TCase *tc = tcase_create("sqlite-file");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, newer_schema_refused);
    tcase_add_test(tc, garbage_and_foreign_files_refused);
    tcase_add_test(tc, missing_directory_and_read_only_location);
    tcase_add_test(tc, wal_journal);
    tcase_add_test(tc, locations_choose_the_back_end);
    suite_add_tcase(s, tc);
    return s;
}
