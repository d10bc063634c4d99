/* test_hostagent_vm.c: the libvirt backend against qemu:///system with a real VM.
 *
 * A small direct-kernel-boot domain (the Debian cloud kernel, a busybox initramfs that loads
 * the virtio balloon driver and onlines hot-plugged CPUs; TCG, no KVM) is started; the agent
 * core with the libvirt backend for cores and memory then enforces allocations and the test
 * reads them back through libvirt: live vCPUs 1 -> 2 (hot-plug) and the balloon 256 -> 160
 * -> 224 MiB; then vCPUs 2 -> 1, which either applies or, where the guest does not finish
 * the eject (this TCG guest), is reported to the market with the previous allocation kept. libvirtd and virtlogd are started (-d) when not running, and stopped again if
 * the test started them. Exits 77 with the reason only when not root; as root a missing
 * kernel image, busybox or package (scripts/install-deps) and a daemon that cannot start are
 * failures. */
#include <errno.h>
#include <glob.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "hostagent/agent.h"
#include "hostnet.h"
#include "test.h"

static char dir[128], name[64];
static bool started_libvirtd, started_virtlogd;
static virConnectPtr conn;

static void cleanup(void)
{
	if (conn) {
		virDomainPtr d = virDomainLookupByName(conn, name);
		if (d) {
			virDomainDestroy(d);
			virDomainFree(d);
		}
		virConnectClose(conn);
		conn = NULL;
	}
	if (started_libvirtd)
		hn_sh("kill $(cat /run/libvirtd.pid) 2>/dev/null");
	if (started_virtlogd)
		hn_sh("kill $(cat /run/virtlogd.pid) 2>/dev/null");
	if (dir[0] && !getenv("HOSTAGENT_KEEP"))
		hn_sh("rm -rf %s", dir);
}

static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static const char *find_kernel(void)
{
	static char path[512];
	glob_t g;
	if (glob("/boot/vmlinuz-*cloud*", 0, NULL, &g) != 0 || g.gl_pathc == 0)
		return NULL;
	snprintf(path, sizeof(path), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return path;
}

static void build_initramfs(const char *kernel)
{
	const char *ver = strstr(kernel, "vmlinuz-") + strlen("vmlinuz-");
	static const char *const mods[] = {"virtio_ring", "virtio", "virtio_pci_legacy_dev",
					   "virtio_pci_modern_dev", "virtio_pci", "virtio_balloon"};
	ASSERT_OK(hn_sh("mkdir -p %s/root/bin %s/root/lib %s/root/proc %s/root/sys %s/root/dev && "
			"cp /bin/busybox %s/root/bin/busybox", dir, dir, dir, dir, dir, dir));
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (hn_sh("f=$(find /lib/modules/%s -name '%s.ko*' | head -1); [ -n \"$f\" ] && "
			  "case $f in *.xz) xz -dc $f > %s/root/lib/%s.ko;; *.zst) zstd -qdc $f > "
			  "%s/root/lib/%s.ko;; *) cp $f %s/root/lib/%s.ko;; esac",
			  ver, mods[i], dir, mods[i], dir, mods[i], dir, mods[i]) != 0)
			TEST_MISSING("kernel module %s for %s not found", mods[i], ver);
	}
	char init[256];
	snprintf(init, sizeof(init), "%s/root/init", dir);
	FILE *f = fopen(init, "w");
	ASSERT_TRUE(f != NULL);
	fprintf(f, "#!/bin/busybox sh\n"
		   "/bin/busybox --install -s /bin\n"
		   "mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev\n"
		   "mkdir -p /run\n"
		   "for m in");
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		fprintf(f, " %s", mods[i]);
	fprintf(f, "; do insmod /lib/$m.ko; done\n"
		   "echo hostagent-vm-ready\n"
		   /* Online each hot-plugged CPU once (never again while the host unplugs it). */
		   "mkdir -p /run/on\n"
		   "while true; do\n"
		   "  for d in /sys/devices/system/cpu/cpu[1-9]*; do\n"
		   "    [ -d $d ] || continue; n=${d##*/}\n"
		   "    [ -e /run/on/$n ] || { echo 1 > $d/online; touch /run/on/$n; }\n"
		   "  done\n"
		   "  for m in /run/on/*; do\n"
		   "    [ -e \"$m\" ] && [ ! -d /sys/devices/system/cpu/${m##*/} ] && rm -f $m\n"
		   "  done\n"
		   "  sleep 1\n"
		   "done\n");
	fclose(f);
	chmod(init, 0755);
	ASSERT_OK(hn_sh("cd %s/root && find . | cpio -o -H newc --quiet | gzip > %s/initrd.gz && "
			"cp %s %s/vmlinuz && chmod 0644 %s/vmlinuz %s/initrd.gz && chmod 0755 %s",
			dir, dir, kernel, dir, dir, dir, dir));
}

