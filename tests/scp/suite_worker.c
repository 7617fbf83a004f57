/*
 * tests/scp/suite_worker.c: the SCP's media workers (lib/scp/worker.c) driven through the service: queue
 * order, the instance checks at job start (NO_INSTANCE, INST_AP_CONFLICT, DUPL_REF_INST), writers
 * that complete (real files), fail, defer or hold, Cancel and stop while CREATING, recovery after a
 * restart or a crash, the rows of the state table that need a worker, and retention of finished
 * jobs. Real job store, real DICOM instances, real output files.
 */
#include <check.h>

#include "service_fixture.h"

#include "core/request_internal.h"
#include "scp/store.h"

#include <pthread.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAG_ACTION_TYPE_ID MCM_TAG(0x0000, 0x1008)

static mcm_fx fx;

static void setup(void)
{
    mcm_fx_setup(&fx);
    mcm_fx_open(&fx);
}

static void teardown(void)
{
    mcm_fx_teardown(&fx);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static mcm_job *load(const char *uid)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    return job;
}

/* Create and initiate a job for the given instances; uid receives its UID. */
static void submit(size_t n, const char *const *classes, const char *const *uids, const char *const *profiles,
                   int copies, const char *priority, char uid[MCM_UID_MAX + 1])
{
    mcm_fx_create(&fx, mcm_fx_request(n, classes, uids, profiles), uid);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, copies, priority), 0x0000);
}

/* A job for one freshly stored CT instance, initiated. */
static void submit_one(char uid[MCM_UID_MAX + 1])
{
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
}

static void expect_failed_item(const mcm_job *job, size_t index, const char *sop_class, const char *sop_instance,
                               uint16_t reason, const char *profile)
{
    mcm_failed_sop item;
    ck_assert_int_eq(mcm_job_failed(job, index, &item), MCM_OK);
    ck_assert_str_eq(item.sop_class_uid, sop_class);
    ck_assert_str_eq(item.sop_instance_uid, sop_instance);
    ck_assert_uint_eq(item.failure_reason, reason);
    ck_assert_str_eq(item.profile, profile);
}

/* ---- writers ---- */

START_TEST(complete_writes_real_files)
{
    char ct[65], mr[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, ct);
    mcm_fx_store(&fx, MCM_TEST_MR_IMAGE, mr);
    const char *classes[] = {MCM_TEST_CT_IMAGE, MCM_TEST_MR_IMAGE};
    const char *uids[] = {ct, mr};
    const char *profiles[] = {NULL, "STD-GEN-DVD-JPEG"};
    submit(2, classes, uids, profiles, 2, "HIGH", uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));

    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_pieces(job), 2); /* digest A13: 2 copies x 1 volume */
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(job, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "VOL1");
    ck_assert(mcm_uid_is_valid(media.fileset_uid));
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    mcm_job_free(job);

    /* The writer got what it needed, in Referenced SOP Sequence order, while the job was CREATING. */
    ck_assert_int_eq(fx.writer.state_seen, MCM_JOB_CREATING);
    ck_assert_uint_eq(fx.writer.instance_count, 2);
    ck_assert_str_eq(fx.writer.classes[0], MCM_TEST_CT_IMAGE);
    ck_assert_str_eq(fx.writer.classes[1], MCM_TEST_MR_IMAGE);
    ck_assert_str_eq(fx.writer.profiles[0], "STD-GEN-CD"); /* the default (digest A17) */
    ck_assert_str_eq(fx.writer.profiles[1], "STD-GEN-DVD-JPEG");
    /* Real files, byte for byte the size of what was received. */
    for (int i = 0; i < 2; i++) {
        char out[4400];
        snprintf(out, sizeof out, "%s/%s/IMG%04d", fx.output_dir, uid, i);
        ck_assert_int_gt(file_size(fx.writer.paths[i]), 0);
        ck_assert_int_eq(file_size(out), file_size(fx.writer.paths[i]));
        ck_assert_int_eq((off_t)fx.writer.sizes[i], file_size(fx.writer.paths[i]));
    }
    /* The result is durable. */
    mcm_fx_reopen(&fx);
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_DONE);
    job = load(uid);
    ck_assert_uint_eq(mcm_job_pieces(job), 2);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_job_free(job);
}
END_TEST

