/* `calyx lease suggest`: load the run (report/load.c: meta.json, events.jsonl, the run's
 * SVF records), take the granted claims from its lease_event.verified record, derive the
 * suggestion (policy/suggest.c) and print it: lease issue flags on stdout, or --json the
 * claims; each warning one `calyx: lease suggest: warning: …` line on stderr. */
#include "cli/suggest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/shebang.h"
#include "policy/suggest.h"
#include "report/load.h"
#include "sandbox/resolve.h"
#include "state/state.h"

static int host_resolve(const char *argv0, char out[PATH_MAX], void *ctx)
{
	(void)ctx;
	char found[PATH_MAX];
	struct stat st;
	return sandbox_resolve_program(argv0, found, out, &st);
}

static int host_script(const char *path, struct shebang *sb, void *ctx)
{
	(void)ctx;
	return shebang_read(path, sb) == 1 ? 1 : 0;
}

/* The claims the run was granted: the data.claims of the run's lease_event.verified
 * record (the first: every run of a lease verifies the same claims). */
static const cJSON *granted_claims(const struct report_run *r)
{
	const cJSON *rec;
	cJSON_ArrayForEach(rec, r->svf) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "type");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "data"), "claims");
		if (cJSON_IsString(t) && strcmp(t->valuestring, "lease_event.verified") == 0 && cJSON_IsObject(c))
			return c;
	}
	return NULL;
}

int suggest_cmd_run(const struct suggest_opts *o)
{
	const char *state = state_dir_resolve(o->state_dir);
	/* Read only, as report: nothing beneath the state dir is followed through a symlink. */
	_cleanup_close_ int sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "calyx: lease suggest: state dir %s: %s\n", state, strerror(errno));
		return EXIT_IO;
	}
	struct report_run r;
	char err[1024] = "";
	int rc = report_load(sfd, state, o->run_name, &r, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "calyx: lease suggest: %s\n", err);
		return rc == -ENOENT ? EXIT_NO_RUN : rc == -EBADMSG ? EXIT_RUN_DAMAGED
		     : rc == -ENOMEM ? EXIT_INTERNAL : EXIT_IO;
	}
	/* Without the granted claims the paths the run was given are unknown, and a
	 * suggestion without them would fail where the run did not: refuse. */
	const cJSON *claims = granted_claims(&r);
	if (!claims) {
		fprintf(stderr, "calyx: lease suggest: the audit log of %s holds no lease_event.verified record with "
			"the claims of %s: the paths the run was granted are unknown, so no lease is suggested\n",
			state, r.lease);
		if (r.svf_error[0])
			fprintf(stderr, "calyx: lease suggest: reading the audit log: %s\n", r.svf_error);
		report_run_free(&r);
		return EXIT_RUN_DAMAGED;
	}
	cJSON *warnings = cJSON_CreateArray();
	cJSON *out = NULL;
	if (!warnings) {
		report_run_free(&r);
		return EXIT_INTERNAL;
	}
	if (!r.audit.verifies)
		cJSON_AddItemToArray(warnings, cJSON_CreateString("the audit of this run does not verify; the suggestion "
								  "rests on records that may have been changed"));
	if (!r.events_present)
		cJSON_AddItemToArray(warnings, cJSON_CreateString("the run has no events.jsonl: no exec or refusal of it is known"));
	if (r.events_bad || r.events_omitted) {
		char w[200];
		snprintf(w, sizeof(w), "%zu events.jsonl lines were not read (%zu not JSON, %zu past the %u read): "
			 "what they held is missing here", r.events_bad + r.events_omitted, r.events_bad,
			 r.events_omitted, (unsigned)REPORT_MAX_EVENT_LINES);
		cJSON_AddItemToArray(warnings, cJSON_CreateString(w));
	}
	struct suggest_host h = { host_resolve, host_script, NULL };
	rc = suggest_build(r.meta, r.events, claims, &h, &out, warnings, err, sizeof(err));
	report_run_free(&r);
	if (rc < 0) {
		cJSON_Delete(warnings);
		fprintf(stderr, "calyx: lease suggest: %s: %s\n", o->run_name, err);
		return rc == -ENOMEM ? EXIT_INTERNAL : EXIT_RUN_DAMAGED;
	}
	const cJSON *w;
	cJSON_ArrayForEach(w, warnings)
		fprintf(stderr, "calyx: lease suggest: warning: %s\n", w->valuestring);
	cJSON_Delete(warnings);
	char *text = o->json ? cJSON_Print(out) : suggest_flags(out);
	cJSON_Delete(out);
	if (!text) {
		fprintf(stderr, "calyx: lease suggest: out of memory\n");
		return EXIT_INTERNAL;
	}
	fputs(text, stdout);
	if (o->json)
		fputc('\n', stdout);
	free(text);
	return EXIT_OK;
}
