/* bb.h: the bulletin board's API: one writer (nom-priced), any number of read-only readers.
 *
 * The writer edits a private copy of the body (struct bb_body, bb_layout.h) with the helpers
 * below and publishes it atomically with bb_writer_publish(): readers see the whole update or
 * none of it (a seqlock), and sleeping readers are woken (a shared futex on the sequence
 * word). Readers copy out what they need with the bb_read_*() calls, which never block on the
 * writer for longer than one copy, and wait for the next change with bb_wait_change().
 *
 * The board is /dev/shm/nom.<instance>. Instance names are 1-63 characters of [A-Za-z0-9_.-]
 * and do not start with a dot.
 *
 * Errors: 0 or a negative errno / project error (common/error.h). Nothing here allocates
 * except the open calls; nothing aborts. */
#ifndef BB_BB_H
#define BB_BB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bb/bb_layout.h"

/* Checks an instance name. Returns 0 or -EINVAL. */
int bb_instance_valid(const char *instance);
/* "/dev/shm/nom.<instance>" into buf (len >= 80). Returns 0, -EINVAL or -ENAMETOOLONG. */
int bb_path(const char *instance, char *buf, size_t len);

/* ---- writer ---------------------------------------------------------------------------- */

struct bb_writer;

/* Opens the board of instance for writing, creating it with the given mode (e.g. 0640) if
 * missing. An existing board of this layout is taken over in place (readers keep their
 * mappings; its sequence continues, its writer epoch grows, its body starts empty); one of
 * another layout is marked retired and replaced. Returns 0, -EBUSY when another live writer
 * holds it, -EINVAL for a bad name, or another -errno. The caller owns *out. */
int bb_writer_open(const char *instance, mode_t mode, struct bb_writer **out);
/* Closes the board. With remove, unlinks the file too (readers keep what they mapped).
 * NULL is a no-op. */
void bb_writer_close(struct bb_writer *w, bool remove);

/* The writer's private working copy of the body (borrowed, valid until close). Edit it with
 * the helpers below or directly, then publish. Readers see nothing of it until then. */
struct bb_body *bb_writer_body(struct bb_writer *w);
/* Publishes the working copy: stamps update_count, times and checksum, copies it into the
 * board under the seqlock and wakes every waiter. Returns 0, or -EINVAL (with why filled)
 * when the working copy breaks an invariant, in which case the board is unchanged. */
int bb_writer_publish(struct bb_writer *w, int64_t wall_ns, int64_t mono_ns, char *why,
		      size_t why_len);
/* Stores the writer's sign of life in the header without publishing (readers are not woken);
 * nom-priced calls it every second. */
void bb_writer_heartbeat(struct bb_writer *w, int64_t mono_ns);
/* The board's sequence word right now (for tests and benchmarks). */
uint32_t bb_writer_seq(const struct bb_writer *w);
/* Invariants of the mapped board and the working copy (bb_layout.h 1-10). Returns 0, or
 * -EINVAL with why filled. */
int bb_writer_check(const struct bb_writer *w, char *why, size_t why_len);

/* ---- editing a body (the writer's working copy) ------------------------------------------ */

/* The price entry of (resource, host), appended if new (invariant 6). NULL when the host name
 * does not fit (>= BB_NAME_MAX) or the table is full; errno says which (ENAMETOOLONG, ENOSPC). */
struct bb_price *bb_body_price_upsert(struct bb_body *b, uint32_t resource, const char *host);
/* The holding of (resource, host), or NULL. */
struct bb_holding *bb_body_holding_find(struct bb_body *b, uint32_t resource, const char *host);
/* As find, appended zeroed if missing; NULL with errno ENAMETOOLONG or ENOSPC. */
struct bb_holding *bb_body_holding_upsert(struct bb_body *b, uint32_t resource,
					  const char *host);
/* Removes every holding. */
void bb_body_holdings_clear(struct bb_body *b);
/* The bid with this id, or NULL. */
struct bb_bid *bb_body_bid_find(struct bb_body *b, const char *bid_id);
/* As find, appended zeroed (with the id) if missing; NULL with errno as above. */
struct bb_bid *bb_body_bid_upsert(struct bb_body *b, const char *bid_id);
/* Removes a bid (the last entry moves into its place). Returns 0 or -ENOENT. */
int bb_body_bid_remove(struct bb_body *b, const char *bid_id);
/* Sets a string field (NUL-terminated, truncated to fit). */
void bb_set_string(char *field, size_t size, const char *value);