START_TEST(priority_then_arrival_order)
{
    const char *priorities[] = {"LOW", "HIGH", "MED", "HIGH", NULL, "LOW", "MED"};
    const size_t n = sizeof priorities / sizeof priorities[0];
    char uids[7][65];
    for (size_t i = 0; i < n; i++) {
        mcm_fx_create(&fx, mcm_fx_request_one(&fx), uids[i]);
        ck_assert_uint_eq(mcm_fx_initiate(&fx, uids[i], 0, priorities[i]), 0x0000);
    }
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK); /* one worker: a strict order */
    for (size_t i = 0; i < n; i++)
        ck_assert(mcm_fx_wait_state(&fx, uids[i], MCM_JOB_DONE, "NORMAL"));
    /* HIGH first, then MED (absent counts as MED), then LOW; arrival order within each. */
    const size_t expected[] = {1, 3, 2, 4, 6, 0, 5};
    ck_assert_uint_eq(fx.writer.order_count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(fx.writer.order[i], uids[expected[i]]) == 0, "position %zu: job %zu expected", i,
                      expected[i]);
}
END_TEST

/* Arrival is arrival in the queue: the Initiate, not the N-CREATE (a request created early and
 * initiated late waits behind those initiated before it). */
START_TEST(queue_order_is_initiate_order)
{
    char uids[4][65];
    for (size_t i = 0; i < 4; i++)
        mcm_fx_create(&fx, mcm_fx_request_one(&fx), uids[i]);
    const size_t initiated[] = {2, 0, 3, 1};
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(mcm_fx_initiate(&fx, uids[initiated[i]], 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK); /* one worker: a strict order */
    for (size_t i = 0; i < 4; i++)
        ck_assert(mcm_fx_wait_state(&fx, uids[i], MCM_JOB_DONE, "NORMAL"));
    ck_assert_uint_eq(fx.writer.order_count, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(strcmp(fx.writer.order[i], uids[initiated[i]]) == 0, "position %zu: job %zu expected", i,
                      initiated[i]);
}
END_TEST

START_TEST(fails_with_writer_term_and_items)
{
    fx.writer.mode = MCM_FX_FAIL;
    char instance[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {instance};
    submit(1, classes, uids, NULL, 0, NULL, uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "DIR_PROC_ERR"));
    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    expect_failed_item(job, 0, MCM_TEST_CT_IMAGE, instance, MCM_FAILURE_MISSING_ATTRIBUTE, "STD-GEN-CD");
    mcm_failed_sop item;
    mcm_job_failed(job, 0, &item);
    ck_assert_uint_eq(item.failure_attribute_count, 1);
    ck_assert_uint_eq(item.failure_attributes[0], MCM_TAG(0x0010, 0x0020));
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    mcm_job_free(job);
}
END_TEST

START_TEST(nonzero_return_is_mcd_failure)
{
    fx.writer.mode = MCM_FX_FAIL_RETURN;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "MCD_FAILURE"));
}
END_TEST

START_TEST(failed_instance_never_passes_for_success)
{
    fx.writer.mode = MCM_FX_FAIL_INSTANCE_ONLY; /* reports a failed instance, yet returns 0 */
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "PROC_FAILURE")); /* digest A12 */
    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    mcm_failed_sop item;
    mcm_job_failed(job, 0, &item);
    ck_assert_uint_eq(item.failure_reason, MCM_FAILURE_INSTANCE_SIZE_EXCEEDED);
    mcm_job_free(job);
}
END_TEST

START_TEST(deferred_job_waits_pending)
{
    fx.writer.mode = MCM_FX_DEFER_THEN_COMPLETE;
    fx.writer.defer_seconds = 3600;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_PENDING, "OUT_OF_SUPPLIES"));
    ck_assert_uint_eq(fx.writer.calls, 1);
    /* Stays PENDING across a restart, still waiting for its retry time. */
    mcm_fx_reopen(&fx);
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_PENDING);
    ck_assert_str_eq(info, "OUT_OF_SUPPLIES");
    /* A deferred job can still be cancelled (it is PENDING). */
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, NULL), 0x0000);
}
END_TEST

