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

/* The result as one JSON object; host and log only for a shipped copy (--log, --host). */
static void print_json(const struct audit_result *r, const char *key_pid, const char *key_source,
		       const char *host, const char *log)
{
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	if (host)
		cJSON_AddStringToObject(j, "host", host);
	if (log)
		cJSON_AddStringToObject(j, "log", log);
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

/* How bad a result is, to pick the exit code of several hosts: signs of tampering first
 * (a record edited, deleted, inserted, reordered, cut off, a bad signature), then a cut
 * last line (a crash), then an unsigned tail (not shipped yet), then a log or key that
 * could not be checked at all. */
static int severity(int code)
{
	switch (code) {
	case EXIT_OK: return 0;
	case EXIT_IO: case EXIT_CONFIG: return 1;
	case EXIT_AUDIT_UNSIGNED: return 2;
	case EXIT_AUDIT_CUT_RECORD: return 3;
	default: return 4;
	}
}

/* One shipped log file (no state dir, no sidecar) with the key in pub_file: its exit
 * code, said on stdout (one line, or one JSON object) prefixed with host when given. */
static int verify_shipped(const char *host, const char *log, const char *pub_file, const struct audit_opts *o)
{
	char err[1024];
	char pfx[80] = "";
	if (host)
		snprintf(pfx, sizeof(pfx), "%s: ", host);
	uint8_t pk[PASERK_PK_BYTES];
	int rc = keyfile_read_public(pub_file, pk, err, sizeof(err));
	struct audit_result r;
	memset(&r, 0, sizeof(r));
	if (rc < 0) {
		int code = rc == -EINVAL ? EXIT_CONFIG : EXIT_IO;
		if (o->json) {
			_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
			if (host)
				cJSON_AddStringToObject(j, "host", host);
			cJSON_AddStringToObject(j, "log", log);
			cJSON_AddStringToObject(j, "status", code == EXIT_CONFIG ? "bad-key" : "io-error");
			cJSON_AddNumberToObject(j, "exit_code", code);
			cJSON_AddStringToObject(j, "where", pub_file);
			cJSON_AddStringToObject(j, "message", err);
			cJSON_AddStringToObject(j, "key_source", pub_file);
			_cleanup_free_ char *s = cJSON_PrintUnformatted(j);
			if (s)
				printf("%s\n", s);
		} else {
			printf("%s%s: audit public key %s: %s\n", pfx, code == EXIT_CONFIG ? "bad-key" : "io-error",
			       pub_file, err);
		}
		return code;
	}
	_cleanup_free_ char *pid = paserk_k4_pid(pk);
	enum audit_fault f;
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		f = AUDIT_IO;
		r.fault = AUDIT_IO;
		snprintf(r.where, sizeof(r.where), "%s", log);
		snprintf(r.msg, sizeof(r.msg), "cannot open: %s", strerror(errno));
		snprintf(r.head, sizeof(r.head), "%s", SVF_ZERO_HASH);
	} else {
		f = audit_verify_file(fd, log, pk, o->allow_unsigned_tail, &r);
		close(fd);
	}
	if (o->json)
		print_json(&r, pid, pub_file, host, log);
	else if (f == AUDIT_INTACT)
		printf("%sintact: %s: %llu records, %llu checkpoints signed by %s, the last covering seq %llu%s\n",
		       pfx, log, (unsigned long long)r.records, (unsigned long long)r.checkpoints, pid ? pid : "?",
		       (unsigned long long)r.signed_seq,
		       r.unsigned_tail ? " (records after it not signed yet: allowed by --allow-unsigned-tail)" : "");
	else
		printf("%s%s: %s: %s\n", pfx, audit_fault_name(f), r.where, r.msg);
	return audit_fault_exit(f);
}

/* --log FILE --pub KEY, or --host NAME=LOG:PUB for each host: every host is checked and
 * reported; the exit code is the worst one (severity), the first host's among equals. */
static int verify_shipped_run(const struct audit_opts *o)
{
	if (o->log_file)
		return verify_shipped(NULL, o->log_file, o->pub_file, o);
	int worst = EXIT_OK;
	size_t bad = 0;
	for (size_t i = 0; i < o->n_hosts; i++) {
		int code = verify_shipped(o->hosts[i].name, o->hosts[i].log, o->hosts[i].pub, o);
		if (code != EXIT_OK)
			bad++;
		if (severity(code) > severity(worst))
			worst = code;
	}
	if (!o->json && o->n_hosts > 1)
		fprintf(stderr, "calyx: %zu hosts: %zu intact, %zu not; exit %d\n", o->n_hosts, o->n_hosts - bad,
			bad, worst);
	return worst;
}

int audit_verify_run(const struct audit_opts *o)
{
	if (o->log_file || o->n_hosts)
		return verify_shipped_run(o);
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
		print_json(&r, pid, key_source, NULL, NULL);
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
