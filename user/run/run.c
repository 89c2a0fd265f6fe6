/* `calyx run`, the CP20 sandbox runner (flow and decisions in docs/run.md):
 *
 *   verify lease + matrix → argv match → resolve binaries → state dir writable →
 *   SVF lease_event.verified → enforcement backend picked and the enforcer loaded →
 *   ledger consumed (only now: a host that cannot enforce never burns a lease) →
 *   cgroup + maps → child started inside the cgroup → supervise (logs, limits, events) →
 *   kill + clean up → artifacts → SVF exec_event.completed.
 *
 * Every exit after resources exist goes through runner_teardown(), so no cgroup or map
 * entry is left behind on any path. */
#include "run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "state/artifacts.h"
#include "sentinel/events.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/paserk.h"
#include "enforce/landlock.h"
#include "state/ledger.h"
#include "enforce/loader.h"
#include "policy/pathpat.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawn.h"
#include "state/state.h"
#include "audit/svf.h"
#include "token/verify.h"

#define TICK_MS 50                   /* enforcer_consume + cpu.stat polling period */
#define KILL_WAIT_MS 5000            /* how long a killed cgroup may take to empty */
#define DRAIN_AFTER_EMPTY_MS 2000    /* pipe drain bound once the cgroup is empty */
#define SVF_MAX_DENIAL_RECORDS 64    /* per run and class; the rest is counted */
#define MAX_EXEC_RULES LEASE_MAX_COMMANDS
#define LIVE_CHECK_MS 3000           /* how long the enforcer may take to report the child's fork */
#define STATE_RUNNERS_DIR "run"      /* STATE/run/<run name>.json: one record per runner at work */
#define RUNNERS_LOCK_MS 30000

enum run_status { ST_OK = 0, ST_FAILED, ST_TIMEOUT, ST_LIMIT };
static const char *const status_names[] = { "ok", "failed", "timeout", "limit" };

struct runner {
	const struct run_opts *o;
	const char *state;
	char svf_path[PATH_MAX];
	char runs_dir[PATH_MAX];

	struct matrix m;
	bool have_m;
	struct lease l;
	bool have_l;
	int cmd_index;
	char binary[PATH_MAX];               /* resolved file of the command run */

	struct exec_rule exec[MAX_EXEC_RULES];
	size_t n_exec;
	struct path_rule *paths;
	size_t n_paths;
	struct limits eff;

	enum enforce_backend backend;
	char backend_why[512];
	char cg_mount[PATH_MAX];
	struct sandbox_parent parent;
	struct enforcer *enf;
	struct landlock_plan *ll;
	char ll_desc[256];

	uint32_t run_no;
	char run_name[128];
	struct sandbox_cgroup cg;
	bool sandbox_added;
	struct sandbox_cg_limits cgl;
	struct run_dir rd;
	FILE *events;
	int sigfd;
	sigset_t oldmask;
	bool mask_set;

	/* collected during the run */
	int64_t mono_to_real_ns;
	struct event_counts counts;
	pid_t child_pid;
	bool pidns;
	bool started;                        /* exec_event.started logged: artifacts are owed */
	struct calyx_event main_exit;
	bool have_main_exit;
	cJSON *svf_denials;                  /* array of {type, data} queued for the audit log */
	uint64_t svf_denials_omitted;
	uint64_t per_class_logged[DENY_CLASS_COUNT];
	int consume_err;
	bool live_seen;                      /* the enforcer reported a fork in our sandbox */
	bool completed;                      /* exec_event.completed is in the audit log */

	/* STATE/run/<run name>.json, locked (LOCK_EX) for as long as we live: what a later
	 * sweep needs to finish this run should we die without finishing it. */
	char rec_path[PATH_MAX + 256];
	int rec_fd;
};

static int say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("calyx: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void verbose(const struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verbose(const struct runner *r, const char *fmt, ...)
{
	if (!r->o->verbose)
		return;
	va_list ap;
	fputs("calyx: run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void now_rfc3339(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	svf_format_ts(ts.tv_sec, ts.tv_nsec, out);
}

static void runner_teardown(struct runner *r)
{
	char err[512];
	/* Kill and empty the cgroup before its map entries go and before its links are
	 * unpinned: no task of the sandbox ever runs without its rules. */
	bool empty = true;
	if (r->cg.fd >= 0 || r->cg.created) {
		if (sandbox_cgroup_destroy(&r->cg, err, sizeof(err)) < 0) {
			say(0, "cleanup: %s", err);
			empty = false;
		}
	}
	if (r->enf && empty) {
		if (r->sandbox_added) {
			enforcer_remove_sandbox(r->enf, r->cg.cgid);
			r->sandbox_added = false;
		}
		if (enforcer_unpin(r->enf, err, sizeof(err)) < 0)
			say(0, "cleanup: %s", err);
	} else if (r->enf) {
		/* Tasks may be left: the links stay pinned until a later run's sweep has
		 * emptied the cgroup. enforcer_close removes the sandbox's map entry, so the
		 * programs deny those tasks everything (an orphan under our parent). */
		say(0, "cleanup: the enforcer stays pinned in %s until a later calyx run sweeps the cgroup",
		    enforcer_pin_dir(r->enf));
	}
	enforcer_close(r->enf);
	r->enf = NULL;
	if (sandbox_parent_remove(&r->parent, err, sizeof(err)) < 0)
		say(0, "cleanup: %s", err);
	landlock_plan_free(r->ll);
	r->ll = NULL;
	if (r->events) {
		fclose(r->events);
		r->events = NULL;
	}
	if (!r->started)
		run_dir_discard(&r->rd);   /* nothing ran: no half-empty run directory */
	run_dir_close(&r->rd);
	if (r->sigfd >= 0) {
		close(r->sigfd);
		r->sigfd = -1;
	}
	if (r->mask_set) {
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		r->mask_set = false;
	}
	cJSON_Delete(r->svf_denials);
	r->svf_denials = NULL;
	free(r->paths);
	r->paths = NULL;
	if (r->have_l)
		lease_free(&r->l);
	r->have_l = false;
	if (r->have_m)
		matrix_free(&r->m);
	r->have_m = false;
	if (r->rec_fd >= 0) {
		/* Kept (for the sweep) only when the run started and its completion record
		 * could not be written: the next run's sweep will write it. */
		if (!r->started || r->completed)
			unlink(r->rec_path);
		close(r->rec_fd);   /* drops the lock */
		r->rec_fd = -1;
	}
}

/* ---- step 1: lease and matrix ---- */

static int load_and_verify(struct runner *r)
{
	const struct run_opts *o = r->o;
	char err[PATH_MAX + 512];
	uint8_t pk[PASERK_PK_BYTES];
	int rc;

	if (o->pub_file) {
		rc = keyfile_read_public(o->pub_file, pk, err, sizeof(err));
		if (rc < 0)
			return say(rc == -EINVAL ? EXIT_CONFIG : EXIT_IO, "%s", err);
	}
	rc = o->matrix_file ? matrix_load_file(o->matrix_file, &r->m, err, sizeof(err))
			    : matrix_load_shipped(&r->m, err, sizeof(err));
	if (rc < 0) {
		matrix_free(&r->m);
		return say(rc == -EINVAL ? EXIT_CONFIG : EXIT_IO, "capability matrix: %s", err);
	}
	r->have_m = true;
	if (o->pub_file) {
		char *pid = paserk_k4_pid(pk);
		bool known = pid && matrix_find_key(&r->m, pid);
		free(pid);
		if (!known && matrix_trust_key(&r->m, "--pub", pk) < 0)
			return say(EXIT_CONFIG, "capability matrix: cannot add the --pub key");
	}
	/* The real clock, always: a test hook that moves time must never revive an expired
	 * lease for a command that really runs. */
	int64_t now = (int64_t)time(NULL);
	int64_t skew = (int64_t)(r->m.clock_skew_ms / 1000);
	/* --pub alone: that key must have signed (a wrong key is an invalid lease);
	 * with --matrix the signer must be one the matrix (plus --pub) trusts. */
	const uint8_t *want_pk = (o->pub_file && !o->matrix_file) ? pk : NULL;
	rc = verify_lease_file(o->lease_file, want_pk, &r->m, now, skew, &r->l, err, sizeof(err));
	switch (rc) {
	case EXIT_OK:
		r->have_l = true;
		break;
	case EXIT_LEASE_INVALID:
		return say(rc, "lease invalid: %s", err);
	case EXIT_LEASE_MATRIX:
		return say(rc, "lease outside the capability matrix: %s", err);
	case EXIT_IO:
		return say(rc, "%s", err);
	default:
		return say(rc, "lease: %s", err);
	}
	if (!r->m.exec_staging_with_lease)
		return say(EXIT_LEASE_MATRIX,
			   "lease outside the capability matrix: capability exec_staging_with_lease is disabled in %s",
			   r->m.source ? r->m.source : "the matrix");
	return 0;
}

/* ---- step 2: command and binaries ---- */

/* Resolve argv0 like execvp would in the sandbox: a name with '/' as is, else the first
 * executable regular file along SANDBOX_PATH. Then canonicalise. 0 or -errno. */
static int resolve_program(const char *argv0, char out[PATH_MAX], struct stat *st)
{
	char cand[PATH_MAX];
	if (strchr(argv0, '/')) {
		if (!realpath(argv0, out))
			return -errno;
	} else {
		const char *p = SANDBOX_PATH;
		bool found = false;
		while (*p && !found) {
			const char *colon = strchr(p, ':');
			size_t dl = colon ? (size_t)(colon - p) : strlen(p);
			if (dl && snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, p, argv0) < (int)sizeof(cand)) {
				struct stat cs;
				if (stat(cand, &cs) == 0 && S_ISREG(cs.st_mode) && (cs.st_mode & 0111))
					found = true;
			}
			p += dl + (colon ? 1 : 0);
		}
		if (!found)
			return -ENOENT;
		if (!realpath(cand, out))
			return -errno;
	}
	if (stat(out, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111))
		return -EACCES;
	return 0;
}

/* A lease binary is allowed by dev+ino+path, and an in-place edit keeps all three: so only
 * a file whose contents no one but root can change may be one. Refused (reason in why):
 * not owned by root; group- or world-writable; under one of the lease's :rw paths (the
 * sandbox itself could rewrite it); a directory on the way up to / not owned by root, or
 * group/world-writable without the sticky bit: whoever can write it decides which file
 * the lease's path names (a rename puts any file they can reach there, also a root-owned
 * one, before our stat; after it the exec rule's inode refuses the swap, so the run only
 * fails). A sticky root-owned directory (/tmp) passes: others can add entries but not
 * remove or rename root's. 0 safe, 1 unsafe, -errno. */
static int binary_unsafe(const struct runner *r, const char *real, const struct stat *st,
			 char *why, size_t wlen)
{
	if (st->st_uid != 0) {
		snprintf(why, wlen, "it is owned by uid %ju, not root", (uintmax_t)st->st_uid);
		return 1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, wlen, "it is %s-writable (mode %04o)",
			 st->st_mode & S_IWOTH ? "world" : "group", (unsigned)(st->st_mode & 07777));
		return 1;
	}
	char err[256];
	for (size_t i = 0; i < r->l.n_paths; i++) {
		if (r->l.paths[i].access != ACCESS_RW)
			continue;
		struct pathpat pat;
		/* A pattern that does not resolve fails the run later (step 8, exit 66); here it
		 * cannot admit anything. */
		if (pathpat_parse(r->l.paths[i].pattern, matrix_root_lookup, (void *)&r->m, &pat, err,
				  sizeof(err)) < 0)
			continue;
		if (pathpat_match(&pat, real)) {
			snprintf(why, wlen, "it lies under the lease's :rw path %s (the sandbox could rewrite it)",
				 r->l.paths[i].pattern);
			return 1;
		}
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", real);
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		struct stat ds;
		if (lstat(dir, &ds) < 0)
			return -errno;
		if (ds.st_uid != 0) {
			snprintf(why, wlen, "its directory %s is owned by uid %ju, not root", dir,
				 (uintmax_t)ds.st_uid);
			return 1;
		}
		if ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX)) {
			snprintf(why, wlen, "its directory %s is %s-writable without the sticky bit (mode %04o)",
				 dir, ds.st_mode & S_IWOTH ? "world" : "group", (unsigned)(ds.st_mode & 07777));
			return 1;
		}
		if (!strcmp(dir, "/"))
			break;
	}
	return 0;
}

