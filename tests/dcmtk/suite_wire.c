/*
 * tests/dcmtk/suite_wire.c: our SCU against our SCP over real DCMTK associations on 127.0.0.1, in one
 * process: every row of the state table (digest section 6) as the wire shows it, every N-CREATE
 * status, Initiate argument errors, unknown actions and instances, N-GET selection and warnings,
 * services we do not provide, admission, several SCUs at once, stop and restart, and the full
 * workflow with a media writer that writes real files.
 */
#include "rawpeer.h"
#include "core/request_internal.h"
#include "scp_fixture.h"
#include "testutil.h"

#include <check.h>
#include <dcmmcm.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One test's world: an SCP, an SCU and a few stored images. */
typedef struct world {
    mcm_fixture f;
    mcm_scu *scu;
    char paths[3][4096];
    char uids[3][65];
} world;

static void world_open(world *w, const mcm_scp_options *opts)
{
    memset(w, 0, sizeof *w);
    mcm_fixture_init(&w->f);
    if (opts != NULL) {
        mcm_scp_options o = *opts;
        o.storage_dir = w->f.storage;
        o.database_path = w->f.database;
        o.user = &w->f;
        mcm_fixture_start(&w->f, &o);
    } else {
        mcm_fixture_start_default(&w->f);
    }
    mcm_fixture_make_images(&w->f, 3, w->paths, w->uids);
    const char *files[3] = {w->paths[0], w->paths[1], w->paths[2]};
    w->scu = mcm_fixture_connect(&w->f, files, 3);
    for (int i = 0; i < 3; i++) {
        mcm_response rsp;
        ck_assert_int_eq(mcm_scu_store_file(w->scu, w->paths[i], &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
    }
}

/* Options to be completed by world_open (storage, database, user). */
static void world_options(mcm_scp_options *opts)
{
    mcm_fixture f;
    memset(&f, 0, sizeof f);
    mcm_fixture_options(&f, opts);
}

static void world_close(world *w)
{
    if (w->scu != NULL) {
        mcm_scu_release(w->scu);
        mcm_scu_free(w->scu);
    }
    mcm_fixture_cleanup(&w->f);
}

/* N-CREATE of a job over the world's stored images; returns its UID in uid. */
static void create_job(world *w, char uid[65])
{
    mcm_request *request = mcm_fixture_request(w->uids, 3);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w->scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_msg(rsp.status == 0x0000, "N-CREATE status 0x%04X: %s", rsp.status, rsp.error_comment);
    ck_assert_str_ne(uid, "");
}

static mcm_job *get_job(world *w, const char *uid, mcm_response *rsp)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(w->scu, uid, NULL, 0, &job, rsp), MCM_OK);
    return job;
}

/* The state an N-GET over the wire reports (MCM_JOB_ABSENT on a non-success reply). */
static mcm_job_state wire_state(world *w, const char *uid, uint16_t *status)
{
    mcm_response rsp;
    mcm_job *job = get_job(w, uid, &rsp);
    if (status != NULL)
        *status = rsp.status;
    mcm_job_state state = job != NULL ? mcm_job_state_of(job) : MCM_JOB_ABSENT;
    mcm_job_free(job);
    return state;
}

static uint16_t initiate(world *w, const char *uid, int copies, mcm_priority priority)
{
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_initiate(w->scu, uid, copies, priority, &rsp), MCM_OK);
    return rsp.status;
}

static uint16_t cancel(world *w, const char *uid, mcm_response *out)
{
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_cancel(w->scu, uid, &rsp), MCM_OK);
    if (out != NULL)
        *out = rsp;
    return rsp.status;
}

/* Action Information with one raw attribute (values the public setters would refuse). */
static uint16_t initiate_raw(world *w, const char *uid, uint32_t tag, const char *value, mcm_response *out)
{
    mcm_request *information = NULL;
    ck_assert_int_eq(mcm_request_new(&information), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(information, tag, value, strlen(value)), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_action(w->scu, uid, 1, information, &rsp), MCM_OK);
    mcm_request_free(information);
    if (out != NULL)
        *out = rsp;
    return rsp.status;
}

static int response_has_tag(const uint32_t *tags, size_t count, uint32_t tag)
{
    for (size_t i = 0; i < count; i++)
        if (tags[i] == tag)
            return 1;
    return 0;
}

/* ---- The state table, row by row (digest section 6) ------------------------------------------ */

