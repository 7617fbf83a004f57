/*
 * tests/scp/suite_options.c: the versions of the options structs (lib/core/options.h). For every
 * version up to the library's of mcm_scu_options, mcm_wait_options, mcm_scp_options and
 * mcm_media_options, a struct allocated with malloc at exactly the size a program built against
 * that version's header allocates (so ASan catches any byte read or written past its end) is
 * filled by *_options_init(p, version), checked against the defaults, and handed to the entry point
 * that consumes it: mcm_media_writer_new, mcm_scp_new (on the fixture's scratch directory, then run),
 * mcm_scu_connect (to that running SCP), mcm_scu_wait (on a real job that the media writer turns
 * into an ISO image). Each struct is freed as soon as its entry point returns, so a library that
 * kept the caller's pointer reads freed memory. Unknown versions (0, current + 1) are refused by
 * the init functions, which then write nothing, and by every entry point, which reads nothing but
 * the version.
 */
#include <check.h>

#include "scp_fixture.h"
#include "testutil.h"

#include <dcmmcm.h>
#include <dcmmcm/media.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- each version as released -------------------------------------------------------------------
 * Verbatim copies of every released version of each struct: their sizeof is what a program built
 * against that version allocates. A new version of a struct adds its copy and its size here (the
 * assertions below fail to compile until it does). */

/* Version 1 (dcmmcm 0.1). */
typedef struct scu_options_v1 {
    unsigned int version;
    const char *peer_host;
    uint16_t peer_port;
    const char *calling_ae_title;
    const char *called_ae_title;
    int acse_timeout_seconds;
    int dimse_timeout_seconds;
    uint32_t max_pdu;
    const char *const *store_files;
    size_t store_file_count;
    const char *const *store_sop_classes;
    size_t store_sop_class_count;
    int tcp_tuning;
    const mcm_tls_options *tls;
    mcm_log_fn log;
    void *log_user;
    mcm_log_level log_level;
} scu_options_v1;

/* Version 1 (dcmmcm 0.1). */
typedef struct wait_options_v1 {
    unsigned int version;
    unsigned initial_interval_ms;
    unsigned max_interval_ms;
    unsigned timeout_ms;
    mcm_progress_fn progress;
    void *progress_user;
} wait_options_v1;

/* Version 1 (dcmmcm 0.1). */
typedef struct scp_options_v1 {
    unsigned int version;
    const char *bind_address;
    uint16_t port;
    const char *ae_title;
    const char *const *allowed_calling_ae_titles;
    size_t allowed_calling_ae_title_count;
    int check_called_ae_title;
    unsigned max_associations;
    int acse_timeout_seconds;
    int dimse_timeout_seconds;
    uint32_t max_pdu;
    const char *storage_dir;
    const char *database_path;
    int64_t retention_idle_seconds;
    int64_t retention_done_seconds;
    int64_t retention_instance_seconds;
    unsigned queue_limit;
    unsigned media_workers;
    unsigned max_copies;
    unsigned strict;
    int annex_c_details;
    const char *default_profile;
    int tcp_tuning;
    mcm_authorize_fn authorize;
    mcm_write_media_fn write_media;
    mcm_log_fn log;
    mcm_log_level log_level;
    void *user;
    int accept_unknown_storage;
} scp_options_v1;

/* Version 1 (dcmmcm 0.1). */
typedef struct media_options_v1 {
    unsigned int version;
    const char *output_dir;
    const char *staging_dir;
    int keep_staging;
    const char *default_profile;
    uint64_t capacity_bytes;
    uint64_t usb_capacity_bytes;
    const char *viewer_dir;
    const char *application_id;
    mcm_media_copy_mode copy_mode;
    int label_png;
    int label_pdf;
    unsigned label_dpi;
    mcm_media_image_fn image_written;
    void *image_written_user;
} media_options_v1;

static const size_t scu_sizes[] = {sizeof(scu_options_v1)};
static const size_t wait_sizes[] = {sizeof(wait_options_v1)};
static const size_t scp_sizes[] = {sizeof(scp_options_v1)};
static const size_t media_sizes[] = {sizeof(media_options_v1)};