static bool exec_rule_has(const struct runner *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n_exec; i++)
		if (r->exec[i].dev == dev && r->exec[i].ino == ino)
			return true;
	return false;
}

/* A #! script runs its interpreter: that file must be a lease binary too. */
static int check_script_interpreter(struct runner *r)
{
	int fd = open(r->binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;   /* unreadable for us: the kernel decides at exec */
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n] = '\0';
	char *s = buf + 2;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strcspn(s, " \t\n");
	s[len] = '\0';
	char real[PATH_MAX];
	struct stat st;
	if (!*s || !realpath(s, real) || stat(real, &st) < 0)
		return say(EXIT_CMD_NOT_ALLOWED, "command not allowed: interpreter %s of script %s not found",
			   *s ? s : "(none)", r->binary);
	if (!exec_rule_has(r, st.st_dev, st.st_ino))
		return say(EXIT_CMD_NOT_ALLOWED,
			   "command not allowed: %s is a script for %s, which is not one of the lease's commands",
			   r->binary, real);
	return 0;
}

static void argv_render(char *const *argv, size_t argc, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < argc && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

static int match_and_resolve(struct runner *r)
{
	const struct run_opts *o = r->o;
	char shown[512];
	r->cmd_index = lease_match_command(&r->l, o->argv, (size_t)o->argc);
	if (r->cmd_index < 0) {
		argv_render(o->argv, (size_t)o->argc, shown, sizeof(shown));
		return say(EXIT_CMD_NOT_ALLOWED, "command not allowed: '%s' is not one of the lease's commands",
			   shown);
	}
	/* Exec rules: argv[0] of every lease command (interpreters named in the lease). */
	for (size_t i = 0; i < r->l.n_commands; i++) {
		const char *a0 = r->l.commands[i].argv[0];
		char real[PATH_MAX];
		struct stat st;
		int rc = resolve_program(a0, real, &st);
		if ((int)i == r->cmd_index) {
			if (rc < 0)
				return say(EXIT_CMD_NOT_ALLOWED, "command not allowed: binary not found: %s (%s; PATH=%s)",
					   a0, strerror(-rc), SANDBOX_PATH);
			snprintf(r->binary, sizeof(r->binary), "%s", real);
		}
		if (rc < 0) {
			verbose(r, "lease command %s: not found, no exec rule", a0);
			continue;
		}
		if (strlen(real) >= CALYX_PATH_MAX)
			return say(EXIT_CMD_NOT_ALLOWED,
				   "command not allowed: %s resolves to a path longer than the enforcer's %d bytes",
				   a0, CALYX_PATH_MAX - 1);
		char why[PATH_MAX + 128];
		int u = binary_unsafe(r, real, &st, why, sizeof(why));
		if (u < 0)
			return say(EXIT_CMD_NOT_ALLOWED, "command not allowed: lease binary %s: checking its directories: %s",
				   real, strerror(-u));
		if (u > 0)
			return say(EXIT_CMD_NOT_ALLOWED,
				   "command not allowed: lease binary %s could be changed by someone other than root: %s",
				   real, why);
		if (exec_rule_has(r, st.st_dev, st.st_ino) || r->n_exec >= MAX_EXEC_RULES)
			continue;
		struct exec_rule *e = &r->exec[r->n_exec++];
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		snprintf(e->path, sizeof(e->path), "%s", real);
		verbose(r, "exec rule %s (dev %#jx ino %ju)", real, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	}
	return check_script_interpreter(r);
}

/* ---- state dir ---- */

static int probe_writable(const char *dir)
{
	char p[PATH_MAX];
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	if (snprintf(p, sizeof(p), "%s/.calyx-probe-%02x%02x%02x%02x", dir, rnd[0], rnd[1], rnd[2], rnd[3])
	    >= (int)sizeof(p))
		return -ENAMETOOLONG;
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(p);
	return 0;
}

static int check_state(struct runner *r)
{
	static const char *const subs[] = { STATE_RUNS_DIR, STATE_SVF_DIR, STATE_LEDGER_DIR };
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int rc = state_mkdirs(r->state, subs[i]);
		if (rc == 0) {
			snprintf(p, sizeof(p), "%s/%s", r->state, subs[i]);
			rc = probe_writable(p);
		}
		if (rc < 0)
			return say(EXIT_IO, "state dir %s: %s is not writable: %s", r->state, subs[i], strerror(-rc));
	}
	snprintf(r->svf_path, sizeof(r->svf_path), "%s/%s", r->state, STATE_SVF_LOG);
	snprintf(r->runs_dir, sizeof(r->runs_dir), "%s/%s", r->state, STATE_RUNS_DIR);
	return 0;
}

static int audit(struct runner *r, const char *type, cJSON *data)
{
	char err[PATH_MAX + 256];
	int rc = svf_append_one(r->svf_path, type, r->l.jti, r->l.intent, data, err, sizeof(err));
	cJSON_Delete(data);
	if (rc < 0)
		return say(EXIT_IO, "audit log: %s", err);
	return 0;
}

static cJSON *argv_json(char *const *argv, size_t argc)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < argc; i++) {
		char *s = json_safe_strn(argv[i], strlen(argv[i]));
		cJSON_AddItemToArray(a, cJSON_CreateString(s ? s : ""));
		free(s);
	}
	return a;
}

/* ---- step 1b: enforcement ---- */

