/*
 * tests/check_main.c: the one Check runner of dcmmcm. Every tests/LAYER/suite_NAME.c defines
 * Suite *mcm_suite_NAME(void); the Makefile lists them in suites.h. CK_RUN_SUITE=NAME runs one.
 * Ends with Check's own summary line; exits non-zero if any test failed.
 */
#include <check.h>
#include <stdlib.h>

#define MCM_SUITE(name) Suite *mcm_suite_##name(void);
#include "suites.h"
#undef MCM_SUITE

int main(void)
{
    SRunner *runner = srunner_create(NULL);
#define MCM_SUITE(name) srunner_add_suite(runner, mcm_suite_##name());
#include "suites.h"
#undef MCM_SUITE
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
