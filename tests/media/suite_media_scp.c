/*
 * tests/media/suite_media_scp.c: issue 4's "done when": an SCP (the public API, as mcmscp uses it) with
 * the default media writer turns a C-STOREd study into a valid ISO image whose DICOMDIR dciodvfy
 * accepts, and the SCU sees it through N-GET: CREATING while the image is written, then DONE with
 * the pieces and the Referenced Storage Media Sequence. Failures reach the SCU the same way:
 * FAILURE, the Execution Status Info term and the Failed SOP Sequence with Failure Attributes.
 * Real associations on 127.0.0.1.
 */
#include <check.h>

#include "mediatest.h"
#include "scp_fixture.h"

#include <dcmmcm.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STUDY_SIZE 6

typedef struct scp_world {
    mcm_fixture f;
    mcm_media_writer *writer;
    char media[4096];
    mcm_scu *scu;
    char paths[STUDY_SIZE][4096];
    char uids[STUDY_SIZE][65];
    char classes[STUDY_SIZE][65];
    /* The image hook holds the first image until the test has seen CREATING. */
    atomic_int images_written;
    atomic_int release;
} scp_world;

static int hold_first_image(const char *image, unsigned volume, unsigned volumes, void *user)
{
    (void)image;
    (void)volume;
    (void)volumes;
    scp_world *w = user;
    atomic_fetch_add(&w->images_written, 1);
    /* Bounded (60 s) so a broken test cannot hang the runner; not a timing assertion. */
    for (int i = 0; i < 60000 && !atomic_load(&w->release); i++)
        usleep(1000);
    return 0;
}

/* A study of one patient: CT in two series (one implicit VR) and an SC image. */
static void make_study(scp_world *w)
{
    char study[65], series1[65], series2[65];
    mcm_uid_generate(study);
    mcm_uid_generate(series1);
    mcm_uid_generate(series2);
    for (int i = 0; i < STUDY_SIZE; i++) {
        mcm_test_instance spec = {0};
        spec.sop_class_uid = i == STUDY_SIZE - 1 ? MCM_TEST_SC_IMAGE : MCM_TEST_CT_IMAGE;
        spec.study_instance_uid = study;
        spec.series_instance_uid = i < 3 ? series1 : series2;
        spec.transfer_syntax_uid = i < 3 ? MCM_TEST_IMPLICIT_LE : MCM_TEST_EXPLICIT_LE;
        spec.instance_number = i + 1;
        snprintf(w->paths[i], sizeof w->paths[i], "%s/img%d.dcm", w->f.dir, i);
        ck_assert_int_eq(mcm_test_write_dicom(w->paths[i], &spec, w->uids[i]), 0);
        snprintf(w->classes[i], sizeof w->classes[i], "%s", spec.sop_class_uid);
    }
}