static int pick_enforcement(struct runner *r)
{
	enum enforce_backend req = r->o->enforce, need = r->m.enforcement;
	if (need != ENFORCE_AUTO && req != ENFORCE_AUTO && req != need)
		return say(EXIT_ENFORCE_UNAVAILABLE,
			   "enforcement unavailable: the capability matrix requires %s, --enforce %s refused",
			   enforce_backend_name(need), enforce_backend_name(req));
	if (need != ENFORCE_AUTO)
		req = need;
	char why[512] = "";
	int rc = enforcer_pick_backend(req, &r->backend, why, sizeof(why));
	if (rc < 0)
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s: %s; nothing was run",
			   enforce_backend_name(req), why[0] ? why : strerror(-rc));
	if (r->backend != ENFORCE_BPF_LSM && r->backend != ENFORCE_LANDLOCK)
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: no backend chosen (%s); nothing was run",
			   why[0] ? why : "unknown");
	snprintf(r->backend_why, sizeof(r->backend_why), "%s", why);
	verbose(r, "backend %s: %s", enforce_backend_name(r->backend), why);
	return 0;
}

static int build_path_rules(struct runner *r)
{
	char err[512];
	size_t n = r->l.n_paths + r->m.n_baseline;
	r->paths = calloc(n ? n : 1, sizeof(*r->paths));
	if (!r->paths)
		return say(EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < r->l.n_paths; i++) {
		struct path_rule *p = &r->paths[r->n_paths];
		if (pathpat_parse(r->l.paths[i].pattern, matrix_root_lookup, &r->m, &p->pat, err, sizeof(err)) < 0)
			return say(EXIT_LEASE_MATRIX, "lease outside the capability matrix: path '%s': %s",
				   r->l.paths[i].pattern, err);
		p->access = r->l.paths[i].access;
		r->n_paths++;
	}
	for (size_t i = 0; i < r->m.n_baseline; i++) {
		struct path_rule *p = &r->paths[r->n_paths];
		if (pathpat_parse(r->m.baseline[i], matrix_root_lookup, &r->m, &p->pat, err, sizeof(err)) < 0)
			return say(EXIT_CONFIG, "capability matrix: runtime_baseline '%s': %s", r->m.baseline[i], err);
		p->access = ACCESS_RO;
		r->n_paths++;
	}
	return 0;
}

/* Everything that can fail for lack of kernel support happens here, before the ledger. */
static int load_enforcer(struct runner *r)
{
	char err[1024];
	int rc;
	char pname[128];
	snprintf(pname, sizeof(pname), "%s-%d", r->l.jti, (int)getpid());
	rc = sandbox_parent_create(r->cg_mount, pname, &r->parent, err, sizeof(err));
	if (rc < 0)
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: sandbox parent cgroup: %s", err);
	if (r->backend == ENFORCE_LANDLOCK) {
		rc = landlock_prepare(r->paths, r->n_paths, r->exec, r->n_exec, r->l.network, &r->ll,
				      err, sizeof(err));
		if (rc < 0)
			return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: landlock: %s", err);
		landlock_plan_describe(r->ll, r->ll_desc, sizeof(r->ll_desc));
	}
	struct enforcer_opts eo = {
		.backend = r->backend,
		.parent_cgid = r->parent.cgid,
		.parent_level = r->parent.level,
		.verbose = r->o->verbose,
		/* A SIGKILLed runner's fds close before the death signal reaches the sandbox:
		 * pinned, the links outlive us until the sandbox is gone. */
		.pin_name = pname,
	};
	rc = enforcer_open(&r->enf, &eo, err, sizeof(err));
	if (rc < 0) {
		r->enf = NULL;
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s: %s; nothing was run",
			   enforce_backend_name(r->backend), err);
	}
	return 0;
}

/* ---- events ---- */

static void on_event(const struct calyx_event *ev, void *ctx)
{
	struct runner *r = ctx;
	if (ev->sandbox_cgid != r->cg.cgid)
		return;   /* another sandbox served by the same programs */
	if (ev->type == CALYX_EV_FORK)
		r->live_seen = true;
	event_count(&r->counts, ev);
	if (ev->type == CALYX_EV_EXIT && (pid_t)ev->tgid == r->child_pid) {
		r->main_exit = *ev;
		r->have_main_exit = true;
	}
	cJSON *j = event_to_json(ev, r->mono_to_real_ns);
	if (j) {
		char *s = cJSON_PrintUnformatted(j);
		if (s && r->events) {
			fputs(s, r->events);
			fputc('\n', r->events);
		}
		free(s);
	}
	const char *svf_type = event_svf_type(ev);
	int dc = event_deny_class(ev);
	if (svf_type && j && dc >= 0) {
		if (r->per_class_logged[dc] < SVF_MAX_DENIAL_RECORDS) {
			r->per_class_logged[dc]++;
			cJSON *q = cJSON_CreateObject();
			cJSON_AddStringToObject(q, "type", svf_type);
			cJSON_AddItemToObject(q, "data", j);
			cJSON_AddItemToArray(r->svf_denials, q);
			j = NULL;
		} else {
			r->svf_denials_omitted++;
		}
	}
	cJSON_Delete(j);
}

static void consume(struct runner *r)
{
	if (!r->enf)
		return;
	int rc = enforcer_consume(r->enf, on_event, r);
	if (rc < 0 && !r->consume_err)
		r->consume_err = rc;
	/* Out of stdio's buffer every tick: a runner killed mid-run leaves the records up
	 * to its last tick in events.jsonl for the sweep's abandoned run. */
	if (rc > 0 && r->events)
		fflush(r->events);
}

/* ---- supervision ---- */

struct outcome {
	enum run_status status;
	const char *violation;       /* limit name that was exceeded, or NULL */
	int interrupted_by;          /* signal that stopped the runner */
	bool exited;
	int exit_code;               /* -1 unless exited normally */
	int signal;                  /* 0 unless killed */
	struct rusage ru;
	bool have_ru;
	int spawn_stage, spawn_errno;
	int64_t start_mono, end_mono;
	char start[32], end[32];
	struct capped_log out, err;
	bool cpu_polled;
};

static void set_violation(struct runner *r, struct outcome *oc, enum run_status st, const char *what)
{
	if (oc->status == ST_TIMEOUT || oc->status == ST_LIMIT || oc->interrupted_by)
		return;   /* the first reason to stop is the one recorded */
	oc->status = st;
	oc->violation = what;
	sandbox_cgroup_kill(&r->cg);
	verbose(r, "%s: killing the sandbox", what);
}

static int arm_timer(int fd, uint64_t first_ms, uint64_t period_ms)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ms / 1000), (long)(first_ms % 1000) * 1000000 },
		.it_interval = { (time_t)(period_ms / 1000), (long)(period_ms % 1000) * 1000000 },
	};
	return timerfd_settime(fd, 0, &its, NULL);
}

/* Echo to our own stdout/stderr, best effort: never block the supervision loop on a
 * slow or stalled reader (the wall clock must still fire). The log is authoritative. */
static void forward(int fd, const char *buf, size_t n)
{
	while (n) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
			return;
		size_t chunk = n < PIPE_BUF ? n : PIPE_BUF;
		ssize_t w = write(fd, buf, chunk);
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

static void drain_fd(int *fd, struct capped_log *cl, int echo_fd, struct runner *r, struct outcome *oc)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	uint64_t before = cl->written;
	int rc = capped_log_write(cl, buf, (size_t)n);
	if (rc < 0)
		say(0, "writing output log: %s", strerror(-rc));
	forward(echo_fd, buf, (size_t)(cl->written - before));
	if (cl->truncated)
		set_violation(r, oc, ST_LIMIT, "output_bytes");
}

