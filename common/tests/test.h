/* test.h: assertions for the project's tests that print both sides on failure.
 *
 * Modelled on libuv's ASSERT_EQ family: a failing check names the file, line, the two
 * expressions and their values, then aborts the test with exit code 1. TEST_SKIP exits 77,
 * which ctest reports as skipped; always give the reason, and keep it for what the machine
 * truly lacks (not root, one CPU, no SR-IOV, the shared data folder). TEST_MISSING is for
 * what the build or scripts/install-deps provides (a package, a kernel image, a step every
 * root machine can do such as `ip link add`): as root (CI, every package installed) that is a
 * failure, otherwise a skip. tests/lib/need.sh is the scripts' counterpart; .ci/skipped
 * lists a run's skips with their reasons. */
#ifndef RAAS_TEST_H
#define RAAS_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* <unistd.h>'s, declared alone for TEST_MISSING: tests name their own helpers sync, pipe... */
uid_t geteuid(void);

#define TEST_FAIL(...) \
	do { \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		exit(1); \
	} while (0)

#define TEST_SKIP(...) \
	do { \
		fprintf(stderr, "SKIP: "); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		exit(77); \
	} while (0)

#define TEST_MISSING(...) \
	do { \
		if (geteuid() == 0) { \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputs(" (as root, everything scripts/install-deps and the build provide must " \
			      "be there)\n", stderr); \
			exit(1); \
		} \
		TEST_SKIP(__VA_ARGS__); \
	} while (0)

#define ASSERT_INT_OP(a, op, b) \
	do { \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b); \
		if (!(a_ op b_)) \
			TEST_FAIL("ASSERT %s %s %s: %" PRId64 " vs %" PRId64, #a, #op, #b, a_, b_); \
	} while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)
#define ASSERT_OK(expr) ASSERT_EQ(expr, 0)
#define ASSERT_TRUE(expr) \
	do { \
		if (!(expr)) \
			TEST_FAIL("ASSERT %s", #expr); \
	} while (0)

#define ASSERT_STR_EQ(a, b) \
	do { \
		const char *a_ = (a), *b_ = (b); \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) \
			TEST_FAIL("ASSERT %s == %s: \"%s\" vs \"%s\"", #a, #b, a_ ? a_ : "(null)", \
				  b_ ? b_ : "(null)"); \
	} while (0)

/* a contains b as a substring. */
#define ASSERT_STR_CONTAINS(a, b) \
	do { \
		const char *a_ = (a), *b_ = (b); \
		if (!a_ || !b_ || !strstr(a_, b_)) \
			TEST_FAIL("ASSERT %s contains %s: \"%s\" does not contain \"%s\"", #a, #b, \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

#define ASSERT_NEAR(a, b, tol) \
	do { \
		double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol); \
		if (!(fabs(a_ - b_) <= t_)) \
			TEST_FAIL("ASSERT %s ~= %s (+-%g): %.9g vs %.9g", #a, #b, t_, a_, b_); \
	} while (0)

#endif
