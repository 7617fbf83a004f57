/*
 * tests/support/scp_fixture.h: an SCP running in the test process on 127.0.0.1 (a free port), in its own
 * scratch directory, with a test media writer that writes real files and can be told to hold a
 * job in CREATING, fail it or defer it (tests/support/scp_fixture.c). Used by the network suites.
 */
#ifndef MCM_TESTS_SCP_FIXTURE_H
#define MCM_TESTS_SCP_FIXTURE_H

#include <dcmmcm.h>

#include <pthread.h>
#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the test writer does with the next jobs. */
typedef enum mcm_fixture_mode {
    MCM_FIXTURE_COPY = 0, /* copy every instance into output/<job UID>/, one volume, pieces = copies */
    MCM_FIXTURE_HOLD = 1, /* wait (in CREATING) until released or told to stop, then copy */
    MCM_FIXTURE_FAIL = 2, /* mcm_media_fail(MCD_FAILURE) */
    MCM_FIXTURE_DEFER = 3 /* mcm_media_defer(OUT_OF_SUPPLIES, an hour) */
} mcm_fixture_mode;

typedef struct mcm_fixture {
    char *dir; /* scratch directory (removed by mcm_fixture_cleanup) */
    char storage[4096];
    char database[4096];
    char output[4096];
    mcm_scp *scp;
    pthread_t thread;
    int running;
    int run_rc;
    uint16_t port;
    /* Writer control and counters (any thread). */
    atomic_int mode;          /* mcm_fixture_mode */
    atomic_int interruptible; /* HOLD: what the writer declares (default 1) */
    atomic_int release;       /* HOLD: 1 lets held jobs finish */
    atomic_int holding;       /* HOLD: writers currently waiting */
    atomic_int written;       /* jobs completed by the writer */
    atomic_int stopped;       /* writers that saw mcm_media_should_stop() */
    atomic_int log_lines;     /* INFO lines logged by the SCP */
} mcm_fixture;

/* A new fixture in *f with its scratch directory (no SCP yet). */
void mcm_fixture_init(mcm_fixture *f);
/* Options pointing at the fixture's storage, database, writer and log; port 0, bound to 127.0.0.1. */
void mcm_fixture_options(mcm_fixture *f, mcm_scp_options *opts);
/* mcm_scp_new() with opts and mcm_scp_run() on a thread; asserts success. */
void mcm_fixture_start(mcm_fixture *f, const mcm_scp_options *opts);
/* Start with mcm_fixture_options() as they are. */
void mcm_fixture_start_default(mcm_fixture *f);
/* mcm_scp_stop(), join, check run returned MCM_OK, mcm_scp_free(). */
void mcm_fixture_stop(mcm_fixture *f);
/* Stop if running, remove the scratch directory. */
void mcm_fixture_cleanup(mcm_fixture *f);

/* SCU options for the fixture (calling "TESTSCU", called "MCMSCP", 127.0.0.1:port). */
void mcm_fixture_scu_options(const mcm_fixture *f, mcm_scu_options *opts);
/* Connect an SCU (asserts success). store_files may be NULL. */
mcm_scu *mcm_fixture_connect(const mcm_fixture *f, const char *const *store_files, size_t store_file_count);

/* Write count CT images into the fixture's scratch directory; paths[i] (4096 bytes each) and
 * uids[i] (65 bytes each) receive the file and SOP Instance UID. */
void mcm_fixture_make_images(mcm_fixture *f, size_t count, char (*paths)[4096], char (*uids)[65]);

/* A request referencing CT instances by UID. */
mcm_request *mcm_fixture_request(char (*uids)[65], size_t count);

/* Poll mcm_scp_get_job() until uid is in state (or, for MCM_JOB_DELETED, gone), up to 60 s
 * (a bound for a broken build, not a timing assertion). Returns 1 if reached. */
int mcm_fixture_wait_state(mcm_fixture *f, const char *uid, mcm_job_state state);
/* Wait until the writer holds n jobs. */
int mcm_fixture_wait_holding(mcm_fixture *f, int n);
/* The job's state in the store (MCM_JOB_DELETED if absent). */
mcm_job_state mcm_fixture_state(mcm_fixture *f, const char *uid);

#ifdef __cplusplus
}
#endif

#endif
