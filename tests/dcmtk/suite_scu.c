/*
 * tests/dcmtk/suite_scu.c: the SCU (include/dcmmcm/scu.h) over real associations on 127.0.0.1:
 * C-ECHO and C-STORE against DCMTK's storescp run as a process (dcmdump then reads what it
 * stored); N-CREATE, N-ACTION and N-GET against the scripted DCMTK peer of tests/support/testpeer.cc,
 * which shows every reply field and category decoding; association rejection, refused
 * connections, aborts and timeouts; mcm_scu_wait's backoff, timeout and 0112 handling.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dcmmcm.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "testpeer.h"
#include "testutil.h"

/* ---- helpers ---- */

/* Lines the SCU's log callback received. */
typedef struct log_capture {
    int lines[5];
    char text[8192];
} log_capture;

static void capture_log(mcm_log_level level, const char *message, void *user)
{
    log_capture *c = user;
    if ((int)level >= 0 && (int)level < 5)
        c->lines[level]++;
    size_t used = strlen(c->text);
    snprintf(c->text + used, sizeof c->text - used, "%d %s\n", (int)level, message);
}

static mcm_scu_options options_for(uint16_t port)
{
    mcm_scu_options o;
    ck_assert_int_eq(mcm_scu_options_init(&o, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    o.peer_host = "127.0.0.1";
    o.peer_port = port;
    o.acse_timeout_seconds = 10;
    o.dimse_timeout_seconds = 20;
    return o;
}

static int wait_listening(uint16_t port, double timeout_ms)
{
    double end = mcm_test_now_ms() + timeout_ms;
    while (mcm_test_now_ms() < end) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        int ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
        close(fd);
        if (ok)
            return 1;
        usleep(20000);
    }
    return 0;
}

/* DCMTK's storescp as a child process on a free port, storing into its own directory. It dies
 * with the test process (PR_SET_PDEATHSIG) even when a failing assertion ends the test early. */
typedef struct storescp {
    pid_t pid;
    uint16_t port;
    char *dir;
} storescp;

static void storescp_start(storescp *s, const char *const *extra)
{
    s->dir = mcm_test_tempdir();
    s->port = mcm_test_free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%u", (unsigned)s->port);
    const char *argv[24];
    size_t n = 0;
    argv[n++] = "storescp";
    argv[n++] = "-od";
    argv[n++] = s->dir;
    argv[n++] = "-aet";
    argv[n++] = "STORESCP";
    for (; extra != NULL && *extra != NULL && n < 20; extra++)
        argv[n++] = *extra;
    argv[n++] = port_text;
    argv[n] = NULL;
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execvp("storescp", (char *const *)argv);
        _exit(127);
    }
    ck_assert_msg(wait_listening(s->port, 10000), "storescp did not start listening on %u", (unsigned)s->port);
}

static void storescp_stop(storescp *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    mcm_test_rmtree(s->dir);
    free(s->dir);
}

/* A CT image written into dir; path returned (static buffer per call site is the caller's). */
static void write_ct(const char *dir, const char *name, const char *syntax, char *path, size_t size, char uid[65])
{
    snprintf(path, size, "%s/%s", dir, name);
    mcm_test_instance spec;
    memset(&spec, 0, sizeof spec);
    spec.transfer_syntax_uid = syntax;
    spec.patient_name = "Store^Test";
    ck_assert_int_eq(mcm_test_write_dicom(path, &spec, uid), 0);
}

/* ---- storescp: C-ECHO and C-STORE ---- */

START_TEST(echo_storescp)
{
    storescp s;
    storescp_start(&s, NULL);
    mcm_scu_options o = options_for(s.port);
    o.called_ae_title = "STORESCP";
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    for (int i = 0; i < 3; i++) {
        memset(&r, 0xAB, sizeof r);
        ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
        ck_assert_uint_eq(r.status, 0);
        ck_assert_int_eq(r.category, MCM_CATEGORY_SUCCESS);
        ck_assert_str_eq(r.error_comment, "");
    }
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    storescp_stop(&s);
}
END_TEST

