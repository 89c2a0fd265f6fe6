/* `calyx run`'s rollback pack (docs/rollback.md): the `:rw` paths measured against the
 * matrix's rollback_max_bytes before the ledger (step 8b), packed into the run directory
 * before the command starts (step 10a), walked again once the sandbox is empty (step
 * 12), and what changed written into meta.json. */
#include "run/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/testhook.h"
#include "base/exitcodes.h"
#include "base/units.h"
#include "rollback/archive_lib.h"
#include "rollback/diff.h"
#include "rollback/pack.h"
#include "rollback/snapshot.h"
#include "state/runmeta.h"

/* The roots of this lease: the directory of each `:rw` pattern (the path of an exact one). */
static int add_roots(struct runner *r, struct rb_manifest *m, char *err, size_t errlen)
{
	const char *paths[RB_MAX_ROOTS + 1];
	size_t n = 0;
	rb_manifest_init(m);
	for (size_t i = 0; i < r->l.n_paths && i < r->n_paths; i++) {
		if (r->paths[i].access != ACCESS_RW)
			continue;
		if (n > RB_MAX_ROOTS)
			break;
		paths[n++] = r->paths[i].pat.path;
	}
	return rb_roots_add(m, paths, n, err, errlen);
}

int run_rollback_measure(struct runner *r)
{
	char err[PATH_MAX + 512];
	int rc = add_roots(r, &r->rb_pre, err, sizeof(err));
	r->have_rb = true;
	if (rc == -EINVAL)
		return run_say(EXIT_LEASE_MATRIX, "lease outside the capability matrix: %s; nothing was run, the lease was not used", err);
	if (rc < 0)
		return run_say(EXIT_IO, "%s; nothing was run, the lease was not used", err);
	/* The pack is written after the ledger: a libarchive that cannot be loaded must stop
	 * the run here, while the lease is still unused. */
	if (r->rb_pre.n_roots && !archive_lib_load(err, sizeof(err)))
		return run_say(EXIT_IO, "%s; nothing was run, the lease was not used", err);
	/* Sizes only: the contents are read once, into the pack, after the ledger. */
	rc = rb_snapshot(&r->rb_pre, 0, 0, NULL, err, sizeof(err));
	if (rc < 0)
		return run_say(EXIT_IO, "%s; nothing was run, the lease was not used", err);
	uint64_t cap = r->m.rollback_max_bytes;
	if (r->rb_pre.bytes > cap) {
		char capb[32], each[1024] = "";
		size_t off = 0;
		units_format_size(cap, capb, sizeof(capb));
		for (size_t i = 0; i < r->rb_pre.n_roots && off < sizeof(each); i++) {
			int k = snprintf(each + off, sizeof(each) - off, "%s%s: %" PRIu64 " bytes", i ? ", " : "",
					 r->rb_pre.roots[i], r->rb_pre.root_bytes[i]);
			off += k > 0 ? (size_t)k : 0;
		}
		return run_say(EXIT_LEASE_MATRIX,
			       "lease outside the capability matrix: rollback pack: the :rw paths hold %" PRIu64
			       " bytes (%s), more than the matrix's rollback_max_bytes %s (%" PRIu64
			       " bytes); a run is never started without its pack; nothing was run, the lease was not used",
			       r->rb_pre.bytes, each, capb, cap);
	}
	run_verbose(r, "rollback pack: %zu :rw path%s, %" PRIu64 " bytes (cap %" PRIu64 ")", r->rb_pre.n_roots,
		    r->rb_pre.n_roots == 1 ? "" : "s", r->rb_pre.bytes, cap);
	return 0;
}

static int write_manifest(int dirfd, const char *name, const struct rb_manifest *m, char *err, size_t errlen)
{
	_cleanup_cjson_ cJSON *j = rb_manifest_to_json(m);
	_cleanup_free_ char *txt = j ? cJSON_Print(j) : NULL;
	if (!txt)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
	size_t len = strlen(txt);
	char *nl = realloc(txt, len + 2);
	if (!nl)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
	txt = nl;
	txt[len] = '\n';
	txt[len + 1] = '\0';
	return artifact_write_atomic(dirfd, name, txt, len + 1, 0640, err, errlen);
}

