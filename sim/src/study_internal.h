/* study_internal.h: what the study files (study.c, sweep.c, merge.c, study_report.c) share. */
#ifndef SIM_STUDY_INTERNAL_H
#define SIM_STUDY_INTERNAL_H

#include <stddef.h>

/* Formats a path into buf; returns 0, or -ENAMETOOLONG when it does not fit (buf then holds
 * the truncated text, for messages only). */
int sim__path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* DIR/runs/run-NNNNNN.sqlite: the run file of run index in a study folder. */
int sim__run_file(const char *dir, size_t index, char *buf, size_t len);

#endif