START_TEST(store_then_dcmdump)
{
    storescp s;
    storescp_start(&s, NULL);
    char *work = mcm_test_tempdir(), path[4096], uid[65];
    write_ct(work, "ct.dcm", NULL, path, sizeof path, uid);
    const char *files[] = {path};
    mcm_scu_options o = options_for(s.port);
    o.store_files = files;
    o.store_file_count = 1;
    log_capture logs;
    memset(&logs, 0, sizeof logs);
    o.log = capture_log;
    o.log_user = &logs;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_msg(mcm_scu_store_file(scu, path, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_uint_eq(r.status, 0);
    ck_assert_int_eq(r.category, MCM_CATEGORY_SUCCESS);
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    /* One INFO line per request and reply (plus association lines), nothing at DEBUG. */
    ck_assert_ptr_nonnull(strstr(logs.text, "C-STORE-RQ (message 1)"));
    ck_assert_ptr_nonnull(strstr(logs.text, "C-STORE-RSP (message 1): 0x0000"));
    ck_assert_int_eq(logs.lines[MCM_LOG_DEBUG], 0);
    ck_assert_int_ge(logs.lines[MCM_LOG_INFO], 4);

    char *dump = mcm_test_capture("dcmdump -q +P 0008,0018 +P 0010,0010 +P 0002,0010 '%s'/* 2>&1", s.dir);
    ck_assert_ptr_nonnull(dump);
    ck_assert_msg(strstr(dump, uid) != NULL, "stored file lacks %s:\n%s", uid, dump);
    ck_assert_ptr_nonnull(strstr(dump, "Store^Test"));
    ck_assert_ptr_nonnull(strstr(dump, "=LittleEndianExplicit"));
    free(dump);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

/* An uncompressed file goes out converted when the peer accepts only another uncompressed syntax. */
START_TEST(store_converts_uncompressed)
{
    const char *implicit_only[] = {"+xi", NULL};
    storescp s;
    storescp_start(&s, implicit_only);
    char *work = mcm_test_tempdir(), path[4096], uid[65];
    write_ct(work, "ct.dcm", MCM_TEST_EXPLICIT_LE, path, sizeof path, uid);
    mcm_scu_options o = options_for(s.port);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    o.store_sop_classes = classes;
    o.store_sop_class_count = 1;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_msg(mcm_scu_store_file(scu, path, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_uint_eq(r.status, 0);
    mcm_scu_free(scu);
    char *dump = mcm_test_capture("dcmdump -q +P 0008,0018 +P 0002,0010 '%s'/* 2>&1", s.dir);
    ck_assert_ptr_nonnull(dump);
    ck_assert_msg(strstr(dump, uid) != NULL && strstr(dump, "=LittleEndianImplicit") != NULL, "%s", dump);
    free(dump);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

/* A compressed file needs a context in its own syntax: refused by a default storescp
 * (MCM_ENOCONTEXT with a message), stored as is by one that accepts everything. */
START_TEST(store_compressed_needs_its_context)
{
    char *work = mcm_test_tempdir(), plain[4096], jpeg[4096], uid[65];
    write_ct(work, "ct.dcm", NULL, plain, sizeof plain, uid);
    snprintf(jpeg, sizeof jpeg, "%s/ct-jpeg.dcm", work);
    ck_assert_int_eq(mcm_test_system("dcmcjpeg '%s' '%s'", plain, jpeg), 0);
    const char *files[] = {jpeg};

    storescp s;
    storescp_start(&s, NULL);
    mcm_scu_options o = options_for(s.port);
    o.store_files = files;
    o.store_file_count = 1;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_store_file(scu, jpeg, &r), MCM_ENOCONTEXT);
    ck_assert_msg(strstr(mcm_last_error(), "JPEG") != NULL, "%s", mcm_last_error());
    /* The uncompressed original still goes through on the same association. */
    ck_assert_msg(mcm_scu_store_file(scu, plain, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_uint_eq(r.status, 0);
    mcm_scu_free(scu);
    storescp_stop(&s);

    const char *accept_all[] = {"+xa", NULL};
    storescp_start(&s, accept_all);
    o = options_for(s.port);
    o.store_files = files;
    o.store_file_count = 1;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_msg(mcm_scu_store_file(scu, jpeg, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_uint_eq(r.status, 0);
    mcm_scu_free(scu);
    char *dump = mcm_test_capture("dcmdump -q +P 0002,0010 '%s'/* 2>&1", s.dir);
    ck_assert_ptr_nonnull(dump);
    ck_assert_msg(strstr(dump, "1.2.840.10008.1.2.4.") != NULL || strstr(dump, "JPEG") != NULL, "%s", dump);
    free(dump);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

START_TEST(store_unproposed_class_and_unreadable_file)
{
    storescp s;
    storescp_start(&s, NULL);
    char *work = mcm_test_tempdir(), path[4096], junk[4096];
    snprintf(path, sizeof path, "%s/mr.dcm", work);
    mcm_test_instance spec;
    memset(&spec, 0, sizeof spec);
    spec.sop_class_uid = MCM_TEST_MR_IMAGE;
    ck_assert_int_eq(mcm_test_write_dicom(path, &spec, NULL), 0);
    snprintf(junk, sizeof junk, "%s/junk.dcm", work);
    ck_assert_int_eq(mcm_test_system("echo 'not DICOM' > '%s'", junk), 0);
    mcm_scu_options o = options_for(s.port);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    o.store_sop_classes = classes;
    o.store_sop_class_count = 1;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_store_file(scu, path, &r), MCM_ENOCONTEXT);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), MCM_TEST_MR_IMAGE));
    ck_assert_int_eq(mcm_scu_store_file(scu, junk, &r), MCM_EDICOM);
    ck_assert_int_eq(mcm_scu_store_file(scu, "/nonexistent/file.dcm", &r), MCM_EDICOM);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK); /* still usable */
    mcm_scu_free(scu);
    /* A store file that cannot be read fails the connect itself. */
    const char *files[] = {junk};
    o.store_files = files;
    o.store_file_count = 1;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EDICOM);
    ck_assert_ptr_null(scu);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

START_TEST(storescp_refuses)
{
    const char *refuse[] = {"--refuse", NULL};
    storescp s;
    storescp_start(&s, refuse);
    mcm_scu_options o = options_for(s.port);
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EREJECTED);
    ck_assert_ptr_null(scu);
    ck_assert_msg(strstr(mcm_last_error(), "rejected") != NULL, "%s", mcm_last_error());
    storescp_stop(&s);
}
END_TEST

START_TEST(storescp_aborts)
{
    const char *abort_after[] = {"--abort-after", NULL};
    storescp s;
    storescp_start(&s, abort_after);
    char *work = mcm_test_tempdir(), path[4096], uid[65];
    write_ct(work, "ct.dcm", NULL, path, sizeof path, uid);
    mcm_scu_options o = options_for(s.port);
    const char *files[] = {path};
    o.store_files = files;
    o.store_file_count = 1;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_store_file(scu, path, &r), MCM_EABORTED);
    ck_assert_msg(strstr(mcm_last_error(), "aborted") != NULL, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    ck_assert_int_eq(mcm_scu_release(scu), MCM_ESTATE);
    mcm_scu_free(scu);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

START_TEST(storescp_too_slow)
{
    const char *sleep_during[] = {"--sleep-during", "4", NULL};
    storescp s;
    storescp_start(&s, sleep_during);
    char *work = mcm_test_tempdir(), path[4096], uid[65];
    write_ct(work, "ct.dcm", NULL, path, sizeof path, uid);
    mcm_scu_options o = options_for(s.port);
    const char *files[] = {path};
    o.store_files = files;
    o.store_file_count = 1;
    o.dimse_timeout_seconds = 1;
    mcm_scu *scu = NULL;
    mcm_response r;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_store_file(scu, path, &r), MCM_ETIMEOUT);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    storescp_stop(&s);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

/* ---- connection failures ---- */

START_TEST(peer_not_listening)
{
    mcm_scu_options o = options_for(mcm_test_free_port());
    mcm_scu *scu = (mcm_scu *)&o; /* must be reset to NULL */
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_ENET);
    ck_assert_ptr_null(scu);
    ck_assert_msg(strstr(mcm_last_error(), "127.0.0.1") != NULL, "%s", mcm_last_error());
}
END_TEST

/* A peer that accepts the TCP connection but never answers the association request. */
START_TEST(association_timeout)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    mcm_scu_options o = options_for(ntohs(addr.sin_port));
    o.acse_timeout_seconds = 1;
    mcm_scu *scu = NULL;
    double t0 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_ETIMEOUT);
    ck_assert_double_ge(mcm_test_now_ms() - t0, 900.0);
    ck_assert_ptr_null(scu);
    close(fd);
}
END_TEST

START_TEST(rejected_wrong_called_ae)
{
    mcm_test_peer_options po;
    mcm_test_peer_options_init(&po);
    po.ae_title = "MCMSCP";
    mcm_test_peer *peer = mcm_test_peer_start(&po);
    ck_assert_ptr_nonnull(peer);
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    o.called_ae_title = "SOMEONE_ELSE";
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EREJECTED);
    ck_assert_msg(strstr(mcm_last_error(), "called AE title not recognized") != NULL, "%s", mcm_last_error());
    o.called_ae_title = "MCMSCP";
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(options_checked)
{
    mcm_scu_options o = options_for(104);
    mcm_scu *scu = NULL;
    mcm_tls_options tls = {1, "cert.pem", "key.pem", NULL, 1};
    ck_assert_int_eq(mcm_scu_connect(NULL, &o), MCM_EINVAL);
    ck_assert_int_eq(mcm_scu_connect(&scu, NULL), MCM_EINVAL);
    o.version = 99;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EINVAL);
    o = options_for(104);
    o.peer_host = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EINVAL);
    o = options_for(104);
    o.calling_ae_title = "THIS_AE_TITLE_IS_TOO_LONG";
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EINVAL);
    o = options_for(104);
    o.max_pdu = 100;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EINVAL);
    o = options_for(104);
    o.tls = &tls;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_EUNSUPPORTED);
    ck_assert_ptr_null(scu);
    mcm_response r;
    ck_assert_int_eq(mcm_scu_echo(NULL, &r), MCM_EINVAL);
    mcm_scu_free(NULL);
    mcm_scu_options d;
    ck_assert_int_eq(mcm_scu_options_init(&d, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    ck_assert_uint_eq(d.version, MCM_SCU_OPTIONS_VERSION);
    ck_assert_uint_eq(d.peer_port, 11112);
    ck_assert_int_eq(d.tcp_tuning, 1);
    ck_assert_uint_eq(d.max_pdu, 65536);
}
END_TEST

/* ---- the scripted peer: N-CREATE, N-ACTION, N-GET ---- */

static mcm_test_peer *start_peer(void)
{
    mcm_test_peer *peer = mcm_test_peer_start(NULL);
    ck_assert_ptr_nonnull(peer);
    return peer;
}

static mcm_scu *connect_to(mcm_test_peer *peer)
{
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    return scu;
}

static mcm_test_received received(mcm_test_peer *peer, size_t index)
{
    mcm_test_received r;
    ck_assert_msg(mcm_test_peer_received(peer, index, &r) == 0, "request %zu not received", index);
    return r;
}

static mcm_request *sample_request(size_t references)
{
    mcm_request *req = NULL;
    ck_assert_int_eq(mcm_request_new(&req), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(req, MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(req, MCM_TAG_LABEL_TEXT, "\xE5\xB1\xB1\xE7\x94\xB0 ^ M\xC3\xBCller"),
                     MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(req, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(req, 2), MCM_OK);
    ck_assert_int_eq(mcm_request_set_priority(req, MCM_PRIORITY_LOW), MCM_OK);
    for (size_t i = 0; i < references; i++) {
        char uid[64];
        snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.2.1143.9.%zu", i + 1);
        ck_assert_int_eq(mcm_request_add_reference(req, MCM_TEST_CT_IMAGE, uid, i == 0 ? "STD-GEN-CD" : NULL), MCM_OK);
    }
    static const uint8_t pixels[16] = {0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240};
    mcm_icon icon = {4, 4, 8, 8, 7, "MONOCHROME2", pixels, 16, {0, 0, 0}, NULL, NULL, NULL, 0};
    if (references > 0)
        ck_assert_int_eq(mcm_request_set_icon(req, 0, &icon), MCM_OK);
    return req;
}

/* Proposed contexts: Verification, MCM with explicit then implicit LE, one uncompressed context per
 * storage class, and a context of its own for a file in another syntax. Message IDs count per
 * association. */
START_TEST(proposals_and_message_ids)
{
    char *work = mcm_test_tempdir(), plain[4096], jpeg[4096], uid[65];
    write_ct(work, "ct.dcm", NULL, plain, sizeof plain, uid);
    snprintf(jpeg, sizeof jpeg, "%s/ct-jpeg.dcm", work);
    ck_assert_int_eq(mcm_test_system("dcmcjpeg '%s' '%s'", plain, jpeg), 0);
    mcm_test_peer *peer = start_peer();
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    const char *files[] = {plain, jpeg, plain};
    const char *classes[] = {MCM_TEST_MR_IMAGE, MCM_TEST_CT_IMAGE};
    o.store_files = files;
    o.store_file_count = 3;
    o.store_sop_classes = classes;
    o.store_sop_class_count = 2;
    for (int association = 1; association <= 2; association++) {
        mcm_scu *scu = NULL;
        mcm_response r;
        ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
        ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
        ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
        ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r), MCM_OK);
        ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
        mcm_scu_free(scu);
    }
    char lines[16][512];
    size_t n = mcm_test_peer_proposed(peer, lines, 16);
    const char *both = MCM_TEST_EXPLICIT_LE " " MCM_TEST_IMPLICIT_LE;
    char expected[5][512];
    snprintf(expected[0], 512, "1.2.840.10008.1.1: %s", both);
    snprintf(expected[1], 512, "%s: %s", MCM_SOP_CLASS_UID, both);
    snprintf(expected[2], 512, "%s: %s", MCM_TEST_CT_IMAGE, both);
    snprintf(expected[3], 512, "%s: 1.2.840.10008.1.2.4.70", MCM_TEST_CT_IMAGE);
    snprintf(expected[4], 512, "%s: %s", MCM_TEST_MR_IMAGE, both);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(lines[i], expected[i]);
    ck_assert_uint_eq(mcm_test_peer_received_count(peer), 6);
    for (size_t i = 0; i < 6; i++) {
        mcm_test_received got = received(peer, i);
        ck_assert_int_eq(got.association, (int)(i / 3) + 1);
        ck_assert_uint_eq(got.message_id, i % 3 + 1);
        ck_assert_str_eq(got.transfer_syntax, MCM_TEST_EXPLICIT_LE);
    }
    ck_assert_str_eq(received(peer, 2).command, "N-GET-RQ");
    ck_assert_str_eq(received(peer, 2).sop_class_uid, MCM_SOP_CLASS_UID);
    mcm_test_peer_stop(peer);
    mcm_test_rmtree(work);
    free(work);
}
END_TEST

static void assert_same_request_sent(const mcm_request *sent, const mcm_request *got)
{
    ck_assert_ptr_nonnull(got);
    static const uint32_t tags[] = {MCM_TAG_SPECIFIC_CHARACTER_SET, MCM_TAG_LABEL_TEXT, MCM_TAG_ALLOW_MEDIA_SPLITTING};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(mcm_request_attribute_length(sent, tags[i]), mcm_request_attribute_length(got, tags[i]));
        ck_assert(memcmp(mcm_request_attribute(sent, tags[i]), mcm_request_attribute(got, tags[i]),
                         mcm_request_attribute_length(sent, tags[i])) == 0);
    }
    /* Copies and priority belong to Initiate, never to N-CREATE. */
    ck_assert_ptr_null(mcm_request_attribute(got, MCM_TAG_NUMBER_OF_COPIES));
    ck_assert_ptr_null(mcm_request_attribute(got, MCM_TAG_REQUEST_PRIORITY));
    ck_assert_uint_eq(mcm_request_reference_count(got), mcm_request_reference_count(sent));
    for (size_t i = 0; i < mcm_request_reference_count(sent); i++) {
        mcm_reference a, b;
        ck_assert_int_eq(mcm_request_reference(sent, i, &a), MCM_OK);
        ck_assert_int_eq(mcm_request_reference(got, i, &b), MCM_OK);
        ck_assert_str_eq(a.sop_instance_uid, b.sop_instance_uid);
        ck_assert_str_eq(a.sop_class_uid, b.sop_class_uid);
        ck_assert_int_eq(a.profile == NULL, b.profile == NULL);
        ck_assert_int_eq(a.icon == NULL, b.icon == NULL);
        if (a.icon != NULL) {
            ck_assert_uint_eq(a.icon->pixel_data_length, b.icon->pixel_data_length);
            ck_assert(memcmp(a.icon->pixel_data, b.icon->pixel_data, a.icon->pixel_data_length) == 0);
        }
    }
    ck_assert_uint_eq(mcm_request_unknown_count(got), 0);
}

