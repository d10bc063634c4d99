/* lru.h: the apps' one least-recently-used list: an intrusive doubly linked list, head the
 * most recent, over any struct with prev and next pointers to its own type.
 *
 * nhttpd's file cache and nom-memcached's store each kept their own copy of these few lines;
 * the list is small enough that macros over the caller's fields (as BSD's sys/queue.h does)
 * cost nothing and keep each cache's entries and their other links where they are. */
#ifndef APP_LRU_H
#define APP_LRU_H

#include <stddef.h>

/* Unlinks e from the list (head, tail); e's links end NULL. */
#define LRU_UNLINK(head, tail, e)                                                            \
	do {                                                                                 \
		if ((e)->prev)                                                               \
			(e)->prev->next = (e)->next;                                         \
		else                                                                         \
			(head) = (e)->next;                                                  \
		if ((e)->next)                                                               \
			(e)->next->prev = (e)->prev;                                         \
		else                                                                         \
			(tail) = (e)->prev;                                                  \
		(e)->prev = (e)->next = NULL;                                                \
	} while (0)

/* Puts e (not on the list) at the head: the most recently used. */
#define LRU_PUSH(head, tail, e)                                                              \
	do {                                                                                 \
		(e)->prev = NULL;                                                            \
		(e)->next = (head);                                                          \
		if (head)                                                                    \
			(head)->prev = (e);                                                  \
		(head) = (e);                                                                \
		if (!(tail))                                                                 \
			(tail) = (e);                                                        \
	} while (0)

#endif