/* ---- reader ---------------------------------------------------------------------------- */

struct bb_reader;

/* Maps the board of instance read-only and validates its header. Returns 0, -ENOENT when no
 * board exists (nom-priced not running), -RAAS_EVERSION for another layout, -RAAS_EPROTO for
 * a damaged header, or another -errno. The caller owns *out. */
int bb_reader_open(const char *instance, struct bb_reader **out);
void bb_reader_close(struct bb_reader *r);

/* A consistent copy of one price and, if market_state is not NULL, of the market state at the
 * same update. Returns 0, -ENOENT when the board has no such price, -RAAS_ESTALE when the
 * writer died in the middle of an update (or the board was retired). */
int bb_read_price(struct bb_reader *r, uint32_t resource, const char *host,
		  struct bb_price *out, uint32_t *market_state);
/* A consistent copy of the state block. Same errors. */
int bb_read_state(struct bb_reader *r, struct bb_state *out);
/* A consistent copy of the whole body, its checksum verified; entries past the counts are
 * zeroed. Same errors, and -RAAS_EPROTO when the checksum does not match (never expected:
 * it would mean a torn read). If seq is not NULL, stores the sequence the copy is of. */
int bb_snapshot(struct bb_reader *r, struct bb_body *out, uint32_t *seq);

/* The sequence word now (even: quiet; odd: an update in progress). */
uint32_t bb_reader_seq(const struct bb_reader *r);
/* Sleeps until the board's sequence differs from *seen and is even, or timeout_ns passes
 * (< 0: forever). On a change stores the new sequence in *seen and returns 0; else returns
 * -ETIMEDOUT, or -RAAS_ESTALE when the board was retired. Returns at once when the board
 * already changed since *seen. Start with *seen = bb_reader_seq(). */
int bb_wait_change(struct bb_reader *r, uint32_t *seen, int64_t timeout_ns);
/* As bb_wait_change, and also returns 1 as soon as *word (a word of this process, e.g. a
 * thread's kick counter) differs from word_seen: one sleep on two events. Another thread
 * moves the word and wakes it with bb_kick(). Kernels without futex_waitv (before 5.16)
 * look at the word every BB_WAIT_SLICE_NS. */
#define BB_WAIT_SLICE_NS 5000000
int bb_wait_change_or(struct bb_reader *r, uint32_t *seen, int64_t timeout_ns,
		      const uint32_t *word, uint32_t word_seen);
/* Moves *word by one and wakes the threads of this process sleeping on it (in
 * bb_wait_change_or or bb_wait_word). */
void bb_kick(uint32_t *word);
/* Sleeps until *word differs from seen or timeout_ns passes (< 0: forever). Returns 0 or
 * -ETIMEDOUT. */
int bb_wait_word(const uint32_t *word, uint32_t seen, int64_t timeout_ns);
/* Whether the writer retired this board (reopen it by name). */
bool bb_reader_retired(const struct bb_reader *r);
/* The pid of the board's current writer, and whether it is alive. */
bool bb_writer_alive(const struct bb_reader *r, pid_t *pid);
/* The header as mapped (borrowed; fields of invariant 1 only are stable). */
const struct bb_header *bb_reader_header(const struct bb_reader *r);

/* ---- invariants ------------------------------------------------------------------------ */

/* The checksum of a body over its state (checksum field excluded) and its used entries. */
uint64_t bb_body_checksum(const struct bb_body *b);
/* Invariants 1 and 8 of a header, and that it fits a file of file_size bytes. */
int bb_check_header(const struct bb_header *h, uint64_t file_size, char *why, size_t why_len);
/* Invariants 5, 8 and 9 of a body, and its checksum when verify_checksum. */
int bb_check_body(const struct bb_body *b, bool verify_checksum, char *why, size_t why_len);

/* Every invariant of bb_layout.h a reader can check: the header (1, 8), a consistent snapshot
 * (2, 4: the sequence settles and the copy's checksum matches), the body (5, 8, 9), and that
 * the writer named in the header is alive unless the board says it stopped (3). Returns 0, or
 * -EINVAL / -RAAS_ESTALE / -RAAS_EPROTO with why filled. */
int bb_check(struct bb_reader *r, char *why, size_t why_len);

/* Names for display: "cores", "fresh", "active", ...; "?" for values out of range. */
const char *bb_resource_name(uint32_t resource);
const char *bb_market_state_name(uint32_t state);
const char *bb_bid_state_name(uint32_t state);

#endif
