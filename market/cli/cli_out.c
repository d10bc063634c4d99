/* cli_out.c: the CLI's output: one table type rendered as an aligned table, JSON or CSV.
 *
 * Money is exact in every format: "$0.05" in tables, the decimal dollars 0.05 (a JSON number,
 * never a float computation) in JSON and CSV. Times are UTC ISO-8601 in all three. JSON is an
 * array of objects (JSON lines in watch mode); CSV has a header row and quotes fields as RFC
 * 4180 says. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/clock.h"
#include "common/sbuf.h"

struct cli_table {
	const char *const *names;
	const enum cli_col *types;
	size_t ncols;
	char **cells;        /* rows x ncols, each malloc'd text */
	size_t nrows, caprows;
};

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("raas: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct cli_table *cli_table_create(const char *const *names, const enum cli_col *types,
				   size_t ncols)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->names = names;
	t->types = types;
	t->ncols = ncols;
	return t;
}

void cli_table_destroy(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Cells are stored in a neutral text form: money as plain dollars ("0.05"), times as
 * ISO text, ints in decimal; the renderers add "$" and quoting. */
int cli_table_row(struct cli_table *t, ...)
{
	va_list ap;

	if (t->nrows == t->caprows) {
		size_t cap = t->caprows ? t->caprows * 2 : 16;
		char **v = realloc(t->cells, cap * t->ncols * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->cells = v;
		t->caprows = cap;
	}
	char **row = &t->cells[t->nrows * t->ncols];
	va_start(ap, t);
	for (size_t c = 0; c < t->ncols; c++) {
		char buf[64];
		const char *s = buf;
		switch (t->types[c]) {
		case COL_STR:
			s = va_arg(ap, const char *);
			if (!s)
				s = "";
			break;
		case COL_INT:
			snprintf(buf, sizeof(buf), "%lld", (long long)va_arg(ap, int64_t));
			break;
		case COL_OPT_INT: {
			int64_t v = va_arg(ap, int64_t);
			if (v < 0)
				buf[0] = '\0';
			else
				snprintf(buf, sizeof(buf), "%lld", (long long)v);
			break;
		}
		case COL_MONEY:
			money_format_plain(va_arg(ap, money_t), buf);
			break;
		case COL_LIMIT: {
			money_t v = va_arg(ap, money_t);
			if (v < 0)
				buf[0] = '\0';
			else
				money_format_plain(v, buf);
			break;
		}
		case COL_TIME: {
			int64_t ns = va_arg(ap, int64_t);
			if (ns)
				clk_format_wall(ns, buf, sizeof(buf));
			else
				buf[0] = '\0';
			break;
		}
		case COL_BOOL:
			snprintf(buf, sizeof(buf), "%s", va_arg(ap, int) ? "true" : "false");
			break;
		}
		row[c] = strdup(s);
	}
	va_end(ap);
	t->nrows++;
	return 0;
}

/* The text of a cell as the table shows it. */
static void table_text(const struct cli_table *t, size_t c, const char *cell, char *buf,
		       size_t len)
{
	if (t->types[c] == COL_LIMIT && !cell[0]) {
		snprintf(buf, len, "unlimited");
	} else if (t->types[c] == COL_MONEY || t->types[c] == COL_LIMIT) {
		if (cell[0] == '-')
			snprintf(buf, len, "-$%s", cell + 1);
		else
			snprintf(buf, len, "$%s", cell);
	} else {
		snprintf(buf, len, "%s", cell);
	}
}

static void json_string(const char *s)
{
	json_fputs(stdout, s);
}

static void json_row(const struct cli_table *t, size_t r)
{
	putchar('{');
	for (size_t c = 0; c < t->ncols; c++) {
		const char *cell = t->cells[r * t->ncols + c];
		if (c)
			putchar(',');
		json_string(t->names[c]);
		putchar(':');
		if (t->types[c] == COL_STR || (t->types[c] == COL_TIME && cell[0]))
			json_string(cell);
		else if ((t->types[c] == COL_TIME || t->types[c] == COL_LIMIT ||
			  t->types[c] == COL_OPT_INT) && !cell[0])
			fputs("null", stdout);
		else
			fputs(cell, stdout);
	}
	putchar('}');
}

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void csv_row(const struct cli_table *t, size_t r)
{
	for (size_t c = 0; c < t->ncols; c++) {
		if (c)
			putchar(',');
		csv_field(r == SIZE_MAX ? t->names[c] : t->cells[r * t->ncols + c]);
	}
	putchar('\n');
}

static void table_row(const struct cli_table *t, size_t r, const size_t *width)
{
	size_t ncols = t->ncols;

	/* Empty cells at the end of a row are not padded (no trailing blanks). */
	while (r != SIZE_MAX && ncols > 1 && !t->cells[r * t->ncols + ncols - 1][0] &&
	       t->types[ncols - 1] == COL_STR)
		ncols--;
	for (size_t c = 0; c < ncols; c++) {
		char buf[512];
		if (r == SIZE_MAX)
			snprintf(buf, sizeof(buf), "%s", t->names[c]);
		else
			table_text(t, c, t->cells[r * t->ncols + c], buf, sizeof(buf));
		bool right = r != SIZE_MAX && t->types[c] != COL_STR && t->types[c] != COL_TIME;
		bool last = c + 1 == ncols;
		if (right)
			printf("%*s", (int)width[c], buf);
		else if (last)
			fputs(buf, stdout); /* no trailing blanks */
		else
			printf("%-*s", (int)width[c], buf);
		if (!last)
			fputs("  ", stdout);
	}
	putchar('\n');
}

static void widths(const struct cli_table *t, size_t *width)
{
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->names[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			char buf[512];
			table_text(t, c, t->cells[r * t->ncols + c], buf, sizeof(buf));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
}

void cli_table_print(struct cli_table *t, enum cli_format f)
{
	size_t width[32];

	switch (f) {
	case CLI_JSON:
		putchar('[');
		for (size_t r = 0; r < t->nrows; r++) {
			if (r)
				putchar(',');
			fputs("\n  ", stdout);
			json_row(t, r);
		}
		fputs(t->nrows ? "\n]\n" : "]\n", stdout);
		break;
	case CLI_CSV:
		csv_row(t, SIZE_MAX);
		for (size_t r = 0; r < t->nrows; r++)
			csv_row(t, r);
		break;
	default:
		widths(t, width);
		table_row(t, SIZE_MAX, width);
		for (size_t r = 0; r < t->nrows; r++)
			table_row(t, r, width);
		break;
	}
	fflush(stdout);
	cli_table_destroy(t);
}

void cli_table_print_last(struct cli_table *t, enum cli_format f, bool header)
{
	size_t width[32];

	if (!t->nrows)
		return;
	for (size_t c = 0; c < t->ncols; c++)
		width[c] = strlen(t->names[c]) < 12 ? 12 : strlen(t->names[c]);
	switch (f) {
	case CLI_JSON:
		json_row(t, t->nrows - 1);
		putchar('\n');
		break;
	case CLI_CSV:
		if (header)
			csv_row(t, SIZE_MAX);
		csv_row(t, t->nrows - 1);
		break;
	default:
		if (header)
			table_row(t, SIZE_MAX, width);
		table_row(t, t->nrows - 1, width);
		break;
	}
	fflush(stdout);
}