static int supervise(struct runner *r, struct sandbox_child *c, struct outcome *oc)
{
	int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int wall = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tick < 0 || wall < 0 || arm_timer(tick, TICK_MS, TICK_MS) < 0) {
		int e = errno;
		if (tick >= 0)
			close(tick);
		if (wall >= 0)
			close(wall);
		sandbox_cgroup_kill(&r->cg);
		return say(EXIT_INTERNAL, "timerfd: %s", strerror(e));
	}
	/* Unarmed, the command would run past its wall-clock limit: stop it instead. */
	if (r->eff.set[LIMIT_WALL] && r->eff.v[LIMIT_WALL] > 0 && arm_timer(wall, r->eff.v[LIMIT_WALL], 0) < 0) {
		int e = errno;
		close(tick);
		close(wall);
		sandbox_cgroup_kill(&r->cg);
		return say(EXIT_INTERNAL, "timerfd (wall_ms): %s", strerror(e));
	}
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	int outfd = c->out_fd, errfd = c->err_fd;
	c->out_fd = c->err_fd = -1;
	bool reaped = false;
	int64_t empty_since = -1;

	while (!reaped || outfd >= 0 || errfd >= 0) {
		struct pollfd p[6] = {
			{ .fd = outfd, .events = POLLIN },
			{ .fd = errfd, .events = POLLIN },
			{ .fd = reaped ? -1 : c->pidfd, .events = POLLIN },
			{ .fd = tick, .events = POLLIN },
			{ .fd = wall, .events = POLLIN },
			{ .fd = r->sigfd, .events = POLLIN },
		};
		int n = poll(p, 6, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sandbox_cgroup_kill(&r->cg);
			break;
		}
		if (p[0].revents)
			drain_fd(&outfd, &oc->out, STDOUT_FILENO, r, oc);
		if (p[1].revents)
			drain_fd(&errfd, &oc->err, STDERR_FILENO, r, oc);
		if (p[5].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !oc->interrupted_by) {
				say(0, "run: received %s, killing the sandbox", strsignal((int)si.ssi_signo));
				oc->interrupted_by = (int)si.ssi_signo;
				sandbox_cgroup_kill(&r->cg);
			}
		}
		if (p[4].revents & POLLIN) {
			uint64_t x;
			if (read(wall, &x, sizeof(x)) > 0)
				set_violation(r, oc, ST_TIMEOUT, "wall_ms");
		}
		if (p[2].revents & POLLIN) {
			int status;
			if (wait4(c->pid, &status, WNOHANG, &oc->ru) == c->pid) {
				reaped = true;
				oc->have_ru = true;
				if (WIFEXITED(status)) {
					oc->exited = true;
					oc->exit_code = WEXITSTATUS(status);
				} else if (WIFSIGNALED(status)) {
					oc->signal = WTERMSIG(status);
				}
				/* The command is done: whatever it left running (daemonized
				 * grandchildren) goes with it. */
				sandbox_cgroup_kill(&r->cg);
			}
		}
		if (p[3].revents & POLLIN) {
			uint64_t x;
			if (read(tick, &x, sizeof(x)) < 0 && errno != EAGAIN)
				break;
			/* The BPF side submits without wake-ups: poll the ring buffer here. */
			consume(r);
			uint64_t usec;
			if (r->eff.set[LIMIT_CPU] && sandbox_cgroup_cpu_usec(&r->cg, &usec) == 0) {
				oc->cpu_polled = true;
				if (usec / 1000 > r->eff.v[LIMIT_CPU])
					set_violation(r, oc, ST_LIMIT, "cpu_ms");
			}
			if (reaped) {
				/* Bound the drain: once the cgroup is empty nobody can hold the
				 * pipes, but never hang on a kernel that disagrees. */
				int pop = sandbox_cgroup_populated(&r->cg);
				if (pop == 0 && empty_since < 0)
					empty_since = mono_ns();
				if (pop != 0)
					sandbox_cgroup_kill(&r->cg);
				if (empty_since >= 0 && mono_ns() - empty_since > (int64_t)DRAIN_AFTER_EMPTY_MS * 1000000)
					break;
			}
		}
	}
	if (outfd >= 0)
		close(outfd);
	if (errfd >= 0)
		close(errfd);
	close(tick);
	close(wall);
	return 0;
}

/* ---- artifacts ---- */

static cJSON *limits_json(const struct limits *l)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (l->set[k])
			cJSON_AddNumberToObject(o, limit_claim_name((enum limit_kind)k), (double)l->v[k]);
		else
			cJSON_AddNullToObject(o, limit_claim_name((enum limit_kind)k));
	}
	return o;
}

static cJSON *enforced_json(const struct runner *r, const struct outcome *oc)
{
	cJSON *o = cJSON_CreateObject();
	const struct limits *l = &r->eff;
	char buf[200];
	(void)oc;
	cJSON_AddStringToObject(o, "wall_ms", l->set[LIMIT_WALL] ? "runner timerfd, then cgroup.kill" : "no limit set");
	if (!l->set[LIMIT_CPU])
		snprintf(buf, sizeof(buf), "no limit set");
	else if (r->cgl.cpu_stat)
		snprintf(buf, sizeof(buf), "runner polls cgroup cpu.stat usage_usec every %d ms, then cgroup.kill", TICK_MS);
	else
		snprintf(buf, sizeof(buf), "not enforced: cpu.stat not readable in the sandbox cgroup");
	cJSON_AddStringToObject(o, "cpu_ms", buf);
	cJSON_AddStringToObject(o, "mem_bytes", r->cgl.mem_how);
	cJSON_AddStringToObject(o, "pids", r->cgl.pids_how);
	cJSON_AddStringToObject(o, "output_bytes", l->set[LIMIT_OUTPUT]
				? "runner caps stdout.log and stderr.log each, then cgroup.kill" : "no limit set");
	return o;
}

static cJSON *resources_json(const struct runner *r, const struct outcome *oc)
{
	cJSON *o = cJSON_CreateObject();
	if (r->have_main_exit) {
		const struct calyx_event *e = &r->main_exit;
		cJSON_AddStringToObject(o, "source", "bpf sched_process_exit record of the main process");
		cJSON_AddNumberToObject(o, "cpu_ms", (double)(e->cpu_ns / 1000000));
		cJSON_AddNumberToObject(o, "maxrss_kb", (double)e->maxrss_kb);
		cJSON_AddNumberToObject(o, "min_flt", (double)e->min_flt);
		cJSON_AddNumberToObject(o, "maj_flt", (double)e->maj_flt);
		cJSON_AddNumberToObject(o, "nvcsw", (double)e->nvcsw);
		cJSON_AddNumberToObject(o, "nivcsw", (double)e->nivcsw);
		cJSON_AddNumberToObject(o, "read_bytes", (double)e->read_bytes);
		cJSON_AddNumberToObject(o, "write_bytes", (double)e->write_bytes);
	} else if (oc->have_ru) {
		const struct rusage *u = &oc->ru;
		cJSON_AddStringToObject(o, "source", "wait4 rusage of the main process (no exit record)");
		cJSON_AddNumberToObject(o, "cpu_ms",
			(double)((u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1000 +
				 (u->ru_utime.tv_usec + u->ru_stime.tv_usec) / 1000));
		cJSON_AddNumberToObject(o, "maxrss_kb", (double)u->ru_maxrss);
		cJSON_AddNumberToObject(o, "min_flt", (double)u->ru_minflt);
		cJSON_AddNumberToObject(o, "maj_flt", (double)u->ru_majflt);
		cJSON_AddNumberToObject(o, "nvcsw", (double)u->ru_nvcsw);
		cJSON_AddNumberToObject(o, "nivcsw", (double)u->ru_nivcsw);
		cJSON_AddNumberToObject(o, "read_bytes", (double)u->ru_inblock * 512);
		cJSON_AddNumberToObject(o, "write_bytes", (double)u->ru_oublock * 512);
	} else {
		cJSON_AddStringToObject(o, "source", "none (the command never ran)");
	}
	uint64_t usec;
	if (r->cg.fd >= 0 && sandbox_cgroup_cpu_usec((struct sandbox_cgroup *)&r->cg, &usec) == 0)
		cJSON_AddNumberToObject(o, "cgroup_cpu_ms", (double)(usec / 1000));
	return o;
}

static cJSON *denials_json(const struct event_counts *c)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < DENY_CLASS_COUNT; k++)
		cJSON_AddNumberToObject(o, deny_class_name((enum deny_class)k), (double)c->denials[k]);
	return o;
}

static int runner_exit_code(const struct outcome *oc)
{
	if (oc->interrupted_by)
		return 128 + oc->interrupted_by;
	if (oc->status == ST_TIMEOUT)
		return EXIT_TIMEOUT;
	if (oc->status == ST_LIMIT)
		return EXIT_LIMIT;
	if (oc->spawn_stage == SB_STAGE_EXEC)
		return oc->spawn_errno == ENOENT ? 127 : 126;
	if (oc->spawn_stage == SB_STAGE_CONFINE || oc->spawn_stage == SB_STAGE_LIVE)
		return EXIT_ENFORCE_UNAVAILABLE;
	if (oc->spawn_stage)
		return EXIT_INTERNAL;
	if (oc->exited)
		return oc->exit_code;
	if (oc->signal)
		return 128 + oc->signal;
	return EXIT_INTERNAL;
}

