/*
 * tests/support/service_fixture.c: a service on a real job store in a scratch directory, real DICOM
 * instances fed through store_begin/store_finish, and a configurable media writer that writes real
 * files. Shared by suite_service.c and suite_worker.c.
 */
#include "service_fixture.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Generous: valgrind and loaded machines are slow; a test only waits this long when it fails. */
#define WAIT_DEADLINE_MS 60000.0

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0)
        rc = -1;
    if (fsync(out) != 0)
        rc = -1;
    close(in);
    close(out);
    return rc;
}

/* Write every instance into output_dir/<job uid>/IMGnnnn and report one volume. */
static int write_volume(mcm_fx_writer *w, const mcm_job *job, const mcm_instance *instances, size_t count,
                        mcm_media_context *ctx)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", w->output_dir, mcm_job_uid(job));
    if (mkdir(dir, 0700) != 0)
        return mcm_media_fail(ctx, "PROC_FAILURE", "cannot create the output directory"), 1;
    for (size_t i = 0; i < count; i++) {
        if (mcm_media_should_stop(ctx))
            return 1;
        char path[4300];
        snprintf(path, sizeof path, "%s/IMG%04zu", dir, i);
        if (copy_file(instances[i].path, path) != 0)
            return mcm_media_fail(ctx, "PROC_FAILURE", "cannot copy an instance"), 1;
    }
    char fileset_uid[MCM_UID_MAX + 1];
    mcm_uid_generate(fileset_uid);
    mcm_media_progress(ctx, 1, 1);
    return mcm_media_add_volume(ctx, "VOL1", fileset_uid) == MCM_OK ? 0 : 1;
}

static int fixture_writer(const mcm_job *job, const mcm_instance *instances, size_t count, mcm_media_context *ctx,
                          void *user)
{
    mcm_fx_writer *w = user;
    pthread_mutex_lock(&w->lock);
    unsigned call = ++w->calls;
    w->state_seen = mcm_job_state_of(job);
    if (w->order_count < sizeof w->order / sizeof w->order[0])
        snprintf(w->order[w->order_count++], sizeof w->order[0], "%s", mcm_job_uid(job));
    w->instance_count = count;
    for (size_t i = 0; i < count && i < 8; i++) {
        snprintf(w->profiles[i], sizeof w->profiles[i], "%s", instances[i].profile);
        snprintf(w->classes[i], sizeof w->classes[i], "%s", instances[i].sop_class_uid);
        snprintf(w->paths[i], sizeof w->paths[i], "%s", instances[i].path);
        w->sizes[i] = instances[i].size;
    }
    mcm_fx_mode mode = w->mode;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);

    int rc = 0;
    switch (mode) {
    case MCM_FX_COMPLETE: rc = write_volume(w, job, instances, count, ctx); break;
    case MCM_FX_FAIL: {
        const uint32_t patient_id = MCM_TAG(0x0010, 0x0020);
        mcm_media_fail_instance(ctx, 0, MCM_FAILURE_MISSING_ATTRIBUTE, &patient_id, 1);
        mcm_media_fail(ctx, "DIR_PROC_ERR", "Patient ID missing");
        rc = 0;
        break;
    }
    case MCM_FX_FAIL_RETURN: rc = -1; break;
    case MCM_FX_DEFER_THEN_COMPLETE:
        if (call == 1)
            rc = mcm_media_defer(ctx, "OUT_OF_SUPPLIES", w->defer_seconds);
        else
            rc = write_volume(w, job, instances, count, ctx);
        break;
    case MCM_FX_HOLD: {
        mcm_media_set_interruptible(ctx, w->interruptible);
        pthread_mutex_lock(&w->lock);
        w->holding = 1;
        pthread_cond_broadcast(&w->cond);
        while (!w->release && !mcm_media_should_stop(ctx)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 2000000; /* poll the context's flags every 2 ms */
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cond, &w->lock, &until);
        }
        int released = w->release;
        w->holding = 0;
        if (mcm_media_should_stop(ctx))
            w->saw_stop = 1;
        pthread_mutex_unlock(&w->lock);
        rc = released ? write_volume(w, job, instances, count, ctx) : w->hold_returns;
        break;
    }
    case MCM_FX_GATED: {
        pthread_mutex_lock(&w->lock);
        while (w->release_upto < call && !w->abandon)
            pthread_cond_wait(&w->cond, &w->lock);
        int abandoned = w->release_upto < call;
        pthread_mutex_unlock(&w->lock);
        if (abandoned) {
            rc = w->hold_returns;
            break;
        }
        /* From here the media are committed, unless a Cancel already took the job. */
        mcm_media_set_interruptible(ctx, 0);
        if (mcm_media_should_stop(ctx)) {
            mcm_media_set_interruptible(ctx, 1);
            pthread_mutex_lock(&w->lock);
            w->saw_stop = 1;
            pthread_mutex_unlock(&w->lock);
            rc = w->hold_returns;
            break;
        }
        rc = write_volume(w, job, instances, count, ctx);
        break;
    }
    case MCM_FX_FAIL_INSTANCE_ONLY:
        mcm_media_fail_instance(ctx, 0, MCM_FAILURE_INSTANCE_SIZE_EXCEEDED, NULL, 0);
        rc = 0;
        break;
    }

    pthread_mutex_lock(&w->lock);
    w->returns++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