#define COUNT(a) (sizeof a / sizeof a[0])
_Static_assert(COUNT(scu_sizes) == MCM_SCU_OPTIONS_VERSION, "a copy of every version of mcm_scu_options");
_Static_assert(COUNT(wait_sizes) == MCM_WAIT_OPTIONS_VERSION, "a copy of every version of mcm_wait_options");
_Static_assert(COUNT(scp_sizes) == MCM_SCP_OPTIONS_VERSION, "a copy of every version of mcm_scp_options");
_Static_assert(COUNT(media_sizes) == MCM_MEDIA_OPTIONS_VERSION, "a copy of every version of mcm_media_options");

/* Each copy is a prefix of the current struct: its last field where the current struct has it. */
#define PREFIX(old, current, last)                                                                                     \
    _Static_assert(offsetof(old, last) == offsetof(current, last) && sizeof(old) <= sizeof(current),                   \
                   #old " is a prefix of " #current)
PREFIX(scu_options_v1, mcm_scu_options, log_level);
PREFIX(scu_options_v1, mcm_scu_options, tls);
PREFIX(wait_options_v1, mcm_wait_options, progress_user);
PREFIX(scp_options_v1, mcm_scp_options, accept_unknown_storage);
PREFIX(scp_options_v1, mcm_scp_options, retention_instance_seconds);
PREFIX(media_options_v1, mcm_media_options, image_written_user);
PREFIX(media_options_v1, mcm_media_options, capacity_bytes);

/* ---- defaults -------------------------------------------------------------------------------------- */

/* A block of exactly size bytes, every byte 0xA5 (so a field init leaves alone shows). */
static void *alloc_filled(size_t size)
{
    void *p = malloc(size);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xA5, size);
    return p;
}

