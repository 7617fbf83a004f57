/*
 * tests/tools/suite_scp_tools.c: the SCP with programs that are not ours, and mcmscp as a process.
 * DCMTK's echoscu and storescu (separate processes) against our SCP, dcmdump on what we stored;
 * the mcmscp tool run as a separate process: the whole workflow with our SCU, SIGTERM, and the
 * crash test of issue 3 (SIGKILL right after an acknowledged N-CREATE or Initiate, a new mcmscp on
 * the same database: nothing lost).
 */
#include "rawpeer.h"
#include "scp_fixture.h"
#include "testutil.h"

#include <check.h>
#include <dcmmcm.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- DCMTK's tools against the SCP ------------------------------------------------------------ */

START_TEST(test_echoscu)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_fixture_start_default(&f);
    /* echoscu proposes implicit VR little endian alone unless told otherwise. */
    ck_assert_int_eq(mcm_test_system("echoscu -aet ECHOSCU -aec MCMSCP 127.0.0.1 %u 2>&1", (unsigned)f.port), 0);
    /* Three transfer syntaxes, three echoes on one association, then an A-ABORT. */
    ck_assert_int_eq(mcm_test_system("echoscu --propose-ts 3 --repeat 3 -aet ECHOSCU -aec MCMSCP 127.0.0.1 %u 2>&1",
                                     (unsigned)f.port),
                     0);
    ck_assert_int_eq(mcm_test_system("echoscu --abort -aet ECHOSCU -aec MCMSCP 127.0.0.1 %u 2>&1", (unsigned)f.port),
                     0);
    ck_assert_int_eq(mcm_test_system("echoscu -aet ECHOSCU -aec MCMSCP 127.0.0.1 %u 2>&1", (unsigned)f.port), 0);
    /* Addressed to another AE title: rejected, echoscu fails. */
    ck_assert_int_ne(
        mcm_test_system("echoscu -aet ECHOSCU -aec SOMEONE 127.0.0.1 %u >/dev/null 2>&1", (unsigned)f.port), 0);
    mcm_fixture_cleanup(&f);
}
END_TEST

START_TEST(test_storescu_then_dcmdump)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_fixture_start_default(&f);
    char paths[3][4096], uids[3][65];
    mcm_fixture_make_images(&f, 3, paths, uids);
    ck_assert_int_eq(mcm_test_system("storescu -aet STORESCU -aec MCMSCP 127.0.0.1 %u '%s' '%s' 2>&1", (unsigned)f.port,
                                     paths[0], paths[1]),
                     0);
    /* A peer that proposes implicit VR only: storescu converts. */
    ck_assert_int_eq(
        mcm_test_system("storescu -xi -aet STORESCU -aec MCMSCP 127.0.0.1 %u '%s' 2>&1", (unsigned)f.port, paths[2]),
        0);
    /* dcmdump reads every instance we stored, and finds its UID in it. */
    char *listing = mcm_test_capture("find '%s' -type f -name '*.dcm' | sort", f.storage);
    ck_assert_ptr_nonnull(listing);
    int files = 0;
    for (char *line = strtok(listing, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *dump = mcm_test_capture("dcmdump -q '%s' 2>&1 && echo DCMDUMP-OK", line);
        ck_assert_ptr_nonnull(dump);
        ck_assert_msg(strstr(dump, "DCMDUMP-OK") != NULL, "dcmdump %s: %s", line, dump);
        int matched = 0;
        for (int i = 0; i < 3; i++)
            matched += strstr(dump, uids[i]) != NULL;
        ck_assert_msg(matched == 1, "%s holds none of our instances", line);
        ck_assert_ptr_nonnull(strstr(dump, "(0002,0010)")); /* a Part 10 file: meta header */
        free(dump);
        files++;
    }
    free(listing);
    ck_assert_int_eq(files, 3);
    /* And the SCP can make media from what storescu sent. */
    mcm_scu *scu = mcm_fixture_connect(&f, NULL, 0);
    mcm_request *request = mcm_fixture_request(uids, 3);
    char uid[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0);
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 1, MCM_PRIORITY_UNSET, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    ck_assert_int_eq(mcm_fixture_wait_state(&f, uid, MCM_JOB_DONE), 1);
    mcm_scu_release(scu);
    mcm_scu_free(scu);
    mcm_fixture_cleanup(&f);
}
END_TEST