void mcm_fx_setup(mcm_fx *fx)
{
    memset(fx, 0, sizeof *fx);
    fx->dir = mcm_test_tempdir();
    snprintf(fx->storage_dir, sizeof fx->storage_dir, "%s/instances", fx->dir);
    snprintf(fx->database_path, sizeof fx->database_path, "%s/jobs.sqlite", fx->dir);
    snprintf(fx->output_dir, sizeof fx->output_dir, "%s/media", fx->dir);
    ck_assert_int_eq(mkdir(fx->output_dir, 0700), 0);
    pthread_mutex_init(&fx->writer.lock, NULL);
    pthread_cond_init(&fx->writer.cond, NULL);
    fx->writer.interruptible = 1;
    fx->writer.hold_returns = -1;
    fx->writer.defer_seconds = 1;
    snprintf(fx->writer.output_dir, sizeof fx->writer.output_dir, "%s", fx->output_dir);
    ck_assert_int_eq(mcm_scp_options_init(&fx->opts, MCM_SCP_OPTIONS_VERSION), MCM_OK);
    fx->opts.storage_dir = fx->storage_dir;
    fx->opts.database_path = fx->database_path;
    fx->opts.write_media = fixture_writer;
    fx->opts.user = &fx->writer;
}

void mcm_fx_open(mcm_fx *fx)
{
    int rc = mcm_service_open(&fx->service, &fx->opts);
    ck_assert_msg(rc == MCM_OK, "mcm_service_open: %s", mcm_last_error());
}

void mcm_fx_reopen(mcm_fx *fx)
{
    mcm_service_close(fx->service);
    fx->service = NULL;
    mcm_fx_open(fx);
}

void mcm_fx_teardown(mcm_fx *fx)
{
    pthread_mutex_lock(&fx->writer.lock);
    fx->writer.abandon = 1; /* MCM_FX_GATED writers do not hear the stop */
    pthread_cond_broadcast(&fx->writer.cond);
    pthread_mutex_unlock(&fx->writer.lock);
    mcm_service_close(fx->service);
    fx->service = NULL;
    pthread_cond_destroy(&fx->writer.cond);
    pthread_mutex_destroy(&fx->writer.lock);
    mcm_test_rmtree(fx->dir);
    free(fx->dir);
    fx->dir = NULL;
}

void mcm_fx_store(mcm_fx *fx, const char *sop_class, char uid_out[MCM_UID_MAX + 1])
{
    char uid[MCM_UID_MAX + 1];
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    char tmp_path[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_store_begin(fx->service, "STORESCU", sop_class, uid, tmp_path, &rsp), MCM_OK);
    ck_assert_int_eq(rsp.status, 0x0000);
    mcm_test_instance spec;
    memset(&spec, 0, sizeof spec);
    spec.sop_class_uid = sop_class;
    spec.sop_instance_uid = uid;
    ck_assert_int_eq(mcm_test_write_dicom(tmp_path, &spec, NULL), 0);
    ck_assert_int_eq(mcm_service_store_finish(fx->service, tmp_path, sop_class, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_OK);
    ck_assert_msg(rsp.status == 0x0000, "store_finish: 0x%04X %s", rsp.status, rsp.error_comment);
    memcpy(uid_out, uid, sizeof uid);
}

mcm_request *mcm_fx_request(size_t n, const char *const *classes, const char *const *uids, const char *const *profiles)
{
    mcm_request *request;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, classes[i], uids[i], profiles != NULL ? profiles[i] : NULL),
                         MCM_OK);
    return request;
}

mcm_request *mcm_fx_request_one(mcm_fx *fx)
{
    char uid[MCM_UID_MAX + 1];
    mcm_fx_store(fx, MCM_TEST_CT_IMAGE, uid);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {uid};
    return mcm_fx_request(1, classes, uids, NULL);
}