int run_rollback_pack(struct runner *r)
{
	char err[PATH_MAX + 512];
	/* The measure's entries go: the pack's walk records the tree as it packs it. */
	struct rb_manifest m;
	int rc = add_roots(r, &m, err, sizeof(err));
	rb_manifest_free(&r->rb_pre);
	r->rb_pre = m;
	if (rc < 0)
		return run_say(EXIT_IO, "%s; nothing was run", err);
	struct rb_pack_writer *w;
	if ((rc = rb_pack_create(r->rd.fd, RB_PACK_NAME, &w, err, sizeof(err))) < 0)
		return run_say(EXIT_IO, "rollback pack: %s; nothing was run", err);
	rc = rb_snapshot(&r->rb_pre, RB_SNAP_HASH, r->m.rollback_max_bytes, rb_pack_sink(w), err, sizeof(err));
	if (rc < 0) {
		rb_pack_abort(w);
		return run_say(EXIT_IO, "%s%s; nothing was run", err,
			       rc == -EFBIG ? " (rollback_max_bytes: they grew since they were measured)" : "");
	}
	if ((rc = rb_pack_finish(w, err, sizeof(err))) == 0)
		testhook_crash_point("packed");   /* the pack whole, its manifest not yet */
	if (rc < 0 ||
	    (rc = write_manifest(r->rd.fd, RB_MANIFEST_NAME, &r->rb_pre, err, sizeof(err))) < 0)
		return run_say(EXIT_IO, "rollback pack: %s; nothing was run", err);
	r->rb_packed = true;
	run_verbose(r, "rollback pack: %zu entries, %" PRIu64 " bytes in %s", r->rb_pre.n, r->rb_pre.bytes,
		    RB_PACK_NAME);
	return 0;
}

void run_rollback_after(struct runner *r)
{
	char err[PATH_MAX + 512];
	if (!r->rb_packed)
		return;
	struct rb_manifest after;
	int rc = add_roots(r, &after, err, sizeof(err));
	if (rc == 0)
		rc = rb_snapshot(&after, RB_SNAP_HASH, 0, NULL, err, sizeof(err));
	if (rc == 0)
		rc = write_manifest(r->rd.fd, RB_AFTER_NAME, &after, err, sizeof(err));
	if (rc == 0 && !(r->rb_changes = rb_manifest_diff(&r->rb_pre, &after)))
		rc = errmsg(err, sizeof(err), -ENOMEM, "out of memory");
	rb_manifest_free(&after);
	if (rc < 0) {
		/* The run happened and its pack is there: said, recorded, never lost. `calyx
		 * rollback` then needs --force (it cannot tell whether the tree changed since). */
		snprintf(r->rb_after_error, sizeof(r->rb_after_error), "%s", err);
		run_say(0, "run: the :rw paths after the run: %s (the rollback pack is kept)", err);
	}
}

/* The file's {file, bytes, blake2b}, or null when it is not there. */
static cJSON *file_json(int dirfd, const char *name)
{
	cJSON *f = runmeta_file(dirfd, name);
	return f ? f : cJSON_CreateNull();
}

void run_rollback_meta(const struct runner *r, cJSON *meta)
{
	if (!r->rb_packed)
		return;
	cJSON_AddItemToObject(meta, "changes", r->rb_changes ? cJSON_Duplicate(r->rb_changes, true)
							     : cJSON_CreateNull());
	cJSON *o = cJSON_AddObjectToObject(meta, "rollback");
	cJSON *roots = cJSON_AddArrayToObject(o, "paths");
	for (size_t i = 0; i < r->rb_pre.n_roots; i++)
		cJSON_AddItemToArray(roots, cJSON_CreateString(r->rb_pre.roots[i]));
	cJSON_AddNumberToObject(o, "entries", (double)r->rb_pre.n);
	cJSON_AddNumberToObject(o, "bytes", (double)r->rb_pre.bytes);
	cJSON_AddNumberToObject(o, "max_bytes", (double)r->m.rollback_max_bytes);
	cJSON_AddItemToObject(o, "pack", file_json(r->rd.fd, RB_PACK_NAME));
	cJSON_AddItemToObject(o, "manifest", file_json(r->rd.fd, RB_MANIFEST_NAME));
	cJSON_AddItemToObject(o, "after", r->rb_changes ? file_json(r->rd.fd, RB_AFTER_NAME) : cJSON_CreateNull());
	if (r->rb_after_error[0])
		cJSON_AddStringToObject(o, "after_error", r->rb_after_error);
}

void run_rollback_free(struct runner *r)
{
	if (r->have_rb)
		rb_manifest_free(&r->rb_pre);
	r->have_rb = false;
	cJSON_Delete(r->rb_changes);
	r->rb_changes = NULL;
}
