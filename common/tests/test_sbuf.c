/* test_sbuf.c: the one JSON string escaper (sbuf_json_str) and its stream form (json_fputs),
 * which the raas CLI's and nom-board's -o json, the JSON log lines and libnom's adapt events
 * print through: quotes and backslashes get a backslash, a newline \n, other control
 * characters \u00XX, everything else (UTF-8 too) passes unchanged. */
#include <stdio.h>
#include <stdlib.h>

#include "common/sbuf.h"
#include "test.h"

static const struct {
	const char *in, *out;
} cases[] = {
	{"", "\"\""},
	{"plain", "\"plain\""},
	{"a\"b\\c", "\"a\\\"b\\\\c\""},
	{"tab\tnl\n\x01", "\"tab\\u0009nl\\n\\u0001\""},
	{"caf\xc3\xa9 $0.08", "\"caf\xc3\xa9 $0.08\""},
};

int main(void)
{
	int checked = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf b;
		sbuf_init(&b);
		sbuf_json_str(&b, cases[i].in);
		ASSERT_TRUE(!sbuf_failed(&b));
		ASSERT_STR_EQ(b.s, cases[i].out);
		sbuf_fini(&b);

		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		ASSERT_TRUE(f != NULL);
		json_fputs(f, cases[i].in);
		fclose(f);
		ASSERT_STR_EQ(text, cases[i].out);
		free(text);
		checked++;
	}
	ASSERT_EQ(checked, 5);
	printf("test_sbuf: %d strings escaped alike by sbuf_json_str and json_fputs\n", checked);
	return 0;
}
