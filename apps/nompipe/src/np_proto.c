/* np_proto.c: NetPIPE's TCP receiver (np_proto.h). */
#include <stdio.h>
#include <string.h>

#include "np_proto.h"

enum { AFTER_FIRST, AFTER_LATENCY, BEFORE_SIZE, BEFORE_TRIAL };

void np_sched_init(struct np_sched *s, uint64_t start, unsigned perturbation)
{
	memset(s, 0, sizeof(*s));
	s->len = start ? start : 1;
	s->inc = s->len > 1 ? s->len / 2 : 1;
	/* NPtcp counts a start above 1 as its second size (-l 1000: 1000, 1500, 2000, 3000,
	 * 4000, 6000, ... as -l 1 gives 1, 2, 3, 4, 6, 8, ...). */
	s->nq = s->len > 1 ? 1 : 0;
	s->perturbation = perturbation;
}

uint64_t np_sched_next(struct np_sched *s)
{
	int64_t p = s->perturbation;
	uint64_t n;

	if (!s->in_sizes) {
		/* A new base length: the step doubles every second size from the fourth. */
		if (s->nq > 2 && s->nq % 2)
			s->inc *= 2;
		if (p > 0 && s->inc > (uint64_t)p + 1) {
			s->pert = -p;
			s->pert_step = p;
		} else {
			s->pert = 0;
			s->pert_step = p + 1;
		}
		s->pert_end = p;
		s->in_sizes = true;
	}
	n = (uint64_t)((int64_t)s->len + s->pert);
	s->pert += s->pert_step;
	if (s->pert > s->pert_end) {
		s->in_sizes = false;
		s->len += s->inc;
		s->nq++;
	}
	return n;
}

void np_conn_init(struct np_conn *c, uint64_t start, unsigned perturbation)
{
	memset(c, 0, sizeof(*c));
	np_sched_init(&c->sched, start, perturbation);
	c->lat_size = start ? start : 1;
	/* The receiver starts with a Sync: its "SyncMe" goes out at once. */
	c->state = NP_SYNC;
	c->after_sync = AFTER_FIRST;
	(void)buf_append(&c->out, "SyncMe", 6);
}

void np_conn_fini(struct np_conn *c)
{
	buf_free(&c->msg);
	buf_free(&c->out);
}

static void sync_then(struct np_conn *c, int after)
{
	c->state = NP_SYNC;
	c->after_sync = after;
	c->hlen = 0;
	(void)buf_append(&c->out, "SyncMe", 6);
}

static void start_trial_or_size(struct np_conn *c)
{
	if (c->trial < NP_TRIALS) {
		sync_then(c, BEFORE_TRIAL);
	} else {
		c->size = np_sched_next(&c->sched);
		sync_then(c, BEFORE_SIZE);
	}
}

static void synced(struct np_conn *c)
{
	c->hlen = 0;
	switch (c->after_sync) {
	case AFTER_FIRST:
		c->state = NP_LATENCY;
		c->lat_left = NP_LATENCY_REPS;
		break;
	case AFTER_LATENCY:
		c->size = np_sched_next(&c->sched);
		sync_then(c, BEFORE_SIZE);
		break;
	case BEFORE_SIZE:
		c->state = NP_REPEAT;
		break;
	case BEFORE_TRIAL:
		c->state = NP_DATA;
		c->left = c->nrepeat;
		c->trial++;
		buf_reset(&c->msg);
		if (c->left == 0)
			start_trial_or_size(c);
		break;
	}
}

static size_t fail(struct np_conn *c, const char *why, size_t len)
{
	c->state = NP_ERROR;
	snprintf(c->error, sizeof(c->error), "%s", why);
	return len;
}

size_t np_process(struct np_conn *c, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos < len && c->state != NP_DONE && c->state != NP_ERROR) {
		size_t avail = len - pos;

		switch (c->state) {
		case NP_SYNC: {
			size_t want = 6 - c->hlen;

			if (want > avail)
				want = avail;
			memcpy(c->hdr + c->hlen, data + pos, want);
			c->hlen += want;
			pos += want;
			if (c->hlen >= 5 && memcmp(c->hdr, "QUIT\0", 5) == 0) {
				/* The transmitter is done; it reads 5 bytes back. */
				(void)buf_append(&c->out, "QUIT\0", 5);
				c->state = NP_DONE;
				return pos;
			}
			if (c->hlen < 6)
				break;
			if (memcmp(c->hdr, "SyncMe", 6) != 0)
				return pos + fail(c, "synchronization string incorrect", 0);
			synced(c);
			break;
		}
		case NP_LATENCY: {
			/* NPtcp's latency ping-pongs are of its start size (-l), each sent back
			 * once whole. */
			size_t want = (size_t)c->lat_size - c->msg.len;

			if (c->lat_size > NP_MAX_MESSAGE)
				return pos + fail(c, "message size out of range", 0);
			if (want > avail)
				want = avail;
			if (buf_append(&c->msg, data + pos, want) < 0)
				return pos + fail(c, "out of memory for a message", 0);
			pos += want;
			if (c->msg.len < c->lat_size)
				break;
			(void)buf_append(&c->out, buf_head(&c->msg), c->msg.len);
			buf_reset(&c->msg);
			c->messages++;
			if (--c->lat_left == 0)
				sync_then(c, AFTER_LATENCY);
			break;
		}
		case NP_REPEAT: {
			size_t want = 4 - c->hlen;

			if (want > avail)
				want = avail;
			memcpy(c->hdr + c->hlen, data + pos, want);
			c->hlen += want;
			pos += want;
			if (c->hlen < 4)
				break;
			c->nrepeat = (uint64_t)c->hdr[0] << 24 | (uint64_t)c->hdr[1] << 16 |
				     (uint64_t)c->hdr[2] << 8 | c->hdr[3];
			if (c->nrepeat > 1000000000u)
				return pos + fail(c, "repeat count out of range", 0);
			if (c->size == 0 || c->size > NP_MAX_MESSAGE)
				return pos + fail(c, "message size out of range", 0);
			c->trial = 0;
			start_trial_or_size(c);
			break;
		}
		case NP_DATA: {
			size_t want = (size_t)c->size - c->msg.len;

			if (want > avail)
				want = avail;
			if (buf_append(&c->msg, data + pos, want) < 0)
				return pos + fail(c, "out of memory for a message", 0);
			pos += want;
			if (c->msg.len < c->size)
				break;
			/* The whole message is here: send it back. */
			(void)buf_append(&c->out, buf_head(&c->msg), c->msg.len);
			buf_reset(&c->msg);
			c->messages++;
			if (--c->left == 0)
				start_trial_or_size(c);
			break;
		}
		default:
			break;
		}
	}
	return pos;
}
