/*
 * tests/dcmtk/suite_conditions.c: every row of lib/dcmtk/conditions.cc provoked on a real
 * association over 127.0.0.1, and what the user then sees: the SCU's mcm_error and message for a
 * peer that aborts, closes, releases, stalls, sends broken PDUs, rejects, does not answer or does
 * not exist, in each phase (association request, exchange, release), against the scripted DCMTK
 * peer of tests/support/testpeer.cc; and the SCP's log line for each way a raw peer
 * (tests/support/rawpeer.cc) can end an association. DCMTK wraps some of these causes (a DUL
 * failure inside a DIMSE receive), which is what the classification must see through.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dcmmcm.h"
#include "rawpeer.h"
#include "scp_fixture.h"
#include "testpeer.h"
#include "testutil.h"

/* ---- the SCU against a misbehaving peer ---- */

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

static mcm_test_peer *start_peer(int on_associate, int on_release)
{
    mcm_test_peer_options po;
    mcm_test_peer_options_init(&po);
    po.on_associate = on_associate;
    po.on_release = on_release;
    mcm_test_peer *peer = mcm_test_peer_start(&po);
    ck_assert_ptr_nonnull(peer);
    return peer;
}

/* The error message text says a and b (NULL: nothing more), on one line (DCMTK's nested causes
 * are flattened). */
static void assert_says(const char *text, const char *a, const char *b)
{
    ck_assert_msg(strstr(text, a) != NULL, "\"%s\" not in: %s", a, text);
    ck_assert_msg(b == NULL || strstr(text, b) != NULL, "\"%s\" not in: %s", b, text);
    ck_assert_msg(strchr(text, '\n') == NULL, "not one line: %s", text);
}

/* One request (N-GET) answered by the peer's misbehaviour how: the SCU's error (its message into
 * message); afterwards the association is unusable. */
static int exchange_with(int how, int dimse_timeout, char message[1024])
{
    mcm_test_peer *peer = start_peer(MCM_TEST_BEHAVE, MCM_TEST_BEHAVE);
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    if (dimse_timeout > 0)
        o.dimse_timeout_seconds = dimse_timeout;
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_test_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.instead = how;
    mcm_test_peer_push_reply(peer, &reply);
    mcm_response r;
    int rc = mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r);
    snprintf(message, 1024, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
    return rc;
}

START_TEST(exchange_peer_aborts)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_ABORT, 0, m), MCM_EABORTED);
    assert_says(m, "the peer aborted the association", "Peer aborted Association");
}
END_TEST

/* A connection closed between PDUs is an A-P-ABORT to DCMTK (PS3.8 action AA-4), as an A-ABORT. */
START_TEST(exchange_peer_closes)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_CLOSE, 0, m), MCM_EABORTED);
    assert_says(m, "the peer aborted the association", "connection closed");
}
END_TEST

START_TEST(exchange_peer_releases)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_RELEASE, 0, m), MCM_EABORTED);
    assert_says(m, "the peer released the association in the middle of an exchange", "DUL Peer Requested Release");
}
END_TEST

/* Closed in the middle of a PDU: DUL_NETWORKCLOSED, which DCMTK wraps twice (DIMSE receive
 * failed, read PDV failed). */
START_TEST(exchange_connection_closed_mid_pdu)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_HALF_PDU, 0, m), MCM_ENET);
    assert_says(m, "the peer closed the connection", "DUL network closed");
}
END_TEST

/* Half a PDU header, then nothing: DUL_READTIMEOUT wrapped like the above, a timeout. */
START_TEST(exchange_stalls_mid_header)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_PARTIAL_HEADER, 1, m), MCM_ETIMEOUT);
    assert_says(m, "no reply within the DIMSE timeout", "DUL network read timeout");
}
END_TEST