START_TEST(create_sends_request_and_reads_uid)
{
    mcm_test_peer_options po;
    mcm_test_peer_options_init(&po);
    po.implicit_only = _i; /* the data set travels explicit, then implicit VR */
    mcm_test_peer *peer = mcm_test_peer_start(&po);
    ck_assert_ptr_nonnull(peer);
    mcm_scu *scu = connect_to(peer);
    mcm_request *req = sample_request(3);
    char uid[MCM_UID_MAX + 1];
    mcm_response r;

    /* The SCP assigns and returns the UID. */
    mcm_test_reply assigned = {.status = 0, .affected_sop_instance_uid = "1.2.826.0.1.3680043.2.1143.42"};
    mcm_test_peer_push_reply(peer, &assigned);
    ck_assert_msg(mcm_scu_create(scu, req, NULL, uid, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_uint_eq(r.status, 0);
    ck_assert_int_eq(r.category, MCM_CATEGORY_SUCCESS);
    ck_assert_str_eq(uid, "1.2.826.0.1.3680043.2.1143.42");
    ck_assert_str_eq(r.affected_sop_instance_uid, "1.2.826.0.1.3680043.2.1143.42");
    mcm_test_received got = received(peer, 0);
    ck_assert_str_eq(got.command, "N-CREATE-RQ");
    ck_assert_str_eq(got.sop_class_uid, MCM_SOP_CLASS_UID);
    ck_assert_str_eq(got.sop_instance_uid, "");
    ck_assert_str_eq(got.transfer_syntax, _i ? MCM_TEST_IMPLICIT_LE : MCM_TEST_EXPLICIT_LE);
    ck_assert_int_eq(got.has_data_set, 1);
    assert_same_request_sent(req, got.data);

    /* The SCU names the instance; the SCP does not echo it. */
    mcm_test_reply silent = {.status = 0};
    mcm_test_peer_push_reply(peer, &silent);
    ck_assert_int_eq(mcm_scu_create(scu, req, "1.2.3.4.5", uid, &r), MCM_OK);
    ck_assert_str_eq(uid, "1.2.3.4.5");
    ck_assert_str_eq(received(peer, 1).sop_instance_uid, "1.2.3.4.5");

    /* Neither names it: the SCP broke the protocol. */
    ck_assert_int_eq(mcm_scu_create(scu, req, NULL, uid, &r), MCM_EPROTOCOL);
    ck_assert_str_eq(uid, "");
    ck_assert_int_eq(mcm_scu_create(scu, req, "1.2.03", uid, &r), MCM_EINVAL);
    ck_assert_int_eq(mcm_scu_create(scu, NULL, NULL, uid, &r), MCM_EINVAL);
    mcm_request_free(req);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

/* Every status detail field of an N-CREATE failure decodes. */
START_TEST(create_failure_detail)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_request *req = sample_request(1);
    static const uint32_t missing[] = {MCM_TAG_REFERENCED_SOP_INSTANCE_UID, MCM_TAG_REFERENCED_SOP_CLASS_UID};
    static const uint32_t offending[] = {MCM_TAG_REFERENCED_SOP_SEQUENCE};
    mcm_test_reply failure = {.status = 0x0120,
                              .error_comment = "item 1: (0008,1155) missing",
                              .has_error_id = 1,
                              .error_id = 0x4242,
                              .offending = offending,
                              .offending_count = 1,
                              .attribute_identifiers = missing,
                              .attribute_identifier_count = 2,
                              .affected_sop_instance_uid = "1.2.3.4.6"};
    mcm_test_peer_push_reply(peer, &failure);
    char uid[MCM_UID_MAX + 1] = "junk";
    mcm_response r;
    ck_assert_int_eq(mcm_scu_create(scu, req, "1.2.3.4.6", uid, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0x0120);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(r.error_comment, "item 1: (0008,1155) missing");
    ck_assert_int_eq(r.has_error_id, 1);
    ck_assert_uint_eq(r.error_id, 0x4242);
    ck_assert_uint_eq(r.offending_element_count, 1);
    ck_assert_uint_eq(r.offending_elements[0], MCM_TAG_REFERENCED_SOP_SEQUENCE);
    ck_assert_uint_eq(r.attribute_identifier_count, 2);
    ck_assert_uint_eq(r.attribute_identifiers[0], MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    ck_assert_uint_eq(r.attribute_identifiers[1], MCM_TAG_REFERENCED_SOP_CLASS_UID);
    ck_assert_str_eq(r.affected_sop_instance_uid, "1.2.3.4.6");
    ck_assert_int_eq(r.has_action_type_id, 0);
    ck_assert_str_eq(uid, "");
    /* The association is still usable after a DIMSE failure. */
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
    mcm_request_free(req);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(initiate_cancel_and_action)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_response r;
    const char *job = "1.2.826.0.1.3680043.2.1143.7";
    mcm_test_reply ok = {.status = 0, .has_action_type_id = 1, .action_type_id = 1, .affected_sop_instance_uid = job};
    mcm_test_peer_push_reply(peer, &ok);
    ck_assert_int_eq(mcm_scu_initiate(scu, job, 2, MCM_PRIORITY_LOW, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0);
    ck_assert_int_eq(r.has_action_type_id, 1);
    ck_assert_uint_eq(r.action_type_id, 1);
    ck_assert_str_eq(r.affected_sop_instance_uid, job);
    mcm_test_received got = received(peer, 0);
    ck_assert_str_eq(got.command, "N-ACTION-RQ");
    ck_assert_uint_eq(got.action_type_id, 1);
    ck_assert_str_eq(got.sop_instance_uid, job);
    ck_assert_str_eq(got.sop_class_uid, MCM_SOP_CLASS_UID);
    ck_assert_int_eq(got.has_data_set, 1);
    ck_assert_str_eq(mcm_request_attribute(got.data, MCM_TAG_NUMBER_OF_COPIES), "2");
    ck_assert_str_eq(mcm_request_attribute(got.data, MCM_TAG_REQUEST_PRIORITY), "LOW");
    ck_assert_uint_eq(mcm_request_unknown_count(got.data), 0);

    /* Without Action Information: no data set at all; only copies: only copies. */
    mcm_test_reply already = {.status = 0xA510, .error_comment = "already initiated"};
    mcm_test_peer_push_reply(peer, &already);
    ck_assert_int_eq(mcm_scu_initiate(scu, job, 0, MCM_PRIORITY_UNSET, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0xA510);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(r.has_action_type_id, 0);
    ck_assert_int_eq(received(peer, 1).has_data_set, 0);
    ck_assert_int_eq(mcm_scu_initiate(scu, job, 12000, MCM_PRIORITY_UNSET, &r), MCM_OK);
    got = received(peer, 2);
    ck_assert_str_eq(mcm_request_attribute(got.data, MCM_TAG_NUMBER_OF_COPIES), "12000");
    ck_assert_ptr_null(mcm_request_attribute(got.data, MCM_TAG_REQUEST_PRIORITY));
    ck_assert_int_eq(mcm_scu_initiate(scu, job, -1, MCM_PRIORITY_UNSET, &r), MCM_EINVAL);

    /* Cancel: Action Type 2, no data set; Cxxx decodes as Failure with its detail. */
    mcm_test_reply completed = {
        .status = 0xC201, .error_comment = "job is DONE", .has_action_type_id = 1, .action_type_id = 2};
    mcm_test_peer_push_reply(peer, &completed);
    ck_assert_int_eq(mcm_scu_cancel(scu, job, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0xC201);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(r.error_comment, "job is DONE");
    ck_assert_uint_eq(r.action_type_id, 2);
    got = received(peer, 3);
    ck_assert_uint_eq(got.action_type_id, 2);
    ck_assert_int_eq(got.has_data_set, 0);

    /* A private action with Action Information, and one with an empty request (no data set). */
    mcm_request *info = NULL;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(info, MCM_TAG_LABEL_TEXT, "private"), MCM_OK);
    mcm_test_reply no_such = {.status = 0x0123, .has_action_type_id = 1, .action_type_id = 77};
    mcm_test_peer_push_reply(peer, &no_such);
    ck_assert_int_eq(mcm_scu_action(scu, job, 77, info, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0x0123);
    ck_assert_uint_eq(r.action_type_id, 77);
    got = received(peer, 4);
    ck_assert_uint_eq(got.action_type_id, 77);
    ck_assert_str_eq(mcm_request_attribute(got.data, MCM_TAG_LABEL_TEXT), "private");
    mcm_request_free(info);
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_scu_action(scu, job, 78, info, &r), MCM_OK);
    ck_assert_int_eq(received(peer, 5).has_data_set, 0);
    mcm_request_free(info);
    ck_assert_int_eq(mcm_scu_cancel(scu, "not a uid", &r), MCM_EINVAL);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

static mcm_job *reply_job(mcm_job_state state, const char *info)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_job_new(&job, "1.2.3.4.8"), MCM_OK);
    mcm_request *req = sample_request(2);
    mcm_job_set_request(job, req);
    ck_assert_int_eq(mcm_job_set_state(job, state, info), MCM_OK);
    mcm_job_mark_maintained(job);
    if (state == MCM_JOB_DONE) {
        mcm_job_set_pieces(job, 2);
        ck_assert_int_eq(mcm_job_add_media(job, "VOL1", "1.2.3.4.9"), MCM_OK);
    }
    if (state == MCM_JOB_FAILURE) {
        static const uint32_t attrs[] = {MCM_TAG(0x0010, 0x0020)};
        ck_assert_int_eq(mcm_job_add_failed(job, MCM_TEST_CT_IMAGE, "1.2.3.4.10", NULL, 0x0120, attrs, 1), MCM_OK);
    }
    return job;
}

START_TEST(get_with_and_without_list)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_job *done = reply_job(MCM_JOB_DONE, "NORMAL"), *got = NULL;
    mcm_test_reply ok = {.status = 0, .data = done, .affected_sop_instance_uid = "1.2.3.4.8"};
    mcm_test_peer_push_reply(peer, &ok);
    mcm_response r;
    const uint32_t *tags;
    size_t n = mcm_scu_status_tags(&tags);
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3.4.8", tags, n, &got, &r), MCM_OK);
    ck_assert_uint_eq(r.status, 0);
    ck_assert_str_eq(r.affected_sop_instance_uid, "1.2.3.4.8");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(mcm_job_uid(got), "1.2.3.4.8");
    ck_assert_int_eq(mcm_job_state_of(got), MCM_JOB_DONE);
    ck_assert_str_eq(mcm_job_status_info(got), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(got), 2);
    ck_assert_uint_eq(mcm_job_media_count(got), 1);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_FAILED_SOP_SEQUENCE), 1);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_SPECIFIC_CHARACTER_SET), 1);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_LABEL_TEXT), 0);
    mcm_test_received rq = received(peer, 0);
    ck_assert_str_eq(rq.command, "N-GET-RQ");
    ck_assert_str_eq(rq.sop_instance_uid, "1.2.3.4.8");
    ck_assert_uint_eq(rq.attribute_count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(rq.attributes[i], tags[i]);
    mcm_job_free(got);

    /* No list: every attribute. */
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3.4.8", NULL, 0, &got, &r), MCM_OK);
    ck_assert_uint_eq(received(peer, 1).attribute_count, 0);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_REFERENCED_SOP_SEQUENCE), 1);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(got)), 2);
    ck_assert_str_eq(mcm_request_attribute(mcm_job_request(got), MCM_TAG_LABEL_TEXT),
                     mcm_request_attribute(mcm_job_request(done), MCM_TAG_LABEL_TEXT));
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(got)), 2);
    mcm_job_free(got);

    /* Warning 0107 with the Attribute Identifier List: still a job. */
    static const uint32_t unknown[] = {MCM_TAG(0x0010, 0x0010)};
    mcm_test_reply warning = {
        .status = 0x0107, .data = done, .attribute_identifiers = unknown, .attribute_identifier_count = 1};
    mcm_test_peer_push_reply(peer, &warning);
    const uint32_t asked[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG(0x0010, 0x0010)};
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3.4.8", asked, 2, &got, &r), MCM_OK);
    ck_assert_int_eq(r.category, MCM_CATEGORY_WARNING);
    ck_assert_uint_eq(r.attribute_identifier_count, 1);
    ck_assert_uint_eq(r.attribute_identifiers[0], MCM_TAG(0x0010, 0x0010));
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(mcm_job_state_of(got), MCM_JOB_DONE);
    ck_assert_int_eq(mcm_job_has(got, MCM_TAG_EXECUTION_STATUS_INFO), 0);
    mcm_job_free(got);

    /* 0112: no job, even if the peer sent a data set. */
    mcm_test_reply gone = {.status = 0x0112, .data = done, .affected_sop_instance_uid = "1.2.3.4.8"};
    mcm_test_peer_push_reply(peer, &gone);
    got = (mcm_job *)&r;
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3.4.8", NULL, 0, &got, &r), MCM_OK);
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(r.status, 0x0112);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(r.affected_sop_instance_uid, "1.2.3.4.8");
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3.4.8", NULL, 1, &got, &r), MCM_EINVAL);
    mcm_job_free(done);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

