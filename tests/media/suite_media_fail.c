/*
 * tests/media/suite_media_fail.c: every way the default media writer fails a job: the Failure Reasons
 * of PS3.3 C.22.1.4 with their Failure Attributes, the Execution Status Info term (digest 4.2,
 * 4.6), and never partial media (digest A12): nothing in the output, no staging left.
 */
#include <check.h>

#include "mediatest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct expected_item {
    size_t index;
    uint16_t reason;
    uint32_t attributes[4];
    size_t attribute_count;
} expected_item;

static void assert_failed(mcm_media_bench *b, const char *term, const expected_item *items, size_t count)
{
    ck_assert_msg(b->ctx.outcome == MCM_MEDIA_OUTCOME_FAILED, "outcome %d (%s)", b->ctx.outcome, b->ctx.message);
    ck_assert_str_eq(b->ctx.term, term);
    ck_assert_uint_eq(mcm_job_failed_count(b->ctx.results), count);
    for (size_t k = 0; k < count; k++) {
        mcm_failed_sop item;
        ck_assert_int_eq(mcm_job_failed(b->ctx.results, k, &item), MCM_OK);
        const mcm_instance *in = &b->instances[items[k].index];
        ck_assert_str_eq(item.sop_instance_uid, in->sop_instance_uid);
        ck_assert_str_eq(item.sop_class_uid, in->sop_class_uid);
        ck_assert_msg(item.failure_reason == items[k].reason, "item %zu: reason %04X, expected %04X", k,
                      item.failure_reason, items[k].reason);
        if (in->profile != NULL)
            ck_assert_str_eq(item.profile, in->profile);
        ck_assert_uint_eq(item.failure_attribute_count, items[k].attribute_count);
        for (size_t a = 0; a < items[k].attribute_count; a++)
            ck_assert_uint_eq(item.failure_attributes[a], items[k].attributes[a]);
    }
    /* Never partial media: no volume reported, nothing published or left in the output or staging. */
    ck_assert_uint_eq(mcm_job_media_count(b->ctx.results), 0);
    ck_assert_uint_eq(mcm_job_pieces(b->ctx.results), 0);
    ck_assert_uint_eq(mcm_mb_output_entries(b), 0);
    char staged[4200];
    snprintf(staged, sizeof staged, "%s/%s", b->staging, b->job_uid);
    ck_assert_int_ne(access(staged, F_OK), 0);
}

static void add_plain(mcm_media_bench *b, int n, const char *profile)
{
    for (int i = 0; i < n; i++) {
        mcm_test_instance spec = {0};
        spec.instance_number = i + 1;
        mcm_mb_add(b, &spec, profile);
    }
}

START_TEST(unsupported_profile_0204)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, "STD-GEN-CD");
    add_plain(&b, 1, "STD-GEN-SEC-CD");
    add_plain(&b, 1, "PRI-ACME-TAPE");
    mcm_mb_run(&b);
    ck_assert_int_eq(b.rc, MCM_OK);
    expected_item items[] = {{2, 0x0204, {0}, 0}, {3, 0x0204, {0}, 0}};
    assert_failed(&b, "NOT_SUPPORTED", items, 2);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(conflicting_profiles_0201)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, "STD-GEN-CD");
    add_plain(&b, 1, "STD-GEN-DVD-JPEG");
    mcm_mb_run(&b);
    expected_item items[] = {{2, 0x0201, {0}, 0}};
    assert_failed(&b, "INST_AP_CONFLICT", items, 1);
    mcm_mb_free(&b);
}
END_TEST

/* STD-DVD-MPEG2-MPML holds multi-frame video only: a CT image is not allowed (0202H). */
START_TEST(sop_class_not_allowed_0202)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 1, "STD-DVD-MPEG2-MPML");
    mcm_mb_run(&b);
    expected_item items[] = {{0, 0x0202, {0}, 0}};
    assert_failed(&b, "INST_AP_CONFLICT", items, 1);
    mcm_mb_free(&b);
}
END_TEST

/* An uncompressed multi-frame instance on STD-DVD-MPEG2-MPML needs lossy MPEG-2: with Allow Lossy
 * Compression NO (or absent) that is 0203H; with YES the writer still cannot (no video encoder):
 * 0202H. */
static void lossy_case(const char *allow, uint16_t reason)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_test_instance spec = {0};
    spec.sop_class_uid = "1.2.840.10008.5.1.4.1.1.7.3"; /* Multi-frame Grayscale Word SC */
    spec.modality = "OT";
    mcm_mb_add(&b, &spec, "STD-DVD-MPEG2-MPML");
    if (allow != NULL)
        ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_ALLOW_LOSSY_COMPRESSION, allow), MCM_OK);
    mcm_mb_run(&b);
    expected_item items[] = {{0, reason, {0}, 0}};
    assert_failed(&b, "INST_AP_CONFLICT", items, 1);
    mcm_mb_free(&b);
}

START_TEST(lossy_needed_but_not_allowed_0203)
{
    lossy_case("NO", 0x0203);
}
END_TEST