void mcm_fx_create(mcm_fx *fx, mcm_request *request, char uid[MCM_UID_MAX + 1])
{
    mcm_response rsp;
    mcm_job *created = NULL;
    ck_assert_int_eq(mcm_service_create(fx->service, "SCU", request, NULL, uid, &created, &rsp), MCM_OK);
    ck_assert_msg(rsp.status == 0x0000, "N-CREATE: 0x%04X %s", rsp.status, rsp.error_comment);
    ck_assert_ptr_nonnull(created);
    mcm_job_free(created);
}

uint16_t mcm_fx_initiate(mcm_fx *fx, const char *uid, int copies, const char *priority)
{
    mcm_request *info = NULL;
    if (copies != 0 || priority != NULL) {
        ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
        if (copies != 0)
            ck_assert_int_eq(mcm_request_set_copies(info, copies), MCM_OK);
        if (priority != NULL)
            ck_assert_int_eq(mcm_request_set_attribute(info, MCM_TAG_REQUEST_PRIORITY, priority), MCM_OK);
    }
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx->service, "SCU", uid, 1, info, &rsp), MCM_OK);
    return rsp.status;
}

uint16_t mcm_fx_cancel(mcm_fx *fx, const char *uid, mcm_response *rsp)
{
    mcm_response local;
    mcm_response *r = rsp != NULL ? rsp : &local;
    ck_assert_int_eq(mcm_service_action(fx->service, "SCU", uid, 2, NULL, r), MCM_OK);
    return r->status;
}

mcm_job_state mcm_fx_state(mcm_fx *fx, const char *uid, char *info)
{
    mcm_job *job = NULL;
    if (info != NULL)
        info[0] = '\0';
    int rc = mcm_service_job(fx->service, uid, &job);
    if (rc == MCM_ENOTFOUND)
        return MCM_JOB_ABSENT;
    ck_assert_msg(rc == MCM_OK, "mcm_service_job: %s", mcm_last_error());
    mcm_job_state state = mcm_job_state_of(job);
    if (info != NULL && mcm_job_status_info(job) != NULL)
        snprintf(info, 65, "%s", mcm_job_status_info(job));
    mcm_job_free(job);
    return state;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int mcm_fx_wait_state(mcm_fx *fx, const char *uid, mcm_job_state state, const char *info)
{
    double until = mcm_test_now_ms() + WAIT_DEADLINE_MS;
    char current[65];
    do {
        if (mcm_fx_state(fx, uid, current) == state && (info == NULL || strcmp(current, info) == 0))
            return 1;
        sleep_ms(5);
    } while (mcm_test_now_ms() < until);
    return 0;
}

static int wait_writer(mcm_fx *fx, int (*reached)(const mcm_fx_writer *, unsigned), unsigned n)
{
    mcm_fx_writer *w = &fx->writer;
    double until = mcm_test_now_ms() + WAIT_DEADLINE_MS;
    pthread_mutex_lock(&w->lock);
    while (!reached(w, n) && mcm_test_now_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    }
    int ok = reached(w, n);
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static int calls_reached(const mcm_fx_writer *w, unsigned n)
{
    return w->calls >= n;
}

static int returns_reached(const mcm_fx_writer *w, unsigned n)
{
    return w->returns >= n;
}

static int holding_reached(const mcm_fx_writer *w, unsigned n)
{
    (void)n;
    return w->holding;
}

int mcm_fx_wait_calls(mcm_fx *fx, unsigned calls)
{
    return wait_writer(fx, calls_reached, calls);
}

int mcm_fx_wait_returns(mcm_fx *fx, unsigned returns)
{
    return wait_writer(fx, returns_reached, returns);
}

int mcm_fx_wait_holding(mcm_fx *fx)
{
    return wait_writer(fx, holding_reached, 0);
}

void mcm_fx_release(mcm_fx *fx)
{
    pthread_mutex_lock(&fx->writer.lock);
    fx->writer.release = 1;
    pthread_cond_broadcast(&fx->writer.cond);
    pthread_mutex_unlock(&fx->writer.lock);
}

void mcm_fx_release_upto(mcm_fx *fx, unsigned call)
{
    pthread_mutex_lock(&fx->writer.lock);
    fx->writer.release_upto = call;
    pthread_cond_broadcast(&fx->writer.cond);
    pthread_mutex_unlock(&fx->writer.lock);
}

int mcm_fx_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}
