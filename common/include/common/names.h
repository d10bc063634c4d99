/* names.h: "did you mean ...?" for names a user typed (config keys, model and parameter names).
 *
 * One rule everywhere, so that every tool suggests the same way: optimal string alignment
 * distance (Levenshtein plus adjacent transpositions, so "reserev" is one edit from
 * "reserve"), and a suggestion only when the distance is small for the word's length. */
#ifndef COMMON_NAMES_H
#define COMMON_NAMES_H

#include <stddef.h>

/* Edit distance between two names of up to 63 characters; SIZE_MAX for longer ones. */
size_t name_distance(const char *a, const char *b);
/* The candidate closest to word (borrowed from cands), or NULL when none is a likely typo
 * (distance over len(word)/3 + 2). */
const char *name_closest(const char *word, const char *const *cands, size_t n);

#endif
