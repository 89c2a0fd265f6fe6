/* How a sandbox's exec rules and path rules become entries of the resident set's maps.
 * Pure: no side effects, no BPF; tests/unit/test_rule_maps.c links it directly.
 *
 * Path rules go into an LPM trie keyed by (sandbox id, path bytes). The trie returns only
 * the longest matching key, so every entry carries precomputed answers (calyx.h):
 *  - EXACT "/a/b": key "/a/b\0" (the NUL stops "/a/b" from prefixing "/a/b-evil" or
 *    "/a/b/c"); match = the best access of every rule admitting "/a/b".
 *  - CHILDREN/SUBTREE of "/a/": key "/a/" (one entry when both exist). kind CHILDREN if a
 *    CHILDREN rule exists; match = access for a direct child, fallback = access for a
 *    deeper path, both including every SUBTREE rule at or above "/a/".
 *  - SUBTREE "/a/" also admits "/a" itself: an extra EXACT entry "/a\0".
 *  - every ancestor directory of a pattern ("/", "/a" for "/a/b/"; for a directory
 *    pattern "/a/b/" also "/a/b"): an EXACT entry that grants at least TRAVERSE, so the
 *    metadata hooks (bpf/meta.bpf.c) let path lookup and stat reach the granted paths.
 * The answer for any path is therefore max(access of all rules that admit it, TRAVERSE
 * for an ancestor), exactly pathpat_match's semantics plus the ancestors (checked by the
 * unit test against pathpat_match and calyx_path_is_ancestor). */
#ifndef CALYX_ENFORCE_RULE_MAPS_H
#define CALYX_ENFORCE_RULE_MAPS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "calyx.h"
#include "enforce/rules.h"
#include "policy/lease.h"
#include "policy/pathpat.h"

struct calyx_path_entry {
	char path[CALYX_LPM_PATH_MAX]; /* key bytes; EXACT entries also hold their NUL */
	uint32_t len;              /* key bytes used: strlen + 1 for EXACT, strlen for dirs */
	struct calyx_path_val val;
};

/* Entries for one sandbox's rules (at most cap). Returns the count, or -E2BIG (more than
 * cap entries) / -ENAMETOOLONG (a pattern the kernel matcher cannot hold: longer than
 * CALYX_LPM_PATH_MAX - 1 bytes) / -EINVAL with a message. */
int calyx_path_entries(const struct path_rule *rules, size_t n, struct calyx_path_entry *out,
		       size_t cap, char *err, size_t errlen);

/* Whether dir (a path without trailing '/', or "/") is an ancestor directory of one of
 * the rules' patterns: a pattern's path begins with dir + "/". Those get TRAVERSE. */
bool calyx_path_is_ancestor(const struct path_rule *rules, size_t n, const char *dir);

/* The LPM key of an entry for the sandbox's slot. */
void calyx_path_key_of(const struct calyx_path_entry *e, uint32_t slot, struct calyx_path_key *k);

/* The exec_rules entry of one lease binary for the sandbox's slot (flags: CALYX_EXEC_*).
 * 0, or -ENAMETOOLONG (not an absolute path of 1..CALYX_LPM_PATH_MAX - 1 bytes: the exec
 * hook resolves paths into a buffer of that size) with a message. */
int calyx_exec_entry(dev_t dev, ino_t ino, const char *path, uint32_t flags, uint32_t slot,
		     struct calyx_exec_key *k, struct calyx_exec_val *v, char *err, size_t errlen);

/* The hash of an argv of len bytes (calyx.h "argv binding"; bpf/argv.bpf.c computes the
 * same in the kernel). */
uint64_t calyx_argv_hash(const char *bytes, uint32_t len);

/* The argv_rules entry of one argv rule for the sandbox's slot. 0, or -E2BIG (empty or
 * longer than CALYX_ARGV_MAX) with a message. */
int calyx_argv_entry(const struct argv_rule *a, uint32_t slot, struct calyx_argv_key *k,
		     struct calyx_argv_val *v, char *err, size_t errlen);

/* What the BPF matcher answers for path (calyx_access): the longest entry whose key
 * prefixes path+NUL, then its kind rule. Used by tests to hold the encoding to
 * pathpat_match semantics, and mirrors path_access() in bpf/path.bpf.h. */
int calyx_path_lookup(const struct calyx_path_entry *e, size_t n, const char *path);

/* st_dev as user space sees it -> the kernel's internal s_dev (MAJOR << 20 | MINOR). */
uint64_t calyx_kernel_dev(dev_t dev);

/* The net_rules value of a lease's allow rules (calyx.h "network allow rules"): each in
 * IPv6 form with its mask, IPv4 ones as ::ffff:a.b.c.d. 0, or -E2BIG (more than
 * CALYX_SB_MAX_NET_RULES) with a message. */
int calyx_net_rules_of(const struct net_rule *allow, size_t n, struct calyx_net_rules *out,
		       char *err, size_t errlen);

/* calyx_access of a lease access. */
uint8_t calyx_access_of(enum path_access a);

#endif
