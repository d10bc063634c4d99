/* image_read.c: `raas image list` and `raas image inspect`: an image read back and checked.
 *
 * The manifest is the image's description; reading it checks that the id is its hash and
 * that the kernel and the initramfs are still the bytes it lists, so a damaged or edited
 * image is named as such instead of booting. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "nomvm/image.h"

int vm_sha256_file(const char *path, char out[65], size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char buf[1 << 16], h[32];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		total += (size_t)n;
	}
	int e = n < 0 ? -errno : 0;
	close(fd);
	if (e)
		return e;
	crypto_hash_sha256_final(&st, h);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	if (size)
		*size = total;
	return 0;
}

static int check_file(const char *dir, const char *name, const char *want, size_t want_size,
		      char *why, size_t why_len)
{
	char path[4096], got[65];
	size_t size;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = vm_sha256_file(path, got, &size);
	if (r) {
		snprintf(why, why_len, "%s: %s", path, strerror(-r));
		return r;
	}
	if (strcmp(got, want) != 0 || size != want_size) {
		snprintf(why, why_len, "%s: its hash is not the manifest's (damaged or replaced)", path);
		return -RAAS_EPARSE;
	}
	return 0;
}

int vm_image_read(const char *dir, struct vm_image_info *info, char *why, size_t why_len)
{
	char path[4096];
	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "%s/manifest", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = -errno;
		snprintf(why, why_len, "%s: %s (not an image made by raas image build)", path,
			 strerror(errno));
		return e;
	}
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	char line[8192], initrd_sha[65] = "", kernel_sha[65] = "";
	int lineno = 0, r = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		crypto_hash_sha256_update(&st, (unsigned char *)line, strlen(line));
		char a[256], b[256];
		size_t sz;
		if (lineno == 1) {
			if (strcmp(line, "nom-vm-image 1\n") != 0) {
				snprintf(why, why_len, "%s:1: not a version 1 nom VM image manifest", path);
				r = -RAAS_EPARSE;
				break;
			}
		} else if (sscanf(line, "app %255s", a) == 1) {
			size_t used = strlen(info->apps);
			snprintf(info->apps + used, sizeof(info->apps) - used, "%s%s", used ? " " : "", a);
		} else if (strncmp(line, "file ", 5) == 0) {
			info->nfiles++;
		} else if (strncmp(line, "package ", 8) == 0) {
			info->npackages++;
		} else if (sscanf(line, "initrd %64s %zu", a, &sz) == 2) {
			snprintf(initrd_sha, sizeof(initrd_sha), "%.64s", a);
			info->initrd_bytes = sz;
		} else if (sscanf(line, "kernel %255s %255s %zu", a, b, &sz) == 3) {
			snprintf(info->kernel_version, sizeof(info->kernel_version), "%.127s", a);
			snprintf(kernel_sha, sizeof(kernel_sha), "%.64s", b);
			info->kernel_bytes = sz;
		} else if (strncmp(line, "dir ", 4) != 0 && strncmp(line, "link ", 5) != 0) {
			snprintf(why, why_len, "%s:%d: unknown line", path, lineno);
			r = -RAAS_EPARSE;
			break;
		}
	}
	fclose(f);
	if (r)
		return r;
	if (!initrd_sha[0] || !kernel_sha[0]) {
		snprintf(why, why_len, "%s: no kernel or initrd line", path);
		return -RAAS_EPARSE;
	}
	unsigned char h[32];
	crypto_hash_sha256_final(&st, h);
	for (int i = 0; i < 32; i++)
		snprintf(info->id + 2 * i, 3, "%02x", h[i]);
	snprintf(path, sizeof(path), "%s/id", dir);
	f = fopen(path, "r");
	char id[80] = "";
	if (!f || !fgets(id, sizeof(id), f) || strncmp(id, info->id, 64) != 0) {
		if (f)
			fclose(f);
		snprintf(why, why_len, "%s: missing or not the manifest's hash", path);
		return -RAAS_EPARSE;
	}
	fclose(f);
	if ((r = check_file(dir, "initrd.img", initrd_sha, info->initrd_bytes, why, why_len)) ||
	    (r = check_file(dir, "vmlinuz", kernel_sha, info->kernel_bytes, why, why_len)))
		return r;
	return 0;
}
