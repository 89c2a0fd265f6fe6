/* The manifest of a rollback pack (docs/rollback.md): one entry per file, directory,
 * symlink or special file under the snapshotted roots (the lease's `:rw` paths), with
 * what a restore needs and a verify checks: path, type, mode, owner, size, mtime and the
 * BLAKE2b-256 of the contents (of the target, for a symlink). A root that did not exist
 * is one entry of type "absent". Kept sorted by path (strcmp), so a parent comes before
 * its children. Its JSON form is rollback.json (and rollback-after.json). Pure: cJSON
 * only, no OS calls. */
#ifndef CALYX_ROLLBACK_MANIFEST_H
#define CALYX_ROLLBACK_MANIFEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define RB_HASH_HEX 64
#define RB_MANIFEST_SCHEMA 1
#define RB_MAX_ROOTS 64
/* Bounds the manifest's memory whatever the byte cap says (a tree of empty files). */
#define RB_MAX_ENTRIES (1u << 20)

enum rb_type {
	RB_ABSENT = 0,   /* a root that did not exist */
	RB_FILE,
	RB_DIR,
	RB_SYMLINK,
	RB_FIFO,
	RB_CHR,
	RB_BLK,
	RB_SOCK,
	RB_TYPE_COUNT,
};

struct rb_entry {
	char *path;             /* absolute host path, canonical form (no ., .., //) */
	enum rb_type type;
	uint32_t mode;          /* permission bits with setuid/setgid/sticky (07777) */
	uint32_t uid, gid;
	uint64_t size;          /* file: bytes; symlink: target length; else 0 */
	int64_t mtime_s;
	int64_t mtime_ns;
	uint64_t rdev;          /* character and block devices */
	char *target;           /* symlink */
	char hash[RB_HASH_HEX + 1]; /* file: contents; symlink: target; "" otherwise */
};

struct rb_manifest {
	char *roots[RB_MAX_ROOTS];  /* absolute paths, none inside another */
	size_t n_roots;
	struct rb_entry *e;
	size_t n, cap;
	uint64_t bytes;             /* file sizes plus symlink target lengths */
	uint64_t root_bytes[RB_MAX_ROOTS]; /* the same per root (for the over-cap message) */
};

const char *rb_type_name(enum rb_type t);
/* The type of a name, -1 when unknown. */
int rb_type_from_name(const char *s);

void rb_manifest_init(struct rb_manifest *m);
void rb_manifest_free(struct rb_manifest *m);
/* Add a root (copied). 0, -ENOSPC, -ENOMEM. */
int rb_manifest_add_root(struct rb_manifest *m, const char *path);
/* Append a zeroed entry for path (copied); NULL when out of memory or past RB_MAX_ENTRIES. */
struct rb_entry *rb_manifest_add(struct rb_manifest *m, const char *path);
/* Sort the entries by path. */
void rb_manifest_sort(struct rb_manifest *m);
/* The entry of path in a sorted manifest, or NULL. */
const struct rb_entry *rb_manifest_find(const struct rb_manifest *m, const char *path);
/* The root path lies at or under, NULL when none. */
const char *rb_manifest_root_of(const struct rb_manifest *m, const char *path);

/* Is path absolute and canonical: no empty, "." or ".." component, no trailing '/'? */
bool rb_path_canonical(const char *path);
/* Is path inside dir (a proper descendant), on a '/' boundary? */
bool rb_path_below(const char *path, const char *dir);

/* The first field in which a and b differ ("type", "mode", "uid", "gid", "size",
 * "contents", "target", "rdev", "mtime"), or NULL when they are the same. mtime is
 * compared only when with_mtime. */
const char *rb_entry_differs(const struct rb_entry *a, const struct rb_entry *b, bool with_mtime);

/* JSON: {schema, roots, bytes, entries: [{path, type, mode "0644", uid, gid, size,
 * mtime_s, mtime_ns, [blake2b], [target], [rdev]}]}. NULL when out of memory. */
cJSON *rb_manifest_to_json(const struct rb_manifest *m);
/* Parse and check it: schema, every entry's path canonical and inside a root, no path
 * twice, each entry's parent (below its root) a directory entry of the manifest, types,
 * modes and hashes well formed. 0 or -EINVAL with the entry named in err. The result is
 * sorted. */
int rb_manifest_from_json(const cJSON *j, struct rb_manifest *m, char *err, size_t errlen);

#endif