static cJSON *meta_json(struct runner *r, struct outcome *oc, int exit_rc, uint64_t dropped)
{
	char err[256];
	cJSON *m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schema", 1);
	cJSON_AddStringToObject(m, "lease", r->l.jti);
	cJSON_AddStringToObject(m, "intent", r->l.intent);
	cJSON_AddNumberToObject(m, "run", r->run_no);
	cJSON_AddNumberToObject(m, "runs_allowed", r->l.runs);
	cJSON_AddItemToObject(m, "argv", argv_json(r->o->argv, (size_t)r->o->argc));
	cJSON_AddStringToObject(m, "binary", r->binary);
	cJSON_AddStringToObject(m, "start", oc->start);
	cJSON_AddStringToObject(m, "end", oc->end);
	cJSON_AddNumberToObject(m, "duration_ms", (double)((oc->end_mono - oc->start_mono) / 1000000));
	if (oc->exited)
		cJSON_AddNumberToObject(m, "exit_code", oc->exit_code);
	else
		cJSON_AddNullToObject(m, "exit_code");
	if (oc->signal)
		cJSON_AddNumberToObject(m, "signal", oc->signal);
	else
		cJSON_AddNullToObject(m, "signal");
	cJSON_AddNumberToObject(m, "calyx_exit_code", exit_rc);
	cJSON_AddStringToObject(m, "status", status_names[oc->status]);
	if (oc->violation)
		cJSON_AddStringToObject(m, "violation", oc->violation);
	else
		cJSON_AddNullToObject(m, "violation");
	if (oc->interrupted_by)
		cJSON_AddStringToObject(m, "interrupted_by", sigabbrev_np(oc->interrupted_by));
	if (oc->spawn_stage) {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", sandbox_stage_name(oc->spawn_stage), strerror(oc->spawn_errno));
		cJSON_AddStringToObject(m, "start_error", why);
	}

	cJSON *enf = cJSON_AddObjectToObject(m, "enforcement");
	struct utsname u;
	uname(&u);
	cJSON_AddStringToObject(enf, "backend", enforce_backend_name(r->backend));
	cJSON_AddStringToObject(enf, "requested", enforce_backend_name(r->o->enforce));
	cJSON_AddStringToObject(enf, "matrix_requires", enforce_backend_name(r->m.enforcement));
	cJSON_AddStringToObject(enf, "reason", r->backend_why);
	cJSON_AddStringToObject(enf, "kernel", u.release);   /* kernel release (uname -r) */
	if (r->ll)
		cJSON_AddStringToObject(enf, "landlock", r->ll_desc);
	cJSON_AddStringToObject(enf, "cgroup", r->cg.path);
	cJSON_AddNumberToObject(enf, "cgroup_id", (double)r->cg.cgid);
	cJSON_AddNumberToObject(enf, "exec_rules", (double)r->n_exec);
	cJSON_AddNumberToObject(enf, "path_rules", (double)r->n_paths);
	cJSON_AddStringToObject(enf, "network", "deny_all");
	cJSON_AddBoolToObject(enf, "pid_namespace", r->pidns);
	cJSON *ra = cJSON_AddObjectToObject(m, "run_as");
	cJSON_AddNumberToObject(ra, "uid", r->m.run_as_uid);
	cJSON_AddNumberToObject(ra, "gid", r->m.run_as_gid);

	cJSON *lim = cJSON_AddObjectToObject(m, "limits");
	cJSON_AddItemToObject(lim, "effective", limits_json(&r->eff));
	cJSON_AddItemToObject(lim, "enforced", enforced_json(r, oc));
	uint64_t ooms, pmax;
	sandbox_cgroup_violations(&r->cg, &ooms, &pmax);
	cJSON_AddNumberToObject(lim, "oom_kills", (double)ooms);
	cJSON_AddNumberToObject(lim, "pids_max_hits", (double)pmax);

	cJSON_AddItemToObject(m, "denials", denials_json(&r->counts));
	cJSON_AddNumberToObject(m, "events", (double)r->counts.records);
	cJSON_AddNumberToObject(m, "dropped_events", (double)dropped);
	if (r->consume_err) {
		snprintf(err, sizeof(err), "ring buffer: %s", strerror(-r->consume_err));
		cJSON_AddStringToObject(m, "events_error", err);
	}
	cJSON_AddItemToObject(m, "resources", resources_json(r, oc));

	cJSON *art = cJSON_AddObjectToObject(m, "artifacts");
	static const char *const files[] = { "stdout.log", "stderr.log", "events.jsonl", "exit_code.txt" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char hex[ARTIFACT_HASH_HEX + 1];
		uint64_t bytes;
		if (artifact_hash_file(r->rd.fd, files[i], hex, &bytes) < 0)
			continue;
		cJSON *f = cJSON_AddObjectToObject(art, files[i]);
		cJSON_AddNumberToObject(f, "bytes", (double)bytes);
		cJSON_AddStringToObject(f, "blake2b", hex);
		const struct capped_log *cl = i == 0 ? &oc->out : i == 1 ? &oc->err : NULL;
		if (cl) {
			cJSON_AddNumberToObject(f, "bytes_produced", (double)cl->seen);
			cJSON_AddBoolToObject(f, "truncated", cl->truncated);
		}
	}
	return m;
}

/* ---- cgroup scope, runner records and the sweep of dead runners ---- */

/* The enforcer's scope check uses an absolute cgroup level computed from the path below
 * the v2 mount: refuse to run where that level cannot be right (cgroup namespace, mount
 * not showing the hierarchy root) rather than confine nothing. Nothing is made yet. */
static int check_cgroup_scope(struct runner *r)
{
	char err[PATH_MAX + 256];
	int rc = sandbox_cgroup2_root_mount(r->cg_mount, sizeof(r->cg_mount), err, sizeof(err));
	if (rc < 0)
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s; nothing was run", err);
	verbose(r, "cgroup v2 hierarchy root at %s (initial cgroup namespace)", r->cg_mount);
	return 0;
}

/* Polled by sandbox_spawn while the child waits before exec. */
static int live_check(void *ctx)
{
	struct runner *r = ctx;
	consume(r);
	if (r->live_seen)
		return 1;
	return r->consume_err < 0 ? r->consume_err : 0;
}

/* STATE/run, made if needed, opened and locked (every writer and sweeper of records). */
static int runners_dir_lock(const struct runner *r, char *dir, size_t dirlen)
{
	int rc = state_mkdirs(r->state, STATE_RUNNERS_DIR);
	if (rc < 0)
		return rc;
	snprintf(dir, dirlen, "%s/%s", r->state, STATE_RUNNERS_DIR);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = sandbox_flock_timed(fd, RUNNERS_LOCK_MS);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Written once the lease is consumed, before the run directory exists. The file is locked
 * before it gets its name (the lock follows the inode through the rename), and named under
 * the directory lock, so a sweep never sees it unlocked while we live. */
static int record_write(struct runner *r, const char *tmp_name, const char *cgname)
{
	char dir[PATH_MAX], start[32], tmp[160 + 16];
	int dfd = runners_dir_lock(r, dir, sizeof(dir));
	if (dfd < 0)
		return say(EXIT_IO, "state dir %s: %s: %s", r->state, STATE_RUNNERS_DIR, strerror(-dfd));
	now_rfc3339(start);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "schema", 1);
	cJSON_AddNumberToObject(j, "runner_pid", (double)getpid());
	cJSON_AddStringToObject(j, "lease", r->l.jti);
	cJSON_AddStringToObject(j, "intent", r->l.intent);
	cJSON_AddNumberToObject(j, "run", r->run_no);
	cJSON_AddNumberToObject(j, "runs_allowed", r->l.runs);
	cJSON_AddStringToObject(j, "run_dir", r->run_name);
	cJSON_AddStringToObject(j, "run_dir_tmp", tmp_name);
	cJSON_AddItemToObject(j, "argv", argv_json(r->o->argv, (size_t)r->o->argc));
	cJSON_AddStringToObject(j, "binary", r->binary);
	cJSON_AddStringToObject(j, "backend", enforce_backend_name(r->backend));
	char cg[PATH_MAX + 40];
	snprintf(cg, sizeof(cg), "%s/%s", r->parent.path, cgname);
	cJSON_AddStringToObject(j, "cgroup", cg);
	cJSON_AddStringToObject(j, "start", start);
	char *txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	int rc = 0, fd = -1;
	snprintf(tmp, sizeof(tmp), ".%s.json.tmp", r->run_name);
	snprintf(r->rec_path, sizeof(r->rec_path), "%s/%s.json", dir, r->run_name);
	if (!txt) {
		rc = -ENOMEM;
		goto out;
	}
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || (rc = fileio_write_all(fd, txt, strlen(txt))) < 0 ||
	    fileio_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0 ||
	    renameat2(dfd, tmp, dfd, strrchr(r->rec_path, '/') + 1, RENAME_NOREPLACE) < 0 || fsync(dfd) < 0) {
		if (!rc)
			rc = -errno;
		if (fd >= 0)
			close(fd);
		unlinkat(dfd, tmp, 0);
		fd = -1;
		goto out;
	}
	r->rec_fd = fd;
out:
	free(txt);
	close(dfd);   /* drops the directory lock; the record stays locked by rec_fd */
	if (rc < 0)
		return say(EXIT_IO, "runner record %s: %s", r->rec_path, strerror(-rc));
	return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return v ? v : "";
}

static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Hashes of the files a dead runner left in its run directory (logs, events). */
static cJSON *artifacts_present(int dirfd)
{
	cJSON *art = cJSON_CreateObject();
	static const char *const files[] = { "stdout.log", "stderr.log", "events.jsonl", "exit_code.txt" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char hex[ARTIFACT_HASH_HEX + 1];
		uint64_t bytes;
		if (artifact_hash_file(dirfd, files[i], hex, &bytes) < 0)
			continue;
		cJSON *f = cJSON_AddObjectToObject(art, files[i]);
		cJSON_AddNumberToObject(f, "bytes", (double)bytes);
		cJSON_AddStringToObject(f, "blake2b", hex);
	}
	return art;
}