START_TEST(test_absent_create_valid)
{
    world w;
    world_open(&w, NULL);
    mcm_request *request = mcm_fixture_request(w.uids, 3);
    char uid[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_uid_is_valid(uid), 1);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid); /* the SCP assigned and returned it */
    mcm_job *job = get_job(&w, uid, &rsp);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(job)), 3);
    mcm_job_free(job);
    /* The SCU may also name the instance. */
    char chosen[65], echoed[65];
    ck_assert_int_eq(mcm_uid_generate(chosen), MCM_OK);
    request = mcm_fixture_request(w.uids, 1);
    ck_assert_int_eq(mcm_scu_create(w.scu, request, chosen, echoed, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_str_eq(echoed, chosen);
    ck_assert_int_eq(mcm_fixture_state(&w.f, chosen), MCM_JOB_IDLE);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_duplicate_uid)
{
    world w;
    world_open(&w, NULL);
    char chosen[65], out[65];
    ck_assert_int_eq(mcm_uid_generate(chosen), MCM_OK);
    mcm_request *request = mcm_fixture_request(w.uids, 1);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, chosen, out, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_scu_create(w.scu, request, chosen, out, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0111);
    ck_assert_int_eq(rsp.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(out, "");
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_malformed_uid)
{
    world w;
    world_open(&w, NULL);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    char error[256];
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, error), 0);
    mcm_rawpeer_reply reply;
    ck_assert_int_eq(mcm_rawpeer_create(peer, MCM_TEST_CT_IMAGE, w.uids[0], "1.2.03.4", 0, NULL, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0117);
    ck_assert_int_eq(reply.has_data_set, 0);
    /* An Affected SOP Instance UID sent empty is no UID at all: the SCP assigns one. */
    ck_assert_int_eq(mcm_rawpeer_create(peer, MCM_TEST_CT_IMAGE, w.uids[0], "", 0, NULL, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_int_eq(mcm_uid_is_valid(reply.affected_sop_instance_uid), 1);
    mcm_rawpeer_free(peer);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_missing_sequence)
{
    world w;
    world_open(&w, NULL);
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    char uid[65];
    mcm_response rsp;
    /* No attribute at all: the SCU sends no data set, the SCP answers Missing Attribute. */
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0120);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, ""); /* digest A7: none on failure */
    ck_assert_int_eq(
        response_has_tag(rsp.attribute_identifiers, rsp.attribute_identifier_count, MCM_TAG_REFERENCED_SOP_SEQUENCE),
        1);
    /* A data set without the sequence (only a label) is the same. */
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_LABEL_TEXT, "no references"), MCM_OK);
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0120);
    mcm_request_free(request);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_missing_value)
{
    world w;
    world_open(&w, NULL);
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    /* An item whose Referenced SOP Instance UID is present but empty: 0121. */
    ck_assert_int_eq(
        mcm_request_add_reference_raw(request, MCM_TEST_CT_IMAGE, strlen(MCM_TEST_CT_IMAGE), "", 0, NULL, 0), MCM_OK);
    char uid[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0121);
    mcm_request_free(request);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_invalid_value)
{
    world w;
    world_open(&w, NULL);
    mcm_request *request = mcm_fixture_request(w.uids, 1);
    ck_assert_int_eq(mcm_request_set_attribute_raw(request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "MAYBE", 5), MCM_OK);
    char uid[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0106);
    ck_assert_str_ne(rsp.error_comment, ""); /* default mode: Error Comment on every failure */
    mcm_request_free(request);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_unknown_attribute_strict)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.strict = MCM_VALIDATE_STRICT;
    world w;
    world_open(&w, &opts);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0);
    mcm_rawpeer_reply reply;
    /* Patient Name is no attribute of the MCM module: strict mode refuses it with 0105. */
    ck_assert_int_eq(
        mcm_rawpeer_create(peer, MCM_TEST_CT_IMAGE, w.uids[0], NULL, MCM_TAG(0x0010, 0x0010), "Doe^John", &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0105);
    mcm_rawpeer_free(peer);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_unknown_attribute_lenient)
{
    world w;
    world_open(&w, NULL);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0);
    mcm_rawpeer_reply reply;
    /* Default: ignored, and never a warning on N-CREATE (digest A9, 5.10). */
    ck_assert_int_eq(
        mcm_rawpeer_create(peer, MCM_TEST_CT_IMAGE, w.uids[0], NULL, MCM_TAG(0x0010, 0x0010), "Doe^John", &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    mcm_rawpeer_free(peer);
    world_close(&w);
}
END_TEST

static int refuse_create(const char *calling, mcm_scp_operation op, const mcm_job *job, void *user)
{
    (void)calling;
    (void)job;
    (void)user;
    return op == MCM_SCP_CREATE;
}

START_TEST(test_absent_create_not_authorized)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.authorize = refuse_create;
    world w;
    world_open(&w, &opts);
    mcm_request *request = mcm_fixture_request(w.uids, 1);
    char uid[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0124);
    world_close(&w);
}
END_TEST

START_TEST(test_absent_create_queue_full)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.queue_limit = 1;
    world w;
    world_open(&w, &opts);
    char uid[65];
    create_job(&w, uid);
    mcm_request *request = mcm_fixture_request(w.uids, 1);
    char second[65];
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, second, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0213);
    ck_assert_str_ne(rsp.error_comment, "");
    world_close(&w);
}
END_TEST

START_TEST(test_absent_action_and_get)
{
    world w;
    world_open(&w, NULL);
    char nobody[65];
    ck_assert_int_eq(mcm_uid_generate(nobody), MCM_OK);
    mcm_response rsp;
    ck_assert_uint_eq(initiate(&w, nobody, 1, MCM_PRIORITY_UNSET), 0x0112);
    ck_assert_uint_eq(cancel(&w, nobody, NULL), 0x0112);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(w.scu, nobody, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0112);
    ck_assert_ptr_null(job);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, nobody); /* Annex C: the UID not found */
    world_close(&w);
}
END_TEST

START_TEST(test_idle_get_and_cancel)
{
    world w;
    world_open(&w, NULL);
    char uid[65];
    create_job(&w, uid);
    uint16_t status;
    ck_assert_int_eq(wire_state(&w, uid, &status), MCM_JOB_IDLE);
    ck_assert_uint_eq(status, 0x0000);
    mcm_response rsp;
    ck_assert_uint_eq(cancel(&w, uid, &rsp), 0x0000); /* digest A2 */
    ck_assert_int_eq(wire_state(&w, uid, &status), MCM_JOB_ABSENT);
    ck_assert_uint_eq(status, 0x0112);
    ck_assert_int_eq(mcm_fixture_state(&w.f, uid), MCM_JOB_DELETED);
    world_close(&w);
}
END_TEST

