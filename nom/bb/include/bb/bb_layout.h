/* bb_layout.h: the shared-memory layout of a nom instance's bulletin board (version 2).
 *
 * The bulletin board is the file /dev/shm/nom.<instance>: nom-priced, the instance's agent
 * towards the market, is its one writer; the instance's apps map it read-only and read prices,
 * holdings, pending bids and the market connection's state without a system call, and sleep on
 * the sequence word (a futex) until the next change. This header is the contract between the
 * writer and every reader, as raas.proto is between processes: fixed-size integer fields only,
 * no pointers, explicit padding, every offset checked at compile time. Any change an old
 * reader would misread bumps BB_VERSION.
 *
 * Design notes
 * ------------
 * The file is one struct bb_header (page-aligned area 0) followed by one struct bb_body.
 * Consistency comes from a seqlock on header.seq; the body is never read in place by code
 * that trusts it, only copied out between two reads of seq (bb_reader.c).
 *
 * Invariants (bb_check() asserts them from a reader, bb_writer_check() from the writer; both
 * build on bb_check_header() and bb_check_body()):
 *  1. magic, version, header_size, size and the max_* capacities never change while the file
 *     exists: a reader that validated them once at open may trust them.
 *  2. seq is even when no update is in progress and odd exactly while the writer copies an
 *     update into the body; each store moves it by exactly one (mod 2^32).
 *  3. One writer: only the process holding the exclusive flock() on the file stores into it;
 *     its pid is writer_pid. Readers map the file PROT_READ and so cannot corrupt it.
 *  4. A reader's copy is consistent iff seq held the same even value before and after the
 *     copy; a consistent copy's checksum equals bb_body_checksum() of the copy.
 *  5. nprices <= max_prices, nholdings <= max_holdings, nbids <= max_bids; entries [0, n)
 *     are in use, entries past n are never read. Price and holding keys (resource, host) are
 *     unique; bid ids are unique.
 *  6. A price slot, once given to a (resource, host), keeps it while the same writer epoch
 *     lasts: prices are appended, never moved or removed, so a reader may cache slot indices
 *     (and must re-check the key, which it does under the seqlock).
 *  7. Every publish ends with a FUTEX_WAKE of all waiters on seq, issued after the final even
 *     store, so a reader that waits on the value it last saw never sleeps through a change.
 *     The futex is shared (no FUTEX_PRIVATE_FLAG): waiters are in other processes.
 *  8. Strings are NUL-terminated inside their fields and zero-padded after the NUL (so that
 *     keys compare as words); enums hold one of their values.
 *  9. update_count grows by one per publish; market_state is BB_MARKET_FRESH only while the
 *     writer receives prices from a market it is connected to.
 * 10. A retired board (BB_FLAG_RETIRED) is never written again: its writer replaced it with
 *     a new file of another layout; readers reopen by name.
 */
#ifndef BB_LAYOUT_H
#define BB_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define BB_MAGIC UINT64_C(0x31424242424d4f4e) /* "NOMBBBB1" read as little-endian bytes */
/* Version 2 added the instance's place (host, cpuset and memory cgroups, network namespace) to
 * the state block, for nom-run and the apps' --instance mode. */
#define BB_VERSION 2u

#define BB_NAME_MAX 48     /* host names, bid ids: bytes including the NUL */
#define BB_TENANT_MAX 64   /* tenant and instance names, including the NUL */
#define BB_ENDPOINT_MAX 128
#define BB_MESSAGE_MAX 128
#define BB_PATH_MAX 256    /* cgroup directories and namespace paths, including the NUL */
#define BB_MAX_PRICES 64
#define BB_MAX_HOLDINGS 64
#define BB_MAX_BIDS 64
#define BB_CPU_WORDS 16 /* CPU mask of a cores holding: 1,024 CPUs */

/* header.flags */
#define BB_FLAG_RETIRED 1u

/* Resources: the same numbers as raas.proto's Resource enum. */
enum bb_resource {
	BB_RES_CORES = 1,
	BB_RES_MEMORY = 2,
	BB_RES_BANDWIDTH = 3,
	BB_RES_LLC = 4,
	BB_RES_EGRESS = 5,
};

/* The writer's view of its market connection. */
enum bb_market_state {
	BB_MARKET_CONNECTING = 0, /* never connected since the writer started */
	BB_MARKET_FRESH = 1,      /* connected, prices arriving */
	BB_MARKET_STALE = 2,      /* lost or silent: prices on the board may be old */
	BB_MARKET_STOPPED = 3,    /* the writer shut down cleanly; nothing will change */
};

enum bb_bid_state {
	BB_BID_SENDING = 1, /* forwarded, no answer yet */
	BB_BID_ACTIVE = 2,  /* acknowledged: a standing order at the market */
	BB_BID_REFUSED = 3, /* the market refused it (error holds the code) */
	BB_BID_RESYNC = 4,  /* being re-sent after a market restart */
};

/* The first 256 bytes. Everything but seq and flags is written once, before the first
 * publish, and never again (invariant 1). */
