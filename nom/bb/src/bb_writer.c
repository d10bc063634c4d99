/* bb_writer.c: the bulletin board's one writer: create or take over the board, publish
 * updates under the seqlock, wake the readers.
 *
 * The writer never edits shared memory piecemeal: it keeps a private working copy of the
 * body, checks it against the invariants, then copies it in between the odd and the even
 * store of the sequence word (bb_layout.h invariants 2, 4, 7). One writer per board is
 * guaranteed by an exclusive flock() on the file, which the kernel drops when the writer
 * dies, so a restarted nom-priced takes the board over in place and the apps that mapped it
 * go on reading and waiting on the same pages. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bb_priv.h"
#include "common/error.h"

struct bb_writer {
	int fd;
	char name[BB_TENANT_MAX + 8]; /* "/nom.<instance>" for shm_open/shm_unlink */
	struct bb_header *hdr;        /* the whole mapping starts here */
	struct bb_body *shared;       /* in the mapping */
	uint64_t published;           /* checksum of the last publish */
	struct bb_body work;          /* the private working copy */
};

static void header_init(struct bb_header *h, const char *instance, int64_t wall_ns)
{
	memset(h, 0, sizeof(*h));
	h->magic = BB_MAGIC;
	h->version = BB_VERSION;
	h->header_size = sizeof(*h);
	h->size = BB_FILE_SIZE;
	h->max_prices = BB_MAX_PRICES;
	h->max_holdings = BB_MAX_HOLDINGS;
	h->max_bids = BB_MAX_BIDS;
	h->created_wall_ns = wall_ns;
	bb_set_string(h->instance, sizeof(h->instance), instance);
}

static int64_t wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Marks a board of another layout retired and wakes its readers, so that they reopen. Only
 * the magic and the position of flags/seq are trusted: every version keeps them there. */
static void retire_foreign(int fd, size_t size)
{
	if (size < sizeof(struct bb_header))
		return;
	struct bb_header *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return;
	if (h->magic == BB_MAGIC) {
		__atomic_or_fetch(&h->flags, BB_FLAG_RETIRED, __ATOMIC_RELEASE);
		__atomic_add_fetch(&h->seq, 2, __ATOMIC_RELEASE);
		bb__futex_wake_all(&h->seq);
	}
	munmap(h, sizeof(*h));
}

/* Opens (creating if needed) and locks the file. Returns the fd, or -errno. *created says
 * whether the file was empty. */
static int open_locked(const char *name, mode_t mode, bool *created)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, mode);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			close(fd);
			return err;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
		if (st.st_nlink == 0) { /* unlinked between open and lock: try again */
			close(fd);
			continue;
		}
		*created = st.st_size == 0;
		if (*created && fchmod(fd, mode) < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
		if (st.st_size == 0 || (size_t)st.st_size == BB_FILE_SIZE)
			return fd;
		/* Another layout: retire it, unlink it, start a new file. */
		retire_foreign(fd, (size_t)st.st_size);
		shm_unlink(name);
		close(fd);
	}
	return -EAGAIN;
}