START_TEST(lossy_needed_allow_absent_0203)
{
    lossy_case(NULL, 0x0203);
}
END_TEST

START_TEST(lossy_allowed_but_impossible_0202)
{
    lossy_case("YES", 0x0202);
}
END_TEST

START_TEST(missing_patient_id_0120)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 1, NULL);
    mcm_test_instance spec = {0};
    spec.omit_patient_id = 1;
    mcm_mb_add(&b, &spec, NULL);
    mcm_mb_run(&b);
    expected_item items[] = {{1, 0x0120, {MCM_TAG(0x0010, 0x0020)}, 1}};
    assert_failed(&b, "DIR_PROC_ERR", items, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(empty_patient_id_0121)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_test_instance spec = {0};
    spec.patient_id = "";
    mcm_mb_add(&b, &spec, NULL);
    add_plain(&b, 1, NULL);
    mcm_mb_run(&b);
    expected_item items[] = {{0, 0x0121, {MCM_TAG(0x0010, 0x0020)}, 1}};
    assert_failed(&b, "DIR_PROC_ERR", items, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(instance_larger_than_medium_0205)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 1, NULL);
    mcm_test_instance spec = {0};
    spec.extra_pixel_bytes = 3 * 1024 * 1024;
    mcm_mb_add(&b, &spec, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"), MCM_OK);
    b.opts.capacity_bytes = 3 * 1024 * 1024;
    mcm_mb_run(&b);
    expected_item items[] = {{1, 0x0205, {0}, 0}};
    assert_failed(&b, "INST_OVERSIZED", items, 1);
    mcm_mb_free(&b);
}
END_TEST

/* A file-set that needs two volumes without Allow Media Splitting YES: SET_OVERSIZED, and no
 * instance is to blame. */
static void oversized_case(const char *splitting)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    for (int i = 0; i < 4; i++) {
        mcm_test_instance spec = {0};
        spec.extra_pixel_bytes = 600 * 1024;
        spec.instance_number = i + 1;
        mcm_mb_add(&b, &spec, NULL);
    }
    if (splitting != NULL)
        ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_ALLOW_MEDIA_SPLITTING, splitting), MCM_OK);
    b.opts.capacity_bytes = 3 * 1024 * 1024;
    mcm_mb_run(&b);
    assert_failed(&b, "SET_OVERSIZED", NULL, 0);
    mcm_mb_free(&b);
}

START_TEST(set_oversized_with_splitting_no)
{
    oversized_case("NO");
}
END_TEST

START_TEST(set_oversized_with_splitting_absent)
{
    oversized_case(NULL);
}
END_TEST

/* USB capacity comes from the option. */
START_TEST(usb_capacity_option_applies)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    for (int i = 0; i < 3; i++) {
        mcm_test_instance spec = {0};
        spec.extra_pixel_bytes = 800 * 1024;
        spec.instance_number = i + 1;
        mcm_mb_add(&b, &spec, "STD-GEN-USB-JPEG");
    }
    b.opts.usb_capacity_bytes = 2 * 1024 * 1024;
    mcm_mb_run(&b);
    assert_failed(&b, "SET_OVERSIZED", NULL, 0);
    mcm_mb_free(&b);
}
END_TEST

/* The image is damaged after it was written (the hook plays the faulty device): the read-back
 * sees it and the job fails with MCD_FAILURE. */
static int damage_image(const char *image, unsigned volume, unsigned volumes, void *user)
{
    (void)volume;
    (void)volumes;
    (void)user;
    int fd = open(image, O_RDWR);
    if (fd < 0)
        return -1;
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char byte;
    int ok = pread(fd, &byte, 1, size - 40000) == 1;
    byte ^= 0x5A;
    ok = ok && pwrite(fd, &byte, 1, size - 40000) == 1;
    close(fd);
    return ok ? 0 : -1;
}

START_TEST(read_back_mismatch_is_mcd_failure)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    b.opts.image_written = damage_image;
    mcm_mb_run(&b);
    ck_assert_int_lt(b.rc, 0);
    assert_failed(&b, "MCD_FAILURE", NULL, 0);
    ck_assert_msg(strstr(b.ctx.message, "read-back") != NULL, "message: %s", b.ctx.message);
    mcm_mb_free(&b);
}
END_TEST

/* A device hook that refuses the image. */
static int refuse(const char *image, unsigned volume, unsigned volumes, void *user)
{
    (void)image;
    (void)volume;
    (void)volumes;
    (void)user;
    return 1;
}