START_TEST(deferred_job_retried_later)
{
    fx.writer.mode = MCM_FX_DEFER_THEN_COMPLETE;
    fx.writer.defer_seconds = 1;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
    ck_assert_uint_eq(fx.writer.calls, 2);
    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_pieces(job), 1);
    mcm_job_free(job);
}
END_TEST

/* ---- checks at job start ---- */

START_TEST(missing_instances_no_instance)
{
    char present[65], missing1[65], missing2[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, present);
    ck_assert_int_eq(mcm_uid_generate(missing1), MCM_OK);
    ck_assert_int_eq(mcm_uid_generate(missing2), MCM_OK);
    const char *classes[] = {MCM_TEST_CT_IMAGE, MCM_TEST_MR_IMAGE, MCM_TEST_CT_IMAGE};
    const char *uids[] = {missing1, present, missing2};
    const char *profiles[] = {"STD-GEN-DVD-JPEG", NULL, NULL};
    submit(3, classes, uids, profiles, 0, NULL, uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "NO_INSTANCE"));
    mcm_job *job = load(uid);
    /* Every problem is reported: both missing, and the present one's class conflict too. */
    ck_assert_uint_eq(mcm_job_failed_count(job), 3);
    expect_failed_item(job, 0, MCM_TEST_CT_IMAGE, missing1, MCM_FAILURE_NO_SUCH_INSTANCE, "STD-GEN-DVD-JPEG");
    expect_failed_item(job, 1, MCM_TEST_MR_IMAGE, present, MCM_FAILURE_CLASS_INSTANCE_CONFLICT, "STD-GEN-CD");
    expect_failed_item(job, 2, MCM_TEST_CT_IMAGE, missing2, MCM_FAILURE_NO_SUCH_INSTANCE, "STD-GEN-CD");
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 0);
    mcm_job_free(job);
    ck_assert_uint_eq(fx.writer.calls, 0); /* never partial media (digest A12) */
}
END_TEST

START_TEST(class_conflict_inst_ap_conflict)
{
    char ct[65], mr[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, ct);
    mcm_fx_store(&fx, MCM_TEST_MR_IMAGE, mr);
    const char *classes[] = {MCM_TEST_CT_IMAGE, MCM_TEST_SC_IMAGE};
    const char *uids[] = {ct, mr};
    submit(2, classes, uids, NULL, 0, NULL, uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "INST_AP_CONFLICT"));
    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    /* The item names the class the reference gave. */
    expect_failed_item(job, 0, MCM_TEST_SC_IMAGE, mr, MCM_FAILURE_CLASS_INSTANCE_CONFLICT, "STD-GEN-CD");
    mcm_job_free(job);
    ck_assert_uint_eq(fx.writer.calls, 0);
}
END_TEST

START_TEST(duplicates_dupl_ref_inst)
{
    char a[65], b[65], missing[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, a);
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, b);
    ck_assert_int_eq(mcm_uid_generate(missing), MCM_OK);
    const char *classes[] = {MCM_TEST_CT_IMAGE, MCM_TEST_CT_IMAGE, MCM_TEST_CT_IMAGE,
                             MCM_TEST_CT_IMAGE, MCM_TEST_CT_IMAGE, MCM_TEST_CT_IMAGE};
    const char *uids[] = {a, b, a, missing, a, b};
    submit(6, classes, uids, NULL, 0, NULL, uid); /* accepted at N-CREATE (digest A14) */
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "DUPL_REF_INST"));
    mcm_job *job = load(uid);
    /* One item per repeated instance (a three times, b twice), plus the missing one. */
    ck_assert_uint_eq(mcm_job_failed_count(job), 3);
    int seen_a = 0, seen_b = 0, seen_missing = 0;
    for (size_t i = 0; i < 3; i++) {
        mcm_failed_sop item;
        ck_assert_int_eq(mcm_job_failed(job, i, &item), MCM_OK);
        if (strcmp(item.sop_instance_uid, missing) == 0) {
            seen_missing++;
            ck_assert_uint_eq(item.failure_reason, MCM_FAILURE_NO_SUCH_INSTANCE);
        } else {
            ck_assert_uint_eq(item.failure_reason, MCM_FAILURE_PROCESSING);
            seen_a += strcmp(item.sop_instance_uid, a) == 0;
            seen_b += strcmp(item.sop_instance_uid, b) == 0;
        }
    }
    ck_assert_int_eq(seen_a, 1);
    ck_assert_int_eq(seen_b, 1);
    ck_assert_int_eq(seen_missing, 1);
    mcm_job_free(job);
    ck_assert_uint_eq(fx.writer.calls, 0);
}
END_TEST

