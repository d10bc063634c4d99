/* raas_image.c: raas-image, behind `raas image build|list|inspect` (raas execs it).
 *
 *   raas image build [--app NAME]... [--file SRC=/DST]... --out IMAGE [--kernel VMLINUZ]
 *                    [--force]
 *   raas image list [--dir DIR]          images under DIR ($RAAS_IMAGE_DIR, default ./images)
 *   raas image inspect IMAGE             what is inside, versions, sizes (checked)
 *   raas image drive CONFIG --out DRIVE  a VM's config drive (vm_config.h)
 *
 * Programs are taken from the directory raas-image itself is in (the build's bin/), apps
 * named with a '/' from that path. Exit codes are sysexits': 64 usage, 65 an input that
 * cannot go in an image (a library the loader cannot find), 66 no such image, 73 cannot
 * write the image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "common/error.h"
#include "nomvm/image.h"
#include "vm_config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: raas image build [--app NAME]... [--file SRC=/DST]... --out IMAGE\n"
		   "                        [--kernel VMLINUZ] [--force]\n"
		   "       raas image list [--dir DIR]\n"
		   "       raas image inspect IMAGE\n"
		   "       raas image drive CONFIG --out DRIVE [--check]\n");
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void self_dir(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(out, len, ".");
		return;
	}
	exe[n] = 0;
	snprintf(out, len, "%s", dirname(exe));
}

static int exit_code(int r)
{
	switch (-r) {
	case ENOENT: return EX_DATAERR;
	case EEXIST:
	case EACCES:
	case ENOSPC:
	case EROFS: return EX_CANTCREAT;
	case RAAS_EPARSE: return EX_DATAERR;
	default: return EX_SOFTWARE;
	}
}

static int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {{"app", required_argument, NULL, 'a'},
					     {"out", required_argument, NULL, 'o'},
					     {"kernel", required_argument, NULL, 'k'},
					     {"bin-dir", required_argument, NULL, 'b'},
					     {"force", no_argument, NULL, 'f'},
					     {"file", required_argument, NULL, 'F'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct vm_image_spec spec = {0};
	char bin[PATH_MAX];
	self_dir(bin, sizeof(bin));
	spec.bin_dir = bin;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (spec.napps == VM_IMAGE_MAX_APPS) {
				fprintf(stderr, "raas image build: at most %d apps\n", VM_IMAGE_MAX_APPS);
				return EX_USAGE;
			}
			spec.apps[spec.napps++] = optarg;
			break;
		case 'o': spec.out = optarg; break;
		case 'k': spec.kernel = optarg; break;
		case 'b': spec.bin_dir = optarg; break;
		case 'f': spec.force = true; break;
		case 'F':
			if (spec.nfiles == VM_IMAGE_MAX_APPS) {
				fprintf(stderr, "raas image build: at most %d files\n", VM_IMAGE_MAX_APPS);
				return EX_USAGE;
			}
			spec.files[spec.nfiles++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (!spec.out || optind != argc) {
		fprintf(stderr, "raas image build: %s\n",
			!spec.out ? "--out IMAGE is required" : "unexpected argument");
		usage(stderr);
		return EX_USAGE;
	}
	char why[1024];
	struct vm_image_result res;
	int64_t t0 = now_ns();
	int r = vm_image_build(&spec, &res, why, sizeof(why));
	if (r) {
		fprintf(stderr, "raas image build: %s\n", why);
		return exit_code(r);
	}
	printf("image %s: id %.16s, kernel %s, %zu files, initrd %.1f MiB + kernel %.1f MiB, "
	       "built in %.2f s\n",
	       spec.out, res.id, res.kernel_version, res.nfiles, res.initrd_bytes / 1048576.0,
	       res.kernel_bytes / 1048576.0, (now_ns() - t0) / 1e9);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *dir = getenv("RAAS_IMAGE_DIR") ? getenv("RAAS_IMAGE_DIR") : "images";
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EX_USAGE;
		}
	}
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "raas image list: %s: %s\n", dir, strerror(errno));
		return EX_NOINPUT;
	}
	printf("%-20s %-16s %-26s %9s  %s\n", "IMAGE", "ID", "KERNEL", "SIZE_MIB", "APPS");
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX], why[512];
		struct vm_image_info info;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		char man[PATH_MAX + 16];
		snprintf(man, sizeof(man), "%s/manifest", path);
		if (names[i]->d_name[0] == '.' || access(man, F_OK) != 0) {
			free(names[i]);
			continue;
		}
		if (vm_image_read(path, &info, why, sizeof(why)) != 0) {
			printf("%-20s %-16s %s\n", names[i]->d_name, "(damaged)", why);
			rc = EX_DATAERR;
		} else {
			printf("%-20s %-16.16s %-26s %9.1f  %s\n", names[i]->d_name, info.id,
			       info.kernel_version, (info.initrd_bytes + info.kernel_bytes) / 1048576.0,
			       info.apps[0] ? info.apps : "-");
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int cmd_inspect(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : EX_USAGE;
	}
	struct vm_image_info info;
	char why[1024];
	int r = vm_image_read(argv[1], &info, why, sizeof(why));
	if (r) {
		fprintf(stderr, "raas image inspect: %s\n", why);
		return r == -ENOENT ? EX_NOINPUT : EX_DATAERR;
	}
	printf("image    %s\nid       %s\nkernel   %s (%zu bytes)\ninitrd   %zu bytes, %zu files\n"
	       "apps     %s\npackages %zu:\n",
	       argv[1], info.id, info.kernel_version, info.kernel_bytes, info.initrd_bytes,
	       info.nfiles, info.apps[0] ? info.apps : "-", info.npackages);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/manifest", argv[1]);
	FILE *f = fopen(path, "r");
	char line[8192];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "package ", 8) == 0)
			printf("  %s", line + 8);
	printf("programs:\n");
	if (f)
		rewind(f);
	while (f && fgets(line, sizeof(line), f)) {
		char sha[65], p[4096];
		size_t size;
		unsigned mode;
		if (sscanf(line, "file %64s %zu %o %4095s", sha, &size, &mode, p) == 4 &&
		    (strncmp(p, "/bin/", 5) == 0 || strcmp(p, "/init") == 0))
			printf("  %-28s %9zu bytes  sha256 %.16s\n", p, size, sha);
	}
	if (f)
		fclose(f);
	return 0;
}

/* The config drive of one VM: the INI text, NUL-padded to whole 4 KiB blocks, 0600 (it holds
 * the tenant's secret key). Not checked here: the guest checks it at boot and says why on its
 * console (raas app logs), so a drive is never half-understood; --check checks it first. */
