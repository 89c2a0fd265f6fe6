/* What the audit log says about an attempt to run (docs/audit.md "What the log records"):
 * the parts an auditor needs that lease_event.verified and lease_event.refused share (the
 * lease's claims, the token's and the matrix's hashes, who asked, from where, which calyx),
 * and the refusal record itself, written whenever `calyx run` ends refused before the
 * command started. The token itself is never written: it is a bearer grant (whoever holds
 * it may run it while it has runs left), the hash is enough to match it to a file. */
#include "run/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/auditlog.h"
#include "audit/svf.h"
#include "base/exitcodes.h"
#include "base/safedir.h"
#include "base/units.h"
#include "base/version.h"
#include "state/state.h"

cJSON *run_rec_claims(const struct lease *l)
{
	char *s = lease_to_json(l);
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	free(s);
	return j ? j : cJSON_CreateNull();
}

/* Who asked: the real ids (calyx runs as root; sudo keeps the operator's in SUDO_UID),
 * and the working directory of the caller, which the command never gets (docs/run.md). */
static cJSON *caller_json(void)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "uid", (double)getuid());
	cJSON_AddNumberToObject(c, "gid", (double)getgid());
	const char *su = getenv("SUDO_UID");
	uint64_t v;
	if (su && units_parse_u64(su, &v) == 0 && v <= UINT32_MAX)
		cJSON_AddNumberToObject(c, "sudo_uid", (double)v);
	else
		cJSON_AddNullToObject(c, "sudo_uid");
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)))
		cJSON_AddStringToObject(c, "cwd", cwd);
	else
		cJSON_AddNullToObject(c, "cwd");
	return c;
}

/* The matrix the attempt was checked against: the file (its canonical path when it
 * resolves: --matrix, or the host file /etc/calyx/capability_matrix.yaml) or "shipped",
 * and the BLAKE2b-256 of the bytes that were parsed. */
static cJSON *matrix_file_json(const struct runner *r)
{
	cJSON *m = cJSON_CreateObject();
	if (r->matrix_path) {
		char real[PATH_MAX];
		cJSON_AddStringToObject(m, "path", realpath(r->matrix_path, real) ? real : r->matrix_path);
	} else {
		cJSON_AddStringToObject(m, "path", "shipped");
	}
	if (r->m.blake2b[0])
		cJSON_AddStringToObject(m, "blake2b", r->m.blake2b);
	else
		cJSON_AddNullToObject(m, "blake2b");   /* not read (unreadable, too large) */
	return m;
}

void run_rec_common(const struct runner *r, cJSON *d)
{
	if (r->vi.token_blake2b[0])
		cJSON_AddStringToObject(d, "token_blake2b", r->vi.token_blake2b);
	else
		cJSON_AddNullToObject(d, "token_blake2b");
	cJSON_AddItemToObject(d, "matrix_file", matrix_file_json(r));
	cJSON_AddItemToObject(d, "caller", caller_json());
	cJSON_AddStringToObject(d, "calyx_version", calyx_version);
}

bool run_rec_is_refusal(int rc)
{
	switch (rc) {
	case EXIT_LEASE_INVALID:
	case EXIT_LEASE_MATRIX:
	case EXIT_LEASE_REPLAYED:
	case EXIT_CMD_NOT_ALLOWED:
	case EXIT_ENFORCE_UNAVAILABLE:
	case EXIT_IO:
	case EXIT_ENFORCER_BUSY:
	case EXIT_CONFIG:
	case EXIT_GROUP_LEDGER:
		return true;
	default:
		return false;
	}
}

void run_record_refusal(struct runner *r, int rc)
{
	char err[2 * PATH_MAX + 512];
	if (r->started || !run_rec_is_refusal(rc))
		return;
	if (r->sp.fd < 0) {
		if (r->sp_unusable) {
			run_say(0, "audit log: the refusal is not recorded: the state dir cannot be used");
			return;
		}
		/* Refused before the state dir was opened (steps 1-5): open it now, with the
		 * same checks a run makes, only to record the refusal. */
		int e = state_place_open(r->state, "state dir", &r->sp, err, sizeof(err));
		if (e < 0) {
			run_say(0, "audit log: the refusal is not recorded: %s", err);
			return;
		}
	}
	int dfd = safedir_mkdirs(r->sp.fd, STATE_SVF_DIR, STATE_DIR_MODE);
	if (dfd < 0) {
		run_say(0, "audit log: the refusal is not recorded: %s/%s: %s", r->sp.path, STATE_SVF_DIR,
			strerror(-dfd));
		return;
	}
	close(dfd);

	const struct lease *l = r->have_l ? &r->l : r->vi.have_claims ? &r->vi.claims : NULL;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "exit_code", rc);
	cJSON_AddStringToObject(d, "reason", run_last_said());
	cJSON_AddStringToObject(d, "step", r->step ? r->step : "");
	if (r->consumed_unknown)   /* a group ledger's unanswered transaction: unknown */
		cJSON_AddNullToObject(d, "lease_used");
	else
		cJSON_AddBoolToObject(d, "lease_used", r->consumed);
	cJSON_AddItemToObject(d, "claims", l ? run_rec_claims(l) : cJSON_CreateNull());
	run_rec_common(r, d);
	/* Sealed: a refusal is the end of an attempt, like a run's completion. */
	int e = auditlog_append_one(r->sp.fd, "lease_event.refused", l ? l->jti : "", l ? l->intent : "", d, true,
				    err, sizeof(err), NULL);
	cJSON_Delete(d);
	if (e < 0)
		run_say(0, "audit log: the refusal is not recorded: %s", err);
}
