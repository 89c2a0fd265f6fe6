/* `calyx lease issue|verify|show`. Issue validates the claims it produced with the same
 * parser verify uses, so it can never sign a lease that verify would reject. */
#include "cli/lease.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "base/b64url.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/shebang.h"
#include "base/units.h"
#include "policy/lease.h"
#include "policy/matrix.h"
#include "policy/pathuse.h"
#include "sandbox/resolve.h"
#include "token/keys.h"
#include "token/paseto.h"
#include "token/verify.h"

int lease_cmd_now(int64_t *now, char *err, size_t errlen)
{
	const char *s = getenv(CALYX_TEST_NOW_ENV);
	if (!s || !s[0]) {
		*now = (int64_t)time(NULL);
		return 0;
	}
	uint64_t v;
	if (units_parse_u64(s, &v) < 0 || v == 0 || v > INT64_MAX) {
		snprintf(err, errlen, "%s='%s' is not a positive integer (epoch seconds)", CALYX_TEST_NOW_ENV, s);
		return -EINVAL;
	}
	*now = (int64_t)v;
	return 0;
}

/* Limits travel as JSON numbers; beyond 2^53 a double would silently round them. */
#define JSON_MAX_EXACT ((uint64_t)1 << 53)

char *lease_cmd_claims_json(const struct issue_opts *o, const char *jti, const char *kid, int64_t now)
{
	char iat[32], exp[32];
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	units_format_rfc3339(now, iat, sizeof(iat));
	units_format_rfc3339(now + (int64_t)o->ttl_s, exp, sizeof(exp));
	cJSON_AddStringToObject(j, "jti", jti);
	cJSON_AddStringToObject(j, "intent", o->intent);
	cJSON_AddStringToObject(j, "iat", iat);
	cJSON_AddStringToObject(j, "nbf", iat);
	cJSON_AddStringToObject(j, "exp", exp);
	cJSON_AddStringToObject(j, "iss", kid);
	cJSON *cmds = cJSON_AddArrayToObject(j, "commands");
	for (size_t i = 0; cmds && i < o->n_cmds; i++) {
		cJSON *a = cJSON_CreateArray();
		for (size_t k = 0; a && k < o->cmds[i].argc; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(o->cmds[i].argv[k]));
		cJSON_AddItemToArray(cmds, a);
	}
	cJSON *paths = cJSON_AddArrayToObject(j, "paths");
	for (size_t i = 0; paths && i < o->n_paths; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "pattern", o->paths[i].pattern);
		cJSON_AddStringToObject(p, "access", o->paths[i].access == ACCESS_RW ? "rw" : "ro");
		cJSON_AddItemToArray(paths, p);
	}
	if (o->network == NET_ALLOW) {
		cJSON *net = cJSON_AddObjectToObject(j, "network");
		cJSON *allow = net ? cJSON_AddArrayToObject(net, "allow") : NULL;
		for (size_t i = 0; allow && i < o->n_net_allow; i++) {
			char cidr[NETRULE_TEXT_MAX];
			cJSON *a = cJSON_CreateObject();
			netrule_cidr_text(&o->net_allow[i], cidr, sizeof cidr);
			cJSON_AddStringToObject(a, "cidr", cidr);
			cJSON_AddNumberToObject(a, "port", o->net_allow[i].port);
			cJSON_AddStringToObject(a, "proto", netrule_proto_name(o->net_allow[i].proto));
			cJSON_AddItemToArray(allow, a);
		}
	} else {
		cJSON_AddStringToObject(j, "network", "deny_all");
	}
	cJSON *lim = cJSON_AddObjectToObject(j, "limits");
	for (int k = 0; lim && k < LIMIT_COUNT; k++) {
		if (!o->limits.set[k])
			continue;
		if (o->limits.v[k] > JSON_MAX_EXACT) {
			cJSON_Delete(j);
			return NULL;
		}
		cJSON_AddNumberToObject(lim, limit_claim_name(k), (double)o->limits.v[k]);
	}
	cJSON_AddNumberToObject(j, "runs", o->runs ? o->runs : 1);
	if (o->n_env) {
		cJSON *env = cJSON_AddArrayToObject(j, "env");
		for (size_t i = 0; env && i < o->n_env; i++)
			cJSON_AddItemToArray(env, cJSON_CreateString(o->env[i]));
	}
	if (o->n_helpers) {
		cJSON *h = cJSON_AddArrayToObject(j, "helpers");
		for (size_t i = 0; h && i < o->n_helpers; i++)
			cJSON_AddItemToArray(h, cJSON_CreateString(o->helpers[i]));
	}
	if (o->aud)
		cJSON_AddStringToObject(j, "aud", o->aud);
	if (o->cwd)
		cJSON_AddStringToObject(j, "cwd", o->cwd);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