static void world_open(scp_world *w, uint64_t capacity, int hold)
{
    memset(w, 0, sizeof *w);
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    mcm_fixture_init(&w->f);
    snprintf(w->media, sizeof w->media, "%s/media", w->f.dir);

    mcm_media_options media = MCM_MEDIA_OPTIONS_INIT;
    media.output_dir = w->media;
    media.capacity_bytes = capacity;
    if (hold) {
        media.image_written = hold_first_image;
        media.image_written_user = w;
    }
    ck_assert_int_eq(mcm_media_writer_new(&w->writer, &media), MCM_OK);

    mcm_scp_options opts;
    mcm_fixture_options(&w->f, &opts);
    /* The wiring integrators use: the writer is the callback's user. (The fixture's log callback
     * expects the fixture as user, so it is left out here.) */
    opts.write_media = mcm_media_writer_write;
    opts.user = w->writer;
    opts.log = NULL;
    mcm_fixture_start(&w->f, &opts);

    make_study(w);
    const char *files[STUDY_SIZE];
    for (int i = 0; i < STUDY_SIZE; i++)
        files[i] = w->paths[i];
    w->scu = mcm_fixture_connect(&w->f, files, STUDY_SIZE);
    for (int i = 0; i < STUDY_SIZE; i++) {
        mcm_response rsp;
        ck_assert_int_eq(mcm_scu_store_file(w->scu, w->paths[i], &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
    }
}

static void world_close(scp_world *w)
{
    atomic_store(&w->release, 1);
    if (w->scu != NULL) {
        mcm_scu_release(w->scu);
        mcm_scu_free(w->scu);
    }
    mcm_fixture_stop(&w->f);
    mcm_media_writer_free(w->writer);
    mcm_fixture_cleanup(&w->f);
}

static void create_and_initiate(scp_world *w, mcm_request *request, int copies, char uid[65])
{
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_create(w->scu, request, NULL, uid, &rsp), MCM_OK);
    ck_assert_msg(rsp.status == 0x0000, "N-CREATE 0x%04X %s", rsp.status, rsp.error_comment);
    ck_assert_int_eq(mcm_scu_initiate(w->scu, uid, copies, MCM_PRIORITY_HIGH, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
}

static mcm_job *wait_final(scp_world *w, const char *uid)
{
    mcm_wait_options wait = MCM_WAIT_OPTIONS_INIT;
    wait.initial_interval_ms = 20;
    wait.max_interval_ms = 200;
    wait.timeout_ms = 120000; /* a bound for a broken build, not a timing assertion */
    mcm_job *job = NULL;
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_wait(w->scu, uid, &wait, &job, &rsp), MCM_OK);
    ck_assert_ptr_nonnull(job);
    return job;
}

START_TEST(cstored_study_becomes_a_valid_iso)
{
    scp_world w;
    world_open(&w, 0, 1);
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (int i = 0; i < STUDY_SIZE; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, w.classes[i], w.uids[i], "STD-GEN-CD"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "Done when"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_LABEL_TEXT, "dcmmcm issue 4"), MCM_OK);
    char uid[65];
    create_and_initiate(&w, request, 2, uid);
    mcm_request_free(request);

    /* While the image is being written the SCU sees CREATING, with no media yet. */
    for (int i = 0; i < 60000 && atomic_load(&w.images_written) == 0; i++)
        usleep(1000);
    ck_assert_int_eq(atomic_load(&w.images_written), 1);
    mcm_response rsp;
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_scu_get(w.scu, uid, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_CREATING);
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 0);
    mcm_job_free(job);
    atomic_store(&w.release, 1);

    job = wait_final(&w, uid);
    ck_assert_msg(mcm_job_state_of(job) == MCM_JOB_DONE, "state %s info %s", mcm_job_state_name(mcm_job_state_of(job)),
                  mcm_job_status_info(job) != NULL ? mcm_job_status_info(job) : "-");
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");
    ck_assert_uint_eq(mcm_job_pieces(job), 2); /* 2 copies x 1 volume */
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(job, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "DONE_WHEN"); /* made DICOMDIR-safe, reported as used */
    ck_assert(mcm_uid_is_valid(media.fileset_uid));

    /* The image: DICOMDIR accepted by dciodvfy and dcmdump, the study's instances, three trees
     * alike, the manifest checks. */
    char image[4300], uids_wanted[STUDY_SIZE * 66] = "";
    snprintf(image, sizeof image, "%s/%s/VOL001.iso", w.media, uid);
    char *uids = NULL;
    free(mcm_mb_check_image(w.f.dir, image, media.fileset_id, media.fileset_uid, &uids));
    for (int i = 0; i < STUDY_SIZE; i++) {
        strcat(uids_wanted, w.uids[i]);
        strcat(uids_wanted, "\n");
    }
    mcm_mb_sort_lines(uids_wanted);
    mcm_mb_sort_lines(uids);
    ck_assert_str_eq(uids, uids_wanted);
    free(uids);
    char copy[4300];
    snprintf(copy, sizeof copy, "%s/%s/VOL001_C02.iso", w.media, uid);
    struct stat a, b;
    ck_assert_int_eq(stat(image, &a), 0);
    ck_assert_int_eq(stat(copy, &b), 0);
    ck_assert_uint_eq(a.st_ino, b.st_ino);
    mcm_job_free(job);
    world_close(&w);
}
END_TEST

