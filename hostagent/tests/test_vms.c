/* test_vms.c: the [tenant.NAME] vm_* keys (a VM the agent boots) and the domain XML made of
 * them: values, defaults, each mistake refused with file, line and key, the XML escaped; and
 * the lifecycle against libvirt's test driver (test:///default, shared by the connections of
 * a process): define and start, a domain destroyed behind the agent's back reported down and
 * undefined, a missing image reported, a reload restarting one and stopping another, a
 * running domain adopted, everything undefined at the end. With QEMU and the market:
 * tests/vm/test_vm_agent.sh. */
#include <libvirt/libvirt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "hostagent/agent_config.h"
#include "hostagent/vms.h"
#include "test.h"

static const char *head = "[agent]\nhost = h1\n[backends]\nbandwidth = tc\n";

static struct ha_config *load(const char *tenants, struct cfg_error *err, int *ret)
{
	char text[4096];
	struct ha_config *c = NULL;
	snprintf(text, sizeof(text), "%s%s", head, tenants);
	*ret = ha_config_load_string("agent.ini", text, &c, err);
	return c;
}

static void expect_error(const char *tenants, const char *where)
{
	struct cfg_error err;
	char buf[1024];
	int ret;
	struct ha_config *c = load(tenants, &err, &ret);
	if (ret == 0) {
		ha_config_destroy(c);
		TEST_FAIL("accepted a config that should fail at %s", where);
	}
	cfg_error_format(&err, buf, sizeof(buf));
	ASSERT_STR_CONTAINS(buf, where);
}

/* What the state callback heard, in order. */
static char heard[2048];

static void on_state(void *arg, const char *tenant, const char *domain, bool up, const char *why)
{
	size_t n = strlen(heard);
	(void)arg;
	(void)domain;
	snprintf(heard + n, sizeof(heard) - n, "%s %s%s%s;", tenant, up ? "up" : "down",
		 up ? "" : ": ", up ? "" : why);
}

static int domain_state(virConnectPtr c, const char *name)
{
	virDomainPtr d = virDomainLookupByName(c, name);
	int st = -1, r;
	if (d) {
		if (virDomainGetState(d, &st, &r, 0) < 0)
			st = -2;
		virDomainFree(d);
	}
	return st;
}