/* The file a lease program name resolves to here (the issuer's host is usually the one
 * that runs it). false when it does not resolve. */
static bool program_file(const char *name, struct stat *st)
{
	char found[PATH_MAX], real[PATH_MAX];
	return sandbox_resolve_program(name, found, real, st) == 0;
}

/* Is the file st one of the lease's commands' binaries or helpers? */
static bool lease_names_file(const struct lease *l, const struct stat *st)
{
	struct stat other;
	for (size_t c = 0; c < l->n_commands; c++)
		if (program_file(l->commands[c].argv[0], &other) && other.st_dev == st->st_dev && other.st_ino == st->st_ino)
			return true;
	for (size_t h = 0; h < l->n_helpers; h++)
		if (program_file(l->helpers[h], &other) && other.st_dev == st->st_dev && other.st_ino == st->st_ino)
			return true;
	return false;
}

/* "#!/usr/bin/env PROG" script commands: env execs PROG, which needs an exec rule of its
 * own; without one `calyx run` refuses the command (68). Said here, with the fix. */
static void warn_env_scripts(const struct lease *l)
{
	for (size_t i = 0; i < l->n_commands; i++) {
		char found[PATH_MAX], real[PATH_MAX], pfound[PATH_MAX], preal[PATH_MAX];
		struct stat st, pst;
		struct shebang sb;
		if (sandbox_resolve_program(l->commands[i].argv[0], found, real, &st) < 0 || shebang_read(real, &sb) != 1)
			continue;
		const char *prog = shebang_env_program(&sb);
		if (!prog || sandbox_resolve_program(prog, pfound, preal, &pst) < 0 || lease_names_file(l, &pst))
			continue;
		fprintf(stderr,
			"calyx: warning: script command %s starts with '#!%s %s': env then execs %s (%s), which this "
			"lease does not allow, so calyx run refuses the command (68); add --helper %s, or make the "
			"#! line '#!%s' (calyx binds a script's own interpreter)\n",
			l->commands[i].argv[0], sb.interp, sb.arg, prog, preal, prog, preal);
	}
}

/* Lease paths that grant nothing useful here (policy/pathuse.h): missing, or a children
 * pattern (final '*') over a directory holding only directories. repo:// paths are
 * resolved only with --matrix (it has the roots); the host that runs the lease says so
 * again (calyx run). */
static void warn_useless_paths(const struct lease *l, const struct matrix *m)
{
	for (size_t i = 0; i < l->n_paths; i++) {
		char err[256], why[PATH_MAX + 64];
		struct pathpat p;
		if (pathpat_parse(l->paths[i].pattern, m ? matrix_root_lookup : NULL, (void *)m, &p, err, sizeof(err)) < 0)
			continue;
		enum pathuse u = pathuse_check(&p, why, sizeof(why));
		if (u == PATHUSE_MISSING)
			fprintf(stderr, "calyx: warning: lease path %s does not exist on this host (%s): a run here "
				"would not see it\n", l->paths[i].pattern, why);
		else if (u == PATHUSE_ONLY_SUBDIRS)
			fprintf(stderr, "calyx: warning: lease path %s grants only the entries directly in its "
				"directory, and %s: the files below them are not admitted (%s* admits the whole "
				"tree)\n", l->paths[i].pattern, why, l->paths[i].pattern);
	}
}

