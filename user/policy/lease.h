/* Lease claims: the JSON payload of a lease token, parsed strictly with cJSON.
 *
 * Payload (all claims required unless marked):
 *   jti      "LEASE-YYYYMMDD-HHMMSS-xxxx"       lease id
 *   intent   "INT-…"                            approved reason
 *   iat,nbf,exp  RFC 3339 strings (UTC)          issued-at, not-before, expiry
 *   iss      "k4.pid.…"                          key id of the signer
 *   commands [["python3","--version"], …]       argv arrays, 1..LEASE_MAX_COMMANDS
 *   paths    [{"pattern":"repo://calyx/tools","access":"ro"}, …]  0..LEASE_MAX_PATHS
 *   network  "deny_all", or {"allow": [{"cidr":"10.0.0.0/8","port":443,"proto":"tcp"}, …]}
 *            (1..NETRULE_MAX rules; port 0 = any; proto "tcp" or "udp"; see netrule.h)
 *   limits   {"cpu_ms":…, "mem_bytes":…, "pids":…, "wall_ms":…, "output_bytes":…} (each optional)
 *   runs     integer 1..LEASE_MAX_RUNS  (optional, default 1)
 *   env      (optional) ["NAME", …] extra environment variables passed through
 *   helpers  (optional) ["/usr/bin/cat", "grep", …] binaries the command tree may exec with
 *            any arguments (resolved like a command's argv[0]); 0..LEASE_MAX_HELPERS
 *   aud      (optional) "NAME": the host or host group the lease is for (PASETO's
 *            registered claim); the matrix says which audiences a host answers to
 *   cwd      (optional) "/abs/dir" or "repo://NAME/dir": the command's working directory;
 *            must lie within one of the lease's paths
 * Unknown claims are rejected. Pure module: no I/O. Serialisation and the text of `lease
 * show` are lease_text.c; limits are limits.h, command lines argv.h. */
#ifndef CALYX_LEASE_H
#define CALYX_LEASE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/argv.h"
#include "policy/limits.h"
#include "policy/netrule.h"

#define LEASE_MAX_COMMANDS 64
#define LEASE_MAX_PATHS 64
#define LEASE_MAX_PATTERN_BYTES 251   /* PATHPAT_MAX: the kernel matcher's limit, minus the NUL */
#define LEASE_MAX_RUNS 1000
#define LEASE_MAX_ENV 32
#define LEASE_ID_MAX 64
#define LEASE_MAX_HELPERS 32
#define LEASE_MAX_AUD 253     /* a DNS name's length */

enum path_access { ACCESS_RO = 0, ACCESS_RW = 1 };
struct lease_path {
	char *pattern;           /* as written: absolute path or repo://NAME/… with optional final * or ** */
	enum path_access access;
};

/* NET_DENY_ALL: no inet socket at all, own network namespace. NET_ALLOW: the host's
 * network namespace, and only connects / sends the allow rules admit (docs/network.md). */
enum net_policy { NET_DENY_ALL = 0, NET_ALLOW = 1 };

struct lease {
	char jti[LEASE_ID_MAX];
	char *intent;
	int64_t iat, nbf, exp;   /* seconds since the epoch */
	char *iss;
	struct argv_list *commands;
	size_t n_commands;
	struct lease_path *paths;
	size_t n_paths;
	enum net_policy network;
	struct net_rule net_allow[NETRULE_MAX];  /* NET_ALLOW: n_net_allow (>= 1) rules */
	size_t n_net_allow;
	struct limits limits;
	uint32_t runs;
	char **env;              /* extra env names to pass through; n_env entries */
	size_t n_env;
	char **helpers;          /* binaries exec'able with any argv; n_helpers entries */
	size_t n_helpers;
	char *aud;               /* NULL: no audience named */
	char *cwd;               /* NULL: the runner's default working directory */
};

void lease_free(struct lease *l);

/* Parse and check a JSON payload. On error returns -EINVAL and writes a message naming
 * the claim into err (e.g. "claim 'commands[2]': must be a non-empty array of strings"). */
int lease_from_json(const char *json, size_t len, struct lease *out, char *err, size_t errlen);
/* Serialise to compact JSON (malloc'd). lease_text.c */
char *lease_to_json(const struct lease *l);

/* Time checks: exp > iat, nbf <= exp, iat not in the future beyond skew, now within
 * [nbf - skew, exp + skew). Returns 0 or -ETIME (expired), -EAGAIN (not yet valid),
 * -EINVAL (inconsistent times) with a message. */
int lease_check_times(const struct lease *l, int64_t now, int64_t skew_s, char *err, size_t errlen);

/* New lease id "LEASE-YYYYMMDD-HHMMSS-xxxx" for time now (UTC), random 4 hex chars. */
void lease_new_id(int64_t now, char out[LEASE_ID_MAX]);
bool lease_id_valid(const char *id);

/* Is the working directory cwd within one of the lease's path patterns (textually, before
 * repo:// names are resolved: the pattern's directory itself, or what it admits)? */
bool lease_cwd_covered(const struct lease *l, const char *cwd);

/* Index of the lease command equal to argv (exact, element by element), or -1. */
int lease_match_command(const struct lease *l, char *const *argv, size_t argc);

/* Human-readable multi-line rendering for `calyx lease show`. malloc'd. lease_text.c */
char *lease_describe(const struct lease *l);

#endif
