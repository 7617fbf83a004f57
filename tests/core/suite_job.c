/*
 * tests/core/suite_job.c: the lifecycle state machine (mcm_job_next, digest section 6 with A1-A4) and the
 * job object (lib/core/job.c): one test per row of the digest's state table, named after the row; every
 * (state, event) pair in one table; refusal statuses; Execution Status Info terms (digest 4.2, A4);
 * the job's results, presence marks, names and parsing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcmmcm.h"
#include "core/error.h"
#include "core/job_internal.h"
#include "core/request_internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define CT_IMAGE "1.2.840.10008.5.1.4.1.1.2"
#define JOB_UID "1.2.826.0.1.3680043.2.1125.9.1"

static const mcm_job_state all_states[] = {MCM_JOB_ABSENT, MCM_JOB_IDLE,    MCM_JOB_PENDING, MCM_JOB_CREATING,
                                           MCM_JOB_DONE,   MCM_JOB_FAILURE, MCM_JOB_DELETED};
static const mcm_job_event_type all_events[] = {MCM_EVENT_CREATE,   MCM_EVENT_INITIATE, MCM_EVENT_CANCEL,
                                                MCM_EVENT_GET,      MCM_EVENT_START,    MCM_EVENT_TRANSIENT,
                                                MCM_EVENT_COMPLETE, MCM_EVENT_FAIL,     MCM_EVENT_EXPIRE};

/* The Execution Status Info a job in state typically carries. */
static const char *typical_info(mcm_job_state state)
{
    switch (state) {
    case MCM_JOB_IDLE:
    case MCM_JOB_CREATING:
    case MCM_JOB_DONE: return "NORMAL";
    case MCM_JOB_PENDING: return "QUEUED";
    case MCM_JOB_FAILURE: return "PROC_FAILURE";
    default: return NULL;
    }
}

static mcm_job_event event_of(mcm_job_event_type type)
{
    mcm_job_event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    return e;
}

/* Run event on state (with its typical info) and check everything that comes out. info NULL: no
 * Execution Status Info (the instance does not exist). */
static void expect_transition(mcm_job_state state, const char *current_info, const mcm_job_event *event, int rc,
                              uint16_t status, mcm_job_state to, const char *info)
{
    mcm_job_transition t;
    memset(&t, 0x5A, sizeof t);
    int got = mcm_job_next(state, current_info, event, &t);
    const char *from = mcm_job_state_name(state);
    ck_assert_msg(got == rc, "%s + event %d: rc %d, want %d (%s)", from, event->type, got, rc, mcm_last_error());
    ck_assert_msg(t.status == status, "%s + event %d: status 0x%04X, want 0x%04X", from, event->type, t.status, status);
    ck_assert_msg(t.state == to, "%s + event %d: state %s, want %s", from, event->type, mcm_job_state_name(t.state),
                  mcm_job_state_name(to));
    if (info == NULL)
        ck_assert_msg(t.info == NULL, "%s + event %d: info \"%s\", want none", from, event->type, t.info);
    else
        ck_assert_msg(t.info != NULL && strcmp(t.info, info) == 0, "%s + event %d: info \"%s\", want \"%s\"", from,
                      event->type, t.info ? t.info : "(null)", info);
    /* A gone instance has no info, whatever the caller passed (job.h). */
    if (state == MCM_JOB_ABSENT || state == MCM_JOB_DELETED)
        current_info = NULL;
    int changed = state != to || (current_info == NULL) != (info == NULL) ||
                  (current_info != NULL && info != NULL && strcmp(current_info, info) != 0);
    if (rc != MCM_OK)
        changed = 0;
    ck_assert_msg(t.changed == changed, "%s + event %d: changed %d", from, event->type, t.changed);
}

/* The same with a plain event of type. */
static void expect_plain(mcm_job_state state, mcm_job_event_type type, int rc, uint16_t status, mcm_job_state to,
                         const char *info)
{
    mcm_job_event e = event_of(type);
    expect_transition(state, typical_info(state), &e, rc, status, to, info);
}

/* ---- one test per row of the digest's table (section 6) ---- */

START_TEST(absent__ncreate_valid)
{
    expect_plain(MCM_JOB_ABSENT, MCM_EVENT_CREATE, MCM_OK, 0x0000, MCM_JOB_IDLE, "NORMAL");
}
END_TEST

START_TEST(absent__ncreate_uid_already_in_use)
{
    /* The SCP finds the UID in its store: the instance exists, whatever its state. */
    for (size_t i = 0; i < COUNT(all_states); i++) {
        mcm_job_state s = all_states[i];
        if (s == MCM_JOB_ABSENT || s == MCM_JOB_DELETED)
            continue;
        expect_plain(s, MCM_EVENT_CREATE, MCM_OK, 0x0111, s, typical_info(s));
        /* A refusal found by validation does not hide the duplicate. */
        mcm_job_event e = event_of(MCM_EVENT_CREATE);
        e.refusal = 0x0120;
        expect_transition(s, typical_info(s), &e, MCM_OK, 0x0111, s, typical_info(s));
    }
    /* ... or the validation of a new instance found it (passed as a refusal). */
    mcm_job_event e = event_of(MCM_EVENT_CREATE);
    e.refusal = 0x0111;
    expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_OK, 0x0111, MCM_JOB_ABSENT, NULL);
}
END_TEST

START_TEST(absent__ncreate_malformed_uid)
{
    mcm_job_event e = event_of(MCM_EVENT_CREATE);
    e.refusal = 0x0117;
    expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_OK, 0x0117, MCM_JOB_ABSENT, NULL);
}
END_TEST

START_TEST(absent__ncreate_without_sequence_or_item_attributes)
{
    mcm_job_event e = event_of(MCM_EVENT_CREATE);
    e.refusal = 0x0120;
    expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_OK, 0x0120, MCM_JOB_ABSENT, NULL);
    e.refusal = 0x0121;
    expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_OK, 0x0121, MCM_JOB_ABSENT, NULL);
}
END_TEST

START_TEST(absent__ncreate_scp_full)
{
    mcm_job_event e = event_of(MCM_EVENT_CREATE);
    e.refusal = 0x0213;
    expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_OK, 0x0213, MCM_JOB_ABSENT, NULL);
}
END_TEST

START_TEST(absent__naction_or_nget)
{
    /* Also after deletion (digest 6, retention row: "Afterwards N-GET and N-ACTION get 0112"). */
    static const mcm_job_state gone[] = {MCM_JOB_ABSENT, MCM_JOB_DELETED};
    for (size_t i = 0; i < COUNT(gone); i++) {
        expect_plain(gone[i], MCM_EVENT_INITIATE, MCM_OK, 0x0112, gone[i], NULL);
        expect_plain(gone[i], MCM_EVENT_CANCEL, MCM_OK, 0x0112, gone[i], NULL);
        expect_plain(gone[i], MCM_EVENT_GET, MCM_OK, 0x0112, gone[i], NULL);
        /* A stale info passed in for a gone instance is not reported. */
        mcm_job_event e = event_of(MCM_EVENT_GET);
        expect_transition(gone[i], "NORMAL", &e, MCM_OK, 0x0112, gone[i], NULL);
        /* Flags and refusals change nothing. */
        e = event_of(MCM_EVENT_INITIATE);
        e.refusal = 0x0115;
        expect_transition(gone[i], NULL, &e, MCM_OK, 0x0112, gone[i], NULL);
        e = event_of(MCM_EVENT_CANCEL);
        e.cancel_denied = 1;
        e.not_interruptible = 1;
        expect_transition(gone[i], NULL, &e, MCM_OK, 0x0112, gone[i], NULL);
    }
}
END_TEST

START_TEST(idle__initiate_valid)
{
    expect_plain(MCM_JOB_IDLE, MCM_EVENT_INITIATE, MCM_OK, 0x0000, MCM_JOB_PENDING, "QUEUED");
}
END_TEST

