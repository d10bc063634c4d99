/* stats.c: nomnet's counters, in process memory or published in a shared-memory file.
 *
 * With a stats name the counters live in /dev/shm/nomnet.<name> (a versioned header, then
 * struct nomnet_stats), so `nomnet-ctl stats <name>` reads a running app's stack. The file is
 * created with a temporary name and renamed into place once its header is complete, so a
 * reader never sees a half-written header; it is removed when the stack is destroyed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "stack.h"

static int name_ok(const char *name)
{
	if (!name[0] || strlen(name) > 48)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

int nomnet__stats_open(struct nomnet *n)
{
	char tmp[128];
	struct timespec ts;
	struct nomnet_stats_shm *shm;
	int fd, rc;

	n->stats = &n->local;
	if (!n->cfg.stats_name)
		return 0;
	if (!name_ok(n->cfg.stats_name)) {
		log_error("nomnet: stats name \"%s\": use 1-48 of [A-Za-z0-9._-]",
			  n->cfg.stats_name);
		return -EINVAL;
	}
	snprintf(n->shm_path, sizeof(n->shm_path), "/dev/shm/nomnet.%s", n->cfg.stats_name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", n->shm_path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		log_error("nomnet: %s: %s", tmp, strerror(errno));
		n->shm_path[0] = '\0';
		return rc;
	}
	if (ftruncate(fd, sizeof(*shm)) < 0) {
		rc = -errno;
		goto fail;
	}
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	close(fd);
	memset(shm, 0, sizeof(*shm));
	shm->magic = NOMNET_STATS_MAGIC;
	shm->version = NOMNET_STATS_VERSION;
	shm->size = sizeof(*shm);
	shm->pid = (uint32_t)getpid();
	snprintf(shm->driver, sizeof(shm->driver), "%s", n->drv.ops ? n->drv.ops->name : "");
	snprintf(shm->ifname, sizeof(shm->ifname), "%s", n->drv.ifname);
	clock_gettime(CLOCK_REALTIME, &ts);
	shm->started_wall_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (rename(tmp, n->shm_path) < 0) {
		rc = -errno;
		munmap(shm, sizeof(*shm));
		unlink(tmp);
		n->shm_path[0] = '\0';
		return rc;
	}
	n->shm = shm;
	n->stats = &shm->stats;
	return 0;
fail:
	log_error("nomnet: %s: %s", tmp, strerror(-rc));
	close(fd);
	unlink(tmp);
	n->shm_path[0] = '\0';
	return rc;
}

void nomnet__stats_close(struct nomnet *n)
{
	n->stats = &n->local;
	if (n->shm) {
		munmap(n->shm, sizeof(*n->shm));
		n->shm = NULL;
	}
	if (n->shm_path[0]) {
		unlink(n->shm_path);
		n->shm_path[0] = '\0';
	}
}

void nomnet_stats_read(const struct nomnet *n, struct nomnet_stats *out)
{
	const uint64_t *src = (const uint64_t *)n->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
