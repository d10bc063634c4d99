/* error.c: names for the project's own error codes and for errno values. */
#include <string.h>

#include "common/error.h"

static const char *const raas_error_names[] = {
	[RAAS_EOVERFLOW - RAAS_E_BASE] = "arithmetic overflow",
	[RAAS_EPARSE - RAAS_E_BASE] = "malformed text",
	[RAAS_ECONFIG - RAAS_E_BASE] = "bad configuration",
	[RAAS_EUNKNOWNKEY - RAAS_E_BASE] = "unknown configuration key",
	[RAAS_EPROTO - RAAS_E_BASE] = "malformed message",
	[RAAS_EVERSION - RAAS_E_BASE] = "version mismatch",
	[RAAS_ETOOBIG - RAAS_E_BASE] = "input too large",
	[RAAS_ENOMODEL - RAAS_E_BASE] = "no such pricing model",
	[RAAS_EBUDGET - RAAS_E_BASE] = "over budget",
	[RAAS_ENOSUPPLY - RAAS_E_BASE] = "not enough supply",
	[RAAS_EDENIED - RAAS_E_BASE] = "permission denied",
	[RAAS_ESTALE - RAAS_E_BASE] = "stale data",
};

const char *raas_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= RAAS_E_BASE && err < RAAS_E_LAST)
		return raas_error_names[err - RAAS_E_BASE];
	return strerror(err);
}