START_TEST(record_without_file_no_instance)
{
    char instance[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    char resolved[4096], path[4200];
    ck_assert_ptr_nonnull(realpath(fx.storage_dir, resolved));
    snprintf(path, sizeof path, "%s/%s.dcm", resolved, instance);
    ck_assert_int_eq(unlink(path), 0); /* removed behind the SCP's back */
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {instance};
    submit(1, classes, uids, NULL, 0, NULL, uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_FAILURE, "NO_INSTANCE"));
    mcm_job *job = load(uid);
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    expect_failed_item(job, 0, MCM_TEST_CT_IMAGE, instance, MCM_FAILURE_NO_SUCH_INSTANCE, "STD-GEN-CD");
    mcm_job_free(job);
}
END_TEST

/* Lenient validation takes an empty optional value as absent (PS3.4 5.4.2.1), and so does
 * everything after it: the job does not carry it (N-GET would return it empty, which 3/3 does not
 * permit), and an item with an empty Requested Media Application Profile is written with the
 * SCP's default profile, which is what its instance tells the writer. */
START_TEST(empty_optional_values_are_absent)
{
    char instance[65], uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    mcm_request *request;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(request, MCM_TEST_CT_IMAGE, strlen(MCM_TEST_CT_IMAGE), instance,
                                                   strlen(instance), "", 0),
                     MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(request, MCM_TAG_LABEL_TEXT, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "", 0), MCM_OK);
    mcm_fx_create(&fx, request, uid);
    mcm_job *job = load(uid);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_LABEL_TEXT), 0);
    ck_assert_int_eq(mcm_job_has(job, MCM_TAG_ALLOW_MEDIA_SPLITTING), 0);
    mcm_job_free(job);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
    ck_assert_str_eq(fx.writer.profiles[0], "STD-GEN-CD");
}
END_TEST

/* ---- Cancel and stop while CREATING ---- */

START_TEST(cancel_creating_interruptible)
{
    fx.writer.mode = MCM_FX_HOLD;
    fx.writer.interruptible = 1;
    char uid[65], next[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_holding(&fx));
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_CREATING);
    mcm_response rsp;
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, &rsp), 0x0000);
    ck_assert_uint_eq(rsp.action_type_id, 2);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_ABSENT); /* deleted at once */
    ck_assert(mcm_fx_wait_returns(&fx, 1));
    ck_assert_int_eq(fx.writer.saw_stop, 1); /* the writer was told to stop */
    /* Once the (single) worker has finished with it, the cancelled job is still gone: the next
     * job runs only after the worker saved (or discarded) the first one's result. */
    fx.writer.mode = MCM_FX_COMPLETE;
    submit_one(next);
    ck_assert(mcm_fx_wait_state(&fx, next, MCM_JOB_DONE, "NORMAL"));
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_ABSENT);
    char partial[4400];
    snprintf(partial, sizeof partial, "%s/%s", fx.output_dir, uid);
    ck_assert_int_eq(access(partial, F_OK), -1);
}
END_TEST

START_TEST(cancel_creating_not_interruptible_c202)
{
    fx.writer.mode = MCM_FX_HOLD;
    fx.writer.interruptible = 0;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_holding(&fx));
    mcm_response rsp;
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, &rsp), MCM_STATUS_NOT_INTERRUPTIBLE);
    ck_assert(rsp.error_comment[0] != '\0');
    ck_assert_uint_eq(rsp.offending_element_count, 1);
    ck_assert_uint_eq(rsp.offending_elements[0], TAG_ACTION_TYPE_ID);
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_CREATING);
    ck_assert_str_eq(info, "NORMAL");
    ck_assert_int_eq(fx.writer.saw_stop, 0);
    /* Other rows of CREATING: Initiate is A510, N-GET answers CREATING. */
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), MCM_STATUS_ALREADY_INITIATED);
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    ck_assert_int_eq(mcm_service_get(fx.service, "SCU", uid, NULL, 0, &job, &selected, &count, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_CREATING);
    mcm_job_free(job);
    mcm_fx_release(&fx);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, &rsp), MCM_STATUS_ALREADY_COMPLETED);
}
END_TEST

