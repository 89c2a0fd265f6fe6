/* See needroot.h. */
#include "cli/needroot.h"

#include <stdio.h>
#include <unistd.h>

#include "base/exitcodes.h"

int cli_need_root(const char *cmd, const char *why, const char *tail)
{
	uid_t euid = geteuid();
	if (euid == 0)
		return 0;
	fprintf(stderr, "calyx: %s needs root (running as uid %u): %s; run it as root (sudo calyx %s …)%s%s\n",
		cmd, (unsigned)euid, why, cmd, tail ? "; " : "", tail ? tail : "");
	return EXIT_ENFORCE_UNAVAILABLE;
}