static void test_lifecycle(void)
{
	char dir[] = "/tmp/test_vms.XXXXXX", text[4096], path[512], why[256];
	struct cfg_error err;
	int ret;
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	const char *files[] = {"img/vmlinuz", "img/initrd.img", "a.drive", "b.drive"};
	snprintf(path, sizeof(path), "%s/img", dir);
	ASSERT_OK(mkdir(path, 0755));
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		FILE *f = fopen(path, "w");
		ASSERT_TRUE(f != NULL);
		fclose(f);
	}
	const char *vm = "vm_image = %s/img\nvm_drive = %s/%s.drive\nvm_bridge = br0\n"
			 "vm_console = %s/%s.console\nvm_type = qemu\n";
	char va[600], vb[600];
	snprintf(va, sizeof(va), vm, dir, dir, "a", dir, "a");
	snprintf(vb, sizeof(vb), vm, dir, dir, "b", dir, "b");
	snprintf(text, sizeof(text),
		 "[tenant.alice]\ninterface = br0\nclass = 1\nsrc = 10.0.0.1\ndomain = tv-a\n%s"
		 "[tenant.bob]\ninterface = br0\nclass = 2\nsrc = 10.0.0.2\ndomain = tv-b\n%s",
		 va, vb);
	struct ha_config *c = load(text, &err, &ret);
	ASSERT_OK(ret);
	virConnectPtr own = virConnectOpen("test:///default");
	ASSERT_TRUE(own != NULL);
	struct ha_vms *v;
	ASSERT_OK(ha_vms_create("test:///default", on_state, NULL, &v, why, sizeof(why)));
	ha_vms_sync(v, c);
	ASSERT_STR_EQ(heard, "alice up;bob up;");
	ASSERT_EQ(domain_state(own, "tv-a"), VIR_DOMAIN_RUNNING);
	ASSERT_EQ(domain_state(own, "tv-b"), VIR_DOMAIN_RUNNING);
	ASSERT_TRUE(ha_vms_running(v, "alice"));
	snprintf(path, sizeof(path), "%s/a.console", dir);
	ASSERT_OK(access(path, W_OK)); /* made, empty, for this boot */

	/* Destroyed behind the agent's back: reported, undefined. */
	heard[0] = '\0';
	virDomainPtr d = virDomainLookupByName(own, "tv-a");
	ASSERT_OK(virDomainDestroy(d));
	virDomainFree(d);
	ha_vms_poll(v);
	ASSERT_STR_EQ(heard, "alice down: it was destroyed;");
	ASSERT_EQ(domain_state(own, "tv-a"), -1);
	ASSERT_TRUE(!ha_vms_running(v, "alice"));
	heard[0] = '\0';
	ha_vms_poll(v); /* said once */
	ASSERT_STR_EQ(heard, "");

	/* A reload without bob: alice's VM boots again, bob's is stopped and undefined. */
	struct ha_config *c2;
	char only_a[2048];
	snprintf(only_a, sizeof(only_a),
		 "[tenant.alice]\ninterface = br0\nclass = 1\nsrc = 10.0.0.1\ndomain = tv-a\n%s", va);
	c2 = load(only_a, &err, &ret);
	ASSERT_OK(ret);
	ha_vms_sync(v, c2);
	ASSERT_STR_EQ(heard, "alice up;");
	ASSERT_EQ(domain_state(own, "tv-a"), VIR_DOMAIN_RUNNING);
	ASSERT_EQ(domain_state(own, "tv-b"), -1);

	/* A second agent (a restart) adopts the running domain: not restarted. */
	d = virDomainLookupByName(own, "tv-a");
	unsigned int id = virDomainGetID(d);
	virDomainFree(d);
	struct ha_vms *v2;
	heard[0] = '\0';
	ASSERT_OK(ha_vms_create("test:///default", on_state, NULL, &v2, why, sizeof(why)));
	ha_vms_sync(v2, c2);
	ASSERT_STR_EQ(heard, "alice up;");
	d = virDomainLookupByName(own, "tv-a");
	ASSERT_EQ(virDomainGetID(d), id);
	virDomainFree(d);
	ha_vms_destroy(v2, false); /* leaves it running */
	ASSERT_EQ(domain_state(own, "tv-a"), VIR_DOMAIN_RUNNING);

	/* An image without its kernel: reported with the file named, nothing defined. */
	snprintf(path, sizeof(path), "%s/img/vmlinuz", dir);
	ASSERT_OK(unlink(path));
	char with_c[3000];
	char vc[600];
	snprintf(vc, sizeof(vc), vm, dir, dir, "b", dir, "c");
	snprintf(with_c, sizeof(with_c), "%s[tenant.carol]\ninterface = br0\nclass = 3\n"
		 "src = 10.0.0.3\ndomain = tv-c\n%s", only_a, vc);
	struct ha_config *c3 = load(with_c, &err, &ret);
	ASSERT_OK(ret);
	heard[0] = '\0';
	ha_vms_sync(v, c3);
	ASSERT_STR_CONTAINS(heard, "alice up;carol down: vm_image ");
	ASSERT_STR_CONTAINS(heard, "/img: no vmlinuz");
	ASSERT_EQ(domain_state(own, "tv-c"), -1);

	/* The agent stops: its VMs are stopped and undefined. */
	ha_vms_destroy(v, true);
	ASSERT_EQ(domain_state(own, "tv-a"), -1);
	virConnectClose(own);
	ha_config_destroy(c);
	ha_config_destroy(c2);
	ha_config_destroy(c3);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ASSERT_OK(system(path));
	printf("test_vms: lifecycle on test:///default: 2 started, 1 destroyed and reported, 1 "
	       "restarted, 1 stopped by a reload, 1 adopted, 1 refused\n");
}

