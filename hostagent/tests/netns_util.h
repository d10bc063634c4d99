/* netns_util.h: a private network namespace for a test process (root only). Header-only.
 * netns_enter() creates /var/run/netns/hostagent-<pid>-<tag>, moves the calling process
 * into it and registers its removal at exit. */
#ifndef HOSTAGENT_TESTS_NETNS_UTIL_H
#define HOSTAGENT_TESTS_NETNS_UTIL_H

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static char netns_name[64];

static inline void netns_remove(void)
{
	char cmd[128];
	if (!netns_name[0])
		return;
	snprintf(cmd, sizeof(cmd), "ip netns delete %s 2>/dev/null", netns_name);
	if (system(cmd) != 0)
		fprintf(stderr, "could not delete netns %s\n", netns_name);
	netns_name[0] = '\0';
}

static inline void netns_enter(const char *tag)
{
	char cmd[160], path[128];
	if (geteuid() != 0)
		TEST_SKIP("needs root for a network namespace");
	snprintf(netns_name, sizeof(netns_name), "hostagent-%d-%s", (int)getpid(), tag);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", netns_name);
	if (system(cmd) != 0)
		TEST_MISSING("cannot create a network namespace (ip netns add failed)");
	atexit(netns_remove);
	snprintf(path, sizeof(path), "/var/run/netns/%s", netns_name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
		TEST_FAIL("cannot enter %s", path);
	close(fd);
	if (system("ip link set lo up") != 0)
		TEST_FAIL("ip link set lo up failed");
}

#endif
