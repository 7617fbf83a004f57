/*
 * tests/support/scp_fixture.c: an in-process SCP for the network suites (see scp_fixture.h). The test
 * writer writes real files: every instance is copied into output/<job UID>/ and fsync'd.
 */
#include "scp_fixture.h"

#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return -1;
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return -1;
    }
    char buffer[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
        if (fwrite(buffer, 1, n, out) != n)
            rc = -1;
    if (ferror(in))
        rc = -1;
    if (fflush(out) != 0 || fsync(fileno(out)) != 0)
        rc = -1;
    if (fclose(out) != 0)
        rc = -1;
    fclose(in);
    return rc;
}

static int fixture_write_media(const mcm_job *job, const mcm_instance *instances, size_t count, mcm_media_context *ctx,
                               void *user)
{
    mcm_fixture *f = user;
    int mode = atomic_load(&f->mode);
    if (mode == MCM_FIXTURE_FAIL) {
        mcm_media_fail(ctx, "MCD_FAILURE", "test writer told to fail");
        return -1;
    }
    if (mode == MCM_FIXTURE_DEFER)
        return mcm_media_defer(ctx, "OUT_OF_SUPPLIES", 3600) == MCM_OK ? 0 : -1;
    if (mode == MCM_FIXTURE_HOLD) {
        mcm_media_set_interruptible(ctx, atomic_load(&f->interruptible));
        atomic_fetch_add(&f->holding, 1);
        while (!atomic_load(&f->release) && !mcm_media_should_stop(ctx))
            sleep_ms(5);
        atomic_fetch_sub(&f->holding, 1);
        if (mcm_media_should_stop(ctx)) {
            /* Stopped or cancelled: give up; the library puts a stopped job back to PENDING. */
            atomic_fetch_add(&f->stopped, 1);
            return -1;
        }
    }
    char dir[4200], path[8400];
    snprintf(dir, sizeof dir, "%s/%s", f->output, mcm_job_uid(job));
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        mcm_media_fail(ctx, "MCD_FAILURE", "mkdir failed");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s.dcm", dir, instances[i].sop_instance_uid);
        if (copy_file(instances[i].path, path) != 0) {
            mcm_media_fail_instance(ctx, i, MCM_FAILURE_PROCESSING, NULL, 0);
            mcm_media_fail(ctx, "PROC_FAILURE", "copy failed");
            return -1;
        }
    }
    const mcm_request *request = mcm_job_request(job);
    const char *id = mcm_request_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID);
    char safe_id[17], fileset_uid[MCM_UID_MAX + 1];
    mcm_fileset_id_sanitize(id != NULL ? id : "TESTFS", safe_id);
    const char *requested_uid = mcm_request_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_UID);
    if (requested_uid != NULL)
        snprintf(fileset_uid, sizeof fileset_uid, "%s", requested_uid);
    else
        mcm_uid_generate(fileset_uid);
    int copies = mcm_request_copies(request);
    mcm_media_add_volume(ctx, safe_id, fileset_uid);
    mcm_media_set_pieces(ctx, (unsigned)(copies > 0 ? copies : 1));
    atomic_fetch_add(&f->written, 1);
    return 0;
}

static void fixture_log(mcm_log_level level, const char *message, void *user)
{
    mcm_fixture *f = user;
    if (level == MCM_LOG_INFO)
        atomic_fetch_add(&f->log_lines, 1);
    if (getenv("MCM_TEST_VERBOSE") != NULL)
        fprintf(stderr, "scp: %s: %s\n", mcm_log_level_name(level), message);
}

void mcm_fixture_init(mcm_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = mcm_test_tempdir();
    snprintf(f->storage, sizeof f->storage, "%s/storage", f->dir);
    snprintf(f->database, sizeof f->database, "%s/jobs.db", f->dir);
    snprintf(f->output, sizeof f->output, "%s/output", f->dir);
    ck_assert_int_eq(mkdir(f->output, 0755), 0);
    atomic_init(&f->mode, MCM_FIXTURE_COPY);
    atomic_init(&f->interruptible, 1);
    atomic_init(&f->release, 0);
    atomic_init(&f->holding, 0);
    atomic_init(&f->written, 0);
    atomic_init(&f->stopped, 0);
    atomic_init(&f->log_lines, 0);
}