/* A Cancel on its own thread, for a test that holds it up. */
typedef struct cancel_call {
    const char *uid;
    mcm_response rsp;
    int rc;
} cancel_call;

static void *cancel_thread(void *arg)
{
    cancel_call *call = arg;
    call->rc = mcm_service_action(fx.service, "SCU", call->uid, 2, NULL, &call->rsp);
    return NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Digest 5.12: a Cancel answered 0000 has stopped the creation. The writer decides it can no
 * longer be interrupted (it is about to commit its media) exactly while a Cancel, having found it
 * interruptible, is still deleting the job (held up here by another connection's write lock on the
 * job database): either the writer sees the stop and makes nothing, or the Cancel gets C202 and
 * the job completes; never a successful Cancel with media left behind. */
START_TEST(cancel_racing_the_commit_of_media)
{
    fx.writer.mode = MCM_FX_GATED;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_calls(&fx, 1));

    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(fx.database_path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cancel_call call = {.uid = uid};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, cancel_thread, &call), 0);
    sleep_ms(300); /* the Cancel reaches the deletion and waits for the lock (if not, the test proves less) */
    mcm_fx_release_upto(&fx, 1);
    int returned = mcm_fx_wait_returns(&fx, 1);
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    pthread_join(thread, NULL);
    ck_assert(returned);
    ck_assert_int_eq(call.rc, MCM_OK);

    char output[4400];
    snprintf(output, sizeof output, "%s/%s", fx.output_dir, uid);
    if (call.rsp.status == 0x0000) {
        ck_assert_int_eq(fx.writer.saw_stop, 1);
        ck_assert_msg(access(output, F_OK) != 0, "Cancel answered 0000, yet the writer committed its media");
        ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_ABSENT);
    } else {
        ck_assert_uint_eq(call.rsp.status, MCM_STATUS_NOT_INTERRUPTIBLE);
        ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
    }
}
END_TEST

/* A cancelled job's UID is free at once: an SCU may create a new job with it, and a second
 * worker take that job, while the first worker still finishes with the cancelled one. The first
 * worker's result (the cancelled job back to the queue) must not land on the new job, which
 * completes once, by the second worker. */
START_TEST(cancelled_uid_reused_while_its_writer_finishes)
{
    fx.opts.media_workers = 2;
    mcm_fx_reopen(&fx);
    fx.writer.mode = MCM_FX_GATED;
    const char *uid = "1.2.826.0.1.3680043.2.1143.4242";
    mcm_request *first = mcm_fx_request_one(&fx), *second = NULL;
    ck_assert_int_eq(mcm_request_clone(&second, first), MCM_OK);
    mcm_response rsp;
    char got[65];
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", first, uid, got, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_calls(&fx, 1)); /* worker A holds the job; its writer waits */
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, NULL), 0x0000);

    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", second, uid, got, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    ck_assert(mcm_fx_wait_calls(&fx, 2)); /* worker B holds the new job */

    mcm_fx_release_upto(&fx, 1); /* A's writer sees the stop; A saves (or drops) its result */
    ck_assert(mcm_fx_wait_returns(&fx, 1));
    sleep_ms(300);               /* A saves its result now (if not, the test proves less) */
    mcm_fx_release_upto(&fx, 2); /* B's writer completes the new job */
    int done = mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL");
    pthread_mutex_lock(&fx.writer.lock);
    unsigned calls = fx.writer.calls;
    pthread_mutex_unlock(&fx.writer.lock);
    ck_assert_msg(done, "the new job never became DONE (state %s)", mcm_job_state_name(mcm_fx_state(&fx, uid, NULL)));
    ck_assert_msg(calls == 2, "the new job was written %u times", calls - 1);
    ck_assert_int_eq(fx.writer.saw_stop, 1);
}
END_TEST

