/*
 * tests/dcmtk/suite_nagle_scp.c: round trips against our SCP from a peer that leaves Nagle's algorithm
 * on (DCMTK's DcmSCU with no transport layer of ours and TCP_NODELAY unset in the environment, as
 * Debian's DCMTK 3.6.7 behaves by default). With TCP_NODELAY + TCP_QUICKACK at our end alone, a
 * C-ECHO or N-GET round trip must not wait for a delayed ACK: FAIL if the median is 10 ms or more
 * (a timed assertion the issue asks for explicitly; a delayed-ACK stall costs 40-88 ms, DESIGN.md).
 * The untuned SCP is measured too and only reported, for comparison.
 */
#include "rawpeer.h"
#include "scp_fixture.h"
#include "testutil.h"

#include <check.h>
#include <dcmmcm.h>

#include <stdio.h>
#include <stdlib.h>

static void measure(int tuning, int rounds, double *echo_ms, double *get_ms)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_scp_options opts;
    mcm_fixture_options(&f, &opts);
    opts.tcp_tuning = tuning;
    mcm_fixture_start(&f, &opts);
    char error[256] = "";
    int rc = mcm_test_nagle_client(f.port, "MCMSCP", MCM_TEST_CT_IMAGE, "1.2.826.0.1.3680043.10.1.1", rounds, echo_ms,
                                   get_ms, error);
    ck_assert_msg(rc == 0, "Nagle client: %s", error);
    mcm_fixture_cleanup(&f);
}

START_TEST(test_nagle_peer_round_trips)
{
    /* The peer must really leave Nagle on: DCMTK reads this variable on every connect. */
    unsetenv("TCP_NODELAY");
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR); /* DcmSCU logs every request otherwise */
    int valgrind = mcm_test_under_valgrind();
    int rounds = valgrind ? 20 : 300;
    double echo_tuned = 0, get_tuned = 0, echo_untuned = 0, get_untuned = 0;
    measure(1, rounds, &echo_tuned, &get_tuned);
    /* Untuned: every round trip may stall on a delayed ACK, so a few are enough to show it. */
    measure(0, valgrind ? 4 : 12, &echo_untuned, &get_untuned);
    printf("nagle_scp: peer with Nagle on, %d round trips: tuned SCP median C-ECHO %.3f ms, N-GET %.3f ms; "
           "untuned SCP median C-ECHO %.3f ms, N-GET %.3f ms\n",
           rounds, echo_tuned, get_tuned, echo_untuned, get_untuned);
    fflush(stdout);
    if (!valgrind) { /* valgrind's slowdown alone exceeds the bound; there it is a report only */
        ck_assert_msg(echo_tuned < 10.0, "C-ECHO median %.3f ms with a Nagle peer", echo_tuned);
        ck_assert_msg(get_tuned < 10.0, "N-GET median %.3f ms with a Nagle peer", get_tuned);
    }
}
END_TEST

Suite *mcm_suite_nagle_scp(void)
{
    Suite *s = suite_create("nagle_scp");
    TCase *tc = tcase_create("round trips");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_nagle_peer_round_trips);
    suite_add_tcase(s, tc);
    return s;
}