/* meta.json of a run whose runner died: what is known, status "abandoned". */
static cJSON *abandoned_meta(const cJSON *rec, const struct svf_run_state *st, int dirfd, const char *now)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddNumberToObject(m, "schema", 1);
	cJSON_AddStringToObject(m, "lease", jstr(rec, "lease"));
	cJSON_AddStringToObject(m, "intent", jstr(rec, "intent"));
	cJSON_AddNumberToObject(m, "run", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "run")));
	cJSON_AddNumberToObject(m, "runs_allowed",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "runs_allowed")));
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(rec, "argv");
	cJSON_AddItemToObject(m, "argv", cJSON_IsArray(argv) ? cJSON_Duplicate(argv, 1) : cJSON_CreateArray());
	cJSON_AddStringToObject(m, "binary", jstr(rec, "binary"));
	cJSON_AddStringToObject(m, "start", st->started_ts[0] ? st->started_ts : jstr(rec, "start"));
	cJSON_AddNullToObject(m, "end");
	cJSON_AddNullToObject(m, "duration_ms");
	cJSON_AddNullToObject(m, "exit_code");
	cJSON_AddNullToObject(m, "signal");
	cJSON_AddNullToObject(m, "calyx_exit_code");
	cJSON_AddStringToObject(m, "status", "abandoned");
	cJSON_AddNullToObject(m, "violation");
	cJSON *ab = cJSON_AddObjectToObject(m, "abandoned");
	cJSON_AddNumberToObject(ab, "runner_pid",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "runner_pid")));
	cJSON_AddStringToObject(ab, "reason",
				"the runner ended (killed or crashed) without finishing the run; its sandbox died "
				"with it (PID namespace) or was killed by the sweep");
	cJSON_AddStringToObject(ab, "detected", now);
	cJSON_AddNumberToObject(ab, "swept_by_pid", (double)getpid());
	cJSON *enf = cJSON_AddObjectToObject(m, "enforcement");
	cJSON_AddStringToObject(enf, "backend", jstr(rec, "backend"));
	cJSON_AddStringToObject(enf, "cgroup", jstr(rec, "cgroup"));
	cJSON_AddItemToObject(m, "artifacts", artifacts_present(dirfd));
	return m;
}

/* Finish one dead runner's run from its record. 0 when the record can go. */
static int finish_abandoned(struct runner *r, const cJSON *rec, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *intent = jstr(rec, "intent");
	const char *final = jstr(rec, "run_dir"), *tmp = jstr(rec, "run_dir_tmp");
	const cJSON *rn = cJSON_GetObjectItemCaseSensitive(rec, "run");
	if (!*lease || !plain_name(final) || final[0] == '.' || !plain_name(tmp) || tmp[0] != '.' ||
	    !cJSON_IsNumber(rn) || rn->valuedouble < 1 || rn->valuedouble > UINT32_MAX) {
		snprintf(err, errlen, "malformed record");
		return -EBADMSG;
	}
	uint32_t run = (uint32_t)rn->valuedouble;
	struct svf_run_state st;
	int rc = svf_find_run(r->svf_path, lease, run, &st, err, errlen);
	if (rc < 0)
		return rc;
	if (st.completed)
		return 0;   /* died after its completion record: nothing is owed */

	struct run_dir rd;
	memset(&rd, 0, sizeof(rd));
	rd.fd = -1;
	rd.parent_fd = open(r->runs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rd.parent_fd < 0) {
		snprintf(err, errlen, "%s: %s", r->runs_dir, strerror(errno));
		return -errno;
	}
	snprintf(rd.final_name, sizeof(rd.final_name), "%s", final);
	snprintf(rd.tmp_name, sizeof(rd.tmp_name), "%s", tmp);
	rd.fd = openat(rd.parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (!st.started) {
		/* Died before exec_event.started: nothing ran. Like its own teardown would. */
		run_dir_discard(&rd);
		run_dir_close(&rd);
		return 0;
	}

	char now[32], meta_hash[ARTIFACT_HASH_HEX + 1] = "";
	now_rfc3339(now);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", run);
	struct stat fst;
	if (rd.fd >= 0) {
		cJSON *meta = abandoned_meta(rec, &st, rd.fd, now);
		char *txt = cJSON_Print(meta);
		cJSON_Delete(meta);
		uint64_t bytes;
		size_t len = txt ? strlen(txt) : 0;
		char *withnl = txt ? realloc(txt, len + 2) : NULL;
		if (!withnl) {
			free(txt);
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		withnl[len] = '\n';
		withnl[len + 1] = '\0';
		rc = artifact_write_atomic(rd.fd, "meta.json", withnl, len + 1, 0640, err, errlen);
		free(withnl);
		if (rc == 0)
			rc = artifact_hash_file(rd.fd, "meta.json", meta_hash, &bytes);
		if (rc == 0)
			rc = run_dir_commit(&rd, err, errlen);
		if (rc < 0)
			goto out;
		cJSON_AddStringToObject(d, "status", "abandoned");
		cJSON_AddNullToObject(d, "exit_code");
		cJSON_AddNullToObject(d, "signal");
		cJSON_AddNullToObject(d, "calyx_exit_code");
		cJSON_AddNullToObject(d, "duration_ms");
		cJSON_AddStringToObject(d, "run_dir", final);
		cJSON_AddStringToObject(d, "meta_blake2b", meta_hash);
	} else if (fstatat(rd.parent_fd, final, &fst, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Died between renaming its run directory into place and its completion
		 * record: the run finished and its meta.json says how. */
		char buf[65536];
		ssize_t n = -1;
		int dfd = openat(rd.parent_fd, final, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		int mfd = dfd >= 0 ? openat(dfd, "meta.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
		if (mfd >= 0) {
			n = read(mfd, buf, sizeof(buf) - 1);
			close(mfd);
		}
		cJSON *meta = n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
		const char *stv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "status"));
		cJSON_AddStringToObject(d, "status", stv ? stv : "abandoned");
		static const char *const keep[] = { "exit_code", "signal", "calyx_exit_code", "violation",
						    "duration_ms", "denials", "dropped_events" };
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keep[i]);
			cJSON_AddItemToObject(d, keep[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
		}
		cJSON_Delete(meta);
		cJSON_AddStringToObject(d, "run_dir", final);
		uint64_t bytes;
		if (dfd >= 0 && artifact_hash_file(dfd, "meta.json", meta_hash, &bytes) == 0)
			cJSON_AddStringToObject(d, "meta_blake2b", meta_hash);
		if (dfd >= 0)
			close(dfd);
	} else {
		cJSON_AddStringToObject(d, "status", "abandoned");
		cJSON_AddNullToObject(d, "exit_code");
		cJSON_AddNullToObject(d, "signal");
		cJSON_AddNullToObject(d, "calyx_exit_code");
		cJSON_AddNullToObject(d, "duration_ms");
		cJSON_AddStringToObject(d, "run_dir", "");   /* its run directory is gone */
	}
	cJSON_AddNumberToObject(d, "runner_pid",
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "runner_pid")));
	cJSON_AddStringToObject(d, "completed_by", "sweep");
	rc = svf_append_one(r->svf_path, "exec_event.completed", lease, intent, d, err, errlen);
out:
	cJSON_Delete(d);
	run_dir_close(&rd);
	return rc;
}

/* What killed runners left: their cgroups (host-wide) and, in this state dir, their
 * unfinished runs. Best effort: a failure is reported and retried by the next run. */
static void sweep(struct runner *r)
{
	char err[PATH_MAX + 512], dir[PATH_MAX];
	unsigned n = 0, np = 0;
	int rc = sandbox_sweep_stale(r->cg_mount, &n, &np, err, sizeof(err));
	if (rc < 0)
		say(0, "sweep: stale cgroups: %s", err);
	if (n || np)
		verbose(r, "sweep: removed %u stale runner cgroup%s, unpinned %u dead enforcer%s", n,
			n == 1 ? "" : "s", np, np == 1 ? "" : "s");

	int dfd = runners_dir_lock(r, dir, sizeof(dir));
	if (dfd < 0) {
		say(0, "sweep: %s/%s: %s", r->state, STATE_RUNNERS_DIR, strerror(-dfd));
		return;
	}
	DIR *d = fileio_fdopendir_dup(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		bool is_tmp = e->d_name[0] == '.' && len > 9 && !strcmp(e->d_name + len - 9, ".json.tmp");
		bool is_rec = e->d_name[0] != '.' && len > 5 && !strcmp(e->d_name + len - 5, ".json");
		if (!is_tmp && !is_rec)
			continue;
		int fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		/* A live runner holds this lock until it has finished its run. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			continue;
		}
		if (is_tmp) {
			/* Died while writing its record: before its run directory existed. */
			unlinkat(dfd, e->d_name, 0);
			close(fd);
			continue;
		}
		char buf[65536];
		ssize_t got = read(fd, buf, sizeof(buf) - 1);
		cJSON *rec = got > 0 ? cJSON_ParseWithLength(buf, (size_t)got) : NULL;
		rc = rec ? finish_abandoned(r, rec, err, sizeof(err)) : -EBADMSG;
		if (!rec)
			snprintf(err, sizeof(err), "unreadable record");
		if (rc == 0) {
			unlinkat(dfd, e->d_name, 0);
			verbose(r, "sweep: finished the run of %s (runner pid %.0f)", jstr(rec, "lease"),
				cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec, "runner_pid")));
		} else {
			say(0, "sweep: %s/%s: %s", dir, e->d_name, err);
		}
		cJSON_Delete(rec);
		close(fd);
	}
	closedir(d);
	fsync(dfd);
	close(dfd);
}

