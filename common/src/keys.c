/* keys.c: CURVE key pairs and the key files `raas keygen` writes.
 *
 * Keys are z85 text (RFC 32) so that an operator can read, copy and diff them; the files say
 * which key is which ("public = ...", "secret = ..."), because a bare line of z85 could begin
 * with '#' and look like a comment. A secret file is written 0600 under a temporary name and
 * renamed into place, so that a crash or a full disk never leaves a truncated key behind. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/error.h"
#include "common/transport.h"

/* Bound on a key file: a few comment lines and two keys. */
#define KEY_FILE_MAX 4096

int tp_keypair_generate(struct tp_keypair *kp)
{
	if (!zmq_has("curve"))
		return -ENOTSUP;
	if (zmq_curve_keypair(kp->public_key, kp->secret_key) != 0)
		return -errno;
	return 0;
}

bool tp_key_valid(const char *text)
{
	uint8_t raw[32];

	if (!text || strlen(text) != TP_KEY_Z85_LEN)
		return false;
	return zmq_z85_decode(raw, text) != NULL;
}

static bool name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 128 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* Writes text to path atomically with the given mode. */
static int write_atomic(const char *path, const char *text, mode_t mode, bool force)
{
	char tmp[4200];
	int fd, err = 0;
	size_t len = strlen(text);

	if (!force && access(path, F_OK) == 0)
		return -EEXIST;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		err = errno ? -errno : -EIO;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int tp_key_save(const char *dir, const char *name, const struct tp_keypair *kp, bool force)
{
	char path[4096], text[512];
	int err;

	if (!name_ok(name) || !tp_key_valid(kp->public_key) || !tp_key_valid(kp->secret_key))
		return -EINVAL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (snprintf(path, sizeof(path), "%s/%s.key", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!force && access(path, F_OK) == 0)
		return -EEXIST;
	snprintf(text, sizeof(text),
		 "# raas CURVE key pair \"%s\": keep this file secret (raas keygen)\n"
		 "public = %s\nsecret = %s\n",
		 name, kp->public_key, kp->secret_key);
	err = write_atomic(path, text, 0600, force);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s.pub", dir, name);
	snprintf(text, sizeof(text),
		 "# raas CURVE public key \"%s\": give it to the market operator\n"
		 "public = %s\n",
		 name, kp->public_key);
	return write_atomic(path, text, 0644, force);
}

static int parse_fail(char *why, size_t why_len, const char *name, int line, const char *msg)
{
	if (why_len) {
		if (line)
			snprintf(why, why_len, "%s:%d: %s", name, line, msg);
		else
			snprintf(why, why_len, "%s: %s", name, msg);
	}
	return -RAAS_EPARSE;
}

int tp_key_parse(const char *text, size_t len, const char *name, bool want_secret,
		 struct tp_keypair *kp, char *why, size_t why_len)
{
	char line[256], msg[160];
	size_t pos = 0;
	int lineno = 0;
	bool have_public = false, have_secret = false;

	memset(kp, 0, sizeof(*kp));
	if (why_len)
		why[0] = '\0';
	if (len > KEY_FILE_MAX)
		return parse_fail(why, why_len, name, 0, "too large to be a key file");
	while (pos < len) {
		size_t end = pos, n;
		while (end < len && text[end] != '\n')
			end++;
		n = end - pos;
		lineno++;
		if (n >= sizeof(line))
			return parse_fail(why, why_len, name, lineno, "line too long");
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', n))
			return parse_fail(why, why_len, name, lineno, "contains a NUL byte");

		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		char *e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*p == '\0' || *p == '#')
			continue;

		char *eq = strchr(p, '=');
		if (!eq)
			return parse_fail(why, why_len, name, lineno,
					  "expected \"public = KEY\" or \"secret = KEY\"");
		char *k = p, *ke = eq, *v = eq + 1;
		while (ke > k && isspace((unsigned char)ke[-1]))
			ke--;
		*ke = '\0';
		while (isspace((unsigned char)*v))
			v++;
		bool is_public = strcmp(k, "public") == 0, is_secret = strcmp(k, "secret") == 0;
		if (!is_public && !is_secret) {
			snprintf(msg, sizeof(msg), "unknown field \"%.40s\" (expected public or secret)",
				 k);
			return parse_fail(why, why_len, name, lineno, msg);
		}
		if (!tp_key_valid(v)) {
			snprintf(msg, sizeof(msg),
				 "%.6s key is not %d z85 characters (got %zu)", k, TP_KEY_Z85_LEN,
				 strlen(v));
			return parse_fail(why, why_len, name, lineno, msg);
		}
		if ((is_public && have_public) || (is_secret && have_secret)) {
			snprintf(msg, sizeof(msg), "%.6s key given twice", k);
			return parse_fail(why, why_len, name, lineno, msg);
		}
		if (is_public) {
			memcpy(kp->public_key, v, TP_KEY_Z85_LEN + 1);
			have_public = true;
		} else {
			memcpy(kp->secret_key, v, TP_KEY_Z85_LEN + 1);
			have_secret = true;
		}
	}
	if (want_secret && !have_secret)
		return parse_fail(why, why_len, name, 0,
				  "no secret key (a .pub file? a key pair is NAME.key)");
	if (have_secret) {
		char derived[TP_KEY_Z85_LEN + 1];
		if (zmq_curve_public(derived, kp->secret_key) != 0)
			return parse_fail(why, why_len, name, 0, "secret key is not a CURVE key");
		if (have_public && strcmp(derived, kp->public_key) != 0)
			return parse_fail(why, why_len, name, 0,
					  "public and secret keys do not belong together");
		memcpy(kp->public_key, derived, sizeof(derived));
		have_public = true;
	}
	if (!have_public)
		return parse_fail(why, why_len, name, 0, "no \"public = KEY\" line");
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap, f);
	if (ferror(f)) {
		int err = errno ? -errno : -EIO;
		fclose(f);
		return err;
	}
	fclose(f);
	*len = n;
	return 0;
}

static int load(const char *path, bool want_secret, struct tp_keypair *kp, char *why,
		size_t why_len)
{
	char buf[KEY_FILE_MAX + 1];
	size_t len = 0;
	int err = read_small_file(path, buf, sizeof(buf), &len);

	if (err) {
		if (why_len)
			snprintf(why, why_len, "%s: %s", path, raas_strerror(err));
		return err;
	}
	return tp_key_parse(buf, len, path, want_secret, kp, why, why_len);
}

int tp_key_load_public(const char *path, char out[TP_KEY_Z85_LEN + 1], char *why,
		       size_t why_len)
{
	struct tp_keypair kp;
	int err = load(path, false, &kp, why, why_len);

	if (err)
		return err;
	memcpy(out, kp.public_key, TP_KEY_Z85_LEN + 1);
	return 0;
}

int tp_key_load_pair(const char *path, struct tp_keypair *kp, char *why, size_t why_len)
{
	return load(path, true, kp, why, why_len);
}