static void start_domain(void)
{
	char xml[4096];
	snprintf(xml, sizeof(xml),
		 "<domain type='qemu'><name>%s</name>"
		 "<memory unit='MiB'>256</memory><currentMemory unit='MiB'>256</currentMemory>"
		 "<vcpu placement='static' current='1'>2</vcpu>"
		 "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s/vmlinuz</kernel>"
		 "<initrd>%s/initrd.gz</initrd><cmdline>console=ttyS0 panic=-1 loglevel=6</cmdline></os>"
		 "<features><acpi/></features><on_poweroff>destroy</on_poweroff>"
		 "<on_crash>destroy</on_crash><devices>"
		 "<serial type='file'><source path='%s/console.log'/><target port='0'/></serial>"
		 "<memballoon model='virtio'/></devices></domain>",
		 name, dir, dir, dir);
	virDomainPtr d = virDomainCreateXML(conn, xml, 0);
	if (!d) {
		virErrorPtr e = virGetLastError();
		TEST_FAIL("cannot start the domain: %s", e && e->message ? e->message : "?");
	}
	virDomainFree(d);
	int64_t end = hn_now_ms() + 90000;
	while (hn_sh("grep -q hostagent-vm-ready %s/console.log 2>/dev/null", dir) != 0) {
		if (hn_now_ms() > end) {
			hn_sh("tail -20 %s/console.log >&2", dir);
			TEST_FAIL("the VM did not boot within 90 s");
		}
		usleep(200000);
	}
}

/* Applies a round; returns the ack (the caller frees it with wire_free). */
static Raas__Envelope *apply_ack(struct ha_agent *a, uint64_t round, int64_t cores, int64_t mem)
{
	Raas__Envelope e;
	Raas__AllocationSet set = RAAS__ALLOCATION_SET__INIT;
	Raas__Allocation al[2], *ap[2];
	for (int i = 0; i < 2; i++) {
		raas__allocation__init(&al[i]);
		al[i].tenant = (char *)"vm1";
		al[i].host = (char *)"h";
		ap[i] = &al[i];
	}
	al[0].resource = RAAS__RESOURCE__RESOURCE_CORES;
	al[0].quantity = cores;
	al[1].resource = RAAS__RESOURCE__RESOURCE_MEMORY;
	al[1].quantity = mem;
	set.round = round;
	set.host = (char *)"h";
	set.n_allocations = 2;
	set.allocations = ap;
	wire_envelope_init(&e, 0);
	e.body_case = RAAS__ENVELOPE__BODY_ALLOCATION_SET;
	e.allocation_set = &set;
	enum ha_msg_kind kind;
	uint8_t *reply;
	size_t len;
	ASSERT_OK(ha_agent_handle(a, &e, 1, &kind, NULL, &reply, &len));
	Raas__Envelope *ack;
	char why[256];
	ASSERT_OK(wire_decode(reply, len, WIRE_MAX_BYTES, &ack, why, sizeof(why)));
	free(reply);
	return ack;
}

static void apply(struct ha_agent *a, uint64_t round, int64_t cores, int64_t mem)
{
	Raas__Envelope *ack = apply_ack(a, round, cores, mem);
	if (!ack->allocation_ack->complete)
		TEST_FAIL("round %llu: %s", (unsigned long long)round,
			  ack->allocation_ack->failures[0]->message);
	wire_free(ack);
}

