/* nom_board.c: nom-board, the bulletin board's command-line reader.
 *
 * Operators look at what an instance's apps see; scripted tests read the board's state as
 * JSON and wait for a change without polling:
 *
 *   nom-board show INSTANCE [-o text|json]   one consistent snapshot
 *   nom-board wait INSTANCE [--timeout DUR]  sleep until the next update (exit 0), or 75
 *   nom-board check INSTANCE                 the header and body invariants (exit 0 or 65)
 *
 * A board whose writer's pid is not alive is shown as "writer gone" and its market state as
 * stale, whatever the board last said (what it said is kept as market_reported): nothing
 * keeps it current any more.
 *
 * Exit codes (sysexits): 0 ok, 64 usage, 65 damaged board, 69 no board, 75 timed out. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb/bb.h"
#include "common/config.h"
#include "common/error.h"
#include "common/money.h"
#include "common/sbuf.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: nom-board show INSTANCE [-o text|json]\n"
		   "       nom-board wait INSTANCE [--timeout DURATION]\n"
		   "       nom-board check INSTANCE\n");
}

static void json_string(const char *s)
{
	json_fputs(stdout, s);
}

static void cpu_list(const struct bb_holding *h, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int cpu = 0; cpu < BB_CPU_WORDS * 64 && n + 8 < len; cpu++)
		if (h->cpus[cpu / 64] >> (cpu % 64) & 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%d", n ? "," : "", cpu);
}

static void show_json(const struct bb_body *b, const struct bb_header *hdr, bool alive)
{
	const struct bb_state *s = &b->state;
	char cpus[256];

	printf("{\"instance\":");
	json_string(hdr->instance);
	printf(",\"writer_pid\":%d,\"writer_alive\":%s,\"epoch\":%u,\"updates\":%" PRIu64
	       ",\"market\":\"%s\",\"market_reported\":\"%s\",\"market_message\":",
	       hdr->writer_pid, alive ? "true" : "false", s->writer_epoch, s->update_count,
	       alive ? bb_market_state_name(s->market_state) : bb_market_state_name(BB_MARKET_STALE),
	       bb_market_state_name(s->market_state));
	json_string(s->market_message);
	printf(",\"tenant\":");
	json_string(s->tenant);
	printf(",\"endpoint\":");
	json_string(s->endpoint);
	printf(",\"host\":");
	json_string(s->host);
	printf(",\"cpuset\":");
	json_string(s->cpuset);
	printf(",\"memory_cgroup\":");
	json_string(s->memory_cgroup);
	printf(",\"netns\":");
	json_string(s->netns);
	printf(",\"reconnects\":%" PRIu64 ",\"round\":%" PRIu64 ",\"round_ns\":%" PRId64
	       ",\"next_round_wall_ns\":%" PRId64 ",\"charged_total\":%" PRId64
	       ",\"last_charged\":%" PRId64 ",\"balance\":%" PRId64
	       ",\"memory_budget_mib\":%" PRId64 ",\"prices\":[",
	       s->reconnects, s->round, s->round_ns, s->next_round_wall_ns, s->charged_total,
	       s->last_charged, s->balance, s->memory_budget_mib);
	for (uint32_t i = 0; i < s->nprices; i++) {
		const struct bb_price *p = &b->prices[i];
		printf("%s{\"resource\":\"%s\",\"host\":", i ? "," : "", bb_resource_name(p->resource));
		json_string(p->host);
		printf(",\"unit_price\":%" PRId64 ",\"round\":%" PRIu64 ",\"supply\":%" PRId64
		       ",\"allocated\":%" PRId64 ",\"published_wall_ns\":%" PRId64 "}",
		       p->unit_price, p->round, p->supply, p->allocated, p->published_wall_ns);
	}
	printf("],\"holdings\":[");
	for (uint32_t i = 0; i < s->nholdings; i++) {
		const struct bb_holding *h = &b->holdings[i];
		cpu_list(h, cpus, sizeof(cpus));
		printf("%s{\"resource\":\"%s\",\"host\":", i ? "," : "", bb_resource_name(h->resource));
		json_string(h->host);
		printf(",\"quantity\":%" PRId64 ",\"unit_price\":%" PRId64
		       ",\"payment_per_hour\":%" PRId64 ",\"round\":%" PRIu64 ",\"cpus\":\"%s\"}",
		       h->quantity, h->unit_price, h->payment_per_hour, h->round, cpus);
	}
	printf("],\"bids\":[");
	for (uint32_t i = 0; i < s->nbids; i++) {
		const struct bb_bid *d = &b->bids[i];
		printf("%s{\"bid_id\":", i ? "," : "");
		json_string(d->bid_id);
		printf(",\"resource\":\"%s\",\"host\":", bb_resource_name(d->resource));
		json_string(d->host);
		printf(",\"state\":\"%s\",\"min\":%" PRId64 ",\"max\":%" PRId64
		       ",\"unit_price\":%" PRId64 ",\"effective_round\":%" PRIu64 ",\"error\":%d}",
		       bb_bid_state_name(d->state), d->min_quantity, d->max_quantity, d->unit_price,
		       d->effective_round, d->error);
	}
	printf("]}\n");
}

static void show_text(const struct bb_body *b, const struct bb_header *hdr, bool alive)
{
	const struct bb_state *s = &b->state;
	char m1[MONEY_TEXT_MAX], m2[MONEY_TEXT_MAX], cpus[256];

	if (alive)
		printf("instance %s  writer pid %d  epoch %u  updates %" PRIu64 "\n", hdr->instance,
		       hdr->writer_pid, s->writer_epoch, s->update_count);
	else
		printf("instance %s  writer gone (pid %d is not running)  epoch %u  updates %" PRIu64
		       "\n",
		       hdr->instance, hdr->writer_pid, s->writer_epoch, s->update_count);
	if (alive)
		printf("market   %s%s%s  tenant %s  round %" PRIu64 "  reconnects %" PRIu64 "\n",
		       bb_market_state_name(s->market_state), s->market_message[0] ? ": " : "",
		       s->market_message, s->tenant[0] ? s->tenant : "-", s->round, s->reconnects);
	else
		printf("market   %s (writer gone; it last said %s%s%s)  tenant %s  round %" PRIu64
		       "\n",
		       bb_market_state_name(BB_MARKET_STALE), bb_market_state_name(s->market_state),
		       s->market_message[0] ? ": " : "", s->market_message,
		       s->tenant[0] ? s->tenant : "-", s->round);
	printf("account  charged %s  balance %s  memory budget %" PRId64 " MiB\n",
	       money_format(s->charged_total, m1), s->balance < 0 ? "unlimited" : money_format(s->balance, m2),
	       s->memory_budget_mib);
	printf("endpoint %s\n", s->endpoint[0] ? s->endpoint : "-");
	printf("place    host %s  cpuset %s  memory %s  netns %s\n", s->host[0] ? s->host : "-",
	       s->cpuset[0] ? s->cpuset : "-", s->memory_cgroup[0] ? s->memory_cgroup : "-",
	       s->netns[0] ? s->netns : "-");
	printf("prices (per unit-hour):\n");
	for (uint32_t i = 0; i < s->nprices; i++) {
		const struct bb_price *p = &b->prices[i];
		printf("  %-10s %-16s %14s  round %" PRIu64 "  supply %" PRId64 "  allocated %" PRId64
		       "\n",
		       bb_resource_name(p->resource), p->host, money_format(p->unit_price, m1),
		       p->round, p->supply, p->allocated);
	}
	printf("holdings:\n");
	for (uint32_t i = 0; i < s->nholdings; i++) {
		const struct bb_holding *h = &b->holdings[i];
		cpu_list(h, cpus, sizeof(cpus));
		printf("  %-10s %-16s %8" PRId64 " at %s  round %" PRIu64 "%s%s\n",
		       bb_resource_name(h->resource), h->host, h->quantity,
		       money_format(h->unit_price, m1), h->round, cpus[0] ? "  cpus " : "", cpus);
	}
	printf("bids:\n");
	for (uint32_t i = 0; i < s->nbids; i++) {
		const struct bb_bid *d = &b->bids[i];
		printf("  %-16s %-10s %-16s [%" PRId64 ", %" PRId64 "] at %s  %s%s%s\n", d->bid_id,
		       bb_resource_name(d->resource), d->host[0] ? d->host : "any", d->min_quantity,
		       d->max_quantity, money_format(d->unit_price, m1), bb_bid_state_name(d->state),
		       d->error ? ": " : "", d->error ? raas_strerror(d->error) : "");
	}
}

int main(int argc, char **argv)
{
	const char *format = "text";
	int64_t timeout_ns = -1;
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			format = optarg;
			break;
		case 't':
			if (cfg_parse_duration(optarg, &timeout_ns) != 0) {
				fprintf(stderr, "nom-board: --timeout %s: not a duration (e.g. 2s, 500ms)\n",
					optarg);
				return 64;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (argc - optind != 2 || (strcmp(format, "text") && strcmp(format, "json"))) {
		usage(stderr);
		return 64;
	}
	const char *cmd = argv[optind], *instance = argv[optind + 1];
	if (strcmp(cmd, "show") && strcmp(cmd, "wait") && strcmp(cmd, "check")) {
		fprintf(stderr, "nom-board: unknown command '%s'\n", cmd);
		usage(stderr);
		return 64;
	}
	if (bb_instance_valid(instance)) {
		fprintf(stderr, "nom-board: '%s' is not an instance name ([A-Za-z0-9_.-], 1-63)\n",
			instance);
		return 64;
	}
	struct bb_reader *r;
	int err = bb_reader_open(instance, &r);
	if (err) {
		char path[80];
		bb_path(instance, path, sizeof(path));
		fprintf(stderr, "nom-board: %s: %s%s\n", path, raas_strerror(err),
			err == -ENOENT ? " (is nom-priced running for this instance?)" : "");
		return err == -ENOENT ? 69 : 65;
	}
	int rc = 0;
	if (strcmp(cmd, "wait") == 0) {
		uint32_t seen = bb_reader_seq(r);
		err = bb_wait_change(r, &seen, timeout_ns);
		rc = err == 0 ? 0 : err == -ETIMEDOUT ? 75 : 65;
		if (err)
			fprintf(stderr, "nom-board: wait: %s\n", raas_strerror(err));
	} else {
		struct bb_body *b = malloc(sizeof(*b));
		char why[200];
		if (!b)
			return 70;
		if (strcmp(cmd, "check") == 0) {
			err = bb_check(r, why, sizeof(why));
		} else {
			err = bb_snapshot(r, b, NULL);
			if (!err)
				err = bb_check_body(b, true, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "%s", raas_strerror(err));
		}
		if (err) {
			fprintf(stderr, "nom-board: %s: %s\n", instance, why);
			rc = 65;
		} else if (strcmp(cmd, "check") == 0) {
			printf("%s: ok\n", instance);
		} else if (strcmp(format, "json") == 0) {
			show_json(b, bb_reader_header(r), bb_writer_alive(r, NULL));
		} else {
			show_text(b, bb_reader_header(r), bb_writer_alive(r, NULL));
		}
		free(b);
	}
	bb_reader_close(r);
	return rc;
}