/* The store refuses to save a finished job for a while (another program holds the database's
 * write lock longer than the store waits): the worker tries again, and the job becomes DONE once
 * the database is free, instead of staying CREATING with no worker behind it. */
START_TEST(result_saved_once_the_store_works_again)
{
    fx.writer.mode = MCM_FX_GATED;
    char uid[65];
    submit_one(uid);
    mcm_service_set_store_busy_timeout(fx.service, 100);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_calls(&fx, 1));
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(fx.database_path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    mcm_fx_release_upto(&fx, 1);
    int returned = mcm_fx_wait_returns(&fx, 1);
    sleep_ms(700); /* a few refused saves */
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert(returned);
    ck_assert_msg(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"), "the job is %s",
                  mcm_job_state_name(mcm_fx_state(&fx, uid, NULL)));
}
END_TEST

START_TEST(stop_while_creating_back_to_pending)
{
    fx.writer.mode = MCM_FX_HOLD;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_holding(&fx));
    mcm_service_stop(fx.service);
    ck_assert_int_eq(fx.writer.saw_stop, 1);
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_PENDING);
    ck_assert_str_eq(info, "QUEUED");
    /* Started again, it completes. */
    fx.writer.mode = MCM_FX_COMPLETE;
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
    ck_assert_uint_eq(fx.writer.calls, 2);
}
END_TEST

START_TEST(restart_after_close_while_creating)
{
    fx.writer.mode = MCM_FX_HOLD; /* returns -1 when told to stop: it did not finish */
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_holding(&fx));
    mcm_fx_reopen(&fx); /* close while CREATING, open again */
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_PENDING);
    ck_assert_str_eq(info, "QUEUED");
    fx.writer.mode = MCM_FX_COMPLETE;
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
}
END_TEST

START_TEST(stop_after_writer_finished_is_done)
{
    /* A writer that returns 0 with no failure has written the media, stop or not: requeueing it
     * would make a second set of media. */
    fx.writer.mode = MCM_FX_HOLD;
    fx.writer.hold_returns = 0;
    char uid[65];
    submit_one(uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_holding(&fx));
    mcm_service_stop(fx.service);
    ck_assert_int_eq(fx.writer.saw_stop, 1);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_DONE);
}
END_TEST

START_TEST(restart_after_crash_while_creating)
{
    char uid[65];
    submit_one(uid);
    mcm_service_close(fx.service);
    fx.service = NULL;
    /* What a crash leaves: the job claimed (CREATING) and nobody running it. */
    mcm_store *store = NULL;
    ck_assert_int_eq(mcm_store_open(&store, fx.database_path), MCM_OK);
    mcm_job *claimed = NULL;
    ck_assert_int_eq(mcm_store_claim_next(store, (int64_t)time(NULL), &claimed), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(claimed), uid);
    mcm_job_free(claimed);
    mcm_store_close(store);

    mcm_fx_open(&fx);
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, uid, info), MCM_JOB_PENDING);
    ck_assert_str_eq(info, "QUEUED");
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_DONE, "NORMAL"));
}
END_TEST

/* ---- the state table rows that need a worker (digest section 6) ---- */

START_TEST(state_table_finished_jobs)
{
    char done[65], failure[65];
    submit_one(done);
    char missing[65], uid[65];
    ck_assert_int_eq(mcm_uid_generate(missing), MCM_OK);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {missing};
    submit(1, classes, uids, NULL, 0, NULL, failure);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, done, MCM_JOB_DONE, "NORMAL"));
    ck_assert(mcm_fx_wait_state(&fx, failure, MCM_JOB_FAILURE, "NO_INSTANCE"));
    const char *finished[] = {done, failure};
    for (size_t i = 0; i < 2; i++) {
        mcm_response rsp;
        /* Initiate again: A510 (C201 is only for Cancel). */
        ck_assert_int_eq(mcm_service_action(fx.service, "SCU", finished[i], 1, NULL, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, MCM_STATUS_ALREADY_INITIATED);
        ck_assert(rsp.error_comment[0] != '\0');
        /* Cancel: C201, and the job stays readable (digest A3). */
        ck_assert_uint_eq(mcm_fx_cancel(&fx, finished[i], &rsp), MCM_STATUS_ALREADY_COMPLETED);
        ck_assert(rsp.error_comment[0] != '\0');
        ck_assert_uint_eq(rsp.offending_elements[0], TAG_ACTION_TYPE_ID);
        mcm_job *job = NULL;
        uint32_t *selected = NULL;
        size_t count = 0;
        ck_assert_int_eq(mcm_service_get(fx.service, "SCU", finished[i], NULL, 0, &job, &selected, &count, &rsp),
                         MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
        ck_assert_int_eq(mcm_job_state_of(job), i == 0 ? MCM_JOB_DONE : MCM_JOB_FAILURE);
        mcm_job_free(job);
    }
    /* A new request with the UID of a finished one is a duplicate (no re-initiating). */
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), done, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_DUPLICATE_SOP_INSTANCE);
}
END_TEST