static int same_string(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

#define SAME(field)                                                                                                    \
    ck_assert_msg(got->field == want.field, "%s version %u: " #field " is not the default", type, version)
#define SAME_STRING(field)                                                                                             \
    ck_assert_msg(same_string(got->field, want.field), "%s version %u: " #field " is not the default", type, version)

/* The fields of each version as the macro has them; a later version adds its fields under
 * "if (version >= N)". */
static void check_scu_defaults(const mcm_scu_options *got, unsigned version)
{
    const char *type = "mcm_scu_options";
    const mcm_scu_options want = MCM_SCU_OPTIONS_INIT;
    ck_assert_uint_eq(got->version, version);
    SAME_STRING(peer_host), SAME(peer_port), SAME_STRING(calling_ae_title), SAME_STRING(called_ae_title);
    SAME(acse_timeout_seconds), SAME(dimse_timeout_seconds), SAME(max_pdu), SAME(store_files);
    SAME(store_file_count), SAME(store_sop_classes), SAME(store_sop_class_count), SAME(tcp_tuning), SAME(tls);
    SAME(log), SAME(log_user), SAME(log_level);
    /* And the documented values, so that a macro and a function wrong the same way still fail. */
    ck_assert_uint_eq(got->peer_port, 11112);
    ck_assert_str_eq(got->calling_ae_title, "MCMSCU");
    ck_assert_int_eq(got->dimse_timeout_seconds, 60);
}

static void check_wait_defaults(const mcm_wait_options *got, unsigned version)
{
    const char *type = "mcm_wait_options";
    const mcm_wait_options want = MCM_WAIT_OPTIONS_INIT;
    ck_assert_uint_eq(got->version, version);
    SAME(initial_interval_ms), SAME(max_interval_ms), SAME(timeout_ms), SAME(progress), SAME(progress_user);
    ck_assert_uint_eq(got->initial_interval_ms, 200);
    ck_assert_uint_eq(got->max_interval_ms, 5000);
}

static void check_scp_defaults(const mcm_scp_options *got, unsigned version)
{
    const char *type = "mcm_scp_options";
    const mcm_scp_options want = MCM_SCP_OPTIONS_INIT;
    ck_assert_uint_eq(got->version, version);
    SAME_STRING(bind_address), SAME(port), SAME_STRING(ae_title), SAME(allowed_calling_ae_titles);
    SAME(allowed_calling_ae_title_count), SAME(check_called_ae_title), SAME(max_associations);
    SAME(acse_timeout_seconds), SAME(dimse_timeout_seconds), SAME(max_pdu), SAME_STRING(storage_dir);
    SAME_STRING(database_path), SAME(retention_idle_seconds), SAME(retention_done_seconds);
    SAME(retention_instance_seconds), SAME(queue_limit), SAME(media_workers), SAME(max_copies), SAME(strict);
    SAME(annex_c_details), SAME_STRING(default_profile), SAME(tcp_tuning), SAME(authorize), SAME(write_media);
    SAME(log), SAME(log_level), SAME(user), SAME(accept_unknown_storage);
    ck_assert_str_eq(got->ae_title, "MCMSCP");
    ck_assert_uint_eq(got->max_associations, 16);
    ck_assert_int_eq(got->retention_done_seconds, 604800);
}

static void check_media_defaults(const mcm_media_options *got, unsigned version)
{
    const char *type = "mcm_media_options";
    const mcm_media_options want = MCM_MEDIA_OPTIONS_INIT;
    ck_assert_uint_eq(got->version, version);
    SAME_STRING(output_dir), SAME_STRING(staging_dir), SAME(keep_staging), SAME_STRING(default_profile);
    SAME(capacity_bytes), SAME(usb_capacity_bytes), SAME_STRING(viewer_dir), SAME_STRING(application_id);
    SAME(copy_mode), SAME(label_png), SAME(label_pdf), SAME(label_dpi), SAME(image_written);
    SAME(image_written_user);
    ck_assert_int_eq(got->copy_mode, MCM_MEDIA_COPY_LINK);
    ck_assert_int_eq(got->label_png, 1);
}
#undef SAME
#undef SAME_STRING

/* ---- every version through its entry point ------------------------------------------------------- */

#define IMAGES 2

/* Version v of each struct (or the current one where the struct has fewer versions: every struct
 * still goes through its entry point once per v). */
static unsigned version_of(unsigned v, unsigned current)
{
    return v < current ? v : current;
}

static void one_version(unsigned v)
{
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    mcm_fixture f;
    mcm_fixture_init(&f);
    char media_dir[4200];
    snprintf(media_dir, sizeof media_dir, "%s/media", f.dir);

    /* The media writer. */
    unsigned mv = version_of(v, MCM_MEDIA_OPTIONS_VERSION);
    mcm_media_options *media = alloc_filled(media_sizes[mv - 1]);
    ck_assert_int_eq(mcm_media_options_init(media, mv), MCM_OK);
    check_media_defaults(media, mv);
    media->output_dir = media_dir;
    mcm_media_writer *writer = NULL;
    int rc = mcm_media_writer_new(&writer, media);
    ck_assert_msg(rc == MCM_OK, "mcm_media_writer_new, version %u: %s", mv, mcm_last_error());
    free(media);

    /* The SCP, with that writer. */
    unsigned pv = version_of(v, MCM_SCP_OPTIONS_VERSION);
    mcm_scp_options *scp = alloc_filled(scp_sizes[pv - 1]);
    ck_assert_int_eq(mcm_scp_options_init(scp, pv), MCM_OK);
    check_scp_defaults(scp, pv);
    scp->bind_address = "127.0.0.1";
    scp->storage_dir = f.storage;
    scp->database_path = f.database;
    scp->write_media = mcm_media_writer_write;
    scp->user = writer;
    mcm_fixture_start(&f, scp); /* mcm_scp_new, then mcm_scp_run on a thread */
    free(scp);

    /* The SCU, to that SCP. */
    char paths[IMAGES][4096], uids[IMAGES][65];
    mcm_fixture_make_images(&f, IMAGES, paths, uids);
    const char *files[IMAGES] = {paths[0], paths[1]};
    unsigned uv = version_of(v, MCM_SCU_OPTIONS_VERSION);
    mcm_scu_options *scu_opts = alloc_filled(scu_sizes[uv - 1]);
    ck_assert_int_eq(mcm_scu_options_init(scu_opts, uv), MCM_OK);
    check_scu_defaults(scu_opts, uv);
    scu_opts->peer_host = "127.0.0.1";
    scu_opts->peer_port = f.port;
    scu_opts->store_files = files;
    scu_opts->store_file_count = IMAGES;
    mcm_scu *scu = NULL;
    rc = mcm_scu_connect(&scu, scu_opts);
    ck_assert_msg(rc == MCM_OK, "mcm_scu_connect, version %u: %s", uv, mcm_last_error());
    free(scu_opts);
    mcm_response rsp;
    for (int i = 0; i < IMAGES; i++) {
        ck_assert_int_eq(mcm_scu_store_file(scu, paths[i], &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
    }
    mcm_request *request = mcm_fixture_request(uids, IMAGES);
    char uid[65];
    ck_assert_int_eq(mcm_scu_create(scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 1, MCM_PRIORITY_UNSET, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);

    /* Waiting for it. */
    unsigned wv = version_of(v, MCM_WAIT_OPTIONS_VERSION);
    mcm_wait_options *wait = alloc_filled(wait_sizes[wv - 1]);
    ck_assert_int_eq(mcm_wait_options_init(wait, wv), MCM_OK);
    check_wait_defaults(wait, wv);
    wait->initial_interval_ms = 20;
    wait->max_interval_ms = 200;
    wait->timeout_ms = 120000; /* a bound for a broken build, not a timing assertion */
    mcm_job *job = NULL;
    rc = mcm_scu_wait(scu, uid, wait, &job, &rsp);
    ck_assert_msg(rc == MCM_OK, "mcm_scu_wait, version %u: %s", wv, mcm_last_error());
    free(wait);
    ck_assert_ptr_nonnull(job);
    ck_assert_msg(mcm_job_state_of(job) == MCM_JOB_DONE, "version %u: job %s (%s)", v,
                  mcm_job_state_name(mcm_job_state_of(job)),
                  mcm_job_status_info(job) != NULL ? mcm_job_status_info(job) : "-");
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_job_free(job);

    /* The writer used the options it copied (the caller's struct is long freed): the default
     * profile's image under output_dir. */
    char image[8400];
    struct stat st;
    snprintf(image, sizeof image, "%s/%s/VOL001.iso", media_dir, uid);
    ck_assert_msg(stat(image, &st) == 0 && st.st_size > 0, "%s missing", image);

    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    mcm_fixture_stop(&f);
    mcm_media_writer_free(writer);
    mcm_fixture_cleanup(&f);
}

START_TEST(every_version_at_its_size)
{
    unsigned current = MCM_SCU_OPTIONS_VERSION;
    if (MCM_WAIT_OPTIONS_VERSION > current)
        current = MCM_WAIT_OPTIONS_VERSION;
    if (MCM_SCP_OPTIONS_VERSION > current)
        current = MCM_SCP_OPTIONS_VERSION;
    if (MCM_MEDIA_OPTIONS_VERSION > current)
        current = MCM_MEDIA_OPTIONS_VERSION;
    for (unsigned v = 1; v <= current; v++)
        one_version(v);
}
END_TEST

/* ---- unknown versions ---------------------------------------------------------------------------- */

static int untouched(const void *p, size_t size)
{
    const unsigned char *bytes = p;
    for (size_t i = 0; i < size; i++)
        if (bytes[i] != 0xA5)
            return 0;
    return 1;
}

static void expect_message(const char *type, unsigned version)
{
    char want[96];
    snprintf(want, sizeof want, "%s version %u", type, version);
    ck_assert_msg(strstr(mcm_last_error(), want) != NULL, "\"%s\" does not say \"%s\"", mcm_last_error(), want);
}

/* init(p, version) refuses and writes nothing into a struct of the current size. */
#define EXPECT_INIT_REFUSED(init, type, size, version)                                                                 \
    do {                                                                                                               \
        void *p = alloc_filled(size);                                                                                  \
        ck_assert_int_eq(init(p, version), MCM_EINVAL);                                                                \
        expect_message(type, version);                                                                                 \
        ck_assert_msg(untouched(p, size), #init "(p, %u) wrote into the struct it refused", (unsigned)version);        \
        free(p);                                                                                                       \
    } while (0)

START_TEST(init_refuses_unknown_versions)
{
    EXPECT_INIT_REFUSED(mcm_scu_options_init, "mcm_scu_options", sizeof(mcm_scu_options), 0);
    EXPECT_INIT_REFUSED(mcm_scu_options_init, "mcm_scu_options", sizeof(mcm_scu_options), MCM_SCU_OPTIONS_VERSION + 1);
    EXPECT_INIT_REFUSED(mcm_wait_options_init, "mcm_wait_options", sizeof(mcm_wait_options), 0);
    EXPECT_INIT_REFUSED(mcm_wait_options_init, "mcm_wait_options", sizeof(mcm_wait_options),
                        MCM_WAIT_OPTIONS_VERSION + 1);
    EXPECT_INIT_REFUSED(mcm_scp_options_init, "mcm_scp_options", sizeof(mcm_scp_options), 0);
    EXPECT_INIT_REFUSED(mcm_scp_options_init, "mcm_scp_options", sizeof(mcm_scp_options), MCM_SCP_OPTIONS_VERSION + 1);
    EXPECT_INIT_REFUSED(mcm_media_options_init, "mcm_media_options", sizeof(mcm_media_options), 0);
    EXPECT_INIT_REFUSED(mcm_media_options_init, "mcm_media_options", sizeof(mcm_media_options),
                        MCM_MEDIA_OPTIONS_VERSION + 1);
    ck_assert_int_eq(mcm_scu_options_init(NULL, MCM_SCU_OPTIONS_VERSION), MCM_EINVAL);
    ck_assert_int_eq(mcm_wait_options_init(NULL, MCM_WAIT_OPTIONS_VERSION), MCM_EINVAL);
    ck_assert_int_eq(mcm_scp_options_init(NULL, MCM_SCP_OPTIONS_VERSION), MCM_EINVAL);
    ck_assert_int_eq(mcm_media_options_init(NULL, MCM_MEDIA_OPTIONS_VERSION), MCM_EINVAL);
}
END_TEST

/* A struct of an unknown version is a block holding just the version: the entry point must read
 * nothing else of it (ASan), not even to know what it would have held. */
static void *version_only(unsigned version)
{
    unsigned *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = version;
    return p;
}

START_TEST(entry_points_refuse_unknown_versions)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    /* A running SCP for an SCU to wait on (the SCU's wait options are checked on a live association). */
    mcm_fixture_start_default(&f);
    mcm_scu *scu = mcm_fixture_connect(&f, NULL, 0);
    const unsigned unknown[][4] = {
        {0, 0, 0, 0},
        {MCM_SCU_OPTIONS_VERSION + 1, MCM_WAIT_OPTIONS_VERSION + 1, MCM_SCP_OPTIONS_VERSION + 1,
         MCM_MEDIA_OPTIONS_VERSION + 1},
    };
    for (size_t i = 0; i < 2; i++) {
        void *p = version_only(unknown[i][0]);
        mcm_scu *other = NULL;
        ck_assert_int_eq(mcm_scu_connect(&other, p), MCM_EINVAL);
        expect_message("mcm_scu_options", unknown[i][0]);
        ck_assert_ptr_null(other);
        free(p);

        p = version_only(unknown[i][1]);
        mcm_job *job = NULL;
        mcm_response rsp;
        ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4", p, &job, &rsp), MCM_EINVAL);
        expect_message("mcm_wait_options", unknown[i][1]);
        ck_assert_ptr_null(job);
        free(p);

        p = version_only(unknown[i][2]);
        mcm_scp *scp = NULL;
        ck_assert_int_eq(mcm_scp_new(&scp, p), MCM_EINVAL);
        expect_message("mcm_scp_options", unknown[i][2]);
        ck_assert_ptr_null(scp);
        free(p);

        p = version_only(unknown[i][3]);
        mcm_media_writer *writer = NULL;
        ck_assert_int_eq(mcm_media_writer_new(&writer, p), MCM_EINVAL);
        expect_message("mcm_media_options", unknown[i][3]);
        ck_assert_ptr_null(writer);
        free(p);
    }
    /* The refused waits sent nothing: the association still answers. */
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_echo(scu, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    mcm_fixture_cleanup(&f);
}
END_TEST

Suite *mcm_suite_options(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("versions");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, every_version_at_its_size);
    tcase_add_test(tc, init_refuses_unknown_versions);
    tcase_add_test(tc, entry_points_refuse_unknown_versions);
    suite_add_tcase(s, tc);
    return s;
}