int main(void)
{
	log_init("test_vms", getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_ERROR, false);
	struct cfg_error err;
	char buf[1024];
	int ret;
	struct ha_config *c = load(
		"[tenant.alice]\ninterface = br0\nclass = 0x10\nsrc = 10.0.0.21\n"
		"domain = nom-alice\nvm_image = /srv/img\nvm_drive = /srv/a.drive\n"
		"vm_bridge = br0\nvm_console = /var/log/a.console\nvm_vcpus = 3\n"
		"vm_memory_mib = 320\nvm_type = qemu\n"
		"[tenant.bob]\ninterface = br0\nclass = 0x20\nsrc = 10.0.0.22\n"
		"[tenant.carol]\ninterface = br0\nclass = 0x30\nsrc = 10.0.0.23\n"
		"vm_image = /srv/img\nvm_drive = /srv/c'<&.drive\nvm_bridge = br0\n"
		"vm_tap = tapc\nvm_console = /var/log/c.console\n",
		&err, &ret);
	if (ret)
		TEST_FAIL("%s", cfg_error_format(&err, buf, sizeof(buf)));
	ASSERT_EQ(c->ntargets, 3);
	ASSERT_EQ(c->nvms, 2); /* bob has no VM of the agent's */
	const struct ha_vm *a = &c->vms[0], *cv = &c->vms[1];
	ASSERT_STR_EQ(a->tenant, "alice");
	ASSERT_STR_EQ(a->domain, "nom-alice");
	ASSERT_STR_EQ(a->tap, "rv-nom-alice"); /* the default: rv- and the domain, 15 at most */
	ASSERT_EQ(a->vcpus, 3);
	ASSERT_EQ(a->memory_mib, 320);
	ASSERT_STR_EQ(cv->domain, "carol");
	ASSERT_STR_EQ(cv->tap, "tapc");
	ASSERT_EQ(cv->vcpus, 2);
	ASSERT_EQ(cv->memory_mib, 256);
	ASSERT_STR_EQ(cv->type, "auto");

	char *xml = ha_vm_xml(a);
	ASSERT_TRUE(xml != NULL);
	ASSERT_STR_CONTAINS(xml, "<domain type='qemu'>");
	ASSERT_STR_CONTAINS(xml, "<name>nom-alice</name>");
	ASSERT_STR_CONTAINS(xml, "<memory unit='MiB'>320</memory><currentMemory unit='MiB'>320<");
	ASSERT_STR_CONTAINS(xml, "<vcpu placement='static' current='1'>3</vcpu>");
	ASSERT_STR_CONTAINS(xml, "<kernel>/srv/img/vmlinuz</kernel><initrd>/srv/img/initrd.img<");
	ASSERT_STR_CONTAINS(xml, "<source file='/srv/a.drive'/><target dev='vda' bus='virtio'/>"
				 "<readonly/>");
	ASSERT_STR_CONTAINS(xml, "<source bridge='br0'/><target dev='rv-nom-alice'/>");
	ASSERT_STR_CONTAINS(xml, "<source path='/var/log/a.console'/>");
	ASSERT_STR_CONTAINS(xml, "<memballoon model='virtio'/>");
	ASSERT_STR_CONTAINS(xml, "<on_crash>destroy</on_crash>");
	free(xml);
	xml = ha_vm_xml(cv);
	ASSERT_STR_CONTAINS(xml, "<source file='/srv/c&apos;&lt;&amp;.drive'/>");
	free(xml);
	ha_config_destroy(c);

	const char *t = "[tenant.a]\ninterface = br0\nclass = 1\n";
	char text[1024];
	snprintf(text, sizeof(text), "%svm_drive = /d\n", t);
	expect_error(text, "agent.ini:8: tenant.a.vm_drive: vm_drive without vm_image");
	snprintf(text, sizeof(text), "%svm_image = /i\nvm_bridge = b\nvm_console = /c\n", t);
	expect_error(text, "tenant.a.vm_drive: a VM needs vm_image, vm_drive, vm_bridge and "
			   "vm_console");
	snprintf(text, sizeof(text), "%svm_image = img\nvm_drive = /d\nvm_bridge = b\n"
				     "vm_console = /c\n", t);
	expect_error(text, "tenant.a.vm_image: must be an absolute path");
	snprintf(text, sizeof(text), "%svm_image = /i\nvm_drive = /d\nvm_bridge = b\n"
				     "vm_console = /c\nvm_type = xen\n", t);
	expect_error(text, "agent.ini:12: tenant.a.vm_type: \"xen\" is not auto, kvm or qemu");
	snprintf(text, sizeof(text), "%svm_image = /i\nvm_drive = /d\nvm_bridge = b\n"
				     "vm_console = /c\nvm_vcpus = 0\n", t);
	expect_error(text, "tenant.a.vm_vcpus: 0 is not 1..64");
	snprintf(text, sizeof(text), "%svm_image = /i\nvm_drive = /d\nvm_bridge = b\n"
				     "vm_console = /c\nvm_memory_mib = 10\n", t);
	expect_error(text, "tenant.a.vm_memory_mib: 10 MiB is not 64..1048576");
	snprintf(text, sizeof(text), "%svm_image = /i\nvm_drive = /d\nvm_bridge = b\n"
				     "vm_console = /c\nvm_tap = vnet3\n", t);
	expect_error(text, "tenant.a.vm_tap: \"vnet3\" is not 1..15 characters, or starts with "
			   "vnet");
	snprintf(text, sizeof(text), "%svm_imag = /i\n", t);
	expect_error(text, "tenant.a.vm_imag: unknown key");
	printf("test_vms: 2 VMs parsed, their XML checked, 8 mistakes refused\n");
	test_lifecycle();
	return 0;
}