START_TEST(retention_of_finished_jobs_and_instances)
{
    fx.opts.retention_done_seconds = 1000;
    fx.opts.retention_instance_seconds = 10;
    mcm_fx_reopen(&fx);
    char done[65], failure[65], missing[65];
    submit_one(done);
    ck_assert_int_eq(mcm_uid_generate(missing), MCM_OK);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {missing};
    submit(1, classes, uids, NULL, 0, NULL, failure);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, done, MCM_JOB_DONE, NULL));
    ck_assert(mcm_fx_wait_state(&fx, failure, MCM_JOB_FAILURE, NULL));
    mcm_service_stop(fx.service);
    int64_t now = (int64_t)time(NULL);
    /* A finished job does not hold its instances: they expire on their own period. */
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 1);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 12), MCM_OK);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 0);
    ck_assert_int_eq(mcm_fx_state(&fx, done, NULL), MCM_JOB_DONE);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 1002), MCM_OK);
    ck_assert_int_eq(mcm_fx_state(&fx, done, NULL), MCM_JOB_ABSENT);
    ck_assert_int_eq(mcm_fx_state(&fx, failure, NULL), MCM_JOB_ABSENT);
    ck_assert_uint_eq(mcm_fx_cancel(&fx, done, NULL), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
}
END_TEST

/* ---- concurrency: clients and two workers at once ---- */

#define CLIENTS 3
#define JOBS_PER_CLIENT 8

typedef struct client {
    pthread_t thread;
    char instance[65];
    char uids[JOBS_PER_CLIENT][65];
    int errors;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    for (int i = 0; i < JOBS_PER_CLIENT; i++) {
        mcm_request *request = NULL;
        mcm_request_new(&request);
        mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, c->instance, NULL);
        mcm_response rsp;
        mcm_service_create(fx.service, "SCU", request, NULL, c->uids[i], NULL, &rsp);
        c->errors += rsp.status != 0;
        mcm_service_action(fx.service, "SCU", c->uids[i], 1, NULL, &rsp);
        c->errors += rsp.status != 0;
        mcm_job *job = NULL;
        uint32_t *selected = NULL;
        size_t count = 0;
        mcm_service_get(fx.service, "SCU", c->uids[i], NULL, 0, &job, &selected, &count, &rsp);
        c->errors += rsp.status != 0 || job == NULL;
        mcm_job_free(job);
    }
    return NULL;
}

START_TEST(clients_and_workers_concurrently)
{
    fx.opts.media_workers = 2;
    mcm_fx_reopen(&fx);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    client clients[CLIENTS];
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < CLIENTS; i++) {
        mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, clients[i].instance);
        ck_assert_int_eq(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(clients[i].thread, NULL);
    for (int i = 0; i < CLIENTS; i++) {
        ck_assert_int_eq(clients[i].errors, 0);
        for (int j = 0; j < JOBS_PER_CLIENT; j++)
            ck_assert(mcm_fx_wait_state(&fx, clients[i].uids[j], MCM_JOB_DONE, "NORMAL"));
    }
    /* Each job written exactly once. */
    ck_assert_uint_eq(fx.writer.calls, CLIENTS * JOBS_PER_CLIENT);
    ck_assert_int_eq(mcm_fx_count_entries(fx.output_dir), CLIENTS * JOBS_PER_CLIENT);
}
END_TEST