START_TEST(idle__initiate_bad_argument)
{
    mcm_job_event e = event_of(MCM_EVENT_INITIATE);
    e.refusal = 0x0115;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_OK, 0x0115, MCM_JOB_IDLE, "NORMAL");
    e.refusal = 0x0114;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_OK, 0x0114, MCM_JOB_IDLE, "NORMAL");
    /* A refused Initiate does not count (A1): the next one is accepted, not A510. */
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_job_new(&job, JOB_UID), MCM_OK);
    mcm_job_event create = event_of(MCM_EVENT_CREATE);
    ck_assert_int_eq(mcm_job_apply(job, &create, NULL), MCM_OK);
    mcm_job_transition t;
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
    ck_assert_uint_eq(t.status, 0x0114);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    e.refusal = 0;
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
    ck_assert_uint_eq(t.status, 0x0000);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_PENDING);
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
    ck_assert_uint_eq(t.status, 0xA510);
    mcm_job_free(job);
}
END_TEST

START_TEST(idle__cancel)
{
    /* A2: allowed, the instance is deleted. */
    expect_plain(MCM_JOB_IDLE, MCM_EVENT_CANCEL, MCM_OK, 0x0000, MCM_JOB_DELETED, NULL);
    /* not_interruptible only matters while CREATING. */
    mcm_job_event e = event_of(MCM_EVENT_CANCEL);
    e.not_interruptible = 1;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_OK, 0x0000, MCM_JOB_DELETED, NULL);
}
END_TEST

START_TEST(idle__nget)
{
    expect_plain(MCM_JOB_IDLE, MCM_EVENT_GET, MCM_OK, 0x0000, MCM_JOB_IDLE, "NORMAL");
}
END_TEST

START_TEST(pending__initiate_again)
{
    expect_plain(MCM_JOB_PENDING, MCM_EVENT_INITIATE, MCM_OK, 0xA510, MCM_JOB_PENDING, "QUEUED");
    /* Even with bad arguments: the instance was already initiated (A1). */
    mcm_job_event e = event_of(MCM_EVENT_INITIATE);
    e.refusal = 0x0115;
    expect_transition(MCM_JOB_PENDING, "MCD_BUSY", &e, MCM_OK, 0xA510, MCM_JOB_PENDING, "MCD_BUSY");
}
END_TEST

START_TEST(pending__cancel)
{
    expect_plain(MCM_JOB_PENDING, MCM_EVENT_CANCEL, MCM_OK, 0x0000, MCM_JOB_DELETED, NULL);
    mcm_job_event e = event_of(MCM_EVENT_CANCEL);
    e.cancel_denied = 1;
    expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0xC203, MCM_JOB_PENDING, "QUEUED");
}
END_TEST

START_TEST(pending__job_starts)
{
    expect_plain(MCM_JOB_PENDING, MCM_EVENT_START, MCM_OK, 0, MCM_JOB_CREATING, "NORMAL");
    mcm_job_event e = event_of(MCM_EVENT_START);
    expect_transition(MCM_JOB_PENDING, "OUT_OF_SUPPLIES", &e, MCM_OK, 0, MCM_JOB_CREATING, "NORMAL");
}
END_TEST

START_TEST(pending__transient_device_problem)
{
    static const char *const terms[] = {"MCD_BUSY",        "OUT_OF_SUPPLIES", "CHECK_MCD_OP",
                                        "QUEUED",          "CHECK_MCD_SRV",   "INSUFFIC_MEMORY",
                                        "INSUFFIC MEMORY", "MCD_FAILURE",     "TONER_LOW"};
    for (size_t i = 0; i < COUNT(terms); i++) {
        mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
        e.info = terms[i];
        expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0, MCM_JOB_PENDING, terms[i]);
    }
    /* No term: QUEUED; from QUEUED that changes nothing. */
    expect_plain(MCM_JOB_PENDING, MCM_EVENT_TRANSIENT, MCM_OK, 0, MCM_JOB_PENDING, "QUEUED");
    mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
    expect_transition(MCM_JOB_PENDING, "MCD_BUSY", &e, MCM_OK, 0, MCM_JOB_PENDING, "QUEUED");
}
END_TEST

START_TEST(pending__validation_fails)
{
    static const char *const terms[] = {"NO_INSTANCE",   "NOT_SUPPORTED", "INST_OVERSIZED",   "SET_OVERSIZED",
                                        "DUPL_REF_INST", "DIR_PROC_ERR",  "INST_AP_CONFLICT", "UNKNOWN",
                                        "PROC_FAILURE",  "MCD_FAILURE",   "INSUFFIC_MEMORY",  "NO_BLANK_DVD"};
    for (size_t i = 0; i < COUNT(terms); i++) {
        mcm_job_event e = event_of(MCM_EVENT_FAIL);
        e.info = terms[i];
        expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0, MCM_JOB_FAILURE, terms[i]);
    }
    expect_plain(MCM_JOB_PENDING, MCM_EVENT_FAIL, MCM_OK, 0, MCM_JOB_FAILURE, "PROC_FAILURE");
}
END_TEST

START_TEST(creating__initiate_again)
{
    expect_plain(MCM_JOB_CREATING, MCM_EVENT_INITIATE, MCM_OK, 0xA510, MCM_JOB_CREATING, "NORMAL");
}
END_TEST

START_TEST(creating__cancel_interruptible)
{
    expect_plain(MCM_JOB_CREATING, MCM_EVENT_CANCEL, MCM_OK, 0x0000, MCM_JOB_DELETED, NULL);
}
END_TEST

START_TEST(creating__cancel_not_interruptible)
{
    mcm_job_event e = event_of(MCM_EVENT_CANCEL);
    e.not_interruptible = 1;
    expect_transition(MCM_JOB_CREATING, "NORMAL", &e, MCM_OK, 0xC202, MCM_JOB_CREATING, "NORMAL");
    /* C202 is the more precise answer when local policy would deny it too. */
    e.cancel_denied = 1;
    expect_transition(MCM_JOB_CREATING, "NORMAL", &e, MCM_OK, 0xC202, MCM_JOB_CREATING, "NORMAL");
}
END_TEST

START_TEST(creating__success)
{
    expect_plain(MCM_JOB_CREATING, MCM_EVENT_COMPLETE, MCM_OK, 0, MCM_JOB_DONE, "NORMAL");
}
END_TEST

START_TEST(creating__failure)
{
    mcm_job_event e = event_of(MCM_EVENT_FAIL);
    e.info = "MCD_FAILURE";
    expect_transition(MCM_JOB_CREATING, "NORMAL", &e, MCM_OK, 0, MCM_JOB_FAILURE, "MCD_FAILURE");
    expect_plain(MCM_JOB_CREATING, MCM_EVENT_FAIL, MCM_OK, 0, MCM_JOB_FAILURE, "PROC_FAILURE");
}
END_TEST

START_TEST(creating__transient_interruption)
{
    /* A4: CREATING allows only NORMAL, so a transient problem moves the job back to PENDING. */
    mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
    e.info = "OUT_OF_SUPPLIES";
    expect_transition(MCM_JOB_CREATING, "NORMAL", &e, MCM_OK, 0, MCM_JOB_PENDING, "OUT_OF_SUPPLIES");
    expect_plain(MCM_JOB_CREATING, MCM_EVENT_TRANSIENT, MCM_OK, 0, MCM_JOB_PENDING, "QUEUED");
}
END_TEST

START_TEST(done_or_failure__cancel)
{
    /* A3: C201 for both, whatever the flags; the instance stays readable. */
    static const mcm_job_state finished[] = {MCM_JOB_DONE, MCM_JOB_FAILURE};
    for (size_t i = 0; i < COUNT(finished); i++) {
        mcm_job_state s = finished[i];
        expect_plain(s, MCM_EVENT_CANCEL, MCM_OK, 0xC201, s, typical_info(s));
        mcm_job_event e = event_of(MCM_EVENT_CANCEL);
        e.cancel_denied = 1;
        e.not_interruptible = 1;
        expect_transition(s, typical_info(s), &e, MCM_OK, 0xC201, s, typical_info(s));
        expect_plain(s, MCM_EVENT_GET, MCM_OK, 0x0000, s, typical_info(s));
    }
}
END_TEST

START_TEST(done_or_failure__initiate_again)
{
    expect_plain(MCM_JOB_DONE, MCM_EVENT_INITIATE, MCM_OK, 0xA510, MCM_JOB_DONE, "NORMAL");
    expect_plain(MCM_JOB_FAILURE, MCM_EVENT_INITIATE, MCM_OK, 0xA510, MCM_JOB_FAILURE, "PROC_FAILURE");
}
END_TEST

