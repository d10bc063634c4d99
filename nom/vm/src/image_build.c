/* image_build.c: `raas image build`: collects a nom guest's files and writes the image.
 *
 * What goes in is resolved, never listed by hand: each program's shared libraries are what
 * the dynamic loader resolves for it (ldd), the kernel modules of the virtio devices come
 * with every module they depend on (the kernel's modules.dep, loaded deepest first), and the
 * Debian packages and versions of all of it are asked of dpkg. A library the loader cannot
 * find is an error naming the program and the library; nothing is left at the output then.
 * Layout, manifest and reproducibility: image.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "cpio.h"
#include "nomvm/image.h"

/* The guest's devices: virtio-net, the config drive on virtio-blk, the balloon. */
static const char *const wanted_modules[] = {"virtio_pci", "virtio_net", "virtio_blk",
					     "virtio_balloon"};
/* busybox applets the init and a debugging shell use. */
static const char *const applets[] = {"sh", "ip", "cat", "ls", "ps", "mount", "poweroff"};

struct entry {
	char *path;   /* in the image, no leading '/' */
	mode_t mode;  /* with type bits */
	char *src;    /* a host file (regular files), or NULL */
	char *data;   /* inline content (or the link target); owned */
	size_t len;
	char *label;  /* the program that needed it, for dpkg and errors */
};

struct build {
	struct entry *e;
	size_t n, cap;
	char *why;
	size_t why_len;
	char version[128];
	char *pkgs; /* "name version\n" lines, sorted, unique */
};

static int failf(struct build *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int failf(struct build *b, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->why, b->why_len, fmt, ap);
	va_end(ap);
	return err;
}

static struct entry *find(struct build *b, const char *path)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->e[i].path, path) == 0)
			return &b->e[i];
	return NULL;
}

static int add(struct build *b, const char *path, mode_t mode, const char *src,
	       const char *data, size_t len)
{
	while (*path == '/')
		path++;
	struct entry *old = find(b, path);
	if (old)
		return (old->mode & S_IFMT) == (mode & S_IFMT) ? 0 : -EEXIST;
	/* Parents first. */
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = 0;
		int r = add(b, parent, S_IFDIR | 0755, NULL, NULL, 0);
		if (r)
			return r;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct entry *e = realloc(b->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		b->e = e;
		b->cap = cap;
	}
	struct entry *e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	e->mode = mode;
	e->src = src ? strdup(src) : NULL;
	if (data) {
		e->data = malloc(len + 1);
		if (e->data) {
			memcpy(e->data, data, len);
			e->data[len] = 0;
		}
		e->len = len;
	}
	if (!e->path || (src && !e->src) || (data && !e->data)) {
		free(e->path);
		free(e->src);
		free(e->data);
		return -ENOMEM;
	}
	b->n++;
	return 0;
}

static int add_text(struct build *b, const char *path, mode_t mode, const char *text)
{
	return add(b, path, S_IFREG | mode, NULL, text, strlen(text));
}

static int add_host_file(struct build *b, const char *path, const char *src, mode_t perm)
{
	char real[PATH_MAX];
	if (!realpath(src, real))
		return failf(b, -errno, "%s: %s", src, strerror(errno));
	return add(b, path, S_IFREG | perm, real, NULL, 0);
}

/* A program and what the loader resolves for it. label names it in errors. */
static int add_program(struct build *b, const char *path, const char *src, const char *label)
{
	if (access(src, X_OK) != 0)
		return failf(b, -errno, "%s: %s: %s", label, src, strerror(errno));
	int r = add_host_file(b, path, src, 0755);
	if (r)
		return r == -EEXIST ? failf(b, r, "%s: %s is in the image twice", label, path) : r;
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "ldd '%s' 2>&1", src);
	FILE *p = popen(cmd, "r");
	if (!p)
		return failf(b, -errno, "ldd: %s", strerror(errno));
	char line[1024], lib[PATH_MAX], name[256];
	r = 0;
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "not a dynamic executable") || strstr(line, "statically linked"))
			continue;
		if (sscanf(line, " %255s => not found", name) == 1 && strstr(line, "not found")) {
			if (!r)
				r = failf(b, -ENOENT, "%s: %s not found (ldd %s)", label, name, src);
			continue;
		}
		if (sscanf(line, " %*s => %4095s (", lib) == 1 ||
		    (sscanf(line, " %4095s (", lib) == 1 && lib[0] == '/')) {
			if (lib[0] != '/')
				continue;
			if (!r)
				r = add_host_file(b, lib, lib, 0755);
			if (r == -EEXIST)
				r = 0;
			if (!r) {
				struct entry *e = find(b, lib + 1);
				if (e && !e->label)
					e->label = strdup(label);
			}
		}
	}
	int st = pclose(p);
	if (!r && st == -1)
		r = failf(b, -ECHILD, "ldd %s: cannot get its status", src);
	return r;
}

