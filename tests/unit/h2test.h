/*
 * h2test.h - a thin wrapper over CUnit's basic runner for the unit tests.
 *
 * Usage:
 *
 *	#include "h2test.h"
 *
 *	static void test_dirhash(void)
 *	{
 *		CU_ASSERT_EQUAL(1 + 1, 2);
 *	}
 *
 *	static const h2test_t tests[] = {
 *		H2TEST(test_dirhash),
 *		H2TEST_END,
 *	};
 *
 *	int main(void)
 *	{
 *		return h2test_run("subr", tests);
 *	}
 *
 * The last line printed is "<name>: N passed, N failed" (tests, not
 * asserts) which scripts/check.sh sums; the exit status is nonzero when
 * anything failed.  A program that sets CUnit up itself can still finish
 * with "return h2test_report(name);" after CU_basic_run_tests().
 */
#ifndef H2TEST_H
#define H2TEST_H

#include <stdio.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

typedef struct h2test {
	const char *name;
	void (*fn)(void);
} h2test_t;

#define H2TEST(fn)      \
	{               \
#fn, fn \
	}
#define H2TEST_END         \
	{                  \
		NULL, NULL \
	}

/*
 * Print "<name>: N passed, N failed" for the tests CUnit ran, release the
 * registry and return the exit status (0 only if nothing failed).
 */
static inline int h2test_report(const char *name)
{
	unsigned int run, failed, sfailed;

	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	sfailed = CU_get_number_of_suites_failed(); /* init/cleanup failed */
	if (failed > run)
		failed = run;
	CU_cleanup_registry();
	fflush(stderr);
	printf("%s: %u passed, %u failed\n", name, run - failed,
	       failed + sfailed);
	fflush(stdout);
	return (failed + sfailed) ? 1 : 0;
}

/* Register tests[] (up to H2TEST_END) as one suite, run, report. */
static inline int h2test_run(const char *name, const h2test_t *tests)
{
	CU_pSuite suite;
	int i;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		printf("%s: 0 passed, 1 failed\n", name);
		return 1;
	}
	suite = CU_add_suite(name, NULL, NULL);
	if (suite == NULL) {
		CU_cleanup_registry();
		printf("%s: 0 passed, 1 failed\n", name);
		return 1;
	}
	for (i = 0; tests[i].fn != NULL; i++) {
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) {
			CU_cleanup_registry();
			printf("%s: 0 passed, 1 failed\n", name);
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	return h2test_report(name);
}

#endif /* H2TEST_H */