/* ---- the run ---- */

/* PATH, HOME, LANG, TZ, then the lease's env names that are set in our environment. */
static char **build_env(const struct runner *r)
{
	size_t n = 4 + r->l.n_env + 1, k = 0;
	char **env = calloc(n, sizeof(char *));
	if (!env)
		return NULL;
	const char *fixed[][2] = {
		{ "PATH", SANDBOX_PATH }, { "HOME", "/nonexistent" }, { "LANG", "C.UTF-8" }, { "TZ", "UTC" },
	};
	for (size_t i = 0; i < 4; i++) {
		const char *v = fixed[i][1];
		/* The lease may pass LANG or TZ through; PATH and HOME stay fixed (PATH is how
		 * the lease's binaries were resolved). */
		for (size_t j = 0; j < r->l.n_env && i >= 2; j++)
			if (strcmp(r->l.env[j], fixed[i][0]) == 0 && getenv(fixed[i][0]))
				v = getenv(fixed[i][0]);
		if (asprintf(&env[k++], "%s=%s", fixed[i][0], v) < 0)
			goto oom;
	}
	for (size_t j = 0; j < r->l.n_env; j++) {
		const char *name = r->l.env[j];
		const char *v = getenv(name);
		if (!v || !strcmp(name, "PATH") || !strcmp(name, "HOME") || !strcmp(name, "LANG") ||
		    !strcmp(name, "TZ"))
			continue;
		if (asprintf(&env[k++], "%s=%s", name, v) < 0)
			goto oom;
	}
	return env;
oom:
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int open_log(struct runner *r, const char *name)
{
	return openat(r->rd.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
}

/* Write the queued denials and the completion record in one locked session. */
static int audit_completion(struct runner *r, const struct outcome *oc, int exit_rc, uint64_t dropped,
			    const char *meta_hash)
{
	char err[PATH_MAX + 256];
	struct svf_writer *w;
	int rc = svf_open(r->svf_path, &w, err, sizeof(err));
	if (rc < 0)
		return say(EXIT_IO, "audit log: %s", err);
	const cJSON *q;
	cJSON_ArrayForEach(q, r->svf_denials) {
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "type"));
		rc = svf_append(w, type, r->l.jti, r->l.intent, cJSON_GetObjectItemCaseSensitive(q, "data"),
				err, sizeof(err));
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "run", r->run_no);
		cJSON_AddStringToObject(d, "status", status_names[oc->status]);
		if (oc->exited)
			cJSON_AddNumberToObject(d, "exit_code", oc->exit_code);
		else
			cJSON_AddNullToObject(d, "exit_code");
		if (oc->signal)
			cJSON_AddNumberToObject(d, "signal", oc->signal);
		else
			cJSON_AddNullToObject(d, "signal");
		cJSON_AddNumberToObject(d, "calyx_exit_code", exit_rc);
		if (oc->violation)
			cJSON_AddStringToObject(d, "violation", oc->violation);
		cJSON_AddNumberToObject(d, "duration_ms", (double)((oc->end_mono - oc->start_mono) / 1000000));
		cJSON_AddItemToObject(d, "denials", denials_json(&r->counts));
		/* Lost records are marked in the chain, never silent. */
		cJSON_AddNumberToObject(d, "dropped_events", (double)dropped);
		cJSON_AddNumberToObject(d, "denials_not_logged_individually", (double)r->svf_denials_omitted);
		cJSON_AddStringToObject(d, "run_dir", r->run_name);
		if (meta_hash)
			cJSON_AddStringToObject(d, "meta_blake2b", meta_hash);
		rc = svf_append(w, "exec_event.completed", r->l.jti, r->l.intent, d, err, sizeof(err));
		cJSON_Delete(d);
	}
	/* The append is one write(): once it returned, the record is in the file. */
	if (rc == 0)
		r->completed = true;
	int rc2 = svf_close(w);
	if (rc < 0)
		return say(EXIT_IO, "audit log: %s", err);
	if (rc2 < 0)
		return say(EXIT_IO, "audit log: %s: %s", r->svf_path, strerror(-rc2));
	return 0;
}

