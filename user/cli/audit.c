/* `calyx audit verify|repair` and `calyx keygen --audit`: the auditor's and the operator's
 * side of the audit log (audit/verify.h, audit/auditlog.h). */
#include "cli/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "audit/auditkey.h"
#include "audit/auditlog.h"
#include "audit/verify.h"
#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/safedir.h"
#include "state/state.h"
#include "token/keys.h"

static void print_json(const struct audit_result *r, const char *key_pid, const char *key_source)
{
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "status", audit_fault_name(r->fault));
	cJSON_AddNumberToObject(j, "exit_code", audit_fault_exit(r->fault));
	if (r->fault) {
		cJSON_AddStringToObject(j, "where", r->where);
		cJSON_AddNumberToObject(j, "seq", (double)r->seq);
		cJSON_AddStringToObject(j, "message", r->msg);
	}
	cJSON_AddNumberToObject(j, "records", (double)r->records);
	cJSON_AddNumberToObject(j, "files", r->files);
	cJSON_AddNumberToObject(j, "checkpoints", (double)r->checkpoints);
	cJSON_AddNumberToObject(j, "signed_seq", (double)r->signed_seq);
	cJSON_AddNumberToObject(j, "unsigned_tail", (double)r->unsigned_tail);
	cJSON_AddStringToObject(j, "head", r->head);
	cJSON_AddStringToObject(j, "key", key_pid ? key_pid : "");
	cJSON_AddStringToObject(j, "key_source", key_source);
	_cleanup_free_ char *s = cJSON_PrintUnformatted(j);
	if (s)
		printf("%s\n", s);
}

int audit_verify_run(const struct audit_opts *o)
{
	const char *state = state_dir_resolve(o->state_dir);
	char err[1024];
	/* A copy of a state dir works: an auditor need not be root nor the dir root's. */
	_cleanup_close_ int sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "calyx: state dir %s: %s\n", state, strerror(errno));
		return EXIT_IO;
	}
	uint8_t pk[PASERK_PK_BYTES];
	const char *key_source = o->pub_file ? o->pub_file : "state dir keys/audit.pub";
	int rc = o->pub_file ? keyfile_read_public(o->pub_file, pk, err, sizeof(err))
			     : auditkey_load_public(sfd, pk, err, sizeof(err));
	if (rc < 0) {
		if (rc == -ENOENT && !o->pub_file)
			fprintf(stderr, "calyx: %s/%s: missing: no audit key was ever made here, or it was removed; "
				"give the public key you were given with --pub\n", state, AUDITKEY_PUBLIC);
		else
			fprintf(stderr, "calyx: audit public key: %s\n", err);
		return rc == -EINVAL ? EXIT_CONFIG : EXIT_IO;
	}
	_cleanup_free_ char *pid = paserk_k4_pid(pk);
	int dfd = safedir_openat(sfd, STATE_SVF_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0) {
		fprintf(stderr, "calyx: %s/%s: %s\n", state, STATE_SVF_DIR, strerror(-dfd));
		return EXIT_IO;
	}
	struct audit_result r;
	enum audit_fault f = audit_verify(dfd, pk, o->allow_unsigned_tail, &r);
	close(dfd);
	if (o->json) {
		print_json(&r, pid, key_source);
	} else if (f == AUDIT_INTACT) {
		printf("intact: %s/%s: %llu records in %u file%s, %llu checkpoints signed by %s, "
		       "the last covering seq %llu%s\n", state, STATE_SVF_DIR, (unsigned long long)r.records,
		       r.files, r.files == 1 ? "" : "s", (unsigned long long)r.checkpoints, pid ? pid : "?",
		       (unsigned long long)r.signed_seq,
		       r.unsigned_tail ? " (records after it not signed yet: allowed by --allow-unsigned-tail)" : "");
	} else {
		printf("%s: %s/%s/%s: %s\n", audit_fault_name(f), state, STATE_SVF_DIR, r.where, r.msg);
	}
	if (!o->pub_file)
		fprintf(stderr, "calyx: note: checked with the state dir's own public key (%s); an auditor "
			"passes the key they were given with --pub\n", pid ? pid : "?");
	return audit_fault_exit(f);
}

/* The state dir opened for writing: one only root controls, as for `calyx run`. 0, or
 * the exit code (said). */
static int open_state_for_writing(const char *state, struct state_place *sp)
{
	char err[PATH_MAX + 256];
	int rc = state_place_open(state, "state dir", sp, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return rc == -EPERM ? EXIT_CONFIG : EXIT_IO;
	}
	return 0;
}

int audit_repair_run(const struct audit_opts *o)
{
	const char *state = state_dir_resolve(o->state_dir);
	struct state_place sp = { .fd = -1 };
	int rc = open_state_for_writing(state, &sp);
	if (rc)
		return rc;
	struct auditlog_repair rep;
	struct audit_result why;
	rc = auditlog_repair(sp.fd, &rep, &why);
	state_place_close(&sp);
	if (rc == -EBADMSG) {
		fprintf(stderr, "calyx: not repaired, nothing changed: the log does not verify (%s) at %s: %s\n",
			audit_fault_name(why.fault), why.where, why.msg);
		return audit_fault_exit(why.fault);
	}
	if (rc < 0) {
		fprintf(stderr, "calyx: audit repair: %s\n", why.msg);
		return EXIT_IO;
	}
	if (!rep.repaired) {
		printf("nothing to repair: the tail of %s/%s verifies\n", state, STATE_SVF_LOG);
		return EXIT_OK;
	}
	printf("repaired: cut %zu bytes at byte %lld (BLAKE2b-256 %s) off %s/%s; recorded as "
	       "log_event.repaired, seq %llu, signed\n", rep.cut_bytes, (long long)rep.cut_offset,
	       rep.cut_blake2b, state, STATE_SVF_LOG, (unsigned long long)rep.record_seq);
	return EXIT_OK;
}

int audit_keygen_run(const struct keygen_opts *o)
{
	const char *state = state_dir_resolve(o->state_dir);
	char err[PATH_MAX + 256];
	struct state_place sp = { .fd = -1 };
	int rc = open_state_for_writing(state, &sp);
	if (rc)
		return rc;
	uint8_t pk[PASERK_PK_BYTES];
	rc = auditkey_create(sp.fd, o->force, pk, err, sizeof(err));
	state_place_close(&sp);
	if (rc == -EEXIST) {
		fprintf(stderr, "calyx: %s/%s already exists; --force replaces it (older checkpoints then "
			"verify only with the old public key)\n", state, AUDITKEY_SECRET);
		return EXIT_KEY_EXISTS;
	}
	if (rc < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return EXIT_IO;
	}
	_cleanup_free_ char *pub = paserk_k4_public_encode(pk);
	_cleanup_free_ char *pid = paserk_k4_pid(pk);
	fprintf(stderr, "calyx: wrote %s/%s (secret, mode 0600) and %s/%s; give the public key to your auditors\n",
		state, AUDITKEY_SECRET, state, AUDITKEY_PUBLIC);
	printf("%s\n%s\n", pub ? pub : "", pid ? pid : "");
	return EXIT_OK;
}