START_TEST(any__cancel_refused_for_another_reason)
{
    static const mcm_job_state cancellable[] = {MCM_JOB_IDLE, MCM_JOB_PENDING, MCM_JOB_CREATING};
    for (size_t i = 0; i < COUNT(cancellable); i++) {
        mcm_job_event e = event_of(MCM_EVENT_CANCEL);
        e.cancel_denied = 1;
        mcm_job_state s = cancellable[i];
        expect_transition(s, typical_info(s), &e, MCM_OK, 0xC203, s, typical_info(s));
    }
}
END_TEST

START_TEST(any__nget)
{
    static const mcm_job_state existing[] = {MCM_JOB_IDLE, MCM_JOB_PENDING, MCM_JOB_CREATING, MCM_JOB_DONE,
                                             MCM_JOB_FAILURE};
    static const char *const infos[] = {"NORMAL", "OUT_OF_SUPPLIES", "NORMAL", "NORMAL", "NO_INSTANCE"};
    for (size_t i = 0; i < COUNT(existing); i++) {
        mcm_job_event e = event_of(MCM_EVENT_GET);
        expect_transition(existing[i], infos[i], &e, MCM_OK, 0x0000, existing[i], infos[i]);
    }
}
END_TEST

START_TEST(idle_done_or_failure__retention_expires)
{
    static const mcm_job_state expirable[] = {MCM_JOB_IDLE, MCM_JOB_DONE, MCM_JOB_FAILURE};
    for (size_t i = 0; i < COUNT(expirable); i++)
        expect_plain(expirable[i], MCM_EVENT_EXPIRE, MCM_OK, 0, MCM_JOB_DELETED, NULL);
}
END_TEST

/* ---- every (state, event) pair ---- */

typedef struct grid_cell {
    mcm_job_state state;
    mcm_job_event_type event;
    int in_digest_table; /* 1: a row of digest section 6 covers the pair (tested by name above) */
    int rc;
    uint16_t status;
    mcm_job_state to;
    const char *info;
} grid_cell;

#define A MCM_JOB_ABSENT
#define I MCM_JOB_IDLE
#define P MCM_JOB_PENDING
#define C MCM_JOB_CREATING
#define D MCM_JOB_DONE
#define X MCM_JOB_FAILURE
#define Z MCM_JOB_DELETED
#define ESTATE MCM_ESTATE

/* Every pair with a plain event (no refusal, no flag, no info term) from the state's typical info. */
static const grid_cell grid[] = {
    {A, MCM_EVENT_CREATE, 1, MCM_OK, 0x0000, I, "NORMAL"},
    {A, MCM_EVENT_INITIATE, 1, MCM_OK, 0x0112, A, NULL},
    {A, MCM_EVENT_CANCEL, 1, MCM_OK, 0x0112, A, NULL},
    {A, MCM_EVENT_GET, 1, MCM_OK, 0x0112, A, NULL},
    {A, MCM_EVENT_START, 0, ESTATE, 0, A, NULL},
    {A, MCM_EVENT_TRANSIENT, 0, ESTATE, 0, A, NULL},
    {A, MCM_EVENT_COMPLETE, 0, ESTATE, 0, A, NULL},
    {A, MCM_EVENT_FAIL, 0, ESTATE, 0, A, NULL},
    {A, MCM_EVENT_EXPIRE, 0, ESTATE, 0, A, NULL},

    {I, MCM_EVENT_CREATE, 1, MCM_OK, 0x0111, I, "NORMAL"},
    {I, MCM_EVENT_INITIATE, 1, MCM_OK, 0x0000, P, "QUEUED"},
    {I, MCM_EVENT_CANCEL, 1, MCM_OK, 0x0000, Z, NULL},
    {I, MCM_EVENT_GET, 1, MCM_OK, 0x0000, I, "NORMAL"},
    {I, MCM_EVENT_START, 0, ESTATE, 0, I, "NORMAL"},
    {I, MCM_EVENT_TRANSIENT, 0, ESTATE, 0, I, "NORMAL"},
    {I, MCM_EVENT_COMPLETE, 0, ESTATE, 0, I, "NORMAL"},
    {I, MCM_EVENT_FAIL, 0, ESTATE, 0, I, "NORMAL"},
    {I, MCM_EVENT_EXPIRE, 1, MCM_OK, 0, Z, NULL},

    {P, MCM_EVENT_CREATE, 1, MCM_OK, 0x0111, P, "QUEUED"},
    {P, MCM_EVENT_INITIATE, 1, MCM_OK, 0xA510, P, "QUEUED"},
    {P, MCM_EVENT_CANCEL, 1, MCM_OK, 0x0000, Z, NULL},
    {P, MCM_EVENT_GET, 1, MCM_OK, 0x0000, P, "QUEUED"},
    {P, MCM_EVENT_START, 1, MCM_OK, 0, C, "NORMAL"},
    {P, MCM_EVENT_TRANSIENT, 1, MCM_OK, 0, P, "QUEUED"},
    {P, MCM_EVENT_COMPLETE, 0, ESTATE, 0, P, "QUEUED"},
    {P, MCM_EVENT_FAIL, 1, MCM_OK, 0, X, "PROC_FAILURE"},
    {P, MCM_EVENT_EXPIRE, 0, ESTATE, 0, P, "QUEUED"},

    {C, MCM_EVENT_CREATE, 1, MCM_OK, 0x0111, C, "NORMAL"},
    {C, MCM_EVENT_INITIATE, 1, MCM_OK, 0xA510, C, "NORMAL"},
    {C, MCM_EVENT_CANCEL, 1, MCM_OK, 0x0000, Z, NULL},
    {C, MCM_EVENT_GET, 1, MCM_OK, 0x0000, C, "NORMAL"},
    {C, MCM_EVENT_START, 0, ESTATE, 0, C, "NORMAL"},
    {C, MCM_EVENT_TRANSIENT, 1, MCM_OK, 0, P, "QUEUED"},
    {C, MCM_EVENT_COMPLETE, 1, MCM_OK, 0, D, "NORMAL"},
    {C, MCM_EVENT_FAIL, 1, MCM_OK, 0, X, "PROC_FAILURE"},
    {C, MCM_EVENT_EXPIRE, 0, ESTATE, 0, C, "NORMAL"},

    {D, MCM_EVENT_CREATE, 1, MCM_OK, 0x0111, D, "NORMAL"},
    {D, MCM_EVENT_INITIATE, 1, MCM_OK, 0xA510, D, "NORMAL"},
    {D, MCM_EVENT_CANCEL, 1, MCM_OK, 0xC201, D, "NORMAL"},
    {D, MCM_EVENT_GET, 1, MCM_OK, 0x0000, D, "NORMAL"},
    {D, MCM_EVENT_START, 0, ESTATE, 0, D, "NORMAL"},
    {D, MCM_EVENT_TRANSIENT, 0, ESTATE, 0, D, "NORMAL"},
    {D, MCM_EVENT_COMPLETE, 0, ESTATE, 0, D, "NORMAL"},
    {D, MCM_EVENT_FAIL, 0, ESTATE, 0, D, "NORMAL"},
    {D, MCM_EVENT_EXPIRE, 1, MCM_OK, 0, Z, NULL},

    {X, MCM_EVENT_CREATE, 1, MCM_OK, 0x0111, X, "PROC_FAILURE"},
    {X, MCM_EVENT_INITIATE, 1, MCM_OK, 0xA510, X, "PROC_FAILURE"},
    {X, MCM_EVENT_CANCEL, 1, MCM_OK, 0xC201, X, "PROC_FAILURE"},
    {X, MCM_EVENT_GET, 1, MCM_OK, 0x0000, X, "PROC_FAILURE"},
    {X, MCM_EVENT_START, 0, ESTATE, 0, X, "PROC_FAILURE"},
    {X, MCM_EVENT_TRANSIENT, 0, ESTATE, 0, X, "PROC_FAILURE"},
    {X, MCM_EVENT_COMPLETE, 0, ESTATE, 0, X, "PROC_FAILURE"},
    {X, MCM_EVENT_FAIL, 0, ESTATE, 0, X, "PROC_FAILURE"},
    {X, MCM_EVENT_EXPIRE, 1, MCM_OK, 0, Z, NULL},

    /* A deleted instance is gone: a new N-CREATE may use the UID again, like an absent one. */
    {Z, MCM_EVENT_CREATE, 0, MCM_OK, 0x0000, I, "NORMAL"},
    {Z, MCM_EVENT_INITIATE, 0, MCM_OK, 0x0112, Z, NULL},
    {Z, MCM_EVENT_CANCEL, 0, MCM_OK, 0x0112, Z, NULL},
    {Z, MCM_EVENT_GET, 0, MCM_OK, 0x0112, Z, NULL},
    {Z, MCM_EVENT_START, 0, ESTATE, 0, Z, NULL},
    {Z, MCM_EVENT_TRANSIENT, 0, ESTATE, 0, Z, NULL},
    {Z, MCM_EVENT_COMPLETE, 0, ESTATE, 0, Z, NULL},
    {Z, MCM_EVENT_FAIL, 0, ESTATE, 0, Z, NULL},
    {Z, MCM_EVENT_EXPIRE, 0, ESTATE, 0, Z, NULL},
};

