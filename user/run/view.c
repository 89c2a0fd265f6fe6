/* The sandbox's mount view for this run: planned from the lease paths, the baseline and
 * the exec rules (sandbox/view.h), its steps prepared for the child (sandbox/mountns.h),
 * and meta.json's account of it (docs/run.md "The sandbox's view and namespaces"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "enforce/landlock.h"
#include "run/runner.h"
#include "sandbox/mountns.h"
#include "sandbox/view.h"

int run_build_view(struct runner *r)
{
	char err[PATH_MAX + 256];
	/* The ELF interpreters of the exec rules: the kernel opens them at exec, so they
	 * must be in the view (bpf-lsm and Landlock grant them only where a rule does). */
	char *interp[MAX_EXEC_RULES];
	size_t n_interp = 0;
	int rc = 0;
	for (size_t i = 0; i < r->n_exec; i++) {
		char ip[PATH_MAX];
		if (landlock_elf_interp(r->exec[i].path, ip, sizeof(ip), err, sizeof(err)) < 0) {
			rc = run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: the view: %s", err);
			goto out;
		}
		if (ip[0] && !(interp[n_interp++] = strdup(ip))) {
			n_interp--;
			rc = run_say(EXIT_INTERNAL, "out of memory");
			goto out;
		}
	}
	struct view_input in = {
		.paths = r->paths, .n_paths = r->n_paths, .n_lease = r->l.n_paths,
		.exec = r->exec, .n_exec = r->n_exec,
		.interp = interp, .n_interp = n_interp,
		.resolve = mountns_resolve,
	};
	if (view_plan_build(&in, &r->view, err, sizeof(err)) < 0) {
		rc = run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s", err);
		goto out;
	}
	r->have_view = true;
	if (mountns_prepare(&r->view, &r->mns, err, sizeof(err)) < 0) {
		rc = run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s", err);
		goto out;
	}
	r->have_mns = true;
	run_verbose(r, "view: %zu entries, %zu left out, %zu steps", r->view.n, r->view.n_left, r->mns.n);
out:
	for (size_t i = 0; i < n_interp; i++)
		free(interp[i]);
	return rc;
}

void run_view_free(struct runner *r)
{
	if (r->have_mns)
		mountns_free(&r->mns);
	if (r->have_view)
		view_plan_free(&r->view);
	r->have_mns = r->have_view = false;
}

cJSON *run_view_json(const struct runner *r)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "cwd", r->cwd);
	cJSON *es = cJSON_AddArrayToObject(v, "entries");
	for (size_t i = 0; r->have_view && i < r->view.n; i++) {
		const struct view_entry *e = &r->view.e[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", e->path);
		cJSON_AddStringToObject(o, "kind", view_kind_name(e->kind));
		cJSON_AddStringToObject(o, "from", view_origin_name(e->from));
		if (e->kind == VIEW_BIND)
			cJSON_AddStringToObject(o, "access", e->rw ? "rw" : "ro");
		if (e->kind == VIEW_SYMLINK)
			cJSON_AddStringToObject(o, "target", e->target);
		cJSON_AddItemToArray(es, o);
	}
	cJSON *ls = cJSON_AddArrayToObject(v, "left_out");
	for (size_t i = 0; r->have_view && i < r->view.n_left; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", r->view.left[i].path);
		cJSON_AddStringToObject(o, "why", r->view.left[i].why);
		cJSON_AddItemToArray(ls, o);
	}
	return v;
}