static int cmd_drive(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"check", no_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	bool check = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'c')
			check = true;
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EX_USAGE;
		}
	}
	if (!out || optind != argc - 1) {
		fprintf(stderr, "raas image drive: CONFIG and --out DRIVE are required\n");
		return EX_USAGE;
	}
	const char *in = argv[optind];
	FILE *f = fopen(in, "r");
	if (!f) {
		fprintf(stderr, "raas image drive: %s: %s\n", in, strerror(errno));
		return EX_NOINPUT;
	}
	char *text = calloc(1, VM_CONFIG_MAX_BYTES + 1);
	size_t len = text ? fread(text, 1, VM_CONFIG_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!text || len > VM_CONFIG_MAX_BYTES || memchr(text, 0, len)) {
		fprintf(stderr, "raas image drive: %s: %s\n", in,
			!text ? "out of memory" : "over 64 KiB or not text");
		free(text);
		return EX_DATAERR;
	}
	if (check) {
		struct vm_config vc;
		char why[768];
		if (vm_config_parse(in, text, &vc, why, sizeof(why)) != 0) {
			fprintf(stderr, "raas image drive: %s\n", why);
			free(text);
			return EX_DATAERR;
		}
	}
	size_t size = (len + 1 + 4095) / 4096 * 4096;
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || ftruncate(fd, (off_t)size) != 0) {
		fprintf(stderr, "raas image drive: %s: %s\n", out, strerror(errno));
		rc = EX_CANTCREAT;
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	/* raas execs us as "raas image ARGS" or "raas app ARGS". */
	if (argc >= 2 && strcmp(argv[1], "app") == 0) {
		char bin[PATH_MAX];
		self_dir(bin, sizeof(bin));
		return vm_app_main(argc - 1, argv + 1, bin);
	}
	if (argc >= 2 && strcmp(argv[1], "image") == 0) {
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 1, argv + 1);
	if (strcmp(cmd, "drive") == 0)
		return cmd_drive(argc - 1, argv + 1);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "raas image: unknown command '%s'\n", cmd);
	usage(stderr);
	return EX_USAGE;
}