#undef A
#undef I
#undef P
#undef C
#undef D
#undef X
#undef Z

START_TEST(every_state_event_pair)
{
    ck_assert_uint_eq(COUNT(grid), COUNT(all_states) * COUNT(all_events));
    for (size_t s = 0; s < COUNT(all_states); s++)
        for (size_t e = 0; e < COUNT(all_events); e++) {
            const grid_cell *cell = &grid[s * COUNT(all_events) + e];
            ck_assert_int_eq(cell->state, all_states[s]);
            ck_assert_int_eq(cell->event, all_events[e]);
            mcm_clear_error();
            expect_plain(cell->state, cell->event, cell->rc, cell->status, cell->to, cell->info);
            if (cell->rc != MCM_OK)
                ck_assert_str_ne(mcm_last_error(), "");
        }
}
END_TEST

START_TEST(pairs_outside_the_table_change_nothing)
{
    /* The pairs no row of the digest covers: a device or housekeeping event where it is illegal
     * (MCM_ESTATE), a wire event on a deleted instance, an N-CREATE on an existing UID. None of them
     * moves the instance, whatever flags the event carries. */
    size_t outside = 0;
    for (size_t i = 0; i < COUNT(grid); i++) {
        const grid_cell *cell = &grid[i];
        if (cell->in_digest_table)
            continue;
        outside++;
        mcm_job_event e = event_of(cell->event);
        e.not_interruptible = 1;
        e.cancel_denied = 1;
        e.info = "MCD_BUSY";
        mcm_job_transition t;
        int rc = mcm_job_next(cell->state, typical_info(cell->state), &e, &t);
        ck_assert_int_eq(rc, cell->rc);
        if (rc != MCM_OK) {
            ck_assert_int_eq(t.state, cell->state);
            ck_assert_uint_eq(t.status, 0);
            ck_assert_int_eq(t.changed, 0);
        }
    }
    ck_assert_uint_eq(outside, 5 + 9 + 4 + 2 + 2 + 4 + 4);
}
END_TEST

/* The questions the job store asks (job_internal.h): they agree with mcm_job_next() on every pair
 * of the grid, answer as the digest's summary of legal transitions says, and leave this thread's
 * last error alone (the store asks them on calls that succeed). */
START_TEST(store_questions_follow_the_machine)
{
    for (size_t i = 0; i < COUNT(grid); i++) {
        const grid_cell *cell = &grid[i];
        mcm_job_event e = event_of(cell->event);
        mcm_fail(MCM_EIO, "a caller's earlier error");
        int applies = mcm_job_event_applies(cell->state, &e);
        ck_assert_str_eq(mcm_last_error(), "a caller's earlier error");
        ck_assert_msg(applies == (cell->rc == MCM_OK && cell->status == 0x0000), "%s + event %d: applies %d",
                      mcm_job_state_name(cell->state), cell->event, applies);
    }
    /* Refused events do not apply, where mcm_job_next() would answer with a refusal status. */
    mcm_job_event refused = event_of(MCM_EVENT_INITIATE);
    refused.refusal = MCM_STATUS_INVALID_ARGUMENT_VALUE;
    ck_assert_int_eq(mcm_job_event_applies(MCM_JOB_IDLE, &refused), 0);
    mcm_job_event bad_term = {.type = MCM_EVENT_TRANSIENT, .info = "NO_INSTANCE"};
    ck_assert_int_eq(mcm_job_event_applies(MCM_JOB_CREATING, &bad_term), 0);
    ck_assert_int_eq(mcm_job_event_applies(MCM_JOB_PENDING, NULL), 0);
    ck_assert_int_eq(mcm_job_event_applies((mcm_job_state)99, &refused), 0);

    /* Digest 6: IDLE -> PENDING -> CREATING -> {DONE, FAILURE}; nothing leaves DONE or FAILURE but
     * deletion; ABSENT and DELETED are no stored job at all. */
    static const struct {
        mcm_job_state state;
        int exists, live;
    } expected[] = {
        {MCM_JOB_ABSENT, 0, 0}, {MCM_JOB_IDLE, 1, 1},    {MCM_JOB_PENDING, 1, 1}, {MCM_JOB_CREATING, 1, 1},
        {MCM_JOB_DONE, 1, 0},   {MCM_JOB_FAILURE, 1, 0}, {MCM_JOB_DELETED, 0, 0}, {(mcm_job_state)99, 0, 0},
    };
    mcm_fail(MCM_EIO, "a caller's earlier error");
    for (size_t i = 0; i < COUNT(expected); i++) {
        ck_assert_msg(mcm_job_state_exists(expected[i].state) == expected[i].exists, "exists(%s)",
                      mcm_job_state_name(expected[i].state));
        ck_assert_msg(mcm_job_state_live(expected[i].state) == expected[i].live, "live(%s)",
                      mcm_job_state_name(expected[i].state));
    }
    ck_assert_str_eq(mcm_last_error(), "a caller's earlier error");
    /* mcm_job_next() itself still reports what the machine refused. */
    mcm_job_event start = event_of(MCM_EVENT_START);
    mcm_job_transition t;
    ck_assert_int_eq(mcm_job_next(MCM_JOB_DONE, "NORMAL", &start, &t), MCM_ESTATE);
    ck_assert_str_eq(mcm_last_error(), "a job starts only from PENDING");
}
END_TEST

START_TEST(bad_info_terms_are_einval)
{
    /* TRANSIENT takes PENDING terms, FAIL takes FAILURE terms (digest 4.2, A4). */
    static const char *const not_pending[] = {
        "NORMAL", "NO_INSTANCE",       "DUPL_REF_INST", "PROC_FAILURE", "queued",
        "",       "TOO_LONG_A_TERM_X", "MCD-BUSY",      " QUEUED",      "QUEUED "};
    static const char *const not_failure[] = {"NORMAL",       "QUEUED",  "MCD_BUSY", "OUT_OF_SUPPLIES",
                                              "CHECK_MCD_OP", "unknown", "",         "NO INSTANCE\\X"};
    static const mcm_job_state sources[] = {MCM_JOB_PENDING, MCM_JOB_CREATING};
    for (size_t s = 0; s < COUNT(sources); s++) {
        mcm_job_state from = sources[s];
        for (size_t i = 0; i < COUNT(not_pending); i++) {
            mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
            e.info = not_pending[i];
            expect_transition(from, typical_info(from), &e, MCM_EINVAL, 0, from, typical_info(from));
        }
        for (size_t i = 0; i < COUNT(not_failure); i++) {
            mcm_job_event e = event_of(MCM_EVENT_FAIL);
            e.info = not_failure[i];
            expect_transition(from, typical_info(from), &e, MCM_EINVAL, 0, from, typical_info(from));
        }
    }
    /* An illegal event is MCM_ESTATE before its term is looked at. */
    mcm_job_event e = event_of(MCM_EVENT_FAIL);
    e.info = "NORMAL";
    expect_transition(MCM_JOB_DONE, "NORMAL", &e, MCM_ESTATE, 0, MCM_JOB_DONE, "NORMAL");
    /* Terms are ignored by the events that set their own. */
    e = event_of(MCM_EVENT_START);
    e.info = "garbage term";
    expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0, MCM_JOB_CREATING, "NORMAL");
}
END_TEST

