/* What `calyx run` tells the operator about a run, beside the artifacts (docs/run.md "The
 * summary", "fail_on_denial"): the lease paths missing at the start (a warning, meta.json
 * lease_paths_missing), the denial rule that turns a denied run's exit code 0 into 125, and
 * the end-of-run summary (run/summary.h) on stderr. */
#include "run/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/exitcodes.h"
#include "policy/pathuse.h"

void run_check_lease_paths(struct runner *r)
{
	r->lease_missing = cJSON_CreateArray();
	/* The first l.n_paths path rules are the lease's, resolved (repo:// roots), in order. */
	for (size_t i = 0; i < r->l.n_paths && i < r->n_paths; i++) {
		char path[sizeof(r->paths[i].pat.path)];
		snprintf(path, sizeof(path), "%s", r->paths[i].pat.path);
		size_t n = strlen(path);
		if (n > 1 && path[n - 1] == '/')
			path[n - 1] = '\0';   /* a wildcard pattern: its directory */
		char why[PATH_MAX + 64];
		enum pathuse u = pathuse_check(&r->paths[i].pat, why, sizeof(why));
		if (u == PATHUSE_ONLY_SUBDIRS && !r->o->quiet) {
			char shown[SUMMARY_SAFE_MAX(PATH_MAX)];
			summary_safe(r->l.paths[i].pattern, strlen(r->l.paths[i].pattern), shown);
			run_say(0, "warning: lease path %s grants only the entries directly in its directory, and %s: "
				"the files below them are not admitted (%s* admits the whole tree)", shown, why, shown);
		}
		if (u != PATHUSE_MISSING)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "pattern", r->l.paths[i].pattern);
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddStringToObject(o, "why", why);
		cJSON_AddItemToArray(r->lease_missing, o);
		if (!r->o->quiet) {
			char shown[SUMMARY_SAFE_MAX(PATH_MAX)];
			summary_safe(path, strlen(path), shown);
			run_say(0, "warning: lease path %s does not exist on this host (%s): the command will not see it",
				shown, why);
		}
	}
}

int run_fail_on_denial(struct runner *r, int exit_rc, const struct calyx_stats *st)
{
	r->fod_on = r->m.fail_on_denial || r->o->fail_on_denial;
	/* The kernel side's count is exact, recorded or not; the seccomp baseline's refusals
	 * are the runner's own answers. A listener that failed cannot count what came after
	 * it: that counts as a denial too (closed). */
	r->fod_denials = st->v[CALYX_STAT_DENIED] + r->sc_refused + (r->sc_err ? 1 : 0);
	if (!r->fod_on || exit_rc != 0 || r->fod_denials == 0)
		return exit_rc;
	r->fod_turned = true;
	return EXIT_DENIED;
}

void run_report_meta(const struct runner *r, cJSON *meta)
{
	cJSON_AddItemToObject(meta, "lease_paths_missing",
			      r->lease_missing ? cJSON_Duplicate(r->lease_missing, true) : cJSON_CreateArray());
	cJSON *o = cJSON_AddObjectToObject(meta, "fail_on_denial");
	cJSON_AddBoolToObject(o, "enabled", r->fod_on);
	if (r->m.fail_on_denial)
		cJSON_AddStringToObject(o, "by", "matrix");
	else if (r->o->fail_on_denial)
		cJSON_AddStringToObject(o, "by", "--fail-on-denial");
	else
		cJSON_AddNullToObject(o, "by");
	cJSON_AddNumberToObject(o, "denials", (double)r->fod_denials);
	cJSON_AddBoolToObject(o, "exit_code_turned", r->fod_turned);
}

void run_report_keep(struct runner *r, const cJSON *meta)
{
	cJSON_Delete(r->summary_meta);
	r->summary_meta = meta ? cJSON_Duplicate(meta, true) : NULL;
}

void run_report_summary(struct runner *r, int exit_rc)
{
	if (!r->o->quiet) {
		if (r->summary_meta)
			summary_print(stderr, &r->sum, r->summary_meta);
		else
			summary_print_not_started(stderr, exit_rc, r->run_no > 0, r->child_pid > 0);
	} else if (!r->summary_meta && r->verified && exit_rc != 0 && !strstr(run_last_said(), "the lease was")) {
		/* -q drops the summary, not what a refusal of a verified lease did to it: whether
		 * it can be used again is what the operator must know next. */
		fprintf(stderr, "calyx: the lease was %s\n", r->consumed || r->run_no > 0 || r->child_pid > 0 ? "used" : "not used");
	}
	cJSON_Delete(r->summary_meta);
	r->summary_meta = NULL;
	cJSON_Delete(r->lease_missing);
	r->lease_missing = NULL;
}
