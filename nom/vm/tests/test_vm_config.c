/* test_vm_config.c: the config drive's parser: a good drive, and each kind of bad one named
 * at its line and key (what nom-vm-init prints on the console before powering off). */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/transport.h"
#include "test.h"
#include "vm_config.h"

static struct tp_keypair tenant, other, market;

static void drive(char *buf, size_t len, const char *secret, const char *extra)
{
	snprintf(buf, len,
		 "[vm]\nname = a\ntenant = alice\naddress = 10.1.2.11/24\ngateway = 10.1.2.1\n"
		 "market = tcp://10.1.2.1:7101\nprices = tcp://10.1.2.1:7102\n"
		 "market_key = %s\ntenant_public = %s\ntenant_secret = %s\n%s",
		 market.public_key, tenant.public_key, secret, extra);
}

static void expect_error(const char *text, const char *want)
{
	struct vm_config vc;
	char why[768];
	ASSERT_EQ(vm_config_parse("config-drive", text, &vc, why, sizeof(why)), -RAAS_ECONFIG);
	printf("  %s\n", why);
	ASSERT_STR_CONTAINS(why, want);
}

int main(void)
{
	ASSERT_OK(tp_keypair_generate(&tenant));
	ASSERT_OK(tp_keypair_generate(&other));
	ASSERT_OK(tp_keypair_generate(&market));
	char text[4096];
	struct vm_config vc;
	char why[768];

	drive(text, sizeof(text), tenant.secret_key,
	      "[app.web]\nrun = nhttpd --root /srv/www\nrun2 = --port 8080\n[app.mc]\nrun = nom-memcached\n");
	ASSERT_OK(vm_config_parse("config-drive", text, &vc, why, sizeof(why)));
	ASSERT_STR_EQ(vc.name, "a");
	ASSERT_STR_EQ(vc.address, "10.1.2.11/24");
	ASSERT_STR_EQ(vc.tenant_secret, tenant.secret_key);
	ASSERT_STR_EQ(vc.market_key, market.public_key);
	ASSERT_STR_EQ(vc.subscribe, "");
	ASSERT_EQ(vc.napps, 2);
	ASSERT_STR_EQ(vc.apps[0].name, "web");
	ASSERT_STR_EQ(vc.apps[0].run, "nhttpd --root /srv/www --port 8080");
	ASSERT_STR_EQ(vc.apps[1].name, "mc");
	ASSERT_STR_EQ(vc.apps[1].run, "nom-memcached");

	printf("bad drives:\n");
	drive(text, sizeof(text), tenant.secret_key, "tenant_secrt = x\n");
	expect_error(text, "config-drive:11: vm.tenant_secrt: unknown key");
	drive(text, sizeof(text), "not-a-key", "");
	expect_error(text, "config-drive:10: vm.tenant_secret: not a CURVE key");
	drive(text, sizeof(text), other.secret_key, ""); /* a secret of another pair */
	expect_error(text, "config-drive:10: vm.tenant_secret:");
	snprintf(text, sizeof(text), "[vm]\nname = a\n");
	expect_error(text, "vm.tenant");
	drive(text, sizeof(text), tenant.secret_key, "");
	char *addr = strstr(text, "10.1.2.11/24");
	memcpy(addr + 9, "   ", 3); /* no prefix length */
	expect_error(text, "config-drive:4: vm.address: '10.1.2.11' is not CIDR");
	drive(text, sizeof(text), tenant.secret_key, "[app.x]\nrun2 = --only-more\n");
	expect_error(text, "app.x.run");
	printf("ok: 1 good drive, 6 bad ones named at their line and key\n");
	return 0;
}