START_TEST(bad_arguments)
{
    mcm_job_event e = event_of(MCM_EVENT_GET);
    mcm_job_transition t;
    ck_assert_int_eq(mcm_job_next(MCM_JOB_IDLE, "NORMAL", NULL, &t), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_next(MCM_JOB_IDLE, "NORMAL", &e, NULL), MCM_EINVAL);
    /* On error *out holds the unchanged state (job.h), also for these. */
    memset(&t, 0x5A, sizeof t);
    ck_assert_int_eq(mcm_job_next(MCM_JOB_IDLE, "NORMAL", NULL, &t), MCM_EINVAL);
    ck_assert_int_eq(t.state, MCM_JOB_IDLE);
    ck_assert_uint_eq(t.status, 0);
    ck_assert_int_eq(t.changed, 0);
    ck_assert_str_eq(t.info, "NORMAL");
    memset(&t, 0x5A, sizeof t);
    ck_assert_int_eq(mcm_job_next((mcm_job_state)7, NULL, &e, &t), MCM_EINVAL);
    ck_assert_int_eq(t.state, (mcm_job_state)7);
    ck_assert_uint_eq(t.status, 0);
    ck_assert_int_eq(t.changed, 0);
    ck_assert_int_eq(mcm_job_next((mcm_job_state)-1, NULL, &e, &t), MCM_EINVAL);
    e.type = (mcm_job_event_type)9;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_EINVAL, 0, MCM_JOB_IDLE, "NORMAL");
    e.type = (mcm_job_event_type)-1;
    expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_EINVAL, 0, MCM_JOB_PENDING, "QUEUED");
}
END_TEST

/* ---- refusal statuses (job.h: CREATE / INITIATE refusal) ---- */

START_TEST(create_refusals)
{
    /* Legal refusals: the N-CREATE Failures an SCP may send (digest 7.2). */
    static const uint16_t legal[] = {0x0105, 0x0106, 0x0110, 0x0111, 0x0117, 0x0118, 0x0120,
                                     0x0121, 0x0124, 0x0210, 0x0211, 0x0212, 0x0213};
    static const mcm_job_state gone[] = {MCM_JOB_ABSENT, MCM_JOB_DELETED};
    for (size_t g = 0; g < COUNT(gone); g++) {
        for (unsigned code = 1; code <= 0xFFFF; code++) {
            int is_legal = 0;
            for (size_t i = 0; i < COUNT(legal); i++)
                is_legal |= legal[i] == code;
            mcm_job_event e = event_of(MCM_EVENT_CREATE);
            e.refusal = (uint16_t)code;
            mcm_job_transition t;
            int rc = mcm_job_next(gone[g], NULL, &e, &t);
            if (rc != (is_legal ? MCM_OK : MCM_EINVAL) || t.state != gone[g] || t.info != NULL || t.changed != 0 ||
                t.status != (is_legal ? code : 0))
                ck_abort_msg("CREATE refusal 0x%04X from %s: rc %d status 0x%04X state %d", code,
                             mcm_job_state_name(gone[g]), rc, t.status, t.state);
        }
    }
    /* Named cases: Warnings (forbidden on N-CREATE), A510 (N-ACTION only), Success-like and unknown. */
    static const uint16_t illegal[] = {0x0107, 0x0116, 0x0001, 0xB000, 0xA510, 0xC201,
                                       0x0122, 0x0112, 0xFF00, 0xFE00, 0x0300};
    for (size_t i = 0; i < COUNT(illegal); i++) {
        mcm_job_event e = event_of(MCM_EVENT_CREATE);
        e.refusal = illegal[i];
        expect_transition(MCM_JOB_ABSENT, NULL, &e, MCM_EINVAL, 0, MCM_JOB_ABSENT, NULL);
    }
}
END_TEST

START_TEST(initiate_refusals)
{
    /* Legal refusals: the N-ACTION Failures an SCP may send in reply to an Initiate (digest 7.4),
     * without the Cancel-only C201-C203 (S.3.2.3.4) and A510, which the machine answers itself for
     * an instance already initiated (A1); a refused Initiate leaves the job IDLE. */
    static const uint16_t legal[] = {0x0110, 0x0112, 0x0114, 0x0115, 0x0117, 0x0118, 0x0119,
                                     0x0123, 0x0124, 0x0210, 0x0211, 0x0212, 0x0213};
    for (unsigned code = 1; code <= 0xFFFF; code++) {
        int is_legal = 0;
        for (size_t i = 0; i < COUNT(legal); i++)
            is_legal |= legal[i] == code;
        mcm_job_event e = event_of(MCM_EVENT_INITIATE);
        e.refusal = (uint16_t)code;
        mcm_job_transition t;
        int rc = mcm_job_next(MCM_JOB_IDLE, "NORMAL", &e, &t);
        if (rc != (is_legal ? MCM_OK : MCM_EINVAL) || t.state != MCM_JOB_IDLE || t.info == NULL ||
            strcmp(t.info, "NORMAL") != 0 || t.changed != 0 || t.status != (is_legal ? code : 0))
            ck_abort_msg("INITIATE refusal 0x%04X: rc %d status 0x%04X state %d", code, rc, t.status, t.state);
    }
    static const uint16_t illegal[] = {0xA510, 0xC201, 0xC202, 0xC203, 0x0001, 0x0107, 0x0105, 0x0120, 0xB123};
    for (size_t i = 0; i < COUNT(illegal); i++) {
        mcm_job_event e = event_of(MCM_EVENT_INITIATE);
        e.refusal = illegal[i];
        expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_EINVAL, 0, MCM_JOB_IDLE, "NORMAL");
    }
}
END_TEST

START_TEST(refusals_ignored_by_other_events)
{
    /* Only CREATE and INITIATE read refusal. */
    mcm_job_event e = event_of(MCM_EVENT_GET);
    e.refusal = 0x0110;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_OK, 0x0000, MCM_JOB_IDLE, "NORMAL");
    e = event_of(MCM_EVENT_CANCEL);
    e.refusal = 0x0110;
    expect_transition(MCM_JOB_IDLE, "NORMAL", &e, MCM_OK, 0x0000, MCM_JOB_DELETED, NULL);
    e = event_of(MCM_EVENT_START);
    e.refusal = 0x0110;
    expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0, MCM_JOB_CREATING, "NORMAL");
}
END_TEST

/* ---- Execution Status Info terms (digest 4.2, A4) ---- */

START_TEST(info_terms_by_state)
{
    enum { N_, P_, F_, PF_, NONE_ };
    static const struct {
        const char *term;
        int allowed; /* N_: IDLE/CREATING/DONE; P_: PENDING; F_: FAILURE; PF_: PENDING or FAILURE */
    } terms[] = {
        {"NORMAL", N_},
        {"QUEUED", P_},
        {"MCD_BUSY", P_},
        {"OUT_OF_SUPPLIES", P_},
        {"CHECK_MCD_OP", P_},
        {"CHECK_MCD_SRV", PF_},
        {"INSUFFIC_MEMORY", PF_},
        {"INSUFFIC MEMORY", PF_},
        {"MCD_FAILURE", PF_},
        {"DIR_PROC_ERR", F_},
        {"DUPL_REF_INST", F_},
        {"INST_AP_CONFLICT", F_},
        {"INST_OVERSIZED", F_},
        {"NO_INSTANCE", F_},
        {"NOT_SUPPORTED", F_},
        {"PROC_FAILURE", F_},
        {"SET_OVERSIZED", F_},
        {"UNKNOWN", F_},
        /* Private terms (C.22.1.3: devices may extend the list) go with PENDING or FAILURE. */
        {"TONER_LOW", PF_},
        {"NO_BLANK_DVD", PF_},
        {"X", PF_},
        {"ROBOT 2 JAMMED", PF_},
        {"ABCDEFGHIJKLMNOP", PF_},
        /* Not a CS value, or padded: never. */
        {"queued", NONE_},
        {"", NONE_},
        {"ABCDEFGHIJKLMNOPQ", NONE_},
        {"MCD-BUSY", NONE_},
        {" QUEUED", NONE_},
        {"QUEUED ", NONE_},
        {"NORMAL ", NONE_},
        {"A\\B", NONE_},
        {"A\nB", NONE_},
        {"INSUFFIC-MEMORY", NONE_},
    };
    for (size_t i = 0; i < COUNT(terms); i++) {
        for (size_t s = 0; s < COUNT(all_states); s++) {
            mcm_job_state state = all_states[s];
            int want;
            switch (terms[i].allowed) {
            case N_: want = state == MCM_JOB_IDLE || state == MCM_JOB_CREATING || state == MCM_JOB_DONE; break;
            case P_: want = state == MCM_JOB_PENDING; break;
            case F_: want = state == MCM_JOB_FAILURE; break;
            case PF_: want = state == MCM_JOB_PENDING || state == MCM_JOB_FAILURE; break;
            default: want = 0;
            }
            ck_assert_msg(mcm_execution_status_info_allowed(state, terms[i].term) == want, "\"%s\" with %s: %d",
                          terms[i].term, mcm_job_state_name(state), !want);
        }
    }
    ck_assert_int_eq(mcm_execution_status_info_allowed(MCM_JOB_PENDING, NULL), 0);
    ck_assert_int_eq(mcm_execution_status_info_allowed((mcm_job_state)42, "NORMAL"), 0);
    ck_assert_int_eq(mcm_execution_status_info_allowed((mcm_job_state)42, "QUEUED"), 0);
}
END_TEST

