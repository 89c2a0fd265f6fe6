/* The values of calyx's options, checked as they are parsed: what each option of each
 * subcommand accepts (the tables of options are cli.c). Pure, like cli.c. */
#include "cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/units.h"
#include "policy/lease.h"
#include "policy/pathpat.h"

static bool env_name_ok(const char *s)
{
	if (!s[0] || !(isupper((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return strlen(s) <= 128;
}

static int parse_seconds(const char *opt, const char *v, bool zero_ok, uint64_t *out_s,
			 char *err, size_t errlen)
{
	uint64_t ms;
	if (zero_ok && strcmp(v, "0") == 0) {
		*out_s = 0;
		return 0;
	}
	/* "--ttl 5" could mean 5 seconds or 5 minutes: a number alone is refused, not guessed. */
	if (v[0] && strspn(v, "0123456789") == strlen(v))
		return errmsg(err, errlen, -EINVAL,
			      "bad --%s '%s': a number needs a unit (%ss? %sm?): give it as 90s, 5m, 2h or 1d",
			      opt, v, v, v);
	int rc = units_parse_duration_ms(v, &ms);
	if (rc == -ERANGE)
		return errmsg(err, errlen, -EINVAL, "bad --%s '%s': too large", opt, v);
	if (rc < 0)
		return errmsg(err, errlen, -EINVAL,
			      "bad --%s '%s': expected a duration like 90s, 5m or 2h", opt, v);
	if (ms % 1000)
		return errmsg(err, errlen, -EINVAL,
			      "bad --%s '%s': must be a whole number of seconds", opt, v);
	/* Leases carry second-resolution times; anything beyond ~100 years is a typo. */
	if (ms / 1000 > 100ull * 366 * 86400)
		return errmsg(err, errlen, -EINVAL, "bad --%s '%s': too large", opt, v);
	*out_s = ms / 1000;
	return 0;
}

/* --cmd 'ARGV': one more allowed command. */
static int add_cmd(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	char e[256] = "";
	if (o->n_cmds >= LEASE_MAX_COMMANDS)
		return errmsg(err, errlen, -EINVAL,
			      "too many --cmd (at most %d)", LEASE_MAX_COMMANDS);
	struct argv_list a = { 0 };
	if (lease_split_command(v, &a, e, sizeof(e)) < 0) {
		argv_list_free(&a);
		return errmsg(err, errlen, -EINVAL, "bad --cmd '%s': %s", v, e);
	}
	if (a.argc == 0) {
		argv_list_free(&a);
		return errmsg(err, errlen, -EINVAL, "bad --cmd '%s': empty command", v);
	}
	struct argv_list *n = realloc(o->cmds, (o->n_cmds + 1) * sizeof(*n));
	if (!n) {
		argv_list_free(&a);
		return errmsg(err, errlen, -EINVAL, "out of memory");
	}
	o->cmds = n;
	o->cmds[o->n_cmds++] = a;
	return 0;
}

/* --path 'PATTERN[:ro|:rw]': syntax-checked, not resolved (repo:// stays). */
/* --net deny_all | --net allow=CIDR:PORT[/tcp|/udp] (repeatable). The two kinds exclude
 * each other: a lease either has its own empty network or the host's behind the rules. */
static int add_net(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8], perr[200];
	errmsg_quote(q, sizeof q, v, strlen(v));
	if (!strcmp(v, "deny_all")) {
		if (o->n_net_allow)
			return errmsg(err, errlen, -EINVAL, "bad --net deny_all: allow= rules were given too");
		o->net_deny_all_given = true;
		o->network = NET_DENY_ALL;
		return 0;
	}
	if (strncmp(v, "allow=", 6))
		return errmsg(err, errlen, -EINVAL,
			      "bad --net '%s': want deny_all or allow=CIDR:PORT[/tcp|/udp]", q);
	if (o->net_deny_all_given)
		return errmsg(err, errlen, -EINVAL, "bad --net '%s': --net deny_all was given too", q);
	if (o->n_net_allow >= NETRULE_MAX)
		return errmsg(err, errlen, -EINVAL, "bad --net '%s': at most %d allow rules", q, NETRULE_MAX);
	if (netrule_parse(v + 6, &o->net_allow[o->n_net_allow], perr, sizeof perr))
		return errmsg(err, errlen, -EINVAL, "bad --net: %s", perr);
	o->n_net_allow++;
	o->network = NET_ALLOW;
	return 0;
}

static int add_path(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	char e[256] = "";
	if (o->n_paths >= LEASE_MAX_PATHS)
		return errmsg(err, errlen, -EINVAL, "too many --path (at most %d)", LEASE_MAX_PATHS);
	_cleanup_free_ char *pat = NULL;
	int rw = 0;
	if (pathpat_split_access(v, &pat, &rw, e, sizeof(e)) < 0 || pathpat_check(pat, e, sizeof(e)) < 0)
		return errmsg(err, errlen, -EINVAL, "bad --path '%s': %s", v, e);
	for (size_t i = 0; i < o->n_paths; i++)
		if (strcmp(o->paths[i].pattern, pat) == 0)
			return errmsg(err, errlen, -EINVAL, "--path '%s' given more than once", v);
	struct issue_path *n = realloc(o->paths, (o->n_paths + 1) * sizeof(*n));
	if (!n)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	o->paths = n;
	o->paths[o->n_paths].pattern = TAKE_PTR(pat);
	o->paths[o->n_paths].access = rw ? ACCESS_RW : ACCESS_RO;
	o->n_paths++;
	return 0;
}

/* --limit NAME=VALUE[,…]: each limit at most once over all --limit options. */
static int add_limits(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	char e[256] = "";
	struct limits t;
	memset(&t, 0, sizeof(t));
	if (limits_parse_assignments(v, &t, e, sizeof(e)) < 0)
		return errmsg(err, errlen, -EINVAL, "bad --limit '%s': %s", v, e);
	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (!t.set[k])
			continue;
		if (o->limits.set[k])
			return errmsg(err, errlen, -EINVAL,
				      "limit '%s' given more than once", limit_name(k));
		if (t.v[k] == 0)
			return errmsg(err, errlen, -EINVAL,
				      "bad --limit '%s': %s must be greater than 0", v,
				      limit_name(k));
		o->limits.set[k] = true;
		o->limits.v[k] = t.v[k];
	}
	return 0;
}

/* --host NAME=LOG:PUB. The key file is after the last ':' (a log path may hold one, a
 * key path may not); NAME is a host name's characters, each given once. */
static int add_audit_host(struct audit_opts *o, const char *v, char *err, size_t errlen)
{
	const char *eq = strchr(v, '=');
	const char *colon = strrchr(v, ':');
	if (!eq || !colon || colon < eq || eq == v || colon == eq + 1 || !colon[1])
		return errmsg(err, errlen, -EINVAL, "bad --host '%s': expected NAME=LOG:PUB (the log file, then "
			      "the host's audit public key file)", v);
	size_t nl = (size_t)(eq - v);
	if (nl > 64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") != nl)
		return errmsg(err, errlen, -EINVAL, "bad --host '%s': NAME is letters, digits, '.', '-', '_' "
			      "(at most 64)", v);
	for (size_t i = 0; i < o->n_hosts; i++)
		if (strlen(o->hosts[i].name) == nl && strncmp(o->hosts[i].name, v, nl) == 0)
			return errmsg(err, errlen, -EINVAL, "bad --host '%s': host %.*s given more than once", v,
				      (int)nl, v);
	if (o->n_hosts >= AUDIT_MAX_HOSTS)
		return errmsg(err, errlen, -EINVAL, "too many --host (at most %d)", AUDIT_MAX_HOSTS);
	struct audit_host *g = realloc(o->hosts, (o->n_hosts + 1) * sizeof(*g));
	if (!g)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	o->hosts = g;
	char *s = strdup(v);
	if (!s)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	s[eq - v] = '\0';
	s[colon - v] = '\0';
	o->hosts[o->n_hosts++] = (struct audit_host){ .spec = s, .name = s, .log = s + (eq - v) + 1,
						      .pub = s + (colon - v) + 1 };
	return 0;
}

/* --env NAME: a variable passed through to the command. */
/* A repeatable string option (--env, --helper): each value once, at most max of them. */
static int add_unique(const char ***list, size_t *n, size_t max, const char *flag, const char *v,
		      char *err, size_t errlen)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i], v) == 0)
			return errmsg(err, errlen, -EINVAL, "%s '%s' given more than once", flag, v);
	if (*n >= max)
		return errmsg(err, errlen, -EINVAL, "too many %s (at most %zu)", flag, max);
	const char **grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	*list = grown;
	(*list)[(*n)++] = v;
	return 0;
}

