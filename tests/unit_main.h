/*
 * tests/unit_main.h - the main() of a CUnit test binary: one suite of
 * named tests, verbose output, exit 0 when all passed, 1 when any test
 * or the suite's init failed, 2 when CUnit could not be set up.
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a.
 */
#ifndef POOL_TEST_UNIT_MAIN_H
#define POOL_TEST_UNIT_MAIN_H

#include <CUnit/Basic.h>
#include <stddef.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_COUNT(tests) (sizeof(tests) / sizeof((tests)[0]))

/* Runs tests as one suite; init and clean may be NULL. */
static inline int unit_tests_run(const char *suite_name, CU_InitializeFunc init,
				 CU_CleanupFunc clean, const struct unit_test *tests, size_t n)
{
	CU_pSuite suite;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite(suite_name, init, clean);
	for (size_t i = 0; suite && i < n; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			suite = NULL;
	if (!suite) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#endif /* POOL_TEST_UNIT_MAIN_H */