START_TEST(insufficient_memory_both_spellings)
{
    /* Digest 11: the 2016 text writes INSUFFIC_MEMORY, dicom3tools "INSUFFIC MEMORY": accept both. */
    static const char *const spellings[] = {"INSUFFIC_MEMORY", "INSUFFIC MEMORY"};
    for (size_t i = 0; i < COUNT(spellings); i++) {
        mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
        e.info = spellings[i];
        expect_transition(MCM_JOB_CREATING, "NORMAL", &e, MCM_OK, 0, MCM_JOB_PENDING, spellings[i]);
        e = event_of(MCM_EVENT_FAIL);
        e.info = spellings[i];
        expect_transition(MCM_JOB_PENDING, "QUEUED", &e, MCM_OK, 0, MCM_JOB_FAILURE, spellings[i]);
    }
}
END_TEST

/* ---- the job object ---- */

static mcm_job *new_job(const char *uid)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_job_new(&job, uid), MCM_OK);
    ck_assert_ptr_nonnull(job);
    return job;
}

START_TEST(new_job_is_absent_and_empty)
{
    mcm_job *job = new_job(JOB_UID);
    ck_assert_str_eq(mcm_job_uid(job), JOB_UID);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_ABSENT);
    ck_assert_ptr_null(mcm_job_status_info(job));
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_ptr_nonnull(mcm_job_request(job));
    ck_assert_ptr_eq(mcm_job_request(job), mcm_job_request_mut(job));
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(job)), 0);
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS), 0);
    ck_assert_int_eq(mcm_job_created(job), 0);
    mcm_job_free(job);

    job = new_job(NULL);
    ck_assert_str_eq(mcm_job_uid(job), "");
    mcm_job_free(job);

    char uid_64[65], uid_65[66];
    memset(uid_64, '1', 64);
    uid_64[64] = '\0';
    memset(uid_65, '1', 65);
    uid_65[65] = '\0';
    job = new_job(uid_64);
    ck_assert_str_eq(mcm_job_uid(job), uid_64);
    mcm_job_free(job);
    mcm_job *none = NULL;
    ck_assert_int_eq(mcm_job_new(&none, uid_65), MCM_EINVAL);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(mcm_job_new(NULL, JOB_UID), MCM_EINVAL);
    mcm_job_free(NULL);
}
END_TEST

START_TEST(null_job_reads_as_nothing)
{
    ck_assert_ptr_null(mcm_job_uid(NULL));
    ck_assert_int_eq(mcm_job_state_of(NULL), MCM_JOB_ABSENT);
    ck_assert_ptr_null(mcm_job_status_info(NULL));
    ck_assert_uint_eq(mcm_job_pieces(NULL), 0);
    ck_assert_ptr_null(mcm_job_request(NULL));
    ck_assert_ptr_null(mcm_job_request_mut(NULL));
    ck_assert_uint_eq(mcm_job_failed_count(NULL), 0);
    ck_assert_uint_eq(mcm_job_media_count(NULL), 0);
    ck_assert_int_eq(mcm_job_has(NULL, MCM_TAG_EXECUTION_STATUS), 0);
    mcm_failed_sop f;
    mcm_storage_media m;
    ck_assert_int_eq(mcm_job_failed(NULL, 0, &f), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_media(NULL, 0, &m), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_add_failed(NULL, CT_IMAGE, JOB_UID, NULL, 0x0112, NULL, 0), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_add_media(NULL, "ID", "1.2"), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_set_state(NULL, MCM_JOB_IDLE, "NORMAL"), MCM_EINVAL);
    mcm_job_event e = event_of(MCM_EVENT_GET);
    ck_assert_int_eq(mcm_job_apply(NULL, &e, NULL), MCM_EINVAL);
    /* Setters on NULL are ignored. */
    mcm_job_set_pieces(NULL, 3);
    mcm_job_clear_results(NULL);
    mcm_job_mark(NULL, MCM_TAG_EXECUTION_STATUS, 1);
    mcm_job_mark_maintained(NULL);
    mcm_job_set_times(NULL, 1, 2);
    mcm_job_set_request(NULL, NULL);
    ck_assert_int_eq(mcm_job_created(NULL), 0);
    ck_assert_int_eq(mcm_job_updated(NULL), 0);
}
END_TEST

START_TEST(apply_walks_the_lifecycle)
{
    mcm_job *job = new_job(JOB_UID);
    mcm_job_transition t;
    static const struct {
        mcm_job_event_type type;
        const char *info;
        uint16_t status;
        mcm_job_state state;
        const char *after;
    } steps[] = {
        {MCM_EVENT_CREATE, NULL, 0x0000, MCM_JOB_IDLE, "NORMAL"},
        {MCM_EVENT_GET, NULL, 0x0000, MCM_JOB_IDLE, "NORMAL"},
        {MCM_EVENT_INITIATE, NULL, 0x0000, MCM_JOB_PENDING, "QUEUED"},
        {MCM_EVENT_TRANSIENT, "MCD_BUSY", 0, MCM_JOB_PENDING, "MCD_BUSY"},
        {MCM_EVENT_START, NULL, 0, MCM_JOB_CREATING, "NORMAL"},
        {MCM_EVENT_TRANSIENT, "OUT_OF_SUPPLIES", 0, MCM_JOB_PENDING, "OUT_OF_SUPPLIES"},
        {MCM_EVENT_START, NULL, 0, MCM_JOB_CREATING, "NORMAL"},
        {MCM_EVENT_COMPLETE, NULL, 0, MCM_JOB_DONE, "NORMAL"},
        {MCM_EVENT_CANCEL, NULL, 0xC201, MCM_JOB_DONE, "NORMAL"},
        {MCM_EVENT_EXPIRE, NULL, 0, MCM_JOB_DELETED, NULL},
        {MCM_EVENT_GET, NULL, 0x0112, MCM_JOB_DELETED, NULL},
    };
    for (size_t i = 0; i < COUNT(steps); i++) {
        mcm_job_event e = event_of(steps[i].type);
        e.info = steps[i].info;
        ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
        ck_assert_uint_eq(t.status, steps[i].status);
        ck_assert_int_eq(t.state, steps[i].state);
        ck_assert_int_eq(mcm_job_state_of(job), steps[i].state);
        if (steps[i].after == NULL) {
            ck_assert_ptr_null(mcm_job_status_info(job));
            ck_assert_ptr_null(t.info);
        } else {
            ck_assert_str_eq(mcm_job_status_info(job), steps[i].after);
            ck_assert_str_eq(t.info, steps[i].after);
        }
    }
    /* out may be NULL. */
    mcm_job_event e = event_of(MCM_EVENT_CREATE);
    ck_assert_int_eq(mcm_job_apply(job, &e, NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    mcm_job_free(job);
}
END_TEST

START_TEST(apply_keeps_info_after_the_event_string_is_gone)
{
    mcm_job *job = new_job(JOB_UID);
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_PENDING, "QUEUED"), MCM_OK);
    char *term = strdup("TONER_LOW");
    ck_assert_ptr_nonnull(term);
    mcm_job_event e = event_of(MCM_EVENT_TRANSIENT);
    e.info = term;
    mcm_job_transition t;
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
    ck_assert_ptr_ne(t.info, term);
    ck_assert_ptr_eq(t.info, mcm_job_status_info(job));
    memset(term, 'Z', strlen(term));
    free(term); /* ASan would catch any later read through the event's pointer */
    ck_assert_str_eq(mcm_job_status_info(job), "TONER_LOW");
    ck_assert_str_eq(t.info, "TONER_LOW");
    /* The same for a failure term. */
    term = strdup("NO_BLANK_BD");
    e = event_of(MCM_EVENT_FAIL);
    e.info = term;
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_OK);
    free(term);
    ck_assert_str_eq(mcm_job_status_info(job), "NO_BLANK_BD");
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    mcm_job_free(job);
}
END_TEST