/* A #! script command binds its interpreter's argv by itself (docs/lease-format.md "Argv
 * binding"). Naming that interpreter as a helper, or as a command with no arguments,
 * gives the sandbox much more: python3 as a helper runs `python3 -c CODE`, a bare
 * `python3` runs whatever program it reads on stdin. Said, not refused: the command tree
 * may need it for itself. */
static void warn_script_interpreters(const struct lease *l)
{
	warn_env_scripts(l);
	for (size_t i = 0; i < l->n_commands; i++) {
		char found[PATH_MAX], real[PATH_MAX], ireal[PATH_MAX];
		struct stat st, ist, other;
		struct shebang sb;
		if (sandbox_resolve_program(l->commands[i].argv[0], found, real, &st) < 0 ||
		    shebang_read(real, &sb) != 1 || !realpath(sb.interp, ireal) || stat(ireal, &ist) < 0)
			continue;
		for (size_t h = 0; h < l->n_helpers; h++)
			if (program_file(l->helpers[h], &other) && other.st_dev == ist.st_dev && other.st_ino == ist.st_ino)
				fprintf(stderr,
					"calyx: warning: helper %s is the interpreter of script command %s: it lets the sandbox run %s "
					"with any arguments (e.g. %s -c CODE), which the script does not need: calyx binds the argv "
					"the kernel gives %s for the script; keep it only if the command tree runs it itself\n",
					l->helpers[h], l->commands[i].argv[0], sb.interp, sb.interp, sb.interp);
		for (size_t c = 0; c < l->n_commands; c++)
			if (l->commands[c].argc == 1 && c != i && program_file(l->commands[c].argv[0], &other) &&
			    other.st_dev == ist.st_dev && other.st_ino == ist.st_ino)
				fprintf(stderr,
					"calyx: warning: command '%s' is the interpreter of script command %s: it lets the sandbox run "
					"%s reading a program from its input, which the script does not need: calyx binds the argv "
					"the kernel gives %s for the script; keep it only if the command tree runs it itself\n",
					l->commands[c].argv[0], l->commands[i].argv[0], sb.interp, sb.interp);
	}
}

/* --matrix: the check `calyx run` (and `lease verify --matrix`) makes, made before signing,
 * so a lease that could never run is never issued. EXIT_OK, 66 (does not fit: nothing is
 * signed), or the matrix file's own 78/74. A signer the matrix does not trust is only a
 * warning: `calyx run --pub` can trust it on top of the matrix. */
static int check_against_matrix(const char *file, const struct lease *l, const uint8_t pk[PASERK_PK_BYTES])
{
	char err[PATH_MAX + 1024];
	struct matrix m;
	int rc = matrix_load_file(file, &m, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "calyx: capability matrix: %s\n", err);
		matrix_free(&m);
		return rc == -EINVAL ? EXIT_CONFIG : EXIT_IO;
	}
	rc = EXIT_OK;
	if (matrix_check_lease(&m, l, err, sizeof(err)) < 0) {
		fprintf(stderr, "calyx: lease outside the matrix %s: %s; nothing was signed\n", file, err);
		rc = EXIT_LEASE_MATRIX;
	} else {
		char *pid = paserk_k4_pid(pk);
		if (pid && !matrix_find_key(&m, pid))
			fprintf(stderr,
				"calyx: warning: the signing key %s is not in the trusted_keys of %s: a run "
				"against it needs --pub with this key's public half\n", pid, file);
		free(pid);
		warn_useless_paths(l, &m);
	}
	matrix_free(&m);
	return rc;
}