START_TEST(exchange_slow_peer)
{
    mcm_test_peer *peer = start_peer(MCM_TEST_BEHAVE, MCM_TEST_BEHAVE);
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    o.dimse_timeout_seconds = 1;
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_test_reply slow = {.status = 0, .delay_ms = 2500};
    mcm_test_peer_push_reply(peer, &slow);
    mcm_response r;
    ck_assert_int_eq(mcm_scu_get(scu, "1.2.3", NULL, 0, NULL, &r), MCM_ETIMEOUT);
    assert_says(mcm_last_error(), "no reply within the DIMSE timeout", "DIMSE No data available");
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(exchange_invalid_pdus)
{
    char m[1024];
    ck_assert_int_eq(exchange_with(MCM_TEST_UNKNOWN_PDU, 0, m), MCM_EPROTOCOL);
    assert_says(m, "the peer sent an invalid PDU", "Unrecognized PDU type");
    ck_assert_int_eq(exchange_with(MCM_TEST_OVERLONG_PDU, 0, m), MCM_EPROTOCOL);
    assert_says(m, "the peer sent an invalid PDU", "Illegal PDU Length");
}
END_TEST

/* ---- association request ---- */

static int connect_to(mcm_test_peer *peer, int acse_timeout)
{
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    if (acse_timeout > 0)
        o.acse_timeout_seconds = acse_timeout;
    mcm_scu *scu = (mcm_scu *)&o; /* must be reset to NULL */
    int rc = mcm_scu_connect(&scu, &o);
    ck_assert_ptr_null(scu);
    return rc;
}

START_TEST(associate_peer_aborts)
{
    mcm_test_peer *peer = start_peer(MCM_TEST_ABORT, MCM_TEST_BEHAVE);
    ck_assert_int_eq(connect_to(peer, 0), MCM_EABORTED);
    assert_says(mcm_last_error(), "the peer aborted the association request", "Peer aborted Association");
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(associate_peer_closes)
{
    mcm_test_peer *peer = start_peer(MCM_TEST_CLOSE, MCM_TEST_BEHAVE);
    ck_assert_int_eq(connect_to(peer, 0), MCM_EABORTED);
    assert_says(mcm_last_error(), "the peer aborted the association request", "connection closed");
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(associate_peer_silent)
{
    mcm_test_peer *peer = start_peer(MCM_TEST_SILENT, MCM_TEST_BEHAVE);
    ck_assert_int_eq(connect_to(peer, 1), MCM_ETIMEOUT);
    assert_says(mcm_last_error(), "no association answer within the ACSE timeout", "DUL network read timeout");
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(associate_rejected)
{
    mcm_test_peer_options po;
    mcm_test_peer_options_init(&po);
    po.reject = 1;
    mcm_test_peer *peer = mcm_test_peer_start(&po);
    ck_assert_ptr_nonnull(peer);
    ck_assert_int_eq(connect_to(peer, 0), MCM_EREJECTED);
    assert_says(mcm_last_error(), "rejected the association permanently", "(source: the service user)");
    mcm_test_peer_stop(peer);
}
END_TEST

START_TEST(connect_refused)
{
    mcm_scu_options o = options_for(mcm_test_free_port());
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_ENET);
    assert_says(mcm_last_error(), "cannot connect (is an SCP listening there?)", "Connection refused");
}
END_TEST

START_TEST(connect_unknown_host)
{
    mcm_scu_options o = options_for(104);
    o.peer_host = "no.such.host.invalid"; /* RFC 6761: never resolves */
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_ENET);
    assert_says(mcm_last_error(), "cannot resolve the host name", "no.such.host.invalid");
}
END_TEST

/* A listener whose accept queue is full: Linux drops the SYN, so the connect itself times out,
 * which DCMTK tells apart from a refusal only in its text (conditions.cc). */
START_TEST(connect_timeout)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(listen(listener, 0), 0);
    socklen_t len = sizeof addr;
    ck_assert_int_eq(getsockname(listener, (struct sockaddr *)&addr, &len), 0);
    int fillers[8];
    for (int i = 0; i < 8; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        int rc = connect(fillers[i], (struct sockaddr *)&addr, sizeof addr);
        ck_assert(rc == 0 || errno == EINPROGRESS);
    }
    mcm_scu_options o = options_for(ntohs(addr.sin_port));
    o.acse_timeout_seconds = 1;
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &o), MCM_ETIMEOUT);
    assert_says(mcm_last_error(), "cannot connect within the ACSE timeout", "(Timeout)");
    for (int i = 0; i < 8; i++)
        close(fillers[i]);
    close(listener);
}
END_TEST