START_TEST(apply_error_leaves_the_job)
{
    mcm_job *job = new_job(JOB_UID);
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_DONE, "NORMAL"), MCM_OK);
    mcm_job_event e = event_of(MCM_EVENT_START);
    mcm_job_transition t;
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_ESTATE);
    ck_assert_int_eq(t.state, MCM_JOB_DONE);
    ck_assert_str_eq(t.info, "NORMAL");
    ck_assert_int_eq(t.changed, 0);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");

    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_PENDING, "QUEUED"), MCM_OK);
    e = event_of(MCM_EVENT_FAIL);
    e.info = "QUEUED";
    ck_assert_int_eq(mcm_job_apply(job, &e, &t), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_PENDING);
    ck_assert_str_eq(mcm_job_status_info(job), "QUEUED");

    /* A NULL event fills out with the unchanged job too. */
    memset(&t, 0x5A, sizeof t);
    ck_assert_int_eq(mcm_job_apply(job, NULL, &t), MCM_EINVAL);
    ck_assert_int_eq(t.state, MCM_JOB_PENDING);
    ck_assert_str_eq(t.info, "QUEUED");
    ck_assert_uint_eq(t.status, 0);
    ck_assert_int_eq(t.changed, 0);
    mcm_job_free(job);
}
END_TEST

START_TEST(set_state_directly)
{
    mcm_job *job = new_job(JOB_UID);
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_FAILURE, "NO_INSTANCE"), MCM_OK);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(job), "NO_INSTANCE");
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_IDLE, NULL), MCM_OK);
    ck_assert_ptr_null(mcm_job_status_info(job));
    ck_assert_int_eq(mcm_job_set_state(job, (mcm_job_state)7, "NORMAL"), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_set_state(job, (mcm_job_state)-1, "NORMAL"), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    /* A peer's long private term is kept up to MCM_INFO_MAX characters. */
    char long_term[200];
    memset(long_term, 'T', sizeof long_term - 1);
    long_term[sizeof long_term - 1] = '\0';
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_PENDING, long_term), MCM_OK);
    ck_assert_uint_eq(strlen(mcm_job_status_info(job)), MCM_INFO_MAX);
    mcm_job_set_times(job, 1700000000, 1700000042);
    ck_assert_int_eq(mcm_job_created(job), 1700000000);
    ck_assert_int_eq(mcm_job_updated(job), 1700000042);
    mcm_job_set_pieces(job, 6);
    ck_assert_uint_eq(mcm_job_pieces(job), 6);
    mcm_job_free(job);
}
END_TEST

START_TEST(failed_and_media_items)
{
    mcm_job *job = new_job(JOB_UID);
    char class_uid[] = CT_IMAGE, instance_uid[] = "1.2.3.4", profile[] = "STD-GEN-CD";
    uint32_t attributes[] = {MCM_TAG(0x0010, 0x0020), MCM_TAG(0x0020, 0x000D)};
    ck_assert_int_eq(
        mcm_job_add_failed(job, class_uid, instance_uid, profile, MCM_FAILURE_MISSING_ATTRIBUTE, attributes, 2),
        MCM_OK);
    ck_assert_int_eq(mcm_job_add_failed(job, CT_IMAGE, "1.2.3.5", NULL, MCM_FAILURE_NO_SUCH_INSTANCE, NULL, 0), MCM_OK);
    /* Copies were taken. */
    class_uid[0] = instance_uid[0] = profile[0] = 'X';
    attributes[0] = 0;
    ck_assert_uint_eq(mcm_job_failed_count(job), 2);
    mcm_failed_sop f;
    ck_assert_int_eq(mcm_job_failed(job, 0, &f), MCM_OK);
    ck_assert_str_eq(f.sop_class_uid, CT_IMAGE);
    ck_assert_str_eq(f.sop_instance_uid, "1.2.3.4");
    ck_assert_str_eq(f.profile, "STD-GEN-CD");
    ck_assert_uint_eq(f.failure_reason, 0x0120);
    ck_assert_uint_eq(f.failure_attribute_count, 2);
    ck_assert_uint_eq(f.failure_attributes[0], MCM_TAG(0x0010, 0x0020));
    ck_assert_uint_eq(f.failure_attributes[1], MCM_TAG(0x0020, 0x000D));
    ck_assert_int_eq(mcm_job_failed(job, 1, &f), MCM_OK);
    ck_assert_ptr_null(f.profile);
    ck_assert_uint_eq(f.failure_reason, 0x0112);
    ck_assert_uint_eq(f.failure_attribute_count, 0);
    ck_assert_int_eq(mcm_job_failed(job, 2, &f), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_job_failed(job, 0, NULL), MCM_EINVAL);

    /* Many items (the arrays grow). */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(mcm_job_add_media(job, "DISC", "1.2.3"), MCM_OK);
    char id[] = "PATIENT_1";
    ck_assert_int_eq(mcm_job_add_media(job, id, "2.25.7"), MCM_OK);
    id[0] = 'X';
    ck_assert_uint_eq(mcm_job_media_count(job), 101);
    mcm_storage_media m;
    ck_assert_int_eq(mcm_job_media(job, 100, &m), MCM_OK);
    ck_assert_str_eq(m.fileset_id, "PATIENT_1");
    ck_assert_str_eq(m.fileset_uid, "2.25.7");
    ck_assert_int_eq(mcm_job_media(job, 101, &m), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_job_media(job, 0, NULL), MCM_EINVAL);
    mcm_job_set_pieces(job, 101);

    /* Clearing the results keeps state and info; adding again works (and nothing leaks). */
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_FAILURE, "NO_INSTANCE"), MCM_OK);
    mcm_job_clear_results(job);
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 0);
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(job), "NO_INSTANCE");
    ck_assert_int_eq(mcm_job_failed(job, 0, &f), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_job_add_failed(job, CT_IMAGE, "1.2.3.6", NULL, MCM_FAILURE_INSTANCE_SIZE_EXCEEDED, NULL, 0),
                     MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "ID2", "1.2.4"), MCM_OK);
    ck_assert_int_eq(mcm_job_failed(job, 0, &f), MCM_OK);
    ck_assert_uint_eq(f.failure_reason, 0x0205);
    mcm_job_free(job);
}
END_TEST

START_TEST(failure_reason_constants)
{
    /* PS3.3 C.22.1.4 (digest 4.6). */
    ck_assert_uint_eq(MCM_FAILURE_PROCESSING, 0x0110);
    ck_assert_uint_eq(MCM_FAILURE_NO_SUCH_INSTANCE, 0x0112);
    ck_assert_uint_eq(MCM_FAILURE_CLASS_INSTANCE_CONFLICT, 0x0119);
    ck_assert_uint_eq(MCM_FAILURE_MISSING_ATTRIBUTE, 0x0120);
    ck_assert_uint_eq(MCM_FAILURE_MISSING_ATTRIBUTE_VALUE, 0x0121);
    ck_assert_uint_eq(MCM_FAILURE_SOP_CLASS_NOT_SUPPORTED, 0x0122);
    ck_assert_uint_eq(MCM_FAILURE_PROFILES_CONFLICT, 0x0201);
    ck_assert_uint_eq(MCM_FAILURE_PROFILE_INSTANCE_CONFLICT, 0x0202);
    ck_assert_uint_eq(MCM_FAILURE_PROFILE_COMPRESSION_CONFLICT, 0x0203);
    ck_assert_uint_eq(MCM_FAILURE_PROFILE_NOT_SUPPORTED, 0x0204);
    ck_assert_uint_eq(MCM_FAILURE_INSTANCE_SIZE_EXCEEDED, 0x0205);
}
END_TEST