/* Every category decodes, for each operation, from the status the peer sent. */
START_TEST(every_category_decodes)
{
    static const struct {
        uint16_t status;
        mcm_status_category n_get, n_action, n_create;
    } cases[] = {
        {0x0000, MCM_CATEGORY_SUCCESS, MCM_CATEGORY_SUCCESS, MCM_CATEGORY_SUCCESS},
        {0x0001, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING},
        {0x0107, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING},
        {0xB000, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING, MCM_CATEGORY_WARNING},
        {0x0112, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE},
        {0xA510, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE},
        {0xC202, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE, MCM_CATEGORY_FAILURE},
        {0xFE00, MCM_CATEGORY_CANCEL, MCM_CATEGORY_CANCEL, MCM_CATEGORY_CANCEL},
        {0xFF00, MCM_CATEGORY_PENDING, MCM_CATEGORY_PENDING, MCM_CATEGORY_PENDING},
        {0x7777, MCM_CATEGORY_UNKNOWN, MCM_CATEGORY_UNKNOWN, MCM_CATEGORY_UNKNOWN},
    };
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_request *req = sample_request(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcm_test_reply reply = {.status = cases[i].status, .affected_sop_instance_uid = "1.2.3"};
        mcm_response r;
        char uid[MCM_UID_MAX + 1];
        mcm_job *job = NULL;
        for (int op = 0; op < 3; op++)
            mcm_test_peer_push_reply(peer, &reply);
        ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, &job, &r), MCM_OK);
        ck_assert_uint_eq(r.status, cases[i].status);
        ck_assert_msg(r.category == cases[i].n_get, "N-GET %04X: category %d", cases[i].status, r.category);
        ck_assert_msg(r.category == mcm_status_category_of(cases[i].status, MCM_OP_N_GET), "N-GET %04X",
                      cases[i].status);
        ck_assert_int_eq(job != NULL, cases[i].n_get == MCM_CATEGORY_SUCCESS || cases[i].n_get == MCM_CATEGORY_WARNING);
        mcm_job_free(job);
        ck_assert_int_eq(mcm_scu_cancel(scu, "1.2.3", &r), MCM_OK);
        ck_assert_msg(r.category == mcm_status_category_of(cases[i].status, MCM_OP_N_ACTION), "N-ACTION %04X",
                      cases[i].status);
        ck_assert_int_eq(r.category, cases[i].n_action);
        ck_assert_int_eq(mcm_scu_create(scu, req, "1.2.3", uid, &r), MCM_OK);
        ck_assert_msg(r.category == mcm_status_category_of(cases[i].status, MCM_OP_N_CREATE), "N-CREATE %04X",
                      cases[i].status);
        ck_assert_int_eq(r.category, cases[i].n_create);
    }
    mcm_request_free(req);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(no_mcm_context)
{
    mcm_test_peer_options po;
    mcm_test_peer_options_init(&po);
    po.accept_mcm = 0;
    mcm_test_peer *peer = mcm_test_peer_start(&po);
    ck_assert_ptr_nonnull(peer);
    mcm_scu *scu = connect_to(peer);
    mcm_response r;
    mcm_request *req = sample_request(1);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
    ck_assert_int_eq(mcm_scu_create(scu, req, NULL, NULL, &r), MCM_ENOCONTEXT);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), MCM_SOP_CLASS_UID));
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r), MCM_ENOCONTEXT);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
    mcm_request_free(req);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(dimse_timeout_then_closed)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    o.dimse_timeout_seconds = 1;
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_test_reply slow = {.status = 0, .delay_ms = 2500};
    mcm_test_peer_push_reply(peer, &slow);
    mcm_response r;
    double t0 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r), MCM_ETIMEOUT);
    ck_assert_double_ge(mcm_test_now_ms() - t0, 900.0);
    ck_assert_msg(strstr(mcm_last_error(), "timeout") != NULL, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(peer_aborts)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_test_reply abort_reply = {.abort_instead = 1};
    mcm_test_peer_push_reply(peer, &abort_reply);
    mcm_response r;
    mcm_request *req = sample_request(1);
    ck_assert_int_eq(mcm_scu_create(scu, req, NULL, NULL, &r), MCM_EABORTED);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    ck_assert_int_eq(mcm_scu_abort(scu), MCM_ESTATE);
    mcm_request_free(req);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(abort_and_debug_log)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    log_capture logs;
    memset(&logs, 0, sizeof logs);
    o.log = capture_log;
    o.log_user = &logs;
    o.log_level = MCM_LOG_DEBUG;
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_request *req = sample_request(1);
    mcm_response r;
    ck_assert_int_eq(mcm_scu_create(scu, req, "1.2.3", NULL, &r), MCM_OK);
    ck_assert_int_eq(mcm_scu_abort(scu), MCM_OK);
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    ck_assert_ptr_nonnull(strstr(logs.text, "2 N-CREATE-RQ (message 1)"));
    ck_assert_ptr_nonnull(strstr(logs.text, "2 N-CREATE-RSP (message 1): 0x0000"));
    ck_assert_ptr_nonnull(strstr(logs.text, "3 data set sent:"));
    ck_assert_ptr_nonnull(strstr(logs.text, "(0008,1199)"));
    ck_assert_int_gt(logs.lines[MCM_LOG_DEBUG], 5);
    mcm_request_free(req);
    /* The peer saw the association end. */
    double end = mcm_test_now_ms() + 5000;
    while (mcm_test_peer_associations_done(peer) < 1 && mcm_test_now_ms() < end)
        usleep(10000);
    ck_assert_int_eq(mcm_test_peer_associations_done(peer), 1);
    mcm_test_peer_stop(peer);
}
END_TEST

