/* progress.h: the progress of a long run on stderr: a bar on a terminal, or JSON lines.
 *
 * --progress=auto draws a one-line bar when stderr is a terminal and nothing otherwise;
 * never draws nothing; json prints {"variant","round","rounds","sim_s","wall_s"} lines (at
 * most two a second, and the last one always) for scripts and sweep drivers. */
#ifndef SIM_PROGRESS_H
#define SIM_PROGRESS_H

#include <stdint.h>

#include "run.h"

struct progress {
	enum sim_progress_mode mode;
	bool tty;
	const char *label;
	uint64_t total;
	int64_t start_ns, last_ns;
	int last_permille;
};

/* label is borrowed until progress_end. */
void progress_start(struct progress *p, enum sim_progress_mode mode, const char *label,
		    uint64_t total);
void progress_step(struct progress *p, uint64_t done, double sim_s);
void progress_end(struct progress *p);

#endif