/* ---- release ---- */

static int release_with(int how, char message[1024])
{
    mcm_test_peer *peer = start_peer(MCM_TEST_BEHAVE, how);
    mcm_scu_options o = options_for(mcm_test_peer_port(peer));
    o.acse_timeout_seconds = 1; /* bounds the wait for the A-RELEASE-RP */
    mcm_scu *scu = NULL;
    ck_assert_msg(mcm_scu_connect(&scu, &o) == MCM_OK, "%s", mcm_last_error());
    mcm_response r;
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_OK);
    int rc = mcm_scu_release(scu);
    snprintf(message, 1024, "%s", mcm_last_error());
    ck_assert_int_eq(mcm_scu_echo(scu, &r), MCM_ESTATE);
    mcm_scu_free(scu);
    mcm_test_peer_stop(peer);
    return rc;
}

START_TEST(release_answered)
{
    char m[1024];
    ck_assert_int_eq(release_with(MCM_TEST_BEHAVE, m), MCM_OK);
}
END_TEST

START_TEST(release_peer_silent)
{
    char m[1024];
    ck_assert_int_eq(release_with(MCM_TEST_SILENT, m), MCM_ETIMEOUT);
    assert_says(m, "release of the association with 127.0.0.1:", "timeout (DUL network read timeout)");
}
END_TEST

START_TEST(release_peer_aborts)
{
    char m[1024];
    ck_assert_int_eq(release_with(MCM_TEST_ABORT, m), MCM_EABORTED);
    assert_says(m, "the peer aborted the association during release", "Peer aborted Association");
    ck_assert_int_eq(release_with(MCM_TEST_CLOSE, m), MCM_EABORTED);
    assert_says(m, "the peer aborted the association during release", "connection closed");
}
END_TEST

/* ---- the SCP's log for each way a peer ends an association ---- */

/* Every line the SCP logged, guarded: association threads log concurrently. */
static pthread_mutex_t scp_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char scp_log[65536];

static void capture_scp_log(mcm_log_level level, const char *message, void *user)
{
    (void)user;
    pthread_mutex_lock(&scp_log_lock);
    size_t used = strlen(scp_log);
    snprintf(scp_log + used, sizeof scp_log - used, "%s: %s\n", mcm_log_level_name(level), message);
    pthread_mutex_unlock(&scp_log_lock);
}

/* Wait (60 s at most: a bound for a broken build, not a timing assertion) for a log line that
 * holds needle. */
static int scp_logged(const char *needle)
{
    double end = mcm_test_now_ms() + 60000;
    for (;;) {
        pthread_mutex_lock(&scp_log_lock);
        int found = strstr(scp_log, needle) != NULL;
        pthread_mutex_unlock(&scp_log_lock);
        if (found)
            return 1;
        if (mcm_test_now_ms() > end)
            return 0;
        usleep(20000);
    }
}

#define ASSERT_LOGGED(needle) ck_assert_msg(scp_logged(needle), "no \"%s\" in the SCP log:\n%s", needle, scp_log)

static mcm_rawpeer *raw_connect(uint16_t port, const char *calling)
{
    mcm_rawpeer_options po = {port, calling, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    char error[256] = "";
    ck_assert_msg(mcm_rawpeer_connect(&peer, &po, NULL, error) == 0, "%s", error);
    mcm_rawpeer_reply reply;
    ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), 0);
    return peer;
}