/* Waits until libvirt reports the live vCPUs and balloon the allocation asks for. */
static void expect(int64_t cores, int64_t mem)
{
	virDomainPtr d = virDomainLookupByName(conn, name);
	ASSERT_TRUE(d != NULL);
	int64_t end = hn_now_ms() + 30000;
	int n = -1;
	virDomainInfo info = {0};
	while (hn_now_ms() < end) {
		n = virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_LIVE);
		if (virDomainGetInfo(d, &info) == 0 && n == cores &&
		    info.memory == (unsigned long)mem * 1024)
			break;
		usleep(200000);
	}
	virDomainFree(d);
	printf("vCPUs %d (allocated %lld), balloon %lu KiB (allocated %lld MiB)\n", n,
	       (long long)cores, info.memory, (long long)mem);
	ASSERT_EQ(n, cores);
	ASSERT_EQ(info.memory, mem * 1024);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	log_init("test_hostagent_vm", LOG_WARN, false);
	if (geteuid() != 0)
		TEST_SKIP("needs root (qemu:///system)");
	const char *kernel = find_kernel();
	if (!kernel)
		TEST_MISSING("no /boot/vmlinuz-*cloud* (linux-image-cloud-amd64)");
	if (access("/bin/busybox", X_OK) != 0)
		TEST_MISSING("no /bin/busybox (busybox-static)");
	if (hn_sh("command -v cpio >/dev/null && command -v libvirtd >/dev/null") != 0)
		TEST_MISSING("cpio or libvirtd missing (scripts/install-deps)");
	snprintf(dir, sizeof(dir), "/tmp/hostagent-%d-vm", (int)getpid());
	snprintf(name, sizeof(name), "hostagent-%d-vm", (int)getpid());
	atexit(cleanup);
	hn_sh("rm -rf %s && mkdir -p %s", dir, dir);
	virSetErrorFunc(NULL, quiet);
	/* QEMU's console goes through virtlogd, which may be absent even where libvirtd answers
	 * (a package install starts libvirtd only; a killed virtlogd leaves its socket file). */
	if (hn_sh("pgrep -x virtlogd >/dev/null") != 0) {
		if (hn_sh("rm -f /run/libvirt/virtlogd-sock /run/libvirt/virtlogd-admin-sock && "
			  "virtlogd -d") != 0)
			TEST_FAIL("virtlogd -d failed");
		started_virtlogd = true;
	}
	conn = virConnectOpen("qemu:///system");
	if (!conn) {
		/* No daemon answering: start ours (and stop it at exit). */
		if (hn_sh("libvirtd -d") != 0)
			TEST_FAIL("libvirtd -d failed");
		started_libvirtd = true;
	}
	for (int64_t end = hn_now_ms() + 15000; !conn && !(conn = virConnectOpen("qemu:///system"));) {
		if (hn_now_ms() > end)
			TEST_FAIL("cannot connect to qemu:///system within 15 s");
		usleep(200000);
	}
	build_initramfs(kernel);
	start_domain();

	char text[1024];
	snprintf(text, sizeof(text),
		 "[agent]\nhost = h\n[capacity]\ncores = 2\nmemory_mib = 256\n"
		 "[backends]\ncores = libvirt\nmemory = libvirt\n[libvirt]\nuri = qemu:///system\n"
		 "memory_floor_mib = 96\n[tenant.vm1]\ndomain = %s\n",
		 name);
	struct ha_config *c;
	struct cfg_error err;
	char why[256];
	if (ha_config_load_string("vm.ini", text, &c, &err))
		TEST_FAIL("%s", cfg_error_format(&err, why, sizeof(why)));
	struct ha_agent *a;
	ASSERT_OK(ha_agent_create(c, &clk_real, &a, why, sizeof(why)));
	/* What the agent read back at start: the domain as defined. */
	struct enf_setting s;
	ASSERT_OK(ha_agent_enforced(a, 0, ENF_CORES, &s));
	ASSERT_EQ(s.quantity, 1);
	ASSERT_OK(ha_agent_enforced(a, 0, ENF_MEMORY, &s));
	ASSERT_EQ(s.quantity, 256);

	apply(a, 1, 2, 160);
	expect(2, 160);
	apply(a, 2, 2, 224);
	expect(2, 224);
	/* Removing a vCPU needs the guest to eject it. This TCG guest offlines the CPU but does
	 * not finish the ACPI eject within libvirt's wait: then the market must be told and the
	 * previous allocation stay in force; where the guest cooperates, it simply applies. */
	Raas__Envelope *ack = apply_ack(a, 3, 1, 224);
	if (ack->allocation_ack->complete) {
		printf("vCPU unplug completed\n");
		expect(1, 224);
	} else {
		Raas__ApplyFailure *f = ack->allocation_ack->failures[0];
		printf("vCPU unplug refused, market told: %s\n", f->message);
		ASSERT_EQ(ack->allocation_ack->n_failures, 1);
		ASSERT_EQ(f->resource, RAAS__RESOURCE__RESOURCE_CORES);
		ASSERT_STR_EQ(f->tenant, "vm1");
		ASSERT_STR_CONTAINS(f->message, name);
		ASSERT_OK(ha_agent_enforced(a, 0, ENF_CORES, &s));
		ASSERT_EQ(s.quantity, 2); /* the previous allocation stays */
		ASSERT_OK(ha_agent_enforced(a, 0, ENF_MEMORY, &s));
		ASSERT_EQ(s.quantity, 224);
	}
	wire_free(ack);
	ha_agent_destroy(a);
	ha_config_destroy(c);
	return 0;
}
