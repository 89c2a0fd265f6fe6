/* The commands that only work as root say so, and why, before anything else fails with a
 * bare EPERM from a probe deep inside. */
#ifndef CALYX_CLI_NEEDROOT_H
#define CALYX_CLI_NEEDROOT_H

/* 0 when the effective uid is 0; else one "calyx: CMD needs root (running as uid N): WHY;
 * run it as root (sudo calyx CMD …)[; TAIL]" line on stderr and EXIT_ENFORCE_UNAVAILABLE
 * (69: this host, as the caller is, cannot enforce). tail may be NULL. */
int cli_need_root(const char *cmd, const char *why, const char *tail);

#endif