START_TEST(cancel_races_completion)
{
    /* Cancels land before, during and after the writing of real files by two workers. Whatever
     * the interleaving, a Cancel answered 0000 leaves no job behind, and one answered C201 found it
     * DONE (digest 5.12, 6). */
    fx.opts.media_workers = 2;
    mcm_fx_reopen(&fx);
    enum { JOBS = 24 };
    char uids[JOBS][65];
    uint16_t answers[JOBS];
    char instance[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *refs[] = {instance};
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    for (int i = 0; i < JOBS; i++) {
        submit(1, classes, refs, NULL, 0, NULL, uids[i]);
        if (i % 3 == 1) { /* once a worker has it (CREATING, or already DONE) */
            double until = mcm_test_now_ms() + 60000;
            while (mcm_fx_state(&fx, uids[i], NULL) == MCM_JOB_PENDING && mcm_test_now_ms() < until)
                continue;
        } else if (i % 3 == 2) { /* after it finished */
            ck_assert(mcm_fx_wait_state(&fx, uids[i], MCM_JOB_DONE, "NORMAL"));
        }
        answers[i] = mcm_fx_cancel(&fx, uids[i], NULL);
        ck_assert_msg(answers[i] == 0x0000 || answers[i] == MCM_STATUS_ALREADY_COMPLETED, "job %d: cancel 0x%04X", i,
                      answers[i]);
    }
    int cancelled = 0;
    for (int i = 0; i < JOBS; i++) {
        if (answers[i] == 0x0000) {
            cancelled++;
            ck_assert_int_eq(mcm_fx_state(&fx, uids[i], NULL), MCM_JOB_ABSENT);
        } else {
            ck_assert_int_eq(mcm_fx_state(&fx, uids[i], NULL), MCM_JOB_DONE);
        }
    }
    mcm_service_stop(fx.service); /* every worker has saved or discarded its last result */
    for (int i = 0; i < JOBS; i++)
        ck_assert_int_eq(mcm_fx_state(&fx, uids[i], NULL), answers[i] == 0x0000 ? MCM_JOB_ABSENT : MCM_JOB_DONE);
    fprintf(stderr, "worker: %d of %d jobs cancelled, %d completed before their Cancel\n", cancelled, JOBS,
            JOBS - cancelled);
}
END_TEST

Suite *mcm_suite_worker(void)
{
    Suite *s = suite_create("worker");

    TCase *tc = tcase_create("writers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, complete_writes_real_files);
    tcase_add_test(tc, priority_then_arrival_order);
    tcase_add_test(tc, queue_order_is_initiate_order);
    tcase_add_test(tc, fails_with_writer_term_and_items);
    tcase_add_test(tc, nonzero_return_is_mcd_failure);
    tcase_add_test(tc, failed_instance_never_passes_for_success);
    tcase_add_test(tc, deferred_job_waits_pending);
    tcase_add_test(tc, deferred_job_retried_later);
    suite_add_tcase(s, tc);

    tc = tcase_create("start_checks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, missing_instances_no_instance);
    tcase_add_test(tc, class_conflict_inst_ap_conflict);
    tcase_add_test(tc, duplicates_dupl_ref_inst);
    tcase_add_test(tc, record_without_file_no_instance);
    tcase_add_test(tc, empty_optional_values_are_absent);
    suite_add_tcase(s, tc);

    tc = tcase_create("interruptions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, cancel_creating_interruptible);
    tcase_add_test(tc, cancel_creating_not_interruptible_c202);
    tcase_add_test(tc, cancel_racing_the_commit_of_media);
    tcase_add_test(tc, cancelled_uid_reused_while_its_writer_finishes);
    tcase_add_test(tc, result_saved_once_the_store_works_again);
    tcase_add_test(tc, stop_while_creating_back_to_pending);
    tcase_add_test(tc, restart_after_close_while_creating);
    tcase_add_test(tc, stop_after_writer_finished_is_done);
    tcase_add_test(tc, restart_after_crash_while_creating);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, state_table_finished_jobs);
    tcase_add_test(tc, retention_of_finished_jobs_and_instances);
    tcase_add_test(tc, clients_and_workers_concurrently);
    tcase_add_test(tc, cancel_races_completion);
    suite_add_tcase(s, tc);
    return s;
}