/* Failures over the wire: an unsupported profile and an instance without Patient ID. */
START_TEST(failures_show_on_n_get)
{
    scp_world w;
    world_open(&w, 0, 0);
    /* One more instance, without Patient ID. */
    char path[4200], bad_uid[65];
    snprintf(path, sizeof path, "%s/nopid.dcm", w.f.dir);
    mcm_test_instance spec = {0};
    spec.omit_patient_id = 1;
    ck_assert_int_eq(mcm_test_write_dicom(path, &spec, bad_uid), 0);
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_store_file(w.scu, path, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);

    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (int i = 0; i < STUDY_SIZE; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, w.classes[i], w.uids[i], i == 2 ? "STD-GEN-SEC-CD" : NULL),
                         MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, bad_uid, NULL), MCM_OK);
    char uid[65];
    create_and_initiate(&w, request, 1, uid);
    mcm_request_free(request);
    mcm_job *job = wait_final(&w, uid);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(job), "NOT_SUPPORTED");
    ck_assert_uint_eq(mcm_job_pieces(job), 0);
    ck_assert_uint_eq(mcm_job_media_count(job), 0);
    ck_assert_uint_eq(mcm_job_failed_count(job), 2);
    int saw_profile = 0, saw_attribute = 0;
    for (size_t k = 0; k < 2; k++) {
        mcm_failed_sop item;
        ck_assert_int_eq(mcm_job_failed(job, k, &item), MCM_OK);
        if (strcmp(item.sop_instance_uid, w.uids[2]) == 0) {
            ck_assert_uint_eq(item.failure_reason, 0x0204);
            ck_assert_str_eq(item.profile, "STD-GEN-SEC-CD");
            saw_profile = 1;
        } else {
            ck_assert_str_eq(item.sop_instance_uid, bad_uid);
            ck_assert_uint_eq(item.failure_reason, 0x0120);
            ck_assert_str_eq(item.profile, "STD-GEN-CD"); /* the SCP's default, used for it */
            ck_assert_uint_eq(item.failure_attribute_count, 1);
            ck_assert_uint_eq(item.failure_attributes[0], MCM_TAG(0x0010, 0x0020));
            saw_attribute = 1;
        }
    }
    ck_assert(saw_profile && saw_attribute);
    mcm_job_free(job);
    /* Nothing was published for the failed job. */
    char out[4300];
    snprintf(out, sizeof out, "%s/%s", w.media, uid);
    ck_assert_int_ne(access(out, F_OK), 0);
    world_close(&w);
}
END_TEST

/* A study larger than the (configured) medium without Allow Media Splitting: SET_OVERSIZED; with
 * it, several volumes, each its own Referenced Storage Media item. */
START_TEST(oversized_and_split_over_the_wire)
{
    scp_world w;
    /* Room for about two of the study's small images per volume. */
    world_open(&w, 1024 * 1024 + 40 * 1024, 0);
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    for (int i = 0; i < STUDY_SIZE; i++)
        ck_assert_int_eq(mcm_request_add_reference(request, w.classes[i], w.uids[i], NULL), MCM_OK);
    char uid[65];
    create_and_initiate(&w, request, 1, uid);
    mcm_job *job = wait_final(&w, uid);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(job), "SET_OVERSIZED");
    ck_assert_uint_eq(mcm_job_failed_count(job), 0);
    mcm_job_free(job);

    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"), MCM_OK);
    create_and_initiate(&w, request, 1, uid);
    mcm_request_free(request);
    job = wait_final(&w, uid);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    size_t volumes = mcm_job_media_count(job);
    ck_assert_uint_ge(volumes, 2);
    ck_assert_uint_eq(mcm_job_pieces(job), volumes);
    for (size_t v = 0; v < volumes; v++) {
        mcm_storage_media media;
        ck_assert_int_eq(mcm_job_media(job, v, &media), MCM_OK);
        char image[4300];
        snprintf(image, sizeof image, "%s/%s/VOL%03zu.iso", w.media, uid, v + 1);
        char *uids = NULL;
        free(mcm_mb_check_image(w.f.dir, image, media.fileset_id, media.fileset_uid, &uids));
        free(uids);
    }
    mcm_job_free(job);
    world_close(&w);
}
END_TEST

Suite *mcm_suite_media_scp(void)
{
    Suite *s = suite_create("media_scp");
    TCase *tc = tcase_create("done_when");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, cstored_study_becomes_a_valid_iso);
    tcase_add_test(tc, failures_show_on_n_get);
    tcase_add_test(tc, oversized_and_split_over_the_wire);
    suite_add_tcase(s, tc);
    return s;
}
