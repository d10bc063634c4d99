/* image.h: nom VM images: what `raas image build` puts in a guest, and how it is read back.
 *
 * An image is a directory: vmlinuz (the Debian cloud kernel, copied), initrd.img (a gzip'd
 * cpio "newc" archive: /init = nom-vm-init, nom-priced, the chosen apps, busybox, every
 * shared library they need as resolved by the dynamic loader, the kernel modules of the
 * virtio devices with their dependencies), manifest (one line per file with its SHA-256, the
 * Debian packages they came from with their versions) and id (the manifest's SHA-256).
 *
 * Reproducible: entries are sorted by path, every timestamp, owner and inode number in the
 * archive is fixed, and the gzip header has no time or name, so the same inputs give the same
 * bytes and the same id. Nothing per instance is in an image: keys, endpoints, the instance's
 * name and its apps' options arrive on the config drive at boot (vm_config.h). */
#ifndef NOMVM_IMAGE_H
#define NOMVM_IMAGE_H
#include <stdbool.h>
#include <stddef.h>

#define VM_IMAGE_MAX_APPS 16

struct vm_image_spec {
	const char *out;       /* the image directory to write (must not exist, or --force) */
	const char *kernel;    /* NULL: the newest /boot/vmlinuz-*-cloud-amd64 */
	const char *bin_dir;   /* where nom-priced, nom-vm-init and apps named without '/' are */
	const char *busybox;   /* NULL: /bin/busybox (must be static) */
	const char *apps[VM_IMAGE_MAX_APPS]; /* names in bin_dir, or paths */
	size_t napps;
	const char *files[VM_IMAGE_MAX_APPS]; /* "SRC=DST": data the apps read (a profile) */
	size_t nfiles;
	bool force;            /* replace an existing image directory */
};

/* What a build did (for the build's summary line and the figures). */
struct vm_image_result {
	char id[65];           /* hex SHA-256 of the manifest */
	char kernel_version[128];
	size_t nfiles;         /* files in the initramfs */
	size_t initrd_bytes, kernel_bytes;
};

/* Builds spec->out. Returns 0, or a negative errno / -RAAS_EPARSE with why filled ("app
 * nom-x: libfoo.so.1 not found (ldd)"); on error nothing is left at spec->out. */
int vm_image_build(const struct vm_image_spec *spec, struct vm_image_result *res, char *why,
		   size_t why_len);

/* One image read back from its directory. */
struct vm_image_info {
	char id[65];
	char kernel_version[128];
	char apps[512];        /* space-separated */
	size_t nfiles, npackages;
	size_t initrd_bytes, kernel_bytes;
};

/* Reads dir/manifest and dir/id and checks that the id is the manifest's hash and that the
 * kernel and initrd match their hashes. Returns 0, -ENOENT (not an image) or -RAAS_EPARSE
 * with why filled. */
int vm_image_read(const char *dir, struct vm_image_info *info, char *why, size_t why_len);

/* Hex SHA-256 of a file (out: 65 bytes). Returns 0 or -errno. */
int vm_sha256_file(const char *path, char out[65], size_t *size);
#endif