/* ---- mcmscp as a separate process ------------------------------------------------------------- */

typedef struct tool {
    char *dir;
    char storage[4096], output[4096], database[4096], log[4096];
    uint16_t port;
    pid_t pid;
} tool;

static void tool_init(tool *t)
{
    memset(t, 0, sizeof *t);
    t->dir = mcm_test_tempdir();
    snprintf(t->storage, sizeof t->storage, "%s/storage", t->dir);
    snprintf(t->output, sizeof t->output, "%s/output", t->dir);
    snprintf(t->database, sizeof t->database, "%s/jobs.db", t->dir);
    snprintf(t->log, sizeof t->log, "%s/mcmscp.log", t->dir);
    t->pid = -1;
}

static int scu_connect(uint16_t port, mcm_scu **out)
{
    mcm_scu_options opts;
    ck_assert_int_eq(mcm_scu_options_init(&opts, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    opts.peer_host = "127.0.0.1";
    opts.peer_port = port;
    opts.acse_timeout_seconds = 5;
    return mcm_scu_connect(out, &opts);
}

/* Start mcmscp on a free port and wait until it answers C-ECHO. */
static void tool_start(tool *t)
{
    t->port = mcm_test_free_port();
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)t->port);
    const char *binary = mcm_test_build_path("mcmscp");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1); /* the "listening on" line too */
            dup2(fd, 2);
            close(fd);
        }
        execl(binary, "mcmscp", "-aet", "MCMSCP", "--storage", t->storage, "--output", t->output, "--db", t->database,
              "--bind", "127.0.0.1", port, (char *)NULL);
        _exit(127);
    }
    t->pid = pid;
    for (int i = 0; i < 3000; i++) {
        mcm_scu *scu = NULL;
        if (scu_connect(t->port, &scu) == MCM_OK) {
            mcm_response rsp;
            int ok = mcm_scu_echo(scu, &rsp) == MCM_OK && rsp.status == 0;
            mcm_scu_release(scu);
            mcm_scu_free(scu);
            if (ok)
                return;
        }
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "mcmscp exited early (see %s)", t->log);
        sleep_ms(10);
    }
    ck_abort_msg("mcmscp did not answer on port %u", (unsigned)t->port);
}

/* Send sig and reap the process; returns its wait status. */
static int tool_signal(tool *t, int sig)
{
    ck_assert_int_gt(t->pid, 0);
    ck_assert_int_eq(kill(t->pid, sig), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(t->pid, &status, 0), t->pid);
    t->pid = -1;
    return status;
}

static void tool_cleanup(tool *t)
{
    if (t->pid > 0)
        tool_signal(t, SIGKILL);
    mcm_test_rmtree(t->dir);
    free(t->dir);
}

static void make_images(tool *t, char (*paths)[4096], char (*uids)[65], size_t count)
{
    for (size_t i = 0; i < count; i++) {
        snprintf(paths[i], 4096, "%s/image%zu.dcm", t->dir, i);
        mcm_test_instance spec;
        memset(&spec, 0, sizeof spec);
        spec.instance_number = (int)i + 1;
        ck_assert_int_eq(mcm_test_write_dicom(paths[i], &spec, uids[i]), 0);
    }
}

/* Store the images and N-CREATE a job over them (the reply received). */
static mcm_scu *store_and_create(tool *t, char (*paths)[4096], char (*uids)[65], size_t count, char uid[65])
{
    mcm_scu_options opts;
    ck_assert_int_eq(mcm_scu_options_init(&opts, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    opts.peer_host = "127.0.0.1";
    opts.peer_port = t->port;
    const char *files[8];
    for (size_t i = 0; i < count; i++)
        files[i] = paths[i];
    opts.store_files = files;
    opts.store_file_count = count;
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &opts), MCM_OK);
    mcm_response rsp;
    for (size_t i = 0; i < count; i++) {
        ck_assert_int_eq(mcm_scu_store_file(scu, paths[i], &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0);
    }
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (size_t i = 0; i < count; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, uids[i], NULL), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "CRASHTEST"), MCM_OK);
    ck_assert_int_eq(mcm_scu_create(scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0);
    return scu;
}