START_TEST(test_idle_initiate_argument_errors)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.max_copies = 5;
    world w;
    world_open(&w, &opts);
    char uid[65];
    create_job(&w, uid);
    mcm_response rsp;
    ck_assert_uint_eq(initiate(&w, uid, 6, MCM_PRIORITY_UNSET), 0x0115); /* above max_copies */
    ck_assert_uint_eq(initiate_raw(&w, uid, MCM_TAG_NUMBER_OF_COPIES, "0", &rsp), 0x0115);
    ck_assert_int_eq(rsp.has_action_type_id, 1);
    ck_assert_uint_eq(rsp.action_type_id, 1);
    ck_assert_uint_eq(initiate_raw(&w, uid, MCM_TAG_NUMBER_OF_COPIES, "two", NULL), 0x0115);
    ck_assert_uint_eq(initiate_raw(&w, uid, MCM_TAG_REQUEST_PRIORITY, "URGENT", &rsp), 0x0115);
    ck_assert_str_ne(rsp.error_comment, "");
    ck_assert_uint_eq(initiate_raw(&w, uid, MCM_TAG_LABEL_TEXT, "not an argument", &rsp), 0x0114);
    ck_assert_int_eq(rsp.has_action_type_id, 1);
    /* A refused Initiate leaves the job IDLE and does not count (digest A1). */
    ck_assert_int_eq(wire_state(&w, uid, NULL), MCM_JOB_IDLE);
    atomic_store(&w.f.mode, MCM_FIXTURE_COPY);
    ck_assert_uint_eq(initiate(&w, uid, 5, MCM_PRIORITY_HIGH), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, uid, MCM_JOB_DONE), 1);
    world_close(&w);
}
END_TEST

START_TEST(test_unknown_action_type)
{
    world w;
    world_open(&w, NULL);
    char uid[65];
    create_job(&w, uid);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_action(w.scu, uid, 3, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0123);
    ck_assert_int_eq(rsp.has_action_type_id, 1);
    ck_assert_uint_eq(rsp.action_type_id, 3);
    ck_assert_int_eq(wire_state(&w, uid, NULL), MCM_JOB_IDLE);
    world_close(&w);
}
END_TEST

START_TEST(test_pending_rows)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.media_workers = 1;
    world w;
    world_open(&w, &opts);
    atomic_store(&w.f.mode, MCM_FIXTURE_HOLD);
    char busy[65], uid[65], other[65];
    create_job(&w, busy);
    create_job(&w, uid);
    create_job(&w, other);
    /* The only worker holds the first job in CREATING, so the next ones stay PENDING. */
    ck_assert_uint_eq(initiate(&w, busy, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_holding(&w.f, 1), 1);
    ck_assert_int_eq(wire_state(&w, busy, NULL), MCM_JOB_CREATING);
    mcm_response rsp;
    ck_assert_uint_eq(initiate(&w, uid, 2, MCM_PRIORITY_LOW), 0x0000);
    mcm_job *job = get_job(&w, uid, &rsp);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_PENDING);
    ck_assert_str_eq(mcm_job_status_info(job), "QUEUED");
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 2);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_LOW);
    mcm_job_free(job);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0xA510);  /* PENDING + Initiate */
    ck_assert_uint_eq(initiate(&w, busy, 1, MCM_PRIORITY_UNSET), 0xA510); /* CREATING + Initiate */
    ck_assert_uint_eq(cancel(&w, uid, NULL), 0x0000);                     /* PENDING + Cancel */
    ck_assert_int_eq(wire_state(&w, uid, NULL), MCM_JOB_ABSENT);
    /* CREATING + Cancel, interruptible: deleted, the writer is told to stop. */
    ck_assert_uint_eq(cancel(&w, busy, NULL), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, busy, MCM_JOB_DELETED), 1);
    /* CREATING + Cancel, not interruptible: C202, the job goes on. */
    atomic_store(&w.f.interruptible, 0);
    ck_assert_uint_eq(initiate(&w, other, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_holding(&w.f, 1), 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, other, MCM_JOB_CREATING), 1);
    ck_assert_uint_eq(cancel(&w, other, &rsp), 0xC202);
    ck_assert_str_ne(rsp.error_comment, "");
    atomic_store(&w.f.release, 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, other, MCM_JOB_DONE), 1);
    world_close(&w);
}
END_TEST

START_TEST(test_creating_success_and_done_rows)
{
    world w;
    world_open(&w, NULL);
    char uid[65];
    mcm_request *request = mcm_fixture_request(w.uids, 3);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "PATIENT 42"), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_uint_eq(initiate(&w, uid, 3, MCM_PRIORITY_MED), 0x0000);
    mcm_wait_options wo = MCM_WAIT_OPTIONS_INIT;
    wo.initial_interval_ms = 10;
    wo.max_interval_ms = 100;
    wo.timeout_ms = 60000;
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_wait(w.scu, uid, &wo, &job, &rsp), MCM_OK);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(job), 3);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(job, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "PATIENT_42");
    ck_assert_int_eq(mcm_uid_is_valid(media.fileset_uid), 1);
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    mcm_job_free(job);
    /* The writer really wrote the instances. */
    for (int i = 0; i < 3; i++) {
        char path[8400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/%s.dcm", w.f.output, uid, w.uids[i]);
        ck_assert_msg(stat(path, &st) == 0 && st.st_size > 128, "%s missing", path);
    }
    /* DONE: Cancel is C201 (digest A3), Initiate is A510 (A1). */
    ck_assert_uint_eq(cancel(&w, uid, &rsp), 0xC201);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0xA510);
    ck_assert_int_eq(wire_state(&w, uid, NULL), MCM_JOB_DONE);
    world_close(&w);
}
END_TEST