int lease_issue_run(const struct issue_opts *o)
{
	uint8_t sk[PASETO_SK_BYTES];
	char err[PATH_MAX + 256], jti[LEASE_ID_MAX], exp[32];
	char *pid = NULL, *json = NULL, *token = NULL, *out = NULL;
	char footer[160];
	struct lease l;
	bool have_lease = false;
	int64_t now;
	int rc;

	memset(&l, 0, sizeof(l));
	if (lease_cmd_now(&now, err, sizeof(err)) < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return EXIT_USAGE;
	}
	int kr = keyfile_read_secret(o->key_file, sk, err, sizeof(err));
	if (kr < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return (kr == -EPERM || kr == -EINVAL) ? EXIT_CONFIG : EXIT_IO;
	}
	/* libsodium's secret key is seed || public key: the id comes from the public half. */
	pid = paserk_k4_pid(sk + 32);
	lease_new_id(now, jti);
	json = pid ? lease_cmd_claims_json(o, jti, pid, now) : NULL;
	if (!json) {
		fprintf(stderr, "calyx: cannot build the lease claims (a limit too large?)\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (lease_from_json(json, strlen(json), &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "calyx: the lease would be invalid: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	have_lease = true;
	if (lease_check_times(&l, now, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "calyx: the lease would be invalid: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (o->matrix_file && (rc = check_against_matrix(o->matrix_file, &l, sk + 32)) != EXIT_OK)
		goto out;
	if (!o->matrix_file)
		warn_useless_paths(&l, NULL);
	warn_script_interpreters(&l);
	snprintf(footer, sizeof(footer), "{\"kid\":\"%s\"}", pid);
	if (paseto_v4_sign(sk, (const uint8_t *)json, strlen(json), (const uint8_t *)footer,
			   strlen(footer), NULL, 0, &token) < 0) {
		fprintf(stderr, "calyx: signing failed\n");
		rc = EXIT_INTERNAL;
		goto out;
	}
	units_format_rfc3339(l.exp, exp, sizeof(exp));
	if (o->out_file) {
		if (asprintf(&out, "%s\n", token) < 0) {
			out = NULL;
			rc = EXIT_INTERNAL;
			goto out;
		}
		if (fileio_write_atomic(o->out_file, out, strlen(out), 0644, true, err, sizeof(err)) < 0) {
			fprintf(stderr, "calyx: %s\n", err);
			rc = EXIT_IO;
			goto out;
		}
		fprintf(stderr, "calyx: issued %s (intent %s, expires %s) to %s\n", jti, l.intent, exp,
			o->out_file);
	} else {
		printf("%s\n", token);
		fprintf(stderr, "calyx: issued %s (intent %s, expires %s)\n", jti, l.intent, exp);
	}
	rc = EXIT_OK;
out:
	sodium_memzero(sk, sizeof(sk));
	if (have_lease)
		lease_free(&l);
	free(pid);
	free(json);
	free(token);
	free(out);
	return rc;
}

int lease_verify_run(const struct verify_opts *o)
{
	char err[PATH_MAX + 512];
	uint8_t pk[PASETO_PK_BYTES];
	struct matrix m;
	bool have_matrix = false;
	struct lease l;
	int64_t now, skew;
	int rc;

	memset(&m, 0, sizeof(m));
	if (lease_cmd_now(&now, err, sizeof(err)) < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->pub_file) {
		int kr = keyfile_read_public(o->pub_file, pk, err, sizeof(err));
		if (kr < 0) {
			fprintf(stderr, "calyx: %s\n", err);
			return kr == -EINVAL ? EXIT_CONFIG : EXIT_IO;
		}
	}
	if (o->matrix_file) {
		int mr = matrix_load_file(o->matrix_file, &m, err, sizeof(err));
		if (mr < 0) {
			fprintf(stderr, "calyx: %s\n", err);
			matrix_free(&m);
			return mr == -EINVAL ? EXIT_CONFIG : EXIT_IO;
		}
		have_matrix = true;
		/* --pub with --matrix: the matrix, with that key trusted as well. */
		if (o->pub_file) {
			char *pid = paserk_k4_pid(pk);
			bool known = pid && matrix_find_key(&m, pid);
			free(pid);
			if (!known && matrix_trust_key(&m, "--pub", pk) < 0) {
				fprintf(stderr, "calyx: cannot add the --pub key to the matrix\n");
				matrix_free(&m);
				return EXIT_CONFIG;
			}
		}
	}
	skew = o->skew_set ? o->skew_s
	     : have_matrix ? (int64_t)(m.clock_skew_ms / 1000)
	     : VERIFY_DEFAULT_SKEW_S;

	rc = verify_lease_file(o->token_file, have_matrix ? NULL : pk, have_matrix ? &m : NULL,
			       now, skew, &l, err, sizeof(err));
	if (rc != EXIT_OK) {
		if (rc == EXIT_IO)
			fprintf(stderr, "calyx: %s\n", err);
		else
			fprintf(stderr, "calyx: lease invalid: %s\n", err);
		goto out;
	}
	if (o->json) {
		char *j = lease_to_json(&l);
		if (!j) {
			fprintf(stderr, "calyx: out of memory\n");
			rc = EXIT_INTERNAL;
		} else {
			printf("%s\n", j);
			free(j);
		}
	} else {
		char exp[32];
		units_format_rfc3339(l.exp, exp, sizeof(exp));
		printf("OK %s intent %s expires %s\n", l.jti, l.intent, exp);
	}
	lease_free(&l);
out:
	if (have_matrix)
		matrix_free(&m);
	return rc;
}

static void print_printable(FILE *f, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fputc(isprint(s[i]) || s[i] == '\n' ? s[i] : '?', f);
	fputc('\n', f);
}

int lease_show_run(const struct show_opts *o)
{
	char err[PATH_MAX + 256];
	char *tok = NULL;
	size_t len = 0;
	unsigned char *body = NULL, *foot = NULL;
	size_t body_len = 0, foot_len = 0;
	struct lease l;
	int rc;

	memset(&l, 0, sizeof(l));
	if (sodium_init() < 0)
		return EXIT_INTERNAL;
	rc = verify_read_token_file(o->token_file, &tok, &len, err, sizeof(err));
	if (rc != EXIT_OK) {
		fprintf(stderr, rc == EXIT_IO ? "calyx: %s\n" : "calyx: lease invalid: %s\n", err);
		return rc;
	}
	const size_t hl = sizeof(PASETO_V4_PUBLIC_HEADER) - 1;
	if (len < hl || memcmp(tok, PASETO_V4_PUBLIC_HEADER, hl) != 0) {
		fprintf(stderr, "calyx: lease invalid: not a v4.public token\n");
		rc = EXIT_LEASE_INVALID;
		goto out;
	}
	const char *b = tok + hl;
	const char *dot = strchr(b, '.');
	size_t blen = dot ? (size_t)(dot - b) : strlen(b);
	if (b64url_decode(b, blen, &body, &body_len) < 0 || body_len <= PASETO_SIG_BYTES) {
		fprintf(stderr, "calyx: lease invalid: malformed token body (bad base64url or too short)\n");
		rc = EXIT_LEASE_INVALID;
		goto out;
	}
	if (dot && b64url_decode(dot + 1, strlen(dot + 1), &foot, &foot_len) < 0) {
		fprintf(stderr, "calyx: lease invalid: malformed token footer (bad base64url)\n");
		rc = EXIT_LEASE_INVALID;
		goto out;
	}
	/* Drop the signature: it is not checked here, which the first line says. */
	size_t plen = body_len - PASETO_SIG_BYTES;
	body[plen] = '\0';

	printf("UNVERIFIED (signature not checked; use 'calyx lease verify')\n");
	if (foot) {
		printf("footer: ");
		print_printable(stdout, foot, foot_len);
	}
	if (lease_from_json((const char *)body, plen, &l, err, sizeof(err)) == 0) {
		char *d = lease_describe(&l);
		if (d) {
			fputs(d, stdout);
			if (d[0] && d[strlen(d) - 1] != '\n')
				fputc('\n', stdout);
		}
		free(d);
		lease_free(&l);
		rc = EXIT_OK;
		goto out;
	}
	fprintf(stderr, "calyx: warning: the claims are not a valid lease: %s\n", err);
	cJSON *j = cJSON_ParseWithLength((const char *)body, plen);
	char *pretty = j ? cJSON_Print(j) : NULL;
	if (pretty) {
		printf("raw claims:\n%s\n", pretty);
	} else {
		printf("raw payload (not JSON):\n");
		print_printable(stdout, body, plen);
	}
	free(pretty);
	cJSON_Delete(j);
	rc = EXIT_LEASE_INVALID;
out:
	free(tok);
	free(body);
	free(foot);
	return rc;
}