START_TEST(job_has_attributes)
{
    static const uint32_t maintained[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG_EXECUTION_STATUS_INFO,
                                          MCM_TAG_TOTAL_NUMBER_OF_PIECES, MCM_TAG_FAILED_SOP_SEQUENCE,
                                          MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE};
    mcm_job *job = new_job(JOB_UID);
    for (size_t i = 0; i < COUNT(maintained); i++)
        ck_assert_int_eq(mcm_job_has(job, maintained[i]), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);

    /* An SCP's job carries every maintained attribute; the Referenced SOP Sequence comes from the
     * request. */
    mcm_job_mark_maintained(job);
    for (size_t i = 0; i < COUNT(maintained); i++)
        ck_assert_int_eq(mcm_job_has(job, maintained[i]), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    ck_assert_int_eq(mcm_request_add_reference(mcm_job_request_mut(job), CT_IMAGE, "1.2.3", NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 1);

    /* Marks one by one, as an N-GET result is decoded. */
    mcm_job_mark(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES, 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS), 1);
    mcm_job_mark(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES, 7); /* any non-zero */
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 1);
    mcm_job_mark(job, MCM_TAG(0x0010, 0x0010), 1); /* not a job attribute: ignored */
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG(0x0010, 0x0010)), 0);

    /* Request attributes through the request, including an empty one from the wire. */
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REQUEST_PRIORITY), 0);
    ck_assert_int_eq(mcm_request_set_priority(mcm_job_request_mut(job), MCM_PRIORITY_LOW), MCM_OK);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REQUEST_PRIORITY), 1);
    ck_assert_int_eq(mcm_request_set_attribute_raw(mcm_job_request_mut(job), MCM_TAG_LABEL_TEXT, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_LABEL_TEXT), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_SOP_INSTANCE_UID), 0);

    /* Replacing the request. */
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(r, 4), MCM_OK);
    mcm_job_set_request(job, r);
    ck_assert_ptr_eq(mcm_job_request(job), r);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REQUEST_PRIORITY), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_NUMBER_OF_COPIES), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    mcm_job_set_request(job, NULL); /* ignored */
    ck_assert_ptr_eq(mcm_job_request(job), r);
    mcm_job_free(job);
}
END_TEST

START_TEST(state_names_and_parsing)
{
    static const struct {
        mcm_job_state state;
        const char *name;
        int parses; /* an Execution Status enumerated value (digest 4.1) */
    } states[] = {
        {MCM_JOB_ABSENT, "ABSENT", 0},     {MCM_JOB_IDLE, "IDLE", 1}, {MCM_JOB_PENDING, "PENDING", 1},
        {MCM_JOB_CREATING, "CREATING", 1}, {MCM_JOB_DONE, "DONE", 1}, {MCM_JOB_FAILURE, "FAILURE", 1},
        {MCM_JOB_DELETED, "DELETED", 0},
    };
    for (size_t i = 0; i < COUNT(states); i++) {
        ck_assert_str_eq(mcm_job_state_name(states[i].state), states[i].name);
        mcm_job_state parsed = (mcm_job_state)99;
        int rc = mcm_job_state_parse(states[i].name, &parsed);
        ck_assert_int_eq(rc, states[i].parses ? MCM_OK : MCM_EINVAL);
        if (states[i].parses)
            ck_assert_int_eq(parsed, states[i].state);
        else
            ck_assert_int_eq(parsed, (mcm_job_state)99);
    }
    ck_assert_str_eq(mcm_job_state_name((mcm_job_state)7), "INVALID");
    ck_assert_str_eq(mcm_job_state_name((mcm_job_state)-1), "INVALID");
    static const char *const bad[] = {"FAILED", "idle", "Done", "", "IDLE\\DONE", "COMPLETED", "CANCELED", "PENDIN"};
    mcm_job_state parsed;
    for (size_t i = 0; i < COUNT(bad); i++) {
        mcm_clear_error();
        ck_assert_int_eq(mcm_job_state_parse(bad[i], &parsed), MCM_EINVAL);
        ck_assert_str_ne(mcm_last_error(), "");
    }
    ck_assert_int_eq(mcm_job_state_parse(NULL, &parsed), MCM_EINVAL);
    ck_assert_int_eq(mcm_job_state_parse("IDLE", NULL), MCM_EINVAL);
}
END_TEST

START_TEST(priority_names_and_parsing)
{
    static const struct {
        mcm_priority priority;
        const char *name;
    } priorities[] = {{MCM_PRIORITY_HIGH, "HIGH"}, {MCM_PRIORITY_MED, "MED"}, {MCM_PRIORITY_LOW, "LOW"}};
    for (size_t i = 0; i < COUNT(priorities); i++) {
        ck_assert_str_eq(mcm_priority_name(priorities[i].priority), priorities[i].name);
        mcm_priority parsed = MCM_PRIORITY_UNSET;
        ck_assert_int_eq(mcm_priority_parse(priorities[i].name, &parsed), MCM_OK);
        ck_assert_int_eq(parsed, priorities[i].priority);
    }
    ck_assert_ptr_null(mcm_priority_name(MCM_PRIORITY_UNSET));
    ck_assert_ptr_null(mcm_priority_name((mcm_priority)4));
    /* Digest 4.3: MED, not MEDIUM; CS is case-sensitive. */
    static const char *const bad[] = {"MEDIUM", "high", "Low", "", "NORMAL", "URGENT", "HIGH\\LOW"};
    mcm_priority parsed;
    for (size_t i = 0; i < COUNT(bad); i++)
        ck_assert_int_eq(mcm_priority_parse(bad[i], &parsed), MCM_EINVAL);
    ck_assert_int_eq(mcm_priority_parse(NULL, &parsed), MCM_EINVAL);
    ck_assert_int_eq(mcm_priority_parse("HIGH", NULL), MCM_EINVAL);
}
END_TEST

Suite *mcm_suite_job(void)
{
    Suite *s = suite_create("job");
    TCase *tc = tcase_create("table_rows");
    tcase_add_test(tc, absent__ncreate_valid);
    tcase_add_test(tc, absent__ncreate_uid_already_in_use);
    tcase_add_test(tc, absent__ncreate_malformed_uid);
    tcase_add_test(tc, absent__ncreate_without_sequence_or_item_attributes);
    tcase_add_test(tc, absent__ncreate_scp_full);
    tcase_add_test(tc, absent__naction_or_nget);
    tcase_add_test(tc, idle__initiate_valid);
    tcase_add_test(tc, idle__initiate_bad_argument);
    tcase_add_test(tc, idle__cancel);
    tcase_add_test(tc, idle__nget);
    tcase_add_test(tc, pending__initiate_again);
    tcase_add_test(tc, pending__cancel);
    tcase_add_test(tc, pending__job_starts);
    tcase_add_test(tc, pending__transient_device_problem);
    tcase_add_test(tc, pending__validation_fails);
    tcase_add_test(tc, creating__initiate_again);
    tcase_add_test(tc, creating__cancel_interruptible);
    tcase_add_test(tc, creating__cancel_not_interruptible);
    tcase_add_test(tc, creating__success);
    tcase_add_test(tc, creating__failure);
    tcase_add_test(tc, creating__transient_interruption);
    tcase_add_test(tc, done_or_failure__cancel);
    tcase_add_test(tc, done_or_failure__initiate_again);
    tcase_add_test(tc, any__cancel_refused_for_another_reason);
    tcase_add_test(tc, any__nget);
    tcase_add_test(tc, idle_done_or_failure__retention_expires);
    suite_add_tcase(s, tc);

    tc = tcase_create("machine");
    tcase_add_test(tc, every_state_event_pair);
    tcase_add_test(tc, pairs_outside_the_table_change_nothing);
    tcase_add_test(tc, store_questions_follow_the_machine);
    tcase_add_test(tc, bad_info_terms_are_einval);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, create_refusals);
    tcase_add_test(tc, initiate_refusals);
    tcase_add_test(tc, refusals_ignored_by_other_events);
    tcase_add_test(tc, info_terms_by_state);
    tcase_add_test(tc, insufficient_memory_both_spellings);
    suite_add_tcase(s, tc);

    tc = tcase_create("object");
    tcase_add_test(tc, new_job_is_absent_and_empty);
    tcase_add_test(tc, null_job_reads_as_nothing);
    tcase_add_test(tc, apply_walks_the_lifecycle);
    tcase_add_test(tc, apply_keeps_info_after_the_event_string_is_gone);
    tcase_add_test(tc, apply_error_leaves_the_job);
    tcase_add_test(tc, set_state_directly);
    tcase_add_test(tc, failed_and_media_items);
    tcase_add_test(tc, failure_reason_constants);
    tcase_add_test(tc, job_has_attributes);
    tcase_add_test(tc, state_names_and_parsing);
    tcase_add_test(tc, priority_names_and_parsing);
    suite_add_tcase(s, tc);
    return s;
}
