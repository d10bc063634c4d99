/* check.h: the simulator's invariant checks, on in every build (unlike assert): a *_check()
 * that checks nothing under NDEBUG would let the tests pass vacuously. */
#ifndef SIM_CHECK_H
#define SIM_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define SIM_CHECK(what, cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, what, #cond); \
			abort(); \
		} \
	} while (0)

#endif