static int add_env(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	if (!env_name_ok(v))
		return errmsg(err, errlen, -EINVAL,
			      "bad --env '%s': not a variable name [A-Z_][A-Z0-9_]*", v);
	return add_unique(&o->env, &o->n_env, LEASE_MAX_ENV, "--env", v, err, errlen);
}

/* --helper PROGRAM: checked again, with the same rule, when the lease is parsed back. */
static int add_helper(struct issue_opts *o, const char *v, char *err, size_t errlen)
{
	if (!v[0])
		return errmsg(err, errlen, -EINVAL, "bad --helper: empty program name");
	return add_unique(&o->helpers, &o->n_helpers, LEASE_MAX_HELPERS, "--helper", v, err,
			  errlen);
}

static int issue_opt(struct issue_opts *o, int id, const char *v, char *err, size_t errlen)
{
	switch (id) {
	case O_KEY:
		o->key_file = v;
		return 0;
	case O_INTENT:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --intent: must not be empty");
		o->intent = v;
		return 0;
	case O_TTL:
		return parse_seconds("ttl", v, false, &o->ttl_s, err, errlen);
	case O_CMD:
		return add_cmd(o, v, err, errlen);
	case O_PATH:
		return add_path(o, v, err, errlen);
	case O_NET:
		return add_net(o, v, err, errlen);
	case O_LIMIT:
		return add_limits(o, v, err, errlen);
	case O_RUNS: {
		uint64_t n;
		if (units_parse_u64(v, &n) < 0 || n < 1 || n > LEASE_MAX_RUNS)
			return errmsg(err, errlen, -EINVAL,
				      "bad --runs '%s': must be an integer from 1 to %d", v,
				      LEASE_MAX_RUNS);
		o->runs = (uint32_t)n;
		return 0;
	}
	case O_ENV:
		return add_env(o, v, err, errlen);
	case O_HELPER:
		return add_helper(o, v, err, errlen);
	case O_AUD:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --aud: empty name");
		o->aud = v;
		return 0;
	case O_CWD:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --cwd: empty directory name");
		o->cwd = v;
		return 0;
	case O_OUTPUT:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --output: empty file name");
		o->out_file = v;
		return 0;
	case O_MATRIX:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --matrix: empty file name");
		o->matrix_file = v;
		return 0;
	}
	return errmsg(err, errlen, -EINVAL, "internal: unhandled option");
}