/* modules.dep of the kernel version: "kernel/x/y.ko: kernel/a.ko kernel/b.ko". */
struct modules {
	char **name, **path, **deps;
	size_t n;
};

static void modules_free(struct modules *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->name[i]);
		free(m->path[i]);
		free(m->deps[i]);
	}
	free(m->name);
	free(m->path);
	free(m->deps);
}

static void mod_name(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/');
	snprintf(out, len, "%s", base ? base + 1 : path);
	char *dot = strstr(out, ".ko");
	if (dot)
		*dot = 0;
	for (char *c = out; *c; c++)
		if (*c == '-')
			*c = '_';
}

static int modules_load(struct build *b, const char *version, struct modules *m)
{
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "/lib/modules/%s/modules.dep", version);
	FILE *f = fopen(file, "r");
	if (!f)
		return failf(b, -errno, "%s: %s (the kernel's modules: linux-image-cloud-amd64)",
			     file, strerror(errno));
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	int r = 0;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		if (m->n == alloc) {
			alloc = alloc ? 2 * alloc : 1024;
			char **a = realloc(m->name, alloc * sizeof(char *));
			char **c = a ? realloc(m->path, alloc * sizeof(char *)) : NULL;
			char **d = c ? realloc(m->deps, alloc * sizeof(char *)) : NULL;
			if (a)
				m->name = a;
			if (c)
				m->path = c;
			if (d)
				m->deps = d;
			if (!d) {
				r = -ENOMEM;
				break;
			}
		}
		char name[256];
		mod_name(line, name, sizeof(name));
		char *nl = strchr(colon + 1, '\n');
		if (nl)
			*nl = 0;
		m->name[m->n] = strdup(name);
		m->path[m->n] = strdup(line);
		m->deps[m->n] = strdup(colon + 1);
		m->n++;
	}
	free(line);
	fclose(f);
	return r;
}

/* Appends module name (and first what it depends on) to order, once each. */
static int module_resolve(struct build *b, const char *version, struct modules *m,
			  const char *name, char *order, size_t order_len, int depth)
{
	char key[260];
	snprintf(key, sizeof(key), "\n%s\n", name);
	char probe[order_len + 2];
	snprintf(probe, sizeof(probe), "\n%s", order);
	if (strstr(probe, key))
		return 0;
	if (depth > 32)
		return failf(b, -ELOOP, "module %s: dependencies nest too deep", name);
	size_t i;
	for (i = 0; i < m->n && strcmp(m->name[i], name) != 0; i++)
		;
	if (i == m->n) {
		/* Built into this kernel: nothing to load. */
		char builtin[PATH_MAX];
		snprintf(builtin, sizeof(builtin), "grep -q '/%s.ko$' /lib/modules/%s/modules.builtin",
			 name, version);
		if (system(builtin) == 0)
			return 0;
		return failf(b, -ENOENT, "kernel %s has no module %s", version, name);
	}
	char deps[4096];
	snprintf(deps, sizeof(deps), "%s", m->deps[i]);
	/* modules.dep lists the deepest dependency last: load from the end. */
	char *words[64];
	int nw = 0;
	for (char *s = strtok(deps, " "); s && nw < 64; s = strtok(NULL, " "))
		words[nw++] = s;
	for (int w = nw - 1; w >= 0; w--) {
		char dep[256];
		mod_name(words[w], dep, sizeof(dep));
		int r = module_resolve(b, version, m, dep, order, order_len, depth + 1);
		if (r)
			return r;
	}
	if (strstr(m->path[i], ".ko.") != NULL)
		return failf(b, -ENOTSUP, "module %s is compressed (%s): not supported", name,
			     m->path[i]);
	char src[PATH_MAX], dst[300];
	snprintf(src, sizeof(src), "/lib/modules/%s/%s", version, m->path[i]);
	snprintf(dst, sizeof(dst), "lib/modules/%s.ko", name);
	int r = add_host_file(b, dst, src, 0644);
	if (r)
		return r;
	size_t used = strlen(order);
	if (used + strlen(name) + 2 > order_len)
		return failf(b, -E2BIG, "too many modules");
	snprintf(order + used, order_len - used, "%s\n", name);
	return 0;
}