static mcm_job *wait_done(mcm_scu *scu, const char *uid)
{
    mcm_wait_options wo = MCM_WAIT_OPTIONS_INIT;
    wo.initial_interval_ms = 10;
    wo.max_interval_ms = 200;
    wo.timeout_ms = 60000;
    mcm_job *job = NULL;
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_wait(scu, uid, &wo, &job, &rsp), MCM_OK);
    ck_assert_msg(job != NULL, "N-GET status 0x%04X", rsp.status);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    return job;
}

/* mcmscp's media writer made an image for the job, and its summary names every instance. */
static void check_output(tool *t, const char *uid, char (*uids)[65], size_t count)
{
    char path[8400];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/VOL001.iso", t->output, uid);
    ck_assert_msg(stat(path, &st) == 0 && st.st_size > 32768, "%s missing", path);
    char *summary = mcm_test_capture("cat '%s/%s/JOB.json'", t->output, uid);
    ck_assert_ptr_nonnull(summary);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(strstr(summary, uids[i]) != NULL, "JOB.json of %s lacks instance %s", uid, uids[i]);
    free(summary);
}

START_TEST(test_mcmscp_options)
{
    const char *binary = mcm_test_build_path("mcmscp");
    char *help = mcm_test_capture("'%s' --help", binary);
    ck_assert_ptr_nonnull(help);
    ck_assert_ptr_nonnull(strstr(help, "--storage"));
    free(help);
    char *version = mcm_test_capture("'%s' --version", binary);
    ck_assert_ptr_nonnull(version);
    ck_assert_ptr_nonnull(strstr(version, mcm_version()));
    free(version);
    /* Bad usage is 64, as for mcmscu (suite_tools covers the other exit codes). */
    ck_assert_int_eq(mcm_test_system("'%s' --storage /tmp >/dev/null 2>&1", binary), 64); /* missing options */
    ck_assert_int_eq(mcm_test_system("'%s' --no-such-option >/dev/null 2>&1", binary), 64);
}
END_TEST

START_TEST(test_mcmscp_workflow)
{
    tool t;
    tool_init(&t);
    tool_start(&t);
    char paths[3][4096], uids[3][65], uid[65];
    make_images(&t, paths, uids, 3);
    mcm_scu *scu = store_and_create(&t, paths, uids, 3, uid);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 2, MCM_PRIORITY_HIGH, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    mcm_job *job = wait_done(scu, uid);
    ck_assert_uint_eq(mcm_job_pieces(job), 2);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(job, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "CRASHTEST");
    ck_assert_int_eq(mcm_uid_is_valid(media.fileset_uid), 1);
    mcm_job_free(job);
    check_output(&t, uid, uids, 3);
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    /* SIGTERM: a clean stop, exit status 0, one log line per request. */
    int status = tool_signal(&t, SIGTERM);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mcmscp exit status %d", status);
    char *log = mcm_test_capture("cat '%s'", t.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "N-CREATE"));
    ck_assert_ptr_nonnull(strstr(log, "N-ACTION Initiate"));
    ck_assert_ptr_nonnull(strstr(log, "N-GET"));
    ck_assert_ptr_nonnull(strstr(log, "C-STORE"));
    free(log);
    tool_cleanup(&t);
}
END_TEST

START_TEST(test_mcmscp_crash_after_create)
{
    tool t;
    tool_init(&t);
    tool_start(&t);
    char paths[3][4096], uids[3][65], uid[65];
    make_images(&t, paths, uids, 3);
    mcm_scu *scu = store_and_create(&t, paths, uids, 3, uid);
    /* The reply is in: kill the SCP without warning. */
    int status = tool_signal(&t, SIGKILL);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    mcm_scu_free(scu);

    tool_start(&t);
    ck_assert_int_eq(scu_connect(t.port, &scu), MCM_OK);
    mcm_response rsp;
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(scu, uid, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(job)), 3);
    ck_assert_str_eq(mcm_request_attribute(mcm_job_request(job), MCM_TAG_STORAGE_MEDIA_FILESET_ID), "CRASHTEST");
    mcm_job_free(job);
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 1, MCM_PRIORITY_UNSET, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    job = wait_done(scu, uid);
    mcm_job_free(job);
    check_output(&t, uid, uids, 3); /* the instances stored before the crash were kept too */
    mcm_scu_release(scu);
    mcm_scu_free(scu);
    tool_cleanup(&t);
}
END_TEST

