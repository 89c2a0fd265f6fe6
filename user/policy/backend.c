/* Enforcement backend names (see backend.h). */
#include "policy/backend.h"

#include <string.h>

const char *enforce_backend_name(enum enforce_backend b)
{
	switch (b) {
	case ENFORCE_AUTO:
		return "auto";
	case ENFORCE_BPF_LSM:
		return "bpf-lsm";
	case ENFORCE_LANDLOCK:
		return "landlock";
	}
	return "unknown";
}

int enforce_backend_from_name(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "auto"))
		return ENFORCE_AUTO;
	if (!strcmp(s, "bpf-lsm"))
		return ENFORCE_BPF_LSM;
	if (!strcmp(s, "landlock"))
		return ENFORCE_LANDLOCK;
	return -1;
}