static int add_modules(struct build *b, const char *version)
{
	struct modules m = {0};
	int r = modules_load(b, version, &m);
	char order[4096] = "";
	for (size_t i = 0; !r && i < sizeof(wanted_modules) / sizeof(wanted_modules[0]); i++)
		r = module_resolve(b, version, &m, wanted_modules[i], order, sizeof(order), 0);
	modules_free(&m);
	if (!r)
		r = add_text(b, "etc/nom/modules", 0644, order);
	return r;
}

static int newest_kernel(struct build *b, char *out, size_t len)
{
	glob_t g;
	if (glob("/boot/vmlinuz-*-cloud-amd64", 0, NULL, &g) != 0 || g.gl_pathc == 0)
		return failf(b, -ENOENT, "no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64); "
			     "give --kernel");
	/* glob sorts: the last is the newest of one series; good enough for Debian's. */
	snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return 0;
}

/* The Debian package and version of each host file (one dpkg call for them all). */
static int find_packages(struct build *b, const char *kernel)
{
	size_t cap = 1 << 16, used = 0;
	char *cmd = malloc(cap);
	if (!cmd)
		return -ENOMEM;
	used += snprintf(cmd, cap, "dpkg -S '%s'", kernel);
	for (size_t i = 0; i < b->n; i++) {
		if (!b->e[i].src)
			continue;
		const char *p = b->e[i].path;
		if (strncmp(p, "lib/modules/", 12) == 0)
			continue; /* the kernel's package has them */
		/* dpkg knows merged-/usr files by the path the package shipped (/lib or /usr/lib). */
		size_t need = strlen(p) + strlen(b->e[i].src) + 8;
		if (used + need + 64 > cap)
			break;
		used += snprintf(cmd + used, cap - used, " '/%s' '%s'", p, b->e[i].src);
	}
	snprintf(cmd + used, cap - used, " 2>/dev/null | sed 's/: .*//; s/, /\\n/g' | sort -u | "
		 "xargs -r dpkg-query -W -f '${Package} ${Version}\\n' 2>/dev/null | sort -u");
	FILE *p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return failf(b, -errno, "dpkg: %s", strerror(errno));
	size_t n = 0;
	char buf[4096];
	b->pkgs = calloc(1, 1);
	size_t got;
	while (b->pkgs && (got = fread(buf, 1, sizeof(buf), p)) > 0) {
		char *grown = realloc(b->pkgs, n + got + 1);
		if (!grown)
			break;
		b->pkgs = grown;
		memcpy(b->pkgs + n, buf, got);
		n += got;
		b->pkgs[n] = 0;
	}
	pclose(p);
	return b->pkgs ? 0 : -ENOMEM;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int read_all(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	char *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return e;
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

static void hex(const unsigned char *h, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int r = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && !r)
		r = -errno;
	return r;
}

/* Writes the archive and the manifest into dir. */
static int write_image(struct build *b, const struct vm_image_spec *spec, const char *dir,
		       const char *kernel, struct vm_image_result *res)
{
	char path[PATH_MAX + 64], sha[65];
	qsort(b->e, b->n, sizeof(b->e[0]), cmp_entry);
	size_t mcap = 1 << 16, mused = 0;
	char *man = malloc(mcap);
	if (!man)
		return -ENOMEM;
#define MAN(...)                                                                           \
	do {                                                                               \
		int w_ = snprintf(NULL, 0, __VA_ARGS__);                                   \
		if (mused + (size_t)w_ + 1 > mcap) {                                       \
			char *g_ = realloc(man, mcap = 2 * (mcap + (size_t)w_));           \
			if (!g_) {                                                         \
				free(man);                                                 \
				return -ENOMEM;                                            \
			}                                                                  \
			man = g_;                                                          \
		}                                                                          \
		mused += (size_t)snprintf(man + mused, mcap - mused, __VA_ARGS__);         \
	} while (0)

	snprintf(path, sizeof(path), "%s/initrd.img", dir);
	struct vm_cpio *c;
	int r = vm_cpio_open(path, &c);
	if (r) {
		free(man);
		return failf(b, r, "%s: %s", path, strerror(-r));
	}
	MAN("nom-vm-image 1\n");
	for (size_t i = 0; i < spec->napps; i++) {
		const char *a = strrchr(spec->apps[i], '/');
		MAN("app %s\n", a ? a + 1 : spec->apps[i]);
	}
	for (size_t i = 0; i < b->n && !r; i++) {
		struct entry *e = &b->e[i];
		char *data = e->data;
		size_t len = e->len;
		if (e->src && (r = read_all(e->src, &data, &len)) != 0) {
			r = failf(b, r, "%s: %s", e->src, strerror(-r));
			break;
		}
		r = vm_cpio_add(c, e->path, e->mode, data, len);
		if (!r) {
			switch (e->mode & S_IFMT) {
			case S_IFDIR: MAN("dir %04o /%s\n", (unsigned)(e->mode & 07777), e->path); break;
			case S_IFLNK: MAN("link %s /%s\n", data, e->path); break;
			default: {
				unsigned char h[32];
				crypto_hash_sha256(h, (const unsigned char *)data, len);
				hex(h, sha);
				MAN("file %s %zu %04o /%s\n", sha, len, (unsigned)(e->mode & 07777),
				    e->path);
				res->nfiles++;
			}
			}
		}
		if (e->src)
			free(data);
	}
	if (r) {
		vm_cpio_abort(c);
		free(man);
		return r;
	}
	if ((r = vm_cpio_close(c, &res->initrd_bytes)) != 0) {
		free(man);
		return failf(b, r, "%s: %s", path, strerror(-r));
	}
	if ((r = vm_sha256_file(path, sha, NULL)) != 0) {
		free(man);
		return r;
	}
	MAN("initrd %s %zu\n", sha, res->initrd_bytes);
	snprintf(path, sizeof(path), "%s/vmlinuz", dir);
	char *k;
	size_t klen;
	if ((r = read_all(kernel, &k, &klen)) != 0) {
		free(man);
		return failf(b, r, "%s: %s", kernel, strerror(-r));
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(k, 1, klen, f) != klen || fclose(f) != 0) {
		r = -errno;
		free(k);
		free(man);
		return failf(b, r ? r : -EIO, "%s: cannot write", path);
	}
	unsigned char h[32];
	crypto_hash_sha256(h, (unsigned char *)k, klen);
	free(k);
	hex(h, sha);
	res->kernel_bytes = klen;
	MAN("kernel %s %s %zu\n", b->version, sha, klen);
	for (char *l = b->pkgs; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n)
			MAN("package %.*s\n", (int)n, l);
		l += n + (nl ? 1 : 0);
	}
	snprintf(path, sizeof(path), "%s/manifest", dir);
	if ((r = write_file(path, man)) != 0) {
		free(man);
		return failf(b, r, "%s: %s", path, strerror(-r));
	}
	crypto_hash_sha256(h, (unsigned char *)man, mused);
	free(man);
	hex(h, res->id);
	char idline[80];
	snprintf(idline, sizeof(idline), "%s\n", res->id);
	snprintf(path, sizeof(path), "%s/id", dir);
	if ((r = write_file(path, idline)) != 0)
		return failf(b, r, "%s: %s", path, strerror(-r));
	snprintf(res->kernel_version, sizeof(res->kernel_version), "%s", b->version);
	return 0;
#undef MAN
}