START_TEST(test_failure_rows)
{
    world w;
    world_open(&w, NULL);
    /* CREATING + failure: FAILURE with the writer's term. */
    atomic_store(&w.f.mode, MCM_FIXTURE_FAIL);
    char uid[65];
    create_job(&w, uid);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, uid, MCM_JOB_FAILURE), 1);
    mcm_response rsp;
    mcm_job *job = get_job(&w, uid, &rsp);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(job), "MCD_FAILURE");
    mcm_job_free(job);
    ck_assert_uint_eq(cancel(&w, uid, NULL), 0xC201);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0xA510);

    /* PENDING + validation fails: instances the SCP never received (digest 5.13). */
    atomic_store(&w.f.mode, MCM_FIXTURE_COPY);
    char missing[2][65];
    ck_assert_int_eq(mcm_uid_generate(missing[0]), MCM_OK);
    snprintf(missing[1], 65, "%s", w.uids[0]);
    mcm_request *request = mcm_fixture_request(missing, 2);
    char lost[65];
    ck_assert_int_eq(mcm_scu_create(w.scu, request, NULL, lost, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0x0000); /* not checked at N-CREATE (digest A11) */
    ck_assert_uint_eq(initiate(&w, lost, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, lost, MCM_JOB_FAILURE), 1);
    job = get_job(&w, lost, &rsp);
    ck_assert_str_eq(mcm_job_status_info(job), "NO_INSTANCE");
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    mcm_failed_sop failed;
    ck_assert_int_eq(mcm_job_failed(job, 0, &failed), MCM_OK);
    ck_assert_str_eq(failed.sop_instance_uid, missing[0]);
    ck_assert_uint_eq(failed.failure_reason, 0x0112);
    mcm_job_free(job);
    world_close(&w);
}
END_TEST

START_TEST(test_transient_row)
{
    world w;
    world_open(&w, NULL);
    atomic_store(&w.f.mode, MCM_FIXTURE_DEFER);
    char uid[65];
    create_job(&w, uid);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0x0000);
    /* CREATING + transient problem: back to PENDING with the writer's term (digest A4). */
    mcm_response rsp;
    int seen = 0;
    for (int i = 0; i < 6000 && !seen; i++) {
        mcm_job *job = get_job(&w, uid, &rsp);
        seen = mcm_job_state_of(job) == MCM_JOB_PENDING && mcm_job_status_info(job) != NULL &&
               strcmp(mcm_job_status_info(job), "OUT_OF_SUPPLIES") == 0;
        mcm_job_free(job);
        if (!seen)
            usleep(10000);
    }
    ck_assert_int_eq(seen, 1);
    ck_assert_uint_eq(cancel(&w, uid, NULL), 0x0000);
    world_close(&w);
}
END_TEST

START_TEST(test_retention_row)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.retention_idle_seconds = 1;
    world w;
    world_open(&w, &opts);
    char uid[65];
    create_job(&w, uid);
    ck_assert_int_eq(wire_state(&w, uid, NULL), MCM_JOB_IDLE);
    /* Housekeeping deletes the IDLE job once its retention has passed (digest A15): afterwards
     * N-GET and N-ACTION answer 0112. */
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, uid, MCM_JOB_DELETED), 1);
    uint16_t status;
    ck_assert_int_eq(wire_state(&w, uid, &status), MCM_JOB_ABSENT);
    ck_assert_uint_eq(status, 0x0112);
    ck_assert_uint_eq(initiate(&w, uid, 1, MCM_PRIORITY_UNSET), 0x0112);
    world_close(&w);
}
END_TEST

/* ---- N-GET selection and warnings ------------------------------------------------------------- */

START_TEST(test_get_selection_and_warnings)
{
    world w;
    world_open(&w, NULL);
    char uid[65];
    create_job(&w, uid);
    mcm_response rsp;
    mcm_job *job = NULL;
    const uint32_t status_only[] = {MCM_TAG_EXECUTION_STATUS};
    ck_assert_int_eq(mcm_scu_get(w.scu, uid, status_only, 1, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS_INFO), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    mcm_job_free(job);

    /* An optional module attribute with no value in this job: simply not returned. */
    const uint32_t with_label[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG_LABEL_TEXT};
    ck_assert_int_eq(mcm_scu_get(w.scu, uid, with_label, 2, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_LABEL_TEXT), 0);
    mcm_job_free(job);

    /* An IOD attribute the SCP does not maintain (SOP Common's Instance Creation Date): 0001, a
     * warning, with the rest of the data set (digest A5). */
    const uint32_t with_creation[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG(0x0008, 0x0012)};
    ck_assert_int_eq(mcm_scu_get(w.scu, uid, with_creation, 2, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0001);
    ck_assert_int_eq(rsp.category, MCM_CATEGORY_WARNING);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    mcm_job_free(job);

    /* A tag outside the IOD: 0107 with it in the Attribute Identifier List. */
    const uint32_t with_patient[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG(0x0010, 0x0010)};
    ck_assert_int_eq(mcm_scu_get(w.scu, uid, with_patient, 2, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0107);
    ck_assert_int_eq(
        response_has_tag(rsp.attribute_identifiers, rsp.attribute_identifier_count, MCM_TAG(0x0010, 0x0010)), 1);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    mcm_job_free(job);

    /* No list: everything, the request included. */
    job = get_job(&w, uid, &rsp);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS_INFO), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 1);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE), 1);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(job)), 3);
    mcm_job_free(job);
    world_close(&w);
}
END_TEST

/* Strict Annex C mode sends only the fields PS3.7 Annex C lists. */
START_TEST(test_annex_c_details)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.annex_c_details = 1;
    world w;
    world_open(&w, &opts);
    char nobody[65];
    ck_assert_int_eq(mcm_uid_generate(nobody), MCM_OK);
    mcm_response rsp;
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(w.scu, nobody, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0112);
    ck_assert_str_eq(rsp.error_comment, ""); /* 0112 lists only the Affected SOP Instance UID */
    ck_assert_str_eq(rsp.affected_sop_instance_uid, nobody);
    char uid[65];
    create_job(&w, uid);
    ck_assert_uint_eq(initiate_raw(&w, uid, MCM_TAG_REQUEST_PRIORITY, "URGENT", &rsp), 0x0115);
    ck_assert_str_eq(rsp.error_comment, "");
    ck_assert_uint_eq(rsp.offending_element_count, 0);
    ck_assert_int_eq(rsp.has_action_type_id, 1);
    ck_assert_uint_eq(cancel(&w, uid, NULL), 0x0000);
    world_close(&w);
}
END_TEST