START_TEST(hook_refusal_is_mcd_failure)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, NULL);
    b.opts.image_written = refuse;
    mcm_mb_run(&b);
    assert_failed(&b, "MCD_FAILURE", NULL, 0);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(missing_file_0112)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, NULL);
    ck_assert_int_eq(unlink(b.paths[1]), 0);
    mcm_mb_run(&b);
    expected_item items[] = {{1, 0x0112, {0}, 0}};
    assert_failed(&b, "NO_INSTANCE", items, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(not_dicom_0110)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, NULL);
    ck_assert_int_eq(mcm_test_system("echo 'not a DICOM file' > '%s'", b.paths[0]), 0);
    mcm_mb_run(&b);
    expected_item items[] = {{0, 0x0110, {0}, 0}};
    assert_failed(&b, "PROC_FAILURE", items, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(class_instance_conflict_0119)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, NULL);
    snprintf(b.classes[1], sizeof b.classes[1], "%s", MCM_TEST_MR_IMAGE); /* the file is a CT image */
    mcm_mb_run(&b);
    expected_item items[] = {{1, 0x0119, {0}, 0}};
    assert_failed(&b, "INST_AP_CONFLICT", items, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(duplicate_reference)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 2, NULL);
    b.instances[2] = b.instances[0];
    b.count = 3;
    mcm_mb_run(&b);
    assert_failed(&b, "DUPL_REF_INST", NULL, 0);
    mcm_mb_free(&b);
}
END_TEST

/* Every failed instance is listed, whatever its reason; the term is the first that applies of
 * NO_INSTANCE, NOT_SUPPORTED, INST_AP_CONFLICT, DIR_PROC_ERR, INST_OVERSIZED, PROC_FAILURE. */
START_TEST(all_failures_are_listed)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    add_plain(&b, 1, NULL);
    mcm_test_instance spec = {0};
    spec.omit_patient_id = 1;
    mcm_mb_add(&b, &spec, NULL);
    add_plain(&b, 1, "STD-GEN-FLOPPY");
    mcm_mb_run(&b);
    expected_item items[] = {{1, 0x0120, {MCM_TAG(0x0010, 0x0020)}, 1}, {2, 0x0204, {0}, 0}};
    /* Items are recorded as found: profiles first, then the files. */
    mcm_failed_sop first;
    ck_assert_int_eq(mcm_job_failed(b.ctx.results, 0, &first), MCM_OK);
    if (first.failure_reason == 0x0204) {
        expected_item swapped[] = {items[1], items[0]};
        assert_failed(&b, "NOT_SUPPORTED", swapped, 2);
    } else {
        assert_failed(&b, "NOT_SUPPORTED", items, 2);
    }
    mcm_mb_free(&b);
}
END_TEST

/* Several attributes missing: every one is named. */
START_TEST(missing_attributes_are_all_named)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    size_t i = mcm_mb_add(&b, NULL, NULL);
    ck_assert_int_eq(mcm_test_system("dcmodify -q -nb -ea '(0020,0010)' -ea '(0008,0020)' '%s'", b.paths[i]), 0);
    mcm_mb_run(&b);
    expected_item items[] = {{0, 0x0120, {MCM_TAG(0x0008, 0x0020), MCM_TAG(0x0020, 0x0010)}, 2}};
    assert_failed(&b, "DIR_PROC_ERR", items, 1);
    mcm_mb_free(&b);
}
END_TEST

/* Instance Number is needed by every instance-level record (here an image's). */
START_TEST(missing_instance_number_0120)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    size_t i = mcm_mb_add(&b, NULL, NULL);
    ck_assert_int_eq(mcm_test_system("dcmodify -q -nb -ea '(0020,0013)' '%s'", b.paths[i]), 0);
    mcm_mb_run(&b);
    expected_item items[] = {{0, 0x0120, {MCM_TAG(0x0020, 0x0013)}, 1}};
    assert_failed(&b, "DIR_PROC_ERR", items, 1);
    mcm_mb_free(&b);
}
END_TEST

Suite *mcm_suite_media_fail(void)
{
    Suite *s = suite_create("media_fail");
    TCase *tc = tcase_create("reasons");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unsupported_profile_0204);
    tcase_add_test(tc, conflicting_profiles_0201);
    tcase_add_test(tc, sop_class_not_allowed_0202);
    tcase_add_test(tc, lossy_needed_but_not_allowed_0203);
    tcase_add_test(tc, lossy_needed_allow_absent_0203);
    tcase_add_test(tc, lossy_allowed_but_impossible_0202);
    tcase_add_test(tc, missing_patient_id_0120);
    tcase_add_test(tc, missing_instance_number_0120);
    tcase_add_test(tc, empty_patient_id_0121);
    tcase_add_test(tc, missing_attributes_are_all_named);
    tcase_add_test(tc, instance_larger_than_medium_0205);
    tcase_add_test(tc, missing_file_0112);
    tcase_add_test(tc, not_dicom_0110);
    tcase_add_test(tc, class_instance_conflict_0119);
    tcase_add_test(tc, duplicate_reference);
    tcase_add_test(tc, all_failures_are_listed);
    suite_add_tcase(s, tc);
    tc = tcase_create("device");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, set_oversized_with_splitting_no);
    tcase_add_test(tc, set_oversized_with_splitting_absent);
    tcase_add_test(tc, usb_capacity_option_applies);
    tcase_add_test(tc, read_back_mismatch_is_mcd_failure);
    tcase_add_test(tc, hook_refusal_is_mcd_failure);
    suite_add_tcase(s, tc);
    return s;
}