static int collect(struct build *b, const struct vm_image_spec *spec, const char *kernel)
{
	char src[PATH_MAX];
	int r;
	static const char *const dirs[] = {"dev", "proc", "sys", "run", "tmp", "etc/nom"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((r = add(b, dirs[i], S_IFDIR | 0755, NULL, NULL, 0)) != 0)
			return r;
	snprintf(src, sizeof(src), "%s/nom-vm-init", spec->bin_dir);
	if ((r = add_program(b, "init", src, "nom-vm-init")) != 0)
		return r;
	static const char *const tools[] = {"nom-priced", "nom-board", "nom-ctl", "nomnet-ctl"};
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char dst[64];
		snprintf(src, sizeof(src), "%s/%s", spec->bin_dir, tools[i]);
		snprintf(dst, sizeof(dst), "bin/%s", tools[i]);
		if ((r = add_program(b, dst, src, tools[i])) != 0)
			return r;
	}
	for (size_t i = 0; i < spec->napps; i++) {
		const char *a = spec->apps[i], *base = strrchr(a, '/');
		char dst[300];
		if (base)
			snprintf(src, sizeof(src), "%s", a);
		else
			snprintf(src, sizeof(src), "%s/%s", spec->bin_dir, a);
		snprintf(dst, sizeof(dst), "bin/%s", base ? base + 1 : a);
		char label[300];
		snprintf(label, sizeof(label), "app %s", base ? base + 1 : a);
		if ((r = add_program(b, dst, src, label)) != 0)
			return r;
	}
	for (size_t i = 0; i < spec->nfiles; i++) {
		char pair[PATH_MAX];
		snprintf(pair, sizeof(pair), "%s", spec->files[i]);
		char *eq = strchr(pair, '=');
		if (!eq || eq == pair || eq[1] != '/')
			return failf(b, -EINVAL, "--file %s: not SRC=/DST", spec->files[i]);
		*eq = 0;
		if ((r = add_host_file(b, eq + 1, pair, 0644)) != 0)
			return r == -EEXIST ? failf(b, r, "--file %s: %s is in the image already",
						     spec->files[i], eq + 1) : r;
	}
	const char *bb = spec->busybox ? spec->busybox : "/bin/busybox";
	if ((r = add_program(b, "bin/busybox", bb, "busybox")) != 0)
		return r;
	if (!find(b, "bin/busybox") || system("true") != 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
		char dst[64];
		snprintf(dst, sizeof(dst), "bin/%s", applets[i]);
		if ((r = add(b, dst, S_IFLNK | 0777, NULL, "busybox", 7)) != 0)
			return r;
	}
	if ((r = add_modules(b, b->version)) != 0)
		return r;
	char info[512];
	snprintf(info, sizeof(info), "kernel %s\n", b->version);
	return add_text(b, "etc/nom/image", 0644, info);
}