static int finish_artifacts(struct runner *r, struct outcome *oc, int exit_rc, uint64_t dropped,
			    char meta_hash[ARTIFACT_HASH_HEX + 1])
{
	char err[PATH_MAX + 256], buf[32];
	int rc;
	if (r->events) {
		bool bad = fflush(r->events) != 0 || ferror(r->events) || fsync(fileno(r->events)) < 0;
		fclose(r->events);
		r->events = NULL;
		if (bad)
			return say(EXIT_IO, "events.jsonl: %s", strerror(errno));
	}
	if ((oc->out.fd >= 0 && fsync(oc->out.fd) < 0) || (oc->err.fd >= 0 && fsync(oc->err.fd) < 0))
		return say(EXIT_IO, "output logs: fsync: %s", strerror(errno));
	snprintf(buf, sizeof(buf), "%d\n", exit_rc);
	if (artifact_write_atomic(r->rd.fd, "exit_code.txt", buf, strlen(buf), 0640, err, sizeof(err)) < 0)
		return say(EXIT_IO, "artifacts: %s", err);
	cJSON *meta = meta_json(r, oc, exit_rc, dropped);
	char *txt = meta ? cJSON_Print(meta) : NULL;
	cJSON_Delete(meta);
	if (!txt)
		return say(EXIT_INTERNAL, "meta.json: out of memory");
	size_t len = strlen(txt);
	char *withnl = realloc(txt, len + 2);
	if (!withnl) {
		free(txt);
		return say(EXIT_INTERNAL, "meta.json: out of memory");
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	rc = artifact_write_atomic(r->rd.fd, "meta.json", withnl, len + 1, 0640, err, sizeof(err));
	free(withnl);
	if (rc < 0)
		return say(EXIT_IO, "artifacts: %s", err);
	uint64_t bytes;
	artifact_hash_file(r->rd.fd, "meta.json", meta_hash, &bytes);
	if (run_dir_commit(&r->rd, err, sizeof(err)) < 0)
		return say(EXIT_IO, "artifacts: %s", err);
	return 0;
}

static int run_sandbox(struct runner *r)
{
	char err[PATH_MAX + 512];
	int rc;

	/* An interrupt that came in while we were verifying and loading: stop before the
	 * lease is burned. */
	struct pollfd ip = { .fd = r->sigfd, .events = POLLIN };
	if (poll(&ip, 1, 0) > 0) {
		struct signalfd_siginfo si;
		int sig = read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo : SIGINT;
		return say(128 + sig, "run: interrupted by %s before the start; the lease was not used",
			   strsignal(sig));
	}
	/* The lease is burned only now: verified, command allowed, state writable and
	 * enforcement loaded. */
	rc = ledger_consume(r->state, r->l.jti, r->l.runs, &r->run_no);
	if (rc == -EALREADY)
		return say(EXIT_LEASE_REPLAYED, "lease replayed: %s has already been used (%u run%s allowed)",
			   r->l.jti, r->l.runs, r->l.runs == 1 ? "" : "s");
	if (rc < 0)
		return say(EXIT_IO, "ledger in %s: %s", r->state, strerror(-rc));
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", r->run_no);
	cJSON_AddNumberToObject(d, "runs_allowed", r->l.runs);
	if ((rc = audit(r, "lease_event.consumed", d)))
		return rc;

	if (r->l.runs > 1)
		snprintf(r->run_name, sizeof(r->run_name), "%s-r%u", r->l.jti, r->run_no);
	else
		snprintf(r->run_name, sizeof(r->run_name), "%s", r->l.jti);
	char cgname[32];
	snprintf(cgname, sizeof(cgname), "r%u", r->run_no);
	char tmp_name[sizeof(r->rd.tmp_name)];
	snprintf(tmp_name, sizeof(tmp_name), ".%s.tmp-%d", r->run_name, (int)getpid());
	/* Before anything a dead runner would leave behind exists. */
	if ((rc = record_write(r, tmp_name, cgname)))
		return rc;
	if (run_dir_create(r->runs_dir, r->run_name, &r->rd, err, sizeof(err)) < 0)
		return say(EXIT_IO, "run directory: %s", err);
	if (strcmp(r->rd.tmp_name, tmp_name) != 0)
		return say(EXIT_INTERNAL, "run directory: temp name %s, recorded %s", r->rd.tmp_name, tmp_name);
	if (sandbox_cgroup_create(r->parent.path, cgname, &r->cg, err, sizeof(err)) < 0)
		return say(EXIT_INTERNAL, "sandbox cgroup: %s", err);
	if (sandbox_cgroup_limits(&r->cg, &r->eff, &r->cgl, err, sizeof(err)) < 0)
		return say(EXIT_INTERNAL, "sandbox limits: %s", err);
	struct sandbox_rules sr = {
		.cgid = r->cg.cgid,
		.cgroup_fd = r->cg.fd,
		.exec = r->exec, .n_exec = r->n_exec,
		.paths = r->paths, .n_paths = r->n_paths,
		.network = r->l.network,
	};
	if (enforcer_add_sandbox(r->enf, &sr, err, sizeof(err)) < 0)
		return say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: filling the rules: %s", err);
	r->sandbox_added = true;

	struct outcome oc;
	memset(&oc, 0, sizeof(oc));
	oc.exit_code = -1;
	oc.out.fd = open_log(r, "stdout.log");
	oc.err.fd = open_log(r, "stderr.log");
	int evfd = open_log(r, "events.jsonl");
	r->events = evfd >= 0 ? fdopen(evfd, "w") : NULL;
	if (oc.out.fd < 0 || oc.err.fd < 0 || !r->events) {
		int e = errno;
		if (oc.out.fd >= 0)
			close(oc.out.fd);
		if (oc.err.fd >= 0)
			close(oc.err.fd);
		if (!r->events && evfd >= 0)
			close(evfd);
		return say(EXIT_IO, "run directory: %s", strerror(e));
	}
	oc.out.cap = oc.err.cap = r->eff.set[LIMIT_OUTPUT] ? r->eff.v[LIMIT_OUTPUT] : UINT64_MAX;

	char **env = build_env(r);
	if (!env) {
		close(oc.out.fd);
		close(oc.err.fd);
		return say(EXIT_INTERNAL, "out of memory");
	}
	d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "argv", argv_json(r->o->argv, (size_t)r->o->argc));
	cJSON_AddStringToObject(d, "binary", r->binary);
	cJSON_AddStringToObject(d, "backend", enforce_backend_name(r->backend));
	cJSON_AddStringToObject(d, "backend_reason", r->backend_why);
	cJSON_AddStringToObject(d, "cgroup", r->cg.path);
	cJSON_AddNumberToObject(d, "run", r->run_no);
	if ((rc = audit(r, "exec_event.started", d))) {
		free_env(env);
		close(oc.out.fd);
		close(oc.err.fd);
		return rc;
	}
	r->started = true;

	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t mono = mono_ns();
	r->mono_to_real_ns = ((int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec) - mono;
	oc.start_mono = mono;
	now_rfc3339(oc.start);

	struct sandbox_confine conf = { .landlock = r->ll };
	uid_t uid = r->m.run_as_uid;
	gid_t gid = r->m.run_as_gid;
	struct sandbox_spawn sp = {
		.path = r->binary,
		.argv = r->o->argv,
		.envp = env,
		.cgroup_fd = r->cg.fd,
		.drop_privs = !(getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid),
		.uid = uid,
		.gid = gid,
		.confine = &conf,
		.new_pidns = true,
		.live_check = live_check,
		.live_ctx = r,
		.live_timeout_ms = LIVE_CHECK_MS,
	};
	struct sandbox_child c;
	int stage = 0, cerr = 0;
	/* A signal that arrived while we were setting up: don't start anything. */
	struct pollfd sp_poll = { .fd = r->sigfd, .events = POLLIN };
	if (poll(&sp_poll, 1, 0) > 0) {
		struct signalfd_siginfo si;
		if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			oc.interrupted_by = (int)si.ssi_signo;
		rc = -EINTR;
	} else {
		rc = sandbox_spawn(&sp, &c, &stage, &cerr, err, sizeof(err));
	}
	free_env(env);
	if (rc < 0 && rc != -EINTR) {
		/* Recorded like any other run (artifacts, completion record): exec_event.started
		 * is already in the audit log. */
		oc.status = ST_FAILED;
		oc.spawn_stage = stage ? stage : SB_STAGE_SETUP;
		oc.spawn_errno = stage ? cerr : -rc;
		say(0, "run: starting %s: %s", r->binary, err);
	} else if (rc == -EINTR) {
		oc.status = ST_FAILED;
	} else {
		r->child_pid = c.pid;
		r->pidns = c.pidns;
		verbose(r, "started %s as pid %d in %s%s", r->binary, (int)c.pid, r->cg.path,
			c.clone3 ? " (clone3)" : " (fork + cgroup.procs)");
		rc = supervise(r, &c, &oc);
		close(c.pidfd);
		if (rc) {
			close(oc.out.fd);
			close(oc.err.fd);
			return rc;
		}
		if (oc.status == ST_OK && !(oc.exited && oc.exit_code == 0))
			oc.status = ST_FAILED;
		if (oc.interrupted_by && oc.status == ST_OK)
			oc.status = ST_FAILED;
	}
	oc.end_mono = mono_ns();
	now_rfc3339(oc.end);

	/* Empty the cgroup, then the last records. */
	sandbox_cgroup_kill(&r->cg);
	if (sandbox_cgroup_wait_empty(&r->cg, KILL_WAIT_MS) < 0)
		say(0, "run: sandbox cgroup %s did not empty after kill", r->cg.path);
	consume(r);
	uint64_t ooms, pmax;
	sandbox_cgroup_violations(&r->cg, &ooms, &pmax);
	if (ooms && oc.status != ST_TIMEOUT && !oc.interrupted_by) {
		oc.status = ST_LIMIT;
		oc.violation = "mem_bytes";
	}
	uint64_t dropped = enforcer_dropped(r->enf);
	int exit_rc = runner_exit_code(&oc);

	char meta_hash[ARTIFACT_HASH_HEX + 1] = "";
	rc = finish_artifacts(r, &oc, exit_rc, dropped, meta_hash);
	close(oc.out.fd);
	close(oc.err.fd);
	int arc = audit_completion(r, &oc, exit_rc, dropped, rc ? NULL : meta_hash);
	if (rc)
		return rc;
	if (arc)
		return arc;
	if (oc.status == ST_TIMEOUT)
		say(0, "run: %s: killed at the wall-clock limit (%" PRIu64 " ms)", r->l.jti, r->eff.v[LIMIT_WALL]);
	else if (oc.status == ST_LIMIT)
		say(0, "run: %s: killed for exceeding %s", r->l.jti, oc.violation);
	verbose(r, "artifacts in %s/%s", r->runs_dir, r->run_name);
	return exit_rc;
}

int runner_run(const struct run_opts *o)
{
	struct runner r;
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.cg.fd = -1;
	r.rd.fd = r.rd.parent_fd = -1;
	r.sigfd = -1;
	r.rec_fd = -1;
	int rc;

	if (!o->lease_file || !*o->lease_file)
		return say(EXIT_USAGE, "run: --lease is required");
	if (!o->argv || o->argc < 1 || !o->argv[0] || !*o->argv[0])
		return say(EXIT_USAGE, "run: no command given after --");
	if (sodium_init() < 0)
		return say(EXIT_INTERNAL, "libsodium initialisation failed");
	r.state = state_dir_resolve(o->state_dir);

	/* Signals are taken through a signalfd from here on so that every exit path,
	 * including an interrupt, runs the teardown. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, &r.oldmask) == 0)
		r.mask_set = true;
	r.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.sigfd < 0) {
		rc = say(EXIT_INTERNAL, "signalfd: %s", strerror(errno));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	if ((rc = load_and_verify(&r)))
		goto out;
	if ((rc = match_and_resolve(&r)))
		goto out;
	if ((rc = check_state(&r)))
		goto out;
	if ((rc = check_cgroup_scope(&r)))
		goto out;
	sweep(&r);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "iss", r.l.iss);
	cJSON_AddNumberToObject(d, "exp", (double)r.l.exp);
	cJSON_AddStringToObject(d, "matrix", r.m.source ? r.m.source : "");
	cJSON_AddNumberToObject(d, "command", r.cmd_index);
	if ((rc = audit(&r, "lease_event.verified", d)))
		goto out;
	matrix_effective_limits(&r.m, &r.l, &r.eff);
	if ((rc = pick_enforcement(&r)))
		goto out;
	if ((rc = build_path_rules(&r)))
		goto out;
	if ((rc = load_enforcer(&r)))
		goto out;
	r.svf_denials = cJSON_CreateArray();
	rc = run_sandbox(&r);
out:
	runner_teardown(&r);
	return rc;
}
