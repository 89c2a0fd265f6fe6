/* `calyx lease suggest`: the smallest lease a recorded run needed, derived from its
 * meta.json, its events.jsonl lines and the claims of the lease it ran under
 * (docs/suggest.md says how each part is chosen). Pure: what needs the file system (which
 * file a command's argv[0] names, whether a file is a #! script) is asked through
 * struct suggest_host, so the unit test fakes it. No logging: what the caller should say
 * comes back as warnings. */
#ifndef CALYX_SUGGEST_H
#define CALYX_SUGGEST_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "base/shebang.h"

/* A binary exec'd with at most this many distinct argvs becomes that many commands (each
 * argv bound exactly); with more it becomes one helper (any argv). */
#define SUGGEST_MAX_ARGVS_PER_BINARY 8

/* Headroom over the measured peaks: SUGGEST_HEADROOM times, rounded up to the unit, never
 * below the floor; a limit that stopped the run gets SUGGEST_HEADROOM_HIT times its bound. */
#define SUGGEST_HEADROOM 2
#define SUGGEST_HEADROOM_HIT 4

struct suggest_host {
	/* argv0 resolved the way `calyx run` resolves a command (the sandbox PATH, then the
	 * canonical path) into out; 0 or -errno. */
	int (*resolve)(const char *argv0, char out[PATH_MAX], void *ctx);
	/* Is path a #! script? 1 and its #! line in sb (base/shebang.h), 0 not one (or not
	 * readable). */
	int (*script)(const char *path, struct shebang *sb, void *ctx);
	void *ctx;
};

/* Derive the suggestion. meta: the run's meta.json object; events: the array of its
 * events.jsonl objects; claims: the claims of the lease the run was granted (the SVF
 * lease_event.verified record's data.claims), NULL when unknown. On 0, *out is a new
 * claims object without the issuer's claims (jti, iat, nbf, exp, iss), in the lease's key
 * order: intent, commands, paths, network, limits, env, helpers, aud, cwd; and each
 * warning (a string saying what the suggestion cannot know, or what it guessed) is
 * appended to the array warnings. -EINVAL (err says which field) when meta is not a
 * run's record; -ENOMEM. */
int suggest_build(const cJSON *meta, const cJSON *events, const cJSON *claims, const struct suggest_host *h,
		  cJSON **out, cJSON *warnings, char *err, size_t errlen);

/* The claims as `calyx lease issue` flags, one flag per line, each line but the last
 * ending in " \": words quoted for a POSIX shell, a --cmd's argv in the lease's own
 * quoting (docs/lease-format.md "Commands"), so that the text pasted after
 * `calyx lease issue --key K --ttl T` (or eval'd) issues these claims. malloc'd, NULL
 * when out of memory. */
char *suggest_flags(const cJSON *claims);

/* One argument in `--cmd` quoting: as is when it holds only characters that need none,
 * else '…', else "…" with \ before " \ $ `. Into out (at most len); -ENOSPC. */
int suggest_quote_arg(const char *arg, char *out, size_t len);

#endif