void mcm_fixture_options(mcm_fixture *f, mcm_scp_options *opts)
{
    ck_assert_int_eq(mcm_scp_options_init(opts, MCM_SCP_OPTIONS_VERSION), MCM_OK);
    opts->bind_address = "127.0.0.1";
    opts->port = 0;
    opts->storage_dir = f->storage;
    opts->database_path = f->database;
    opts->write_media = fixture_write_media;
    opts->log = fixture_log;
    opts->log_level = getenv("MCM_TEST_VERBOSE") != NULL ? MCM_LOG_DEBUG : MCM_LOG_INFO;
    opts->user = f;
}

static void *fixture_run(void *arg)
{
    mcm_fixture *f = arg;
    f->run_rc = mcm_scp_run(f->scp);
    return NULL;
}

void mcm_fixture_start(mcm_fixture *f, const mcm_scp_options *opts)
{
    ck_assert_int_eq(f->running, 0);
    int rc = mcm_scp_new(&f->scp, opts);
    ck_assert_msg(rc == MCM_OK, "mcm_scp_new: %s: %s", mcm_strerror(rc), mcm_last_error());
    f->port = mcm_scp_port(f->scp);
    ck_assert_uint_ne(f->port, 0);
    f->run_rc = -12345;
    ck_assert_int_eq(pthread_create(&f->thread, NULL, fixture_run, f), 0);
    f->running = 1;
}

void mcm_fixture_start_default(mcm_fixture *f)
{
    mcm_scp_options opts;
    mcm_fixture_options(f, &opts);
    mcm_fixture_start(f, &opts);
}

void mcm_fixture_stop(mcm_fixture *f)
{
    if (!f->running)
        return;
    mcm_scp_stop(f->scp);
    ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
    f->running = 0;
    ck_assert_msg(f->run_rc == MCM_OK, "mcm_scp_run returned %d: %s", f->run_rc, mcm_last_error());
    mcm_scp_free(f->scp);
    f->scp = NULL;
}

void mcm_fixture_cleanup(mcm_fixture *f)
{
    atomic_store(&f->release, 1);
    mcm_fixture_stop(f);
    mcm_test_rmtree(f->dir);
    free(f->dir);
    f->dir = NULL;
}

void mcm_fixture_scu_options(const mcm_fixture *f, mcm_scu_options *opts)
{
    ck_assert_int_eq(mcm_scu_options_init(opts, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    opts->peer_host = "127.0.0.1";
    opts->peer_port = f->port;
    opts->calling_ae_title = "TESTSCU";
    opts->called_ae_title = "MCMSCP";
}

mcm_scu *mcm_fixture_connect(const mcm_fixture *f, const char *const *store_files, size_t store_file_count)
{
    mcm_scu_options opts;
    mcm_fixture_scu_options(f, &opts);
    opts.store_files = store_files;
    opts.store_file_count = store_file_count;
    mcm_scu *scu = NULL;
    int rc = mcm_scu_connect(&scu, &opts);
    ck_assert_msg(rc == MCM_OK, "mcm_scu_connect: %s: %s", mcm_strerror(rc), mcm_last_error());
    return scu;
}

void mcm_fixture_make_images(mcm_fixture *f, size_t count, char (*paths)[4096], char (*uids)[65])
{
    for (size_t i = 0; i < count; i++) {
        snprintf(paths[i], 4096, "%s/image%zu.dcm", f->dir, i);
        mcm_test_instance spec;
        memset(&spec, 0, sizeof spec);
        spec.instance_number = (int)i + 1;
        ck_assert_int_eq(mcm_test_write_dicom(paths[i], &spec, uids[i]), 0);
    }
}

mcm_request *mcm_fixture_request(char (*uids)[65], size_t count)
{
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (size_t i = 0; i < count; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, uids[i], NULL), MCM_OK);
    return request;
}

mcm_job_state mcm_fixture_state(mcm_fixture *f, const char *uid)
{
    mcm_job *job = NULL;
    int rc = mcm_scp_get_job(f->scp, uid, &job);
    if (rc == MCM_ENOTFOUND)
        return MCM_JOB_DELETED;
    ck_assert_msg(rc == MCM_OK, "mcm_scp_get_job: %s", mcm_last_error());
    mcm_job_state state = mcm_job_state_of(job);
    mcm_job_free(job);
    return state;
}

int mcm_fixture_wait_state(mcm_fixture *f, const char *uid, mcm_job_state state)
{
    for (int i = 0; i < 12000; i++) {
        if (mcm_fixture_state(f, uid) == state)
            return 1;
        sleep_ms(5);
    }
    return 0;
}

int mcm_fixture_wait_holding(mcm_fixture *f, int n)
{
    for (int i = 0; i < 12000; i++) {
        if (atomic_load(&f->holding) >= n)
            return 1;
        sleep_ms(5);
    }
    return 0;
}