/* ---- mcm_scu_wait ---- */

typedef struct progress_record {
    unsigned polls[16];
    mcm_job_state states[16];
    unsigned count;
    unsigned stop_at;
} progress_record;

static int record_progress(const mcm_job *job, unsigned poll, void *user)
{
    progress_record *p = user;
    if (p->count < 16) {
        p->polls[p->count] = poll;
        p->states[p->count] = mcm_job_state_of(job);
        p->count++;
    }
    return p->stop_at != 0 && poll >= p->stop_at;
}

START_TEST(wait_backs_off_until_done)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_job *pending = reply_job(MCM_JOB_PENDING, "QUEUED"), *creating = reply_job(MCM_JOB_CREATING, "NORMAL"),
            *done = reply_job(MCM_JOB_DONE, "NORMAL"), *got = NULL;
    mcm_test_reply p = {.status = 0, .data = pending}, c = {.status = 0, .data = creating},
                   d = {.status = 0, .data = done};
    mcm_test_peer_push_reply(peer, &p);
    mcm_test_peer_push_reply(peer, &p);
    mcm_test_peer_push_reply(peer, &p);
    mcm_test_peer_push_reply(peer, &c);
    mcm_test_peer_push_reply(peer, &d);
    progress_record progress;
    memset(&progress, 0, sizeof progress);
    mcm_wait_options w = MCM_WAIT_OPTIONS_INIT;
    w.initial_interval_ms = 20;
    w.max_interval_ms = 80;
    w.progress = record_progress;
    w.progress_user = &progress;
    mcm_response r;
    ck_assert_msg(mcm_scu_wait(scu, "1.2.3.4.8", &w, &got, &r) == MCM_OK, "%s", mcm_last_error());
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(mcm_job_state_of(got), MCM_JOB_DONE);
    ck_assert_uint_eq(mcm_job_pieces(got), 2);
    ck_assert_uint_eq(r.status, 0);
    ck_assert_uint_eq(progress.count, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(progress.polls[i], i + 1);
    ck_assert_int_eq(progress.states[3], MCM_JOB_CREATING);
    ck_assert_uint_eq(mcm_test_peer_received_count(peer), 5);
    /* The pauses double from 20 ms up to 80 ms: each gap is at least its pause (sleep never
     * returns early), and the polls ask for the status tags. */
    const double pauses[] = {20, 40, 80, 80};
    for (size_t i = 0; i < 4; i++) {
        double gap = received(peer, i + 1).at_ms - received(peer, i).at_ms;
        ck_assert_msg(gap >= pauses[i] - 1.0, "gap %zu was %.1f ms, expected at least %.0f", i, gap, pauses[i]);
    }
    const uint32_t *tags;
    size_t n = mcm_scu_status_tags(&tags);
    mcm_test_received first = received(peer, 0);
    ck_assert_uint_eq(first.attribute_count, n);
    ck_assert_uint_eq(first.attributes[0], MCM_TAG_SPECIFIC_CHARACTER_SET);
    mcm_job_free(got);
    mcm_job_free(pending);
    mcm_job_free(creating);
    mcm_job_free(done);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(wait_times_out)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_job *pending = reply_job(MCM_JOB_PENDING, "MCD_BUSY"), *got = (mcm_job *)1;
    mcm_test_reply p = {.status = 0, .data = pending};
    mcm_test_peer_push_reply(peer, &p);
    mcm_wait_options w = MCM_WAIT_OPTIONS_INIT;
    /* Pauses of 10 and then 20 ms in a 600 ms budget: dozens of polls on an idle machine, and
     * still at least 3 on a loaded one under ASan (150 ms once gave fewer there). */
    w.initial_interval_ms = 10;
    w.max_interval_ms = 20;
    w.timeout_ms = 600;
    mcm_response r;
    double t0 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", &w, &got, &r), MCM_ETIMEOUT);
    ck_assert_double_ge(mcm_test_now_ms() - t0, 600.0);
    ck_assert_ptr_null(got);
    ck_assert_msg(strstr(mcm_last_error(), "PENDING") != NULL, "%s", mcm_last_error());
    ck_assert_uint_ge(mcm_test_peer_received_count(peer), 3);
    /* The association survives a wait timeout. */
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
    mcm_job_free(pending);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

/* 0112 after a successful Initiate: the result was purged or cancelled elsewhere (digest A19). */
START_TEST(wait_reports_0112)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_job *pending = reply_job(MCM_JOB_PENDING, "QUEUED"), *got = (mcm_job *)1;
    mcm_test_reply p = {.status = 0, .data = pending},
                   gone = {.status = 0x0112, .error_comment = "no such job", .affected_sop_instance_uid = "1.2.3.4.8"};
    mcm_test_peer_push_reply(peer, &p);
    mcm_test_peer_push_reply(peer, &gone);
    mcm_wait_options w = MCM_WAIT_OPTIONS_INIT;
    w.initial_interval_ms = 5;
    mcm_response r;
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", &w, &got, &r), MCM_OK);
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(r.status, 0x0112);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(r.error_comment, "no such job");
    ck_assert_uint_eq(mcm_test_peer_received_count(peer), 2);
    mcm_job_free(pending);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(wait_stopped_by_progress_and_failure_result)
{
    mcm_test_peer *peer = start_peer();
    mcm_scu *scu = connect_to(peer);
    mcm_job *pending = reply_job(MCM_JOB_PENDING, "QUEUED"), *failed = reply_job(MCM_JOB_FAILURE, "NO_INSTANCE"),
            *got = NULL;
    mcm_test_reply p = {.status = 0, .data = pending}, f = {.status = 0, .data = failed};
    mcm_test_peer_push_reply(peer, &p);
    progress_record progress;
    memset(&progress, 0, sizeof progress);
    progress.stop_at = 2;
    mcm_wait_options w = MCM_WAIT_OPTIONS_INIT;
    w.initial_interval_ms = 5;
    w.progress = record_progress;
    w.progress_user = &progress;
    mcm_response r;
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", &w, &got, &r), MCM_ECANCELED);
    ck_assert_uint_eq(progress.count, 2);
    ck_assert_ptr_null(got);

    /* FAILURE ends the wait with MCM_OK and the job, Failed SOP Sequence included. */
    mcm_test_peer_push_reply(peer, &f);
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", NULL, &got, &r), MCM_OK);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(mcm_job_state_of(got), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(got), "NO_INSTANCE");
    ck_assert_uint_eq(mcm_job_failed_count(got), 1);
    mcm_failed_sop fs;
    ck_assert_int_eq(mcm_job_failed(got, 0, &fs), MCM_OK);
    ck_assert_uint_eq(fs.failure_reason, 0x0120);
    ck_assert_uint_eq(fs.failure_attribute_count, 1);
    mcm_job_free(got);

    /* A reply without Execution Status is the peer's error. */
    mcm_test_reply bare = {.status = 0};
    mcm_test_peer_push_reply(peer, &bare);
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", NULL, &got, &r), MCM_EPROTOCOL);
    ck_assert_ptr_null(got);
    mcm_wait_options bad = MCM_WAIT_OPTIONS_INIT;
    bad.version = 0;
    ck_assert_int_eq(mcm_scu_wait(scu, "1.2.3.4.8", &bad, &got, &r), MCM_EINVAL);
    mcm_job_free(pending);
    mcm_job_free(failed);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

Suite *mcm_suite_scu(void)
{
    Suite *s = suite_create("scu");
    TCase *store = tcase_create("storescp");
    tcase_set_timeout(store, 60);
    tcase_add_test(store, echo_storescp);
    tcase_add_test(store, store_then_dcmdump);
    tcase_add_test(store, store_converts_uncompressed);
    tcase_add_test(store, store_compressed_needs_its_context);
    tcase_add_test(store, store_unproposed_class_and_unreadable_file);
    tcase_add_test(store, storescp_refuses);
    tcase_add_test(store, storescp_aborts);
    tcase_add_test(store, storescp_too_slow);
    suite_add_tcase(s, store);

    TCase *connect = tcase_create("connect");
    tcase_set_timeout(connect, 60);
    tcase_add_test(connect, peer_not_listening);
    tcase_add_test(connect, association_timeout);
    tcase_add_test(connect, rejected_wrong_called_ae);
    tcase_add_test(connect, options_checked);
    suite_add_tcase(s, connect);

    TCase *peer = tcase_create("peer");
    tcase_set_timeout(peer, 60);
    tcase_add_test(peer, proposals_and_message_ids);
    tcase_add_loop_test(peer, create_sends_request_and_reads_uid, 0, 2);
    tcase_add_test(peer, create_failure_detail);
    tcase_add_test(peer, initiate_cancel_and_action);
    tcase_add_test(peer, get_with_and_without_list);
    tcase_add_test(peer, every_category_decodes);
    tcase_add_test(peer, no_mcm_context);
    tcase_add_test(peer, dimse_timeout_then_closed);
    tcase_add_test(peer, peer_aborts);
    tcase_add_test(peer, abort_and_debug_log);
    suite_add_tcase(s, peer);

    TCase *wait = tcase_create("wait");
    tcase_set_timeout(wait, 60);
    tcase_add_test(wait, wait_backs_off_until_done);
    tcase_add_test(wait, wait_times_out);
    tcase_add_test(wait, wait_reports_0112);
    tcase_add_test(wait, wait_stopped_by_progress_and_failure_result);
    suite_add_tcase(s, wait);
    return s;
}
