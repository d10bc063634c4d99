/* test_vms.c: the [tenant.NAME] vm_* keys (a VM the agent boots) and the domain XML made of
 * them: values, defaults, each mistake refused with file, line and key, the XML escaped. The
 * lifecycle itself (define, start, notice a stop, undefine) needs libvirtd and QEMU:
 * tests/vm/test_vm_agent.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
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
	return 0;
}