/* ---- What the SCP does not provide ------------------------------------------------------------ */

START_TEST(test_nset_ndelete_unrecognized)
{
    world w;
    world_open(&w, NULL);
    char uid[65];
    create_job(&w, uid);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0);
    mcm_rawpeer_reply reply;
    ck_assert_int_eq(mcm_rawpeer_set(peer, uid, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0211);
    ck_assert_int_eq(mcm_rawpeer_delete(peer, uid, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0211);
    ck_assert_int_eq(mcm_rawpeer_event_report(peer, uid, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0211);
    ck_assert_int_eq(reply.has_data_set, 0);
    ck_assert_int_eq(mcm_rawpeer_find(peer, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0211);
    /* A request on a context whose SOP class is wrong for it: 0211 as well. */
    mcm_rawpeer_reply echo_reply;
    ck_assert_int_eq(mcm_rawpeer_wrong_contexts(peer, uid, &echo_reply, &reply), 0);
    ck_assert_uint_eq(echo_reply.status, 0x0211);
    ck_assert_uint_eq(reply.status, 0x0211);
    ck_assert_int_eq(reply.has_data_set, 0);
    /* The association is still usable and nothing changed. */
    ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_int_eq(mcm_rawpeer_get_all(peer, uid, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_str_eq(reply.execution_status, "IDLE");
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    world_close(&w);
}
END_TEST

/* ---- Admission --------------------------------------------------------------------------------- */

START_TEST(test_admission)
{
    static const char *const allowed[] = {"TESTSCU", "RAWPEER"};
    mcm_scp_options opts;
    world_options(&opts);
    opts.allowed_calling_ae_titles = allowed;
    opts.allowed_calling_ae_title_count = 2;
    opts.max_associations = 2;
    world w;
    world_open(&w, &opts); /* the world's SCU holds one association */
    mcm_rawpeer_options po = {w.f.port, "STRANGER", NULL, 0, NULL, NULL};
    mcm_rawpeer_rejection rej;
    mcm_rawpeer *peer = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, &rej, NULL), 1);
    ck_assert_int_eq(rej.result, 1);
    ck_assert_int_eq(rej.source, 1);
    ck_assert_int_eq(rej.reason, 0x0103); /* calling AE title not recognised */
    po.calling_ae_title = "RAWPEER";
    po.called_ae_title = "SOMEONE";
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, &rej, NULL), 1);
    ck_assert_int_eq(rej.result, 1);
    ck_assert_int_eq(rej.reason, 0x0107); /* called AE title not recognised */
    po.called_ae_title = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, &rej, NULL), 0); /* second of two */
    mcm_rawpeer *third = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&third, &po, &rej, NULL), 1);
    ck_assert_int_eq(rej.result, 2);      /* transient */
    ck_assert_int_eq(rej.source, 3);      /* service provider, presentation related */
    ck_assert_int_eq(rej.reason, 0x0302); /* local limit exceeded */
    /* A released slot is free again. */
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    int accepted = -1;
    for (int i = 0; i < 500 && accepted != 0; i++) {
        accepted = mcm_rawpeer_connect(&third, &po, &rej, NULL);
        if (accepted != 0)
            usleep(10000);
    }
    ck_assert_int_eq(accepted, 0);
    mcm_rawpeer_free(third);
    world_close(&w);
}
END_TEST

START_TEST(test_implicit_vr_only_peer)
{
    world w;
    world_open(&w, NULL);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 1, MCM_TEST_CT_IMAGE, "1.2.3.4.5.6.7.8.9.99"};
    mcm_rawpeer *peer = NULL;
    char error[256];
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, error), 0);
    ck_assert_str_eq(mcm_rawpeer_mcm_syntax(peer), MCM_TEST_IMPLICIT_LE);
    ck_assert_int_eq(mcm_rawpeer_accepted_count(peer), 3); /* the unknown class is refused alone */
    mcm_rawpeer_reply reply;
    char path[4096], sop[65];
    snprintf(path, sizeof path, "%s/implicit.dcm", w.f.dir);
    ck_assert_int_eq(mcm_test_write_dicom(path, NULL, sop), 0);
    ck_assert_int_eq(mcm_rawpeer_store(peer, path, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_int_eq(mcm_rawpeer_create_minimal(peer, MCM_TEST_CT_IMAGE, sop, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    char uid[65];
    snprintf(uid, sizeof uid, "%s", reply.affected_sop_instance_uid);
    ck_assert_int_eq(mcm_uid_is_valid(uid), 1);
    ck_assert_str_eq(reply.execution_status, "IDLE"); /* created attributes in the N-CREATE-RSP */
    ck_assert_int_eq(mcm_rawpeer_get_all(peer, uid, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_str_eq(reply.execution_status, "IDLE");
    ck_assert_str_eq(reply.execution_status_info, "NORMAL");
    ck_assert_int_ge(reply.data_set_count, 5);
    ck_assert_int_eq(mcm_rawpeer_action(peer, uid, 1, &reply), 0); /* Initiate with no data set */
    ck_assert_uint_eq(reply.status, 0x0000);
    ck_assert_int_eq(reply.has_action_type_id, 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, uid, MCM_JOB_DONE), 1);
    ck_assert_int_eq(mcm_rawpeer_get_all(peer, uid, &reply), 0);
    ck_assert_str_eq(reply.execution_status, "DONE");
    ck_assert_int_eq(mcm_rawpeer_release(peer), 0);
    mcm_rawpeer_free(peer);
    world_close(&w);
}
END_TEST

/* Storage SOP classes DCMTK 3.6.7 does not list: one under the standard's storage root is accepted
 * (a class newer than DCMTK), a private one only with accept_unknown_storage, and an unknown UID
 * under the DICOM root outside the storage root never. */
static void store_unlisted_classes(int accept_unknown)
{
    static const char *const classes[] = {"1.2.840.10008.5.1.4.1.1.9999.1", "1.2.826.0.1.3680043.10.543.77.1",
                                          "1.2.840.10008.5.1.4.9999.1"};
    const int expected[3] = {1, accept_unknown, 0};
    mcm_scp_options opts;
    world_options(&opts);
    opts.accept_unknown_storage = accept_unknown;
    world w;
    world_open(&w, &opts);
    char paths[3][4096];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/unlisted%d.dcm", w.f.dir, i);
        mcm_test_instance spec;
        memset(&spec, 0, sizeof spec);
        spec.sop_class_uid = classes[i];
        spec.modality = "OT";
        ck_assert_int_eq(mcm_test_write_dicom(paths[i], &spec, NULL), 0);
    }
    mcm_scu_options so;
    mcm_fixture_scu_options(&w.f, &so);
    so.store_sop_classes = classes;
    so.store_sop_class_count = 3;
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &so), MCM_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mcm_scu_has_context(scu, classes[i]), expected[i]);
        mcm_response rsp;
        int rc = mcm_scu_store_file(scu, paths[i], &rsp);
        if (expected[i]) {
            ck_assert_msg(rc == MCM_OK, "%s: %s", classes[i], mcm_last_error());
            ck_assert_uint_eq(rsp.status, 0x0000);
        } else {
            ck_assert_int_eq(rc, MCM_ENOCONTEXT);
        }
    }
    mcm_scu_release(scu);
    mcm_scu_free(scu);
    world_close(&w);
}