START_TEST(test_mcmscp_crash_after_initiate)
{
    tool t;
    tool_init(&t);
    tool_start(&t);
    char paths[3][4096], uids[3][65], uid[65];
    make_images(&t, paths, uids, 3);
    mcm_scu *scu = store_and_create(&t, paths, uids, 3, uid);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 2, MCM_PRIORITY_LOW, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    int status = tool_signal(&t, SIGKILL);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    mcm_scu_free(scu);

    tool_start(&t);
    ck_assert_int_eq(scu_connect(t.port, &scu), MCM_OK);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(scu, uid, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    /* The Initiate was acknowledged, so it is remembered: never IDLE again. */
    mcm_job_state state = mcm_job_state_of(job);
    ck_assert_msg(state == MCM_JOB_PENDING || state == MCM_JOB_CREATING || state == MCM_JOB_DONE, "state %s",
                  mcm_job_state_name(state));
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 2);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_LOW);
    mcm_job_free(job);
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 1, MCM_PRIORITY_UNSET, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xA510);
    job = wait_done(scu, uid);
    ck_assert_uint_eq(mcm_job_pieces(job), 2);
    mcm_job_free(job);
    check_output(&t, uid, uids, 3);
    mcm_scu_release(scu);
    mcm_scu_free(scu);
    tool_cleanup(&t);
}
END_TEST

/* A minimal third-party peer against the tool: implicit VR only, N-CREATE with nothing but the
 * Referenced SOP Sequence, Initiate without a data set, N-GET without an attribute list. */
START_TEST(test_mcmscp_minimal_peer)
{
    tool t;
    tool_init(&t);
    tool_start(&t);
    char paths[1][4096], uids[1][65];
    make_images(&t, paths, uids, 1);
    mcm_rawpeer_options po = {t.port, "OTHERVENDOR", "MCMSCP", 1, MCM_TEST_CT_IMAGE, NULL};
    mcm_rawpeer *peer = NULL;
    char error[256] = "";
    ck_assert_msg(mcm_rawpeer_connect(&peer, &po, NULL, error) == 0, "%s", error);
    ck_assert_str_eq(mcm_rawpeer_mcm_syntax(peer), MCM_TEST_IMPLICIT_LE);
    mcm_rawpeer_reply reply;
    ck_assert_int_eq(mcm_rawpeer_store(peer, paths[0], &reply), 0);
    ck_assert_uint_eq(reply.status, 0);
    ck_assert_int_eq(mcm_rawpeer_create_minimal(peer, MCM_TEST_CT_IMAGE, uids[0], &reply), 0);
    ck_assert_uint_eq(reply.status, 0);
    char uid[65];
    snprintf(uid, sizeof uid, "%s", reply.affected_sop_instance_uid);
    ck_assert_int_eq(mcm_rawpeer_action(peer, uid, 1, &reply), 0);
    ck_assert_uint_eq(reply.status, 0);
    int done = 0;
    for (int i = 0; i < 3000 && !done; i++) {
        ck_assert_int_eq(mcm_rawpeer_get_all(peer, uid, &reply), 0);
        ck_assert_uint_eq(reply.status, 0);
        done = strcmp(reply.execution_status, "DONE") == 0;
        if (!done)
            sleep_ms(20);
    }
    ck_assert_int_eq(done, 1);
    check_output(&t, uid, uids, 1);
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    tool_cleanup(&t);
}
END_TEST

Suite *mcm_suite_scp_tools(void)
{
    Suite *s = suite_create("scp_tools");
    TCase *dcmtk = tcase_create("DCMTK tools");
    tcase_set_timeout(dcmtk, 120);
    tcase_add_test(dcmtk, test_echoscu);
    tcase_add_test(dcmtk, test_storescu_then_dcmdump);
    suite_add_tcase(s, dcmtk);
    TCase *tool_case = tcase_create("mcmscp");
    tcase_set_timeout(tool_case, 180);
    tcase_add_test(tool_case, test_mcmscp_options);
    tcase_add_test(tool_case, test_mcmscp_workflow);
    tcase_add_test(tool_case, test_mcmscp_minimal_peer);
    tcase_add_test(tool_case, test_mcmscp_crash_after_create);
    tcase_add_test(tool_case, test_mcmscp_crash_after_initiate);
    suite_add_tcase(s, tool_case);
    return s;
}