/* audit show: the values are matched exactly against the records, so only what could
 * never match is refused here; --since needs the clock and is checked when run. */
static int audit_opt(struct audit_opts *o, int id, const char *v, char *err, size_t errlen)
{
	if (id == O_JSON) {
		o->json = true;
		return 0;
	}
	if (!v[0])
		return errmsg(err, errlen, -EINVAL, "bad --%s: empty value",
			      id == O_STATE ? "state" : id == O_LEASE ? "lease" : id == O_INTENT ? "intent" :
			      id == O_TYPE ? "type" : "since");
	switch (id) {
	case O_STATE: o->state_dir = v; break;
	case O_LEASE: o->lease = v; break;
	case O_INTENT: o->intent = v; break;
	case O_SINCE: o->since = v; break;
	case O_TYPE:
		for (const char *p = v; *p; p++)
			if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '.'))
				return errmsg(err, errlen, -EINVAL,
					      "bad --type '%s': a record type is lower case, digits, '_' and '.' "
					      "(e.g. lease_event.refused or lease_event)", v);
		o->type = v;
		break;
	}
	return 0;
}

int cli_handle_opt(struct cli *c, int id, const char *v, char *err, size_t errlen)
{
	switch (c->cmd) {
	case CLI_KEYGEN:
		if (id == O_OUT) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --out: empty directory name");
			c->keygen.out_dir = v;
		} else if (id == O_FORCE) {
			c->keygen.force = true;
		} else if (id == O_AUDIT) {
			c->keygen.audit = true;
		} else if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->keygen.state_dir = v;
		}
		return 0;
	case CLI_AUDIT_VERIFY:
	case CLI_AUDIT_REPAIR:
		if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->audit.state_dir = v;
		} else if (id == O_PUB) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --pub: empty file name");
			c->audit.pub_file = v;
		} else if (id == O_JSON) {
			c->audit.json = true;
		} else if (id == O_ALLOW_UNSIGNED) {
			c->audit.allow_unsigned_tail = true;
		} else if (id == O_LOG) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --log: empty file name");
			c->audit.log_file = v;
		} else if (id == O_HOST) {
			return add_audit_host(&c->audit, v, err, errlen);
		}
		return 0;
	case CLI_LEASE_ISSUE:
		return issue_opt(&c->issue, id, v, err, errlen);
	case CLI_LEASE_VERIFY:
		if (id == O_PUB) {
			c->verify.pub_file = v;
		} else if (id == O_MATRIX) {
			c->verify.matrix_file = v;
		} else if (id == O_SKEW) {
			uint64_t s;
			int rc = parse_seconds("skew", v, true, &s, err, errlen);
			if (rc < 0)
				return rc;
			if (s > 86400)
				return errmsg(err, errlen, -EINVAL, "bad --skew '%s': at most 1 day", v);
			c->verify.skew_s = (int64_t)s;
			c->verify.skew_set = true;
		} else if (id == O_JSON) {
			c->verify.json = true;
		}
		return 0;
	case CLI_RUN:
		switch (id) {
		case O_LEASE: c->run.lease_file = v; break;
		case O_PUB: c->run.pub_file = v; break;
		case O_MATRIX: c->run.matrix_file = v; break;
		case O_STATE:
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->run.state_dir = v;
			break;
		case O_ENFORCE: {
			int b = enforce_backend_from_name(v);
			if (b < 0)
				return errmsg(err, errlen, -EINVAL,
					      "bad --enforce '%s': expected auto, bpf-lsm or landlock", v);
			c->run.enforce = (enum enforce_backend)b;
			break;
		}
		case O_VERBOSE:
			if (c->run.verbose < 2)   /* -vvv is -vv */
				c->run.verbose++;
			break;
		case O_QUIET: c->run.quiet = true; break;
		case O_FAIL_ON_DENIAL: c->run.fail_on_denial = true; break;
		case O_AUDIT_ONLY: c->run.audit_only = true; break;
		}
		return 0;
	case CLI_ROLLBACK:
		if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->rollback.state_dir = v;
		} else if (id == O_FORCE) {
			c->rollback.force = true;
		}
		return 0;
	case CLI_DOCTOR:
		if (id == O_JSON)
			c->doctor.json = true;
		else if (id == O_VERBOSE)
			c->doctor.verbose = true;
		return 0;
	case CLI_ENFORCER_METRICS:
		if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->enforcer.state_dir = v;
		} else if (id == O_MATRIX) {
			c->enforcer.matrix_file = v;
		} else if (id == O_OUTPUT) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --output: empty file name");
			c->enforcer.out_file = v;
		}
		return 0;
	case CLI_ENFORCER_START:
	case CLI_ENFORCER_STATUS:
	case CLI_ENFORCER_STOP:
		if (id == O_ENFORCE) {
			int b = enforce_backend_from_name(v);
			if (b < 0 || (b == ENFORCE_AUTO && c->cmd != CLI_ENFORCER_START))
				return errmsg(err, errlen, -EINVAL, "bad --enforce '%s': expected %s", v,
					      c->cmd == CLI_ENFORCER_START ? "auto, bpf-lsm or landlock" : "bpf-lsm or landlock");
			c->enforcer.backend = (enum enforce_backend)b;
		} else if (id == O_FORCE) {
			c->enforcer.force = true;
		} else if (id == O_JSON) {
			c->enforcer.json = true;
		} else if (id == O_VERBOSE) {
			if (c->enforcer.verbose < 2)   /* -vvv is -vv */
				c->enforcer.verbose++;
		}
		return 0;
	case CLI_AUDIT_SHOW:
		return audit_opt(&c->audit, id, v, err, errlen);
	case CLI_LEASE_SUGGEST:
		if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->suggest.state_dir = v;
		} else if (id == O_JSON) {
			c->suggest.json = true;
		}
		return 0;
	case CLI_REPORT:
		if (id == O_STATE) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->report.state_dir = v;
		} else if (id == O_OUTPUT) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --output: empty file name");
			c->report.out_file = v;
		}
		return 0;
	default:
		return errmsg(err, errlen, -EINVAL, "internal: no options for this command");
	}
}