START_TEST(test_unlisted_storage_classes)
{
    store_unlisted_classes(0);
    store_unlisted_classes(1);
}
END_TEST

/* A peer that aborts or drops the connection, also in the middle of a data set, or connects and
 * says nothing: the SCP survives and serves the next client. */
START_TEST(test_careless_peers)
{
    world w;
    world_open(&w, NULL);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 1, NULL, NULL};
    mcm_rawpeer_reply reply;
    for (int round = 0; round < 3; round++) {
        mcm_rawpeer *peer = NULL;
        ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0);
        ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), 0);
        if (round == 0)
            ck_assert_int_eq(mcm_rawpeer_abort(peer), 0);
        else if (round == 1)
            ck_assert_int_eq(mcm_rawpeer_drop(peer), 0);
        else
            ck_assert_int_eq(mcm_rawpeer_drop_mid_dataset(peer), 0);
        mcm_rawpeer_free(peer);
    }
    ck_assert_int_eq(mcm_rawpeer_silent_connection(w.f.port, 50), 0);
    /* The SCU connected before all this still works, and so does a new one. */
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_echo(w.scu, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    mcm_scu *next = mcm_fixture_connect(&w.f, NULL, 0);
    ck_assert_int_eq(mcm_scu_echo(next, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    mcm_scu_release(next);
    mcm_scu_free(next);
    world_close(&w);
}
END_TEST

static void *hold_silent_connection(void *arg)
{
    uint16_t port = *(uint16_t *)arg;
    mcm_rawpeer_silent_connection(port, 3000);
    return NULL;
}

/* A connection that never speaks does not hold the accept loop up, and is dropped after the
 * ACSE timeout; an association idle beyond the DIMSE timeout is aborted; the SCP goes on. */
START_TEST(test_timeouts)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.acse_timeout_seconds = 1;
    opts.dimse_timeout_seconds = 1;
    world w;
    world_open(&w, &opts);
    pthread_t silent;
    ck_assert_int_eq(pthread_create(&silent, NULL, hold_silent_connection, &w.f.port), 0);
    usleep(100000);
    mcm_rawpeer_options po = {w.f.port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer *peer = NULL;
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0); /* served while the other is silent */
    mcm_rawpeer_reply reply;
    ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    sleep(3); /* idle beyond the DIMSE timeout */
    ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), -1);
    mcm_rawpeer_free(peer);
    pthread_join(silent, NULL);
    ck_assert_int_eq(mcm_rawpeer_connect(&peer, &po, NULL, NULL), 0);
    ck_assert_int_eq(mcm_rawpeer_echo(peer, &reply), 0);
    ck_assert_uint_eq(reply.status, 0x0000);
    mcm_rawpeer_free(peer);
    mcm_scu_free(w.scu); /* aborted meanwhile by the DIMSE timeout too */
    w.scu = NULL;
    world_close(&w);
}
END_TEST

/* ---- Several SCUs at once ------------------------------------------------------------------------ */

#define PARALLEL_SCUS 4
#define JOBS_PER_SCU 8

typedef struct parallel_arg {
    world *w;
    char uids[JOBS_PER_SCU][65];
    int ok;
} parallel_arg;

static void *parallel_client(void *p)
{
    parallel_arg *a = p;
    mcm_scu_options opts;
    mcm_fixture_scu_options(&a->w->f, &opts);
    mcm_scu *scu = NULL;
    if (mcm_scu_connect(&scu, &opts) != MCM_OK)
        return NULL;
    int ok = 1;
    for (int i = 0; i < JOBS_PER_SCU && ok; i++) {
        mcm_request *request = NULL;
        mcm_request_new(&request);
        mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, a->w->uids[i % 3], NULL);
        mcm_response rsp;
        ok = mcm_scu_create(scu, request, NULL, a->uids[i], &rsp) == MCM_OK && rsp.status == 0;
        mcm_request_free(request);
        mcm_job *job = NULL;
        ok = ok && mcm_scu_get(scu, a->uids[i], NULL, 0, &job, &rsp) == MCM_OK && rsp.status == 0 &&
             mcm_job_state_of(job) == MCM_JOB_IDLE;
        mcm_job_free(job);
    }
    ok = ok && mcm_scu_release(scu) == MCM_OK;
    mcm_scu_free(scu);
    a->ok = ok;
    return NULL;
}