static void build_free(struct build *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->e[i].path);
		free(b->e[i].src);
		free(b->e[i].data);
		free(b->e[i].label);
	}
	free(b->e);
	free(b->pkgs);
}

int vm_image_build(const struct vm_image_spec *spec, struct vm_image_result *res, char *why,
		   size_t why_len)
{
	struct build b = {.why = why, .why_len = why_len};
	char kernel[PATH_MAX], tmp[PATH_MAX];
	int r;
	memset(res, 0, sizeof(*res));
	why[0] = 0;
	if (sodium_init() < 0)
		return failf(&b, -EIO, "libsodium cannot start");
	if (spec->kernel)
		snprintf(kernel, sizeof(kernel), "%s", spec->kernel);
	else if ((r = newest_kernel(&b, kernel, sizeof(kernel))) != 0)
		return r;
	const char *v = strstr(kernel, "vmlinuz-");
	if (!v)
		return failf(&b, -EINVAL, "%s: not named vmlinuz-VERSION", kernel);
	snprintf(b.version, sizeof(b.version), "%s", v + strlen("vmlinuz-"));
	if (access(spec->out, F_OK) == 0 && !spec->force)
		return failf(&b, -EEXIST, "%s exists (--force replaces it)", spec->out);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", spec->out, (int)getpid());
	if (mkdir(tmp, 0755) != 0)
		return failf(&b, -errno, "%s: %s", tmp, strerror(errno));
	r = collect(&b, spec, kernel);
	if (!r)
		r = find_packages(&b, kernel);
	if (!r)
		r = write_image(&b, spec, tmp, kernel, res);
	if (!r && spec->force) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spec->out);
		if (access(spec->out, F_OK) == 0 && system(cmd) != 0)
			r = failf(&b, -EIO, "%s: cannot replace it", spec->out);
	}
	if (!r && rename(tmp, spec->out) != 0)
		r = failf(&b, -errno, "%s: %s", spec->out, strerror(errno));
	if (r) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "raas image build: could not remove %s\n", tmp);
		if (!why[0])
			failf(&b, r, "%s", raas_strerror(r));
	}
	build_free(&b);
	return r;
}
