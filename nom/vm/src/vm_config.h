/* vm_config.h: the config drive of a nom VM: what one instance is told at boot.
 *
 * INI text on the VM's first virtio disk, NUL-padded (raas image drive writes it):
 *   [vm]      name, tenant, address (CIDR on eth0), gateway, host, market, prices,
 *             market_key (z85), tenant_public and tenant_secret (z85), subscribe
 *   [app.N]   run = the app's command line (split at blanks; a bare name is /bin/NAME),
 *             continued in run2, run3, run4 (libinih takes at most 198 characters a line)
 * Every key is checked against the schema (a typo is "config-drive:LINE: vm.KEY: unknown
 * key"), the keys are checked to be CURVE keys. The guest (vminit.c) and the host's tools
 * parse it with this one function. */
#ifndef NOMVM_VM_CONFIG_H
#define NOMVM_VM_CONFIG_H
#include <stddef.h>

#define VM_CONFIG_MAX_BYTES 65536
#define VM_MAX_APPS 8
#define VM_APP_MAX_ARGS 64

struct vm_config {
	char name[64], tenant[64], address[64], gateway[64], host[64];
	char market[256], prices[256], subscribe[256];
	char market_key[41], tenant_public[41], tenant_secret[41];
	struct {
		char name[64];
		char run[1024];
	} apps[VM_MAX_APPS];
	int napps;
};

/* Parses text (name stands for the file in errors). Returns 0, or -RAAS_ECONFIG with why
 * "NAME:LINE: SECTION.KEY: message". */
int vm_config_parse(const char *name, const char *text, struct vm_config *out, char *why,
		    size_t why_len);
#endif