START_TEST(test_parallel_scus)
{
    world w;
    world_open(&w, NULL);
    pthread_t threads[PARALLEL_SCUS];
    parallel_arg args[PARALLEL_SCUS];
    memset(args, 0, sizeof args);
    for (int i = 0; i < PARALLEL_SCUS; i++) {
        args[i].w = &w;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, parallel_client, &args[i]), 0);
    }
    for (int i = 0; i < PARALLEL_SCUS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < PARALLEL_SCUS; i++) {
        ck_assert_msg(args[i].ok, "client %d failed", i);
        for (int j = 0; j < JOBS_PER_SCU; j++)
            ck_assert_int_eq(mcm_fixture_state(&w.f, args[i].uids[j]), MCM_JOB_IDLE);
    }
    world_close(&w);
}
END_TEST

#define BURST 24

typedef struct burst_arg {
    uint16_t port;
    int outcome; /* 0 served, 1 rejected transient (local limit), -1 anything else */
} burst_arg;

static void *burst_client(void *p)
{
    burst_arg *a = p;
    mcm_rawpeer_options po = {a->port, NULL, NULL, 0, NULL, NULL};
    mcm_rawpeer_rejection rej;
    mcm_rawpeer *peer = NULL;
    int rc = mcm_rawpeer_connect(&peer, &po, &rej, NULL);
    a->outcome = -1;
    if (rc == 1 && rej.result == 2 && rej.source == 3 && rej.reason == 0x0302) {
        a->outcome = 1;
    } else if (rc == 0) {
        mcm_rawpeer_reply reply;
        if (mcm_rawpeer_echo(peer, &reply) == 0 && reply.status == 0) {
            usleep(100000);
            if (mcm_rawpeer_echo(peer, &reply) == 0 && reply.status == 0 && mcm_rawpeer_release(peer) == 0)
                a->outcome = 0;
        }
        mcm_rawpeer_free(peer);
    }
    return NULL;
}

/* More peers at once than the SCP serves: each is served or rejected transiently, none hangs,
 * and the SCP is fine afterwards. */
START_TEST(test_burst_beyond_limit)
{
    mcm_scp_options opts;
    world_options(&opts);
    opts.max_associations = 4;
    world w;
    world_open(&w, &opts);
    mcm_scu_release(w.scu);
    mcm_scu_free(w.scu);
    w.scu = NULL;
    pthread_t threads[BURST];
    burst_arg args[BURST];
    for (int i = 0; i < BURST; i++) {
        args[i].port = w.f.port;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, burst_client, &args[i]), 0);
    }
    int served = 0, rejected = 0;
    for (int i = 0; i < BURST; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(args[i].outcome >= 0, "peer %d neither served nor rejected transiently", i);
        served += args[i].outcome == 0;
        rejected += args[i].outcome == 1;
    }
    ck_assert_int_eq(served + rejected, BURST);
    ck_assert_int_ge(served, 4);
    w.scu = mcm_fixture_connect(&w.f, NULL, 0);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_echo(w.scu, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    world_close(&w);
}
END_TEST

/* ---- Stop and restart --------------------------------------------------------------------------- */

START_TEST(test_stop_before_run)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_scp_options opts;
    mcm_fixture_options(&f, &opts);
    mcm_scp *scp = NULL;
    ck_assert_int_eq(mcm_scp_new(&scp, &opts), MCM_OK);
    mcm_scp_stop(scp);
    ck_assert_int_eq(mcm_scp_run(scp), MCM_OK);
    mcm_scp_free(scp);
    mcm_fixture_cleanup(&f);
}
END_TEST

START_TEST(test_restart_recovery)
{
    world w;
    world_open(&w, NULL);
    char idle[65], done[65], failed[65], held[65], queued[65];
    create_job(&w, idle);
    create_job(&w, done);
    ck_assert_uint_eq(initiate(&w, done, 2, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, done, MCM_JOB_DONE), 1);
    atomic_store(&w.f.mode, MCM_FIXTURE_FAIL);
    create_job(&w, failed);
    ck_assert_uint_eq(initiate(&w, failed, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, failed, MCM_JOB_FAILURE), 1);
    atomic_store(&w.f.mode, MCM_FIXTURE_HOLD);
    create_job(&w, held);
    create_job(&w, queued);
    ck_assert_uint_eq(initiate(&w, held, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_int_eq(mcm_fixture_wait_holding(&w.f, 1), 1);
    ck_assert_uint_eq(initiate(&w, queued, 1, MCM_PRIORITY_HIGH), 0x0000);
    ck_assert_int_eq(mcm_fixture_state(&w.f, held), MCM_JOB_CREATING);

    /* Stop with an association open and a job being written: run returns, the writer is told to
     * stop and the job goes back to PENDING. */
    mcm_fixture_stop(&w.f);
    ck_assert_int_ge(atomic_load(&w.f.stopped), 1);
    mcm_response rsp;
    ck_assert_int_ne(mcm_scu_echo(w.scu, &rsp), MCM_OK); /* aborted by the stop */
    mcm_scu_free(w.scu);
    w.scu = NULL;

    /* Another SCP on the same database: every job is there, in the right state. */
    atomic_store(&w.f.mode, MCM_FIXTURE_HOLD);
    atomic_store(&w.f.release, 0);
    mcm_fixture_start_default(&w.f);
    ck_assert_int_eq(mcm_fixture_state(&w.f, idle), MCM_JOB_IDLE);
    ck_assert_int_eq(mcm_fixture_state(&w.f, done), MCM_JOB_DONE);
    ck_assert_int_eq(mcm_fixture_state(&w.f, failed), MCM_JOB_FAILURE);
    w.scu = mcm_fixture_connect(&w.f, NULL, 0);
    mcm_job *job = get_job(&w, done, &rsp);
    ck_assert_uint_eq(mcm_job_pieces(job), 2);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_job_free(job);
    ck_assert_uint_eq(initiate(&w, idle, 1, MCM_PRIORITY_UNSET), 0x0000);
    ck_assert_uint_eq(initiate(&w, held, 1, MCM_PRIORITY_UNSET), 0xA510); /* still initiated */
    atomic_store(&w.f.release, 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, held, MCM_JOB_DONE), 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, queued, MCM_JOB_DONE), 1);
    ck_assert_int_eq(mcm_fixture_wait_state(&w.f, idle, MCM_JOB_DONE), 1);
    world_close(&w);
}
END_TEST

