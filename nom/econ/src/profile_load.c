/* profile_load.c: reads a profile file and hands it to the parser: the library's only I/O.
 *
 * Kept apart from profile.c so that the rest of the economics stays pure (text in, values
 * out) and can be fuzzed and used where no file system is wanted. The file is read whole,
 * with the parser's size bound checked before anything is allocated for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "nom/econ_profile.h"

static int load_fail(struct econ_error *err, const char *path, int code, const char *what)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
		snprintf(err->message, sizeof(err->message), "%s", what);
	}
	return code;
}

int econ_profile_load(const char *path, struct econ_profile **out, struct econ_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	int rc;

	if (!f) {
		int e = errno;
		return load_fail(err, path, -e, strerror(e));
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return load_fail(err, path, -EINVAL, "not a regular file");
	}
	if ((unsigned long long)st.st_size > ECON_PROFILE_MAX_BYTES) {
		fclose(f);
		return load_fail(err, path, -RAAS_ETOOBIG, "larger than 16 MiB");
	}
	size_t len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		fclose(f);
		return load_fail(err, path, -ENOMEM, "out of memory");
	}
	if (fread(buf, 1, len, f) != len) {
		int e = ferror(f) ? EIO : EINVAL;
		free(buf);
		fclose(f);
		return load_fail(err, path, -e, "cannot read the whole file");
	}
	fclose(f);
	rc = econ_profile_parse(path, buf, len, out, err);
	free(buf);
	return rc;
}