START_TEST(scp_logs_how_associations_end)
{
    static const unsigned char half_pdu[] = {0x04, 0, 0, 0, 0, 100, 0, 0, 0, 96};
    static const unsigned char partial_header[] = {0x04, 0, 0};
    static const unsigned char unknown_pdu[] = {0x55, 0, 0, 0, 0, 2, 'x', 'x'};
    memset(scp_log, 0, sizeof scp_log);
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_scp_options opts;
    mcm_fixture_options(&f, &opts);
    opts.log = capture_scp_log;
    opts.log_level = MCM_LOG_DEBUG;
    opts.acse_timeout_seconds = 1;
    opts.dimse_timeout_seconds = 1;
    mcm_fixture_start(&f, &opts);

    mcm_rawpeer *peer = raw_connect(f.port, "RELEASES");
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    ASSERT_LOGGED("RELEASES: association released");

    peer = raw_connect(f.port, "ABORTS");
    ck_assert_int_eq(mcm_rawpeer_abort(peer), 0);
    mcm_rawpeer_free(peer);
    ASSERT_LOGGED("ABORTS: association aborted by the peer");

    peer = raw_connect(f.port, "DROPS");
    ck_assert_int_eq(mcm_rawpeer_drop(peer), 0);
    mcm_rawpeer_free(peer);
    ASSERT_LOGGED("DROPS: association aborted by the peer");

    peer = raw_connect(f.port, "MIDSET");
    ck_assert_int_eq(mcm_rawpeer_drop_mid_dataset(peer), 0);
    mcm_rawpeer_free(peer);
    ASSERT_LOGGED("MIDSET: association aborted by the peer during a request");

    peer = raw_connect(f.port, "HALFPDU");
    ck_assert_int_eq(mcm_rawpeer_send_raw(peer, half_pdu, sizeof half_pdu, 1), 0);
    ASSERT_LOGGED("HALFPDU: association aborted: connection closed by the peer: DIMSE Failed to receive message: "
                  "DIMSE Read PDV failed: DUL network closed");
    mcm_rawpeer_free(peer);

    peer = raw_connect(f.port, "BADPDU");
    ck_assert_int_eq(mcm_rawpeer_send_raw(peer, unknown_pdu, sizeof unknown_pdu, 0), 0);
    ASSERT_LOGGED("BADPDU: association aborted: invalid PDU: ");
    mcm_rawpeer_free(peer);

    peer = raw_connect(f.port, "STALLS");
    ck_assert_int_eq(mcm_rawpeer_send_raw(peer, partial_header, sizeof partial_header, 0), 0);
    ASSERT_LOGGED("STALLS: association aborted: timeout: ");
    mcm_rawpeer_free(peer);

    ck_assert_int_eq(mcm_rawpeer_silent_connection(f.port, 2500), 0);
    ASSERT_LOGGED("association not received: timeout: DUL network read timeout");

    /* None of it cost the SCP anything: a new association is served. */
    peer = raw_connect(f.port, "AFTER");
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    ASSERT_LOGGED("AFTER: association released");
    mcm_fixture_stop(&f);
    mcm_fixture_cleanup(&f);
}
END_TEST

Suite *mcm_suite_conditions(void)
{
    Suite *s = suite_create("conditions");
    TCase *exchange = tcase_create("exchange");
    tcase_set_timeout(exchange, 120);
    tcase_add_test(exchange, exchange_peer_aborts);
    tcase_add_test(exchange, exchange_peer_closes);
    tcase_add_test(exchange, exchange_peer_releases);
    tcase_add_test(exchange, exchange_connection_closed_mid_pdu);
    tcase_add_test(exchange, exchange_stalls_mid_header);
    tcase_add_test(exchange, exchange_slow_peer);
    tcase_add_test(exchange, exchange_invalid_pdus);
    suite_add_tcase(s, exchange);

    TCase *associate = tcase_create("associate");
    tcase_set_timeout(associate, 120);
    tcase_add_test(associate, associate_peer_aborts);
    tcase_add_test(associate, associate_peer_closes);
    tcase_add_test(associate, associate_peer_silent);
    tcase_add_test(associate, associate_rejected);
    tcase_add_test(associate, connect_refused);
    tcase_add_test(associate, connect_unknown_host);
    tcase_add_test(associate, connect_timeout);
    suite_add_tcase(s, associate);

    TCase *release = tcase_create("release");
    tcase_set_timeout(release, 120);
    tcase_add_test(release, release_answered);
    tcase_add_test(release, release_peer_silent);
    tcase_add_test(release, release_peer_aborts);
    suite_add_tcase(s, release);

    TCase *scp = tcase_create("scp");
    tcase_set_timeout(scp, 180);
    tcase_add_test(scp, scp_logs_how_associations_end);
    suite_add_tcase(s, scp);
    return s;
}