/* ---- The whole workflow -------------------------------------------------------------------------- */

START_TEST(test_full_workflow)
{
    mcm_fixture f;
    mcm_fixture_init(&f);
    mcm_fixture_start_default(&f);
    char paths[3][4096], uids[3][65];
    mcm_fixture_make_images(&f, 3, paths, uids);
    const char *files[3] = {paths[0], paths[1], paths[2]};
    mcm_scu *scu = mcm_fixture_connect(&f, files, 3);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_echo(scu, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mcm_scu_store_file(scu, paths[i], &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0);
    }
    mcm_request *request = mcm_fixture_request(uids, 3);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_LABEL_TEXT, "Workflow test"), MCM_OK);
    char uid[65];
    ck_assert_int_eq(mcm_scu_create(scu, request, NULL, uid, &rsp), MCM_OK);
    mcm_request_free(request);
    ck_assert_uint_eq(rsp.status, 0);
    /* A separate association for Initiate and polling, as an SCU may do. */
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    scu = mcm_fixture_connect(&f, NULL, 0);
    ck_assert_int_eq(mcm_scu_initiate(scu, uid, 2, MCM_PRIORITY_HIGH, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0);
    mcm_wait_options wo = MCM_WAIT_OPTIONS_INIT;
    wo.initial_interval_ms = 10;
    wo.max_interval_ms = 100;
    wo.timeout_ms = 60000;
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_wait(scu, uid, &wo, &job, &rsp), MCM_OK);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    ck_assert_uint_eq(mcm_job_pieces(job), 2);
    mcm_job_free(job);
    for (int i = 0; i < 3; i++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/%s/%s.dcm", f.output, uid, uids[i]);
        char *dump = mcm_test_capture("dcmdump +P 0008,0018 '%s' 2>&1", path);
        ck_assert_ptr_nonnull(dump);
        ck_assert_msg(strstr(dump, uids[i]) != NULL, "dcmdump %s: %s", path, dump);
        free(dump);
    }
    ck_assert_int_ge(atomic_load(&f.log_lines), 7); /* one INFO line per request */
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    mcm_scu_free(scu);
    mcm_fixture_cleanup(&f);
}
END_TEST

Suite *mcm_suite_wire(void)
{
    Suite *s = suite_create("wire");
    TCase *rows = tcase_create("state table");
    tcase_set_timeout(rows, 120);
    tcase_add_test(rows, test_absent_create_valid);
    tcase_add_test(rows, test_absent_create_duplicate_uid);
    tcase_add_test(rows, test_absent_create_malformed_uid);
    tcase_add_test(rows, test_absent_create_missing_sequence);
    tcase_add_test(rows, test_absent_create_missing_value);
    tcase_add_test(rows, test_absent_create_invalid_value);
    tcase_add_test(rows, test_absent_create_unknown_attribute_strict);
    tcase_add_test(rows, test_absent_create_unknown_attribute_lenient);
    tcase_add_test(rows, test_absent_create_not_authorized);
    tcase_add_test(rows, test_absent_create_queue_full);
    tcase_add_test(rows, test_absent_action_and_get);
    tcase_add_test(rows, test_idle_get_and_cancel);
    tcase_add_test(rows, test_idle_initiate_argument_errors);
    tcase_add_test(rows, test_unknown_action_type);
    tcase_add_test(rows, test_pending_rows);
    tcase_add_test(rows, test_creating_success_and_done_rows);
    tcase_add_test(rows, test_failure_rows);
    tcase_add_test(rows, test_transient_row);
    tcase_add_test(rows, test_retention_row);
    suite_add_tcase(s, rows);

    TCase *get = tcase_create("N-GET and replies");
    tcase_set_timeout(get, 120);
    tcase_add_test(get, test_get_selection_and_warnings);
    tcase_add_test(get, test_annex_c_details);
    tcase_add_test(get, test_nset_ndelete_unrecognized);
    suite_add_tcase(s, get);

    TCase *peers = tcase_create("peers");
    tcase_set_timeout(peers, 120);
    tcase_add_test(peers, test_admission);
    tcase_add_test(peers, test_implicit_vr_only_peer);
    tcase_add_test(peers, test_unlisted_storage_classes);
    tcase_add_test(peers, test_careless_peers);
    tcase_add_test(peers, test_timeouts);
    tcase_add_test(peers, test_parallel_scus);
    tcase_add_test(peers, test_burst_beyond_limit);
    suite_add_tcase(s, peers);

    TCase *life = tcase_create("lifecycle");
    tcase_set_timeout(life, 180);
    tcase_add_test(life, test_stop_before_run);
    tcase_add_test(life, test_restart_recovery);
    tcase_add_test(life, test_full_workflow);
    suite_add_tcase(s, life);
    return s;
}
