/* config_priv.h: what config.c gives config_bind.c and nothing else. */
#ifndef COMMON_CONFIG_PRIV_H
#define COMMON_CONFIG_PRIV_H

#include "common/config.h"

/* cfg_create over a malloc'd schema the config takes (freed with it, also on failure). */
int cfg__create_owned(struct cfg_key *schema, size_t nkeys, struct cfg **out);

#endif