struct bb_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size; /* sizeof(struct bb_header) */
	uint64_t size;        /* bytes of the whole file */
	uint32_t max_prices;
	uint32_t max_holdings;
	uint32_t max_bids;
	uint32_t flags;       /* BB_FLAG_* (atomic) */
	int32_t writer_pid;   /* the current writer (atomic; changes when a writer takes over) */
	uint32_t writer_epoch; /* +1 each time a writer takes over the board (atomic) */
	int64_t created_wall_ns;
	char instance[BB_TENANT_MAX];
	/* The writer's last sign of life (atomic, CLOCK_MONOTONIC): stored without a publish, so
	 * that readers can tell a dead writer from a quiet market without being woken. */
	int64_t heartbeat_mono_ns;
	uint8_t reserved0[56];
	/* Its own cache line: readers poll it, the writer stores it twice per update. */
	uint32_t seq __attribute__((aligned(64)));
	uint8_t reserved1[60];
};

/* The market connection and the instance's account: under the seqlock. */
struct bb_state {
	uint64_t checksum;     /* bb_body_checksum() of the body with this field zero */
	uint64_t update_count; /* publishes since the board was created */
	uint32_t writer_epoch; /* copy of the header's, for readers' caches */
	uint32_t market_state; /* enum bb_market_state */
	uint32_t nprices;
	uint32_t nholdings;
	uint32_t nbids;
	uint32_t reserved0;
	int64_t updated_wall_ns;   /* when this update was published */
	int64_t updated_mono_ns;   /* same, CLOCK_MONOTONIC (shared by all processes) */
	int64_t state_since_wall_ns; /* when market_state last changed */
	uint64_t reconnects;       /* market connections lost since the writer started */
	uint64_t round;            /* the latest round the market announced */
	int64_t round_ns;          /* the market's round length */
	int64_t next_round_wall_ns;
	int64_t charged_total;     /* nanodollars, sum of the notices' charges seen */
	int64_t last_charged;      /* the latest notice's charge */
	uint64_t last_notice_round;
	int64_t balance;           /* remaining budget, -1 unlimited */
	int64_t memory_budget_mib; /* total memory the instance holds: the apps' budget */
	char tenant[BB_TENANT_MAX];
	char endpoint[BB_ENDPOINT_MAX]; /* nom-priced's local API (ipc://...) */
	char market_message[BB_MESSAGE_MAX]; /* why the market state is what it is */
	/* Where the instance runs, from nom-priced's config (written once, at start): the
	 * host agent enforces its cores and memory on these cgroups; "" = not confined. */
	char host[BB_NAME_MAX];             /* [priced] host */
	char cpuset[BB_PATH_MAX];           /* [priced] cpuset: cpuset cgroup directory */
	char memory_cgroup[BB_PATH_MAX];    /* [priced] memory_cgroup: memory cgroup directory */
	char netns[BB_PATH_MAX];            /* [priced] netns: a name (/run/netns/NAME) or a path */
};

struct bb_price {
	uint32_t resource; /* enum bb_resource */
	uint32_t reserved0;
	char host[BB_NAME_MAX];
	int64_t unit_price; /* nanodollars per unit-hour (egress: per Gbit) */
	uint64_t round;
	int64_t supply;
	int64_t allocated;
	int64_t published_wall_ns; /* the market's publish time */
	int64_t received_mono_ns;  /* when nom-priced received it */
	int64_t next_round_wall_ns;
	int64_t reserved1;
};

struct bb_holding {
	uint32_t resource;
	uint32_t ncpus; /* cores: CPUs set in cpus */
	char host[BB_NAME_MAX];
	int64_t quantity;
	int64_t unit_price;
	int64_t payment_per_hour;
	uint64_t round;
	uint64_t cpus[BB_CPU_WORDS]; /* cores: the CPUs the instance's apps run on */
};

struct bb_bid {
	char bid_id[BB_NAME_MAX];
	char host[BB_NAME_MAX]; /* "" = any host */
	uint32_t resource;
	uint32_t state;  /* enum bb_bid_state */
	int64_t min_quantity;
	int64_t max_quantity;
	int64_t unit_price;
	uint64_t effective_round;
	int32_t error;   /* last error (negative errno / project error), 0 if none */
	uint32_t reserved0;
};

struct bb_body {
	struct bb_state state;
	struct bb_price prices[BB_MAX_PRICES];
	struct bb_holding holdings[BB_MAX_HOLDINGS];
	struct bb_bid bids[BB_MAX_BIDS];
};

/* The body starts on its own page so that the header's seq line is never shared with it. */
#define BB_BODY_OFFSET 4096u
#define BB_FILE_SIZE (((BB_BODY_OFFSET + sizeof(struct bb_body)) + 4095u) & ~(size_t)4095u)

_Static_assert(sizeof(struct bb_header) == 256, "bb_header is 256 bytes");
_Static_assert(offsetof(struct bb_header, seq) == 192, "seq on the header's 4th line");
_Static_assert(sizeof(struct bb_state) == 456 + BB_NAME_MAX + 3 * BB_PATH_MAX, "bb_state layout");
_Static_assert(sizeof(struct bb_price) == 120, "bb_price layout");
_Static_assert(sizeof(struct bb_holding) == 216, "bb_holding layout");
_Static_assert(sizeof(struct bb_bid) == 144, "bb_bid layout");

_Static_assert(sizeof(struct bb_body) % 8 == 0, "body copied in 8-byte words");
_Static_assert(offsetof(struct bb_body, prices) % 8 == 0, "entries are 8-byte aligned");
_Static_assert(offsetof(struct bb_body, holdings) % 8 == 0, "entries are 8-byte aligned");
_Static_assert(offsetof(struct bb_body, bids) % 8 == 0, "entries are 8-byte aligned");

#endif
