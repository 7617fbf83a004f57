/*
 * tests/media/suite_media_plan.c: volume planning (lib/media/plan.c): hierarchy order by first
 * appearance, File IDs per volume, studies kept whole where they fit, then series, then instances.
 */
#include <check.h>

#include "dcmmcm/common.h"
#include "media/plan.h"

#include <string.h>

#define MB (1024u * 1024u)

typedef struct {
    const char *patient, *study, *series;
    long number;
    uint64_t size;
} spec;

static unsigned plan(const spec *specs, size_t n, uint64_t capacity, mcm_plan_item *items, size_t *order)
{
    for (size_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].index = i;
        items[i].patient_key = specs[i].patient;
        items[i].study_uid = specs[i].study;
        items[i].series_uid = specs[i].series;
        items[i].instance_number = specs[i].number;
        items[i].size = specs[i].size;
    }
    mcm_plan_limits limits = {.capacity = capacity, .volume_overhead = MB};
    unsigned volumes = 0;
    ck_assert_int_eq(mcm_plan_volumes(items, n, &limits, order, &volumes), MCM_OK);
    return volumes;
}

START_TEST(order_and_file_ids)
{
    /* Interleaved request: patient B first, instances out of order. */
    spec s[] = {
        {"B", "s2", "r3", 2, 100}, {"A", "s1", "r1", 1, 100}, {"B", "s2", "r3", 1, 100},
        {"A", "s1", "r2", 1, 100}, {"B", "s4", "r5", 1, 100}, {"A", "s1", "r1", 2, 100},
    };
    mcm_plan_item items[6];
    size_t order[6];
    ck_assert_uint_eq(plan(s, 6, 0, items, order), 1);
    size_t expected_order[] = {2, 0, 4, 1, 5, 3};
    for (size_t k = 0; k < 6; k++)
        ck_assert_uint_eq(order[k], expected_order[k]);
    ck_assert_str_eq(items[2].file_id, "DICOM/PAT00001/STU00001/SER00001/IM000001");
    ck_assert_str_eq(items[0].file_id, "DICOM/PAT00001/STU00001/SER00001/IM000002");
    ck_assert_str_eq(items[4].file_id, "DICOM/PAT00001/STU00002/SER00001/IM000001");
    ck_assert_str_eq(items[1].file_id, "DICOM/PAT00002/STU00001/SER00001/IM000001");
    ck_assert_str_eq(items[5].file_id, "DICOM/PAT00002/STU00001/SER00001/IM000002");
    ck_assert_str_eq(items[3].file_id, "DICOM/PAT00002/STU00001/SER00002/IM000001");
}
END_TEST

START_TEST(studies_stay_whole_when_they_fit)
{
    /* Volume: 1 MiB overhead + 5 MiB. Study 1: 3 MiB; study 2: 3 MiB -> does not fit after study 1,
     * goes whole to volume 2 rather than being split. */
    spec s[] = {
        {"A", "s1", "r1", 1, MB}, {"A", "s1", "r1", 2, MB}, {"A", "s1", "r1", 3, MB},
        {"A", "s2", "r2", 1, MB}, {"A", "s2", "r2", 2, MB}, {"A", "s2", "r2", 3, MB},
    };
    mcm_plan_item items[6];
    size_t order[6];
    ck_assert_uint_eq(plan(s, 6, 6 * MB, items, order), 2);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(items[i].volume, i < 3 ? 1 : 2);
    /* Each volume numbers its own patients, studies and series from 1. */
    ck_assert_str_eq(items[3].file_id, "DICOM/PAT00001/STU00001/SER00001/IM000001");
}
END_TEST

START_TEST(large_study_splits_by_series_then_instances)
{
    /* Study of two series (3 MiB and 6 MiB) on 5 MiB volumes: series 1 whole; series 2, split by
     * instances anyway, fills the rest of volume 1 first. */
    spec s[] = {
        {"A", "s1", "r1", 1, MB}, {"A", "s1", "r1", 2, MB}, {"A", "s1", "r1", 3, MB},
        {"A", "s1", "r2", 1, MB}, {"A", "s1", "r2", 2, MB}, {"A", "s1", "r2", 3, MB},
        {"A", "s1", "r2", 4, MB}, {"A", "s1", "r2", 5, MB}, {"A", "s1", "r2", 6, MB},
    };
    mcm_plan_item items[9];
    size_t order[9];
    unsigned volumes = plan(s, 9, 6 * MB, items, order);
    ck_assert_uint_eq(volumes, 3);
    unsigned expected[] = {1, 1, 1, 1, 2, 2, 2, 2, 3};
    for (int i = 0; i < 9; i++)
        ck_assert_msg(items[i].volume == expected[i], "item %d on volume %u", i, items[i].volume);
    mcm_plan_limits limits = {.capacity = 6 * MB, .volume_overhead = MB};
    ck_assert(mcm_plan_fits_alone(&limits, 4 * MB));
    ck_assert(!mcm_plan_fits_alone(&limits, 5 * MB));
}
END_TEST

Suite *mcm_suite_media_plan(void)
{
    Suite *s = suite_create("media_plan");
    TCase *tc = tcase_create("volumes");
    tcase_add_test(tc, order_and_file_ids);
    tcase_add_test(tc, studies_stay_whole_when_they_fit);
    tcase_add_test(tc, large_study_splits_by_series_then_instances);
    suite_add_tcase(s, tc);
    return s;
}
