/* vms.h: the tenants' nom VMs that raas-hostagentd boots and watches through libvirt.
 *
 * Why here: a VM is what the host delivers a tenant's holdings to; the agent that enforces
 * them is the one that knows when it stops. A [tenant.NAME] with vm_image is such a VM: the
 * agent defines it (persistent domain `domain`: direct kernel boot of the image, the config
 * drive as virtio disk vda, a virtio NIC on tap vm_tap of vm_bridge, the serial console to
 * vm_console, a balloon; 1 live vCPU of vm_vcpus, vm_memory_mib), starts it, and polls its
 * state. A VM that stops (destroyed, crashed, powered off from inside, undefined behind its
 * back) or cannot start is reported down with why, and its domain undefined: the daemon then
 * tells the market (ha_agent_tenant_down, a new registration) so its allocation is released
 * and never charged. The domain type is kvm where /dev/kvm is usable (vm_type = auto), qemu
 * (TCG) otherwise; the XML is otherwise the same. */
#ifndef HOSTAGENT_VMS_H
#define HOSTAGENT_VMS_H

#include <stdbool.h>
#include <stddef.h>

#include "hostagent/agent_config.h"

struct ha_vms;

/* Called for every VM whose state is learnt or changes: up (running), or down with why. */
typedef void (*ha_vm_state_fn)(void *arg, const char *tenant, const char *domain, bool up,
			       const char *why);

/* Connects to uri (the [libvirt] uri). 0, or a negative errno with why. */
int ha_vms_create(const char *uri, ha_vm_state_fn fn, void *arg, struct ha_vms **out,
		  char *why, size_t why_len);
/* Brings the VMs to conf's: stops and undefines those no longer in it (or whose image,
 * drive, bridge, tap, console, size or type changed), starts those that are not running
 * (a running domain of the same name and definition is adopted, not restarted). Reports
 * every VM's state through fn. */
void ha_vms_sync(struct ha_vms *v, const struct ha_config *conf);
/* Looks at every running VM; one that stopped is undefined and reported down. */
void ha_vms_poll(struct ha_vms *v);
/* Whether the domain runs now (as far as the last sync or poll saw). */
bool ha_vms_running(const struct ha_vms *v, const char *tenant);
/* Stops and undefines every VM this agent booted (stop), then closes the connection. */
void ha_vms_destroy(struct ha_vms *v, bool stop);

/* The domain XML of vm (tests). Returns a malloc'd string or NULL. */
char *ha_vm_xml(const struct ha_vm *vm);

#endif