int bb_writer_open(const char *instance, mode_t mode, struct bb_writer **out)
{
	int err = bb_instance_valid(instance);
	bool created = false;

	if (err)
		return err;
	struct bb_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	snprintf(w->name, sizeof(w->name), "/nom.%s", instance);
	w->fd = open_locked(w->name, mode, &created);
	if (w->fd < 0) {
		err = w->fd;
		goto fail_free;
	}
	if (created && ftruncate(w->fd, BB_FILE_SIZE) < 0) {
		err = -errno;
		goto fail_close;
	}
	void *map = mmap(NULL, BB_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto fail_close;
	}
	w->hdr = map;
	w->shared = (struct bb_body *)((char *)map + BB_BODY_OFFSET);

	char why[160];
	if (created || bb_check_header(w->hdr, BB_FILE_SIZE, why, sizeof(why)) != 0) {
		/* New, or same size but not a valid header (damaged): nobody can be reading a
		 * consistent board from it, so (re)initialize it outright. */
		uint32_t seq = w->hdr->magic == BB_MAGIC ? (w->hdr->seq | 1u) + 1u : 0;
		header_init(w->hdr, instance, wall_now());
		w->hdr->seq = seq;
		memset(w->shared, 0, sizeof(*w->shared));
	} else if (w->hdr->seq & 1u) {
		/* The previous writer died in the middle of an update. */
		__atomic_add_fetch(&w->hdr->seq, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&w->hdr->writer_pid, (int32_t)getpid(), __ATOMIC_RELEASE);
	__atomic_add_fetch(&w->hdr->writer_epoch, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&w->hdr->heartbeat_mono_ns, bb__mono_ns(), __ATOMIC_RELEASE);

	/* Start from an empty body: what the previous writer knew may be out of date. */
	w->work.state.update_count = __atomic_load_n(&w->shared->state.update_count,
						     __ATOMIC_RELAXED);
	err = bb_writer_publish(w, wall_now(), bb__mono_ns(), why, sizeof(why));
	if (err)
		goto fail_unmap;
	*out = w;
	return 0;

fail_unmap:
	munmap(w->hdr, BB_FILE_SIZE);
fail_close:
	close(w->fd);
fail_free:
	free(w);
	return err;
}

void bb_writer_close(struct bb_writer *w, bool remove)
{
	if (!w)
		return;
	if (remove) {
		/* Readers still mapping it must not wait for updates that will never come. */
		__atomic_or_fetch(&w->hdr->flags, BB_FLAG_RETIRED, __ATOMIC_RELEASE);
		__atomic_add_fetch(&w->hdr->seq, 2, __ATOMIC_RELEASE);
		bb__futex_wake_all(&w->hdr->seq);
		shm_unlink(w->name);
	}
	munmap(w->hdr, BB_FILE_SIZE);
	close(w->fd);
	free(w);
}

struct bb_body *bb_writer_body(struct bb_writer *w)
{
	return &w->work;
}

uint32_t bb_writer_seq(const struct bb_writer *w)
{
	return __atomic_load_n(&w->hdr->seq, __ATOMIC_ACQUIRE);
}

void bb_writer_heartbeat(struct bb_writer *w, int64_t mono_ns)
{
	__atomic_store_n(&w->hdr->heartbeat_mono_ns, mono_ns, __ATOMIC_RELEASE);
}

int bb_writer_publish(struct bb_writer *w, int64_t wall_ns, int64_t mono_ns, char *why,
		      size_t why_len)
{
	struct bb_state *s = &w->work.state;
	int err = bb_check_body(&w->work, false, why, why_len);

	if (err)
		return err;
	s->update_count++;
	s->writer_epoch = __atomic_load_n(&w->hdr->writer_epoch, __ATOMIC_RELAXED);
	s->updated_wall_ns = wall_ns;
	s->updated_mono_ns = mono_ns;
	s->checksum = 0;
	s->checksum = bb_body_checksum(&w->work);

	uint32_t seq = __atomic_load_n(&w->hdr->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&w->hdr->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	bb__copy_in(&w->shared->state, s, sizeof(*s));
	bb__copy_in(w->shared->prices, w->work.prices, s->nprices * sizeof(w->work.prices[0]));
	bb__copy_in(w->shared->holdings, w->work.holdings,
		    s->nholdings * sizeof(w->work.holdings[0]));
	bb__copy_in(w->shared->bids, w->work.bids, s->nbids * sizeof(w->work.bids[0]));
	__atomic_store_n(&w->hdr->seq, seq + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&w->hdr->heartbeat_mono_ns, mono_ns, __ATOMIC_RELEASE);
	bb__futex_wake_all(&w->hdr->seq);
	w->published = s->checksum;
	return 0;
}

int bb_writer_check(const struct bb_writer *w, char *why, size_t why_len)
{
	int err = bb_check_header(w->hdr, BB_FILE_SIZE, why, why_len);

	if (err)
		return err;
	if (__atomic_load_n(&w->hdr->writer_pid, __ATOMIC_RELAXED) != (int32_t)getpid()) {
		snprintf(why, why_len, "writer_pid %d is not this writer (%d)", w->hdr->writer_pid,
			 (int)getpid());
		return -EINVAL;
	}
	uint32_t seq = __atomic_load_n(&w->hdr->seq, __ATOMIC_RELAXED);
	if (seq & 1u) {
		snprintf(why, why_len, "seq %u is odd outside an update", seq);
		return -EINVAL;
	}
	/* The shared body is the last published copy, whole (invariant 4); the working copy
	 * may have been edited since, but must still be publishable. */
	err = bb_check_body(w->shared, true, why, why_len);
	if (err)
		return err;
	if (w->shared->state.checksum != w->published) {
		snprintf(why, why_len, "the shared body is not the last published copy");
		return -EINVAL;
	}
	return bb_check_body(&w->work, false, why, why_len);
}
