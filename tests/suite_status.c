/*
 * tests/suite_status.c: status codes, categories, names and what an MCM SCP may send (lib/status.c).
 */
#include <check.h>

#include "dcmmcm.h"

START_TEST(success_is_success)
{
    ck_assert_int_eq(mcm_status_category_of(0x0000, MCM_OP_N_CREATE), MCM_CATEGORY_SUCCESS);
    ck_assert_str_eq(mcm_status_name(0x0000, MCM_OP_N_GET), "Success");
}
END_TEST

Suite *mcm_suite_status(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, success_is_success);
    suite_add_tcase(s, tc);
    return s;
}
