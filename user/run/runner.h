/* Inside `calyx run` (run/): the state of one run, shared by the modules of the flow.
 *   flow.c         the steps in order, teardown (docs/run.md "The flow, in order")
 *   binaries.c     argv match, binary resolution and the lease-binary safety rules
 *   enforcement.c  cgroup scope, backend, path rules, the enforcer loaded
 *   env.c          the child's environment
 *   view.c         the sandbox's mount view: planned, its steps, meta.json's account
 *   seccomp.c      the seccomp baseline: built, its listener answered, summarised
 *   supervise.c    ring-buffer records, the poll loop: output, wall clock, CPU, signals
 *   limits.c       the limits: decided before the ledger, applied to the sandbox's
 *                  cgroups, watched while it runs, violations and the alert log
 *   outcome.c      exit code, meta.json, artifacts and the completion record
 *   report.c       missing lease paths, the fail_on_denial rule, the end-of-run summary
 *   rollback.c     the rollback pack of the :rw paths: measured, packed, compared after
 *   records.c      what the audit log says about the attempt: verified's and refused's
 *                  shared parts, the lease_event.refused record
 * Not for use outside run/: the CLI calls runner_run (run.h). */
#ifndef CALYX_RUNNER_H
#define CALYX_RUNNER_H
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "calyx.h"
#include "enforce/rules.h"
#include "enforce/seccomp.h"
#include "policy/lease.h"
#include "policy/matrix.h"
#include "rollback/manifest.h"
#include "run/run.h"
#include "run/summary.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_v1.h"
#include "sandbox/limits_host.h"
#include "sandbox/mountns.h"
#include "sandbox/spawn.h"
#include "sandbox/view.h"
#include "sentinel/events.h"
#include "sentinel/procs.h"
#include "state/artifacts.h"
#include "state/recovery.h"
#include "token/verify.h"

#define TICK_MS 50                   /* resident_consume + cpu.stat polling period */
_Static_assert(TICK_MS == LIMITS_HOST_POLL_MS, "the cpu mechanism names the tick");
#define KILL_WAIT_MS 5000            /* how long a killed cgroup may take to empty */
#define DRAIN_AFTER_EMPTY_MS 2000    /* pipe drain bound once the cgroup is empty */
#define SVF_MAX_DENIAL_RECORDS 64    /* per run and class; the rest is counted */
#define MAX_EXEC_RULES CALYX_SB_MAX_EXEC      /* commands, helpers, script interpreters */
#define LIVE_CHECK_MS 3000           /* how long the enforcer may take to report the child's fork */

struct landlock_plan;
struct audit_observer;
struct resident;
struct seccomp_notif;
struct seccomp_notif_resp;
struct resident_sandbox;

struct runner {
	const struct run_opts *o;
	const char *state;                   /* as given: --state, CALYX_STATE or the default */
	struct state_place sp;               /* the state dir, open and checked (state/state.h) */
	struct state_place ledger;           /* the host-wide ledger the matrix names */
	char svf_path[PATH_MAX + 64];        /* for messages: the log is opened beneath sp.fd */
	char runs_dir[PATH_MAX + 64];

	struct matrix m;
	bool have_m;
	const char *matrix_path;             /* the matrix file: --matrix, else the host's
					      * (/etc/calyx/...) when there; NULL: shipped */
	struct lease l;
	bool have_l;
	bool verified;                       /* the lease verified (kept after teardown frees it) */
	struct verify_info vi;               /* the token's hash; its claims when refused signed */
	const char *step;                    /* what is being checked: lease_event.refused's step */
	bool consumed;                       /* the ledger counted this run (step 9) */
	bool consumed_logged;                /* and lease_event.consumed is in the log */
	bool consumed_unknown;               /* a group ledger's transaction went unanswered:
					      * it may have counted the run (lease_used null) */
	bool sp_unusable;                    /* the state dir could not be opened or is unsafe:
					      * nowhere to record a refusal */
	int cmd_index;
	char binary[PATH_MAX];               /* resolved file of the command run */

	struct exec_rule exec[MAX_EXEC_RULES];
	size_t n_exec;
	struct argv_rule *argv;              /* the argvs the exec rules may run with (malloc'd) */
	size_t n_argv;
	struct path_rule *paths;
	size_t n_paths;
	struct limits eff;
	char cwd[PATH_MAX];                  /* the command's working directory: the lease's cwd or "/" */

	enum enforce_backend backend;
	char backend_why[1024];   /* resident_pick's reason, whole */
	char cg_mount[PATH_MAX];
	char parent_name[128];               /* the runner's directory in the set's root cgroup */
	struct sandbox_parent parent;
	struct resident *set;                /* the resident program set serving this run */
	struct resident_sandbox *sb;         /* this run's sandbox in it */
	struct landlock_plan *ll;
	struct audit_observer *observer;     /* landlock + --audit-only: the file-open observer */
	char ll_desc[256];
	struct view_plan view;               /* the sandbox's mount view (run_build_view) */
	bool have_view;
	struct mountns mns;                  /* its steps, run by the child */
	bool have_mns;
	struct seccomp_baseline sc;          /* built before the ledger */
	bool have_sc;
	struct seccomp_notif *sc_req;        /* libseccomp's buffers for the listener */
	struct seccomp_notif_resp *sc_resp;

	uint32_t run_no;
	char run_name[128];
	struct sandbox_cgroup cg;
	struct sandbox_cg_limits cgl;
	/* The limits (limits.c): how each is enforced here (limits_host_decide), which set
	 * limit nothing enforces (run anyway: the matrix says unenforceable_limits: warn),
	 * and the v1 directories of a hybrid host (the runner's, locked, and the sandbox's). */
	struct limit_how lim_how[LIMIT_COUNT];
	bool lim_unenforced[LIMIT_COUNT];
	bool v1_used[CG1_COUNT];
	struct sandbox_parent v1_parent[CG1_COUNT];
	struct sandbox_cgroup v1_cg[CG1_COUNT];
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
	struct jbuf evbuf;                   /* events.jsonl text not yet written (supervise.c) */
	struct event_head_cache evhead;      /* the task fields of the last denial line */
	struct procs procs;                  /* the sandbox's processes, aggregated by tgid */
	int events_werr;                     /* an injected write error of events.jsonl (errno; test builds) */
	uint64_t events_lost_oom;            /* chunks of events.jsonl dropped: out of memory */
	cJSON *svf_denials;                  /* array of {type, data} queued for the audit log */
	uint64_t svf_denials_omitted;
	uint64_t per_class_logged[DENY_CLASS_COUNT];
	int consume_err;
	bool kill_failed;                    /* a denied exec's SIGKILL was not sent (its record
					      * or the slot's counter says so) */
	bool live_seen;                      /* the enforcer reported a fork in our sandbox */
	bool completed;                      /* exec_event.completed is in the audit log */
	int notify_fd;                       /* the child's seccomp listener, -1 when none */
	uint64_t sc_refused;                 /* notified calls answered EPERM */
	uint64_t sc_continued;               /* audit-only: notified calls let through (would-denies) */
	uint64_t sc_recorded;                /* of those (both), queued as SVF records */
	uint64_t sc_not_recorded;            /* of those (both), over the per-class SVF cap */
	int sc_err;                          /* first listener failure, -errno */

	/* what the operator is told (report.c) */
	struct run_summary sum;              /* denial examples per class, as records arrive */
	cJSON *lease_missing;                /* lease paths missing at the start: [{pattern, path, why}] */
	cJSON *summary_meta;                 /* the meta.json written, for the summary */
	bool fod_on;                         /* fail_on_denial: the matrix's or --fail-on-denial */
	bool fod_turned;                     /* it turned exit code 0 into EXIT_DENIED */
	uint64_t fod_denials;                /* the denials it counted */

	/* the rollback pack (rollback.c) */
	struct rb_manifest rb_pre;           /* the roots and the measure, then the manifest packed */
	bool have_rb;
	bool rb_packed;                      /* rollback.tar.gz and rollback.json are written */
	cJSON *rb_changes;                   /* meta.json "changes" (NULL: the walk after failed) */
	char rb_after_error[PATH_MAX + 512];

	/* STATE/run/<run name>.json, locked for as long as we live: what a later sweep needs
	 * to finish this run should we die without finishing it (state/recovery.h). */
	struct run_record_lock rec;
	struct run_record_lock consuming;  /* from before the ledger entry to lease_event.consumed */
};

enum run_status { ST_OK = 0, ST_FAILED, ST_VIOLATION, ST_INTERRUPTED };

/* The limit that stopped the run (status violation): meta.json "violation", the SVF
 * resource_event.violation record and the alert line say the same. */
struct violation {
	bool set;
	enum limit_kind limit;
	uint64_t bound;
	bool have_measured;          /* false: the mechanism does not tell (fsize) */
	uint64_t measured;           /* in the limit's unit */
	const char *measured_from;   /* which file or count measured says */
	uint64_t refused_writes;     /* fsize: the writes the kernel refused (SIGXFSZ count) */
};

/* How the run went: filled by the start and the supervision, read by outcome.c. */
struct outcome {
	enum run_status status;
	struct violation v;          /* set with status ST_VIOLATION */
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
	bool kill_failed;            /* the enforcer could not kill a denied exec: failed closed */
};

/* outcome.c: the matrix's metrics.textfile (docs/fleet.md "Metrics"), written once the
 * run's records are in the log and its sandbox left the resident set (in the
 * teardown, before the matrix and the state dir are closed), so it counts this run, or this refusal, and not its sandbox as live. A
 * failure is said (a warning), never the run's. Nothing without the key or a state dir. */
void run_write_metrics(struct runner *r);

/* flow.c: "calyx: <what>" on stderr, returning code (one statement at a failure). */
int run_say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* flow.c: the audit log could not be opened for appending (auditlog_open's rc and why):
 * said, naming the fault and, for a cut record, `calyx audit repair`; the exit code
 * (docs/audit.md "Exit codes"). */
struct audit_result;
int run_audit_refused(const struct runner *r, int rc, const struct audit_result *why);
/* flow.c: a host audit key was just made: say so, with its public half for the auditor. */
void run_audit_new_key(const struct runner *r, const char *pub);
/* flow.c: "calyx: run: <what>" on stderr with -v. */
void run_verbose(const struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* flow.c: the last message run_say printed with a non-zero code (without "calyx: "): the
 * reason a refusal record gives. */
const char *run_last_said(void);

/* records.c: the lease's claims as JSON (lease_to_json's members; null when out of
 * memory); token_blake2b, matrix_file {path, blake2b}, caller {uid, gid, sudo_uid, cwd}
 * and calyx_version added to d; whether exit code rc ends an attempt as refused (65-69,
 * 74, 75, 78); the lease_event.refused record for rc, unless the command started (its
 * completion record tells) or rc is no refusal. The state dir is opened for it when the
 * refusal came first (same checks as a run's); where it cannot be, nothing is recorded and
 * stderr says so. Never fails the run: rc stays what it is. */
cJSON *run_rec_claims(const struct lease *l);
void run_rec_common(const struct runner *r, cJSON *d);
bool run_rec_is_refusal(int rc);
void run_record_refusal(struct runner *r, int rc);

/* binaries.c: argv must be one of the lease's commands; the exec rules from argv[0] of
 * every lease command, the interpreters of #! script commands and the helpers, each a
 * file only root can change; the argv rules: each command's exact argv on the image the
 * kernel runs for it (for a script: the argv the kernel builds for its interpreter). 0 or
 * an exit code (68), said. */
int run_match_and_resolve(struct runner *r);

/* binaries.c: the working directory, the lease's cwd resolved (repo:// roots) or "/"; it
 * must be a directory on this host (74 said, before the lease is used). */
int run_resolve_cwd(struct runner *r);

/* enforcement.c, in this order (each 0 or an exit code, said): calyx must see the cgroup
 * hierarchy from its root (69); the backend --enforce and the matrix agree on and this
 * kernel supports, its resident set open (brought up when it is not; 69, 75 when another
 * build's set serves live sandboxes); the lease paths and the runtime baseline resolved
 * (66, 78); the runner's cgroup directory and the Landlock ruleset (69). */
int run_check_cgroup_scope(struct runner *r);
int run_pick_enforcement(struct runner *r);
int run_build_path_rules(struct runner *r);
int run_load_enforcer(struct runner *r);

/* view.c: the sandbox's mount view planned and its steps prepared (0, or 69 said); the
 * teardown's release; meta.json's sandbox.view object (cwd, entries, left_out). */
int run_build_view(struct runner *r);
void run_view_free(struct runner *r);
cJSON *run_view_json(const struct runner *r);

/* env.c: PATH, HOME, LANG, TZ, then the lease's env names that are set in our
 * environment. NULL-terminated, malloc'd (run_env_free); NULL when out of memory. */
char **run_env_build(const struct lease *l);
void run_env_free(char **env);

/* seccomp.c: the baseline for the lease's network policy and the matrix's relaxations
 * (0, or 69 said); the teardown's release; one notification answered EPERM and recorded
 * (events.jsonl, the queued SVF denials, the counts); meta.json's "seccomp" object. */
int run_build_seccomp(struct runner *r);
void run_seccomp_free(struct runner *r);
void run_seccomp_answer(struct runner *r);
cJSON *run_seccomp_json(const struct runner *r);

/* supervise.c: drain the ring buffer into counts, events.jsonl and the queued denials;
 * once the sandbox is empty and drained, the lines of the processes still open (end
 * null); the buffers freed (teardown). */
void run_consume(struct runner *r);
void run_events_end(struct runner *r);
void run_events_free(struct runner *r);
/* supervise.c: sandbox_spawn's live check (ctx: the runner). */
int run_live_check(void *ctx);
/* supervise.c: a denied exec whose kill was not sent (a record saying so, or the slot's
 * CALYX_STAT_KILL_FAILED counter in st; st NULL: the counters could not be read, which
 * counts as one) kills the whole sandbox and fails the run (exit 69). */
void run_note_kill_failures(struct runner *r, struct outcome *oc, const struct calyx_stats *st);
/* limits.c: how each set limit is enforced on this host, decided before the ledger; the
 * v1 runner directories made where v1 is the mechanism. A limit nothing enforces fails the
 * run (69, said, nothing run, the lease not used) unless the matrix says
 * unenforceable_limits: warn (then one line per limit on stderr). 0 or an exit code. */
int run_limits_check(struct runner *r);
/* limits.c: the sandbox's cgroups given their bounds (v2 files, the v1 sandbox
 * directories). 0 or an exit code, said. */
int run_limits_apply(struct runner *r);
/* limits.c: the v1 fds the child joins (-1 where none) into fds[CG1_COUNT]. */
void run_limits_v1_fds(const struct runner *r, int fds[CG1_COUNT]);
/* limits.c: the limit is exceeded: the sandbox is killed (cgroup.kill) and the run ends
 * as a violation, unless an earlier violation or an interrupt already ended it. */
void run_violation(struct runner *r, struct outcome *oc, enum limit_kind k, bool have_measured,
		   uint64_t measured, const char *measured_from);
/* limits.c: every tick and once after the run (st: the slot's counters, NULL unread): cpu,
 * mem (OOM kills), pids (refused forks) and fsize (refused writes). */
void run_limits_watch(struct runner *r, struct outcome *oc, const struct calyx_stats *st);
/* limits.c: meta.json's limits object; the violation object (NULL when none); the
 * resource_monitoring alert line; the v1 directories removed (teardown). */
cJSON *run_limits_json(const struct runner *r, const struct outcome *oc, const struct calyx_stats *st);
cJSON *run_violation_json(const struct runner *r, const struct outcome *oc);
int run_limits_alert(struct runner *r, const struct outcome *oc, const struct calyx_stats *st);
void run_limits_teardown(struct runner *r);

/* supervise.c: poll the child's output, exit, the timers and signals until it is reaped and
 * its output drained. 0, or an exit code (said) with the sandbox killed. */
int run_supervise(struct runner *r, struct sandbox_child *c, struct outcome *oc);

/* outcome.c: calyx's exit code for how the run went. */
int run_exit_code(const struct outcome *oc);
/* outcome.c: exit_code.txt, meta.json and the run directory in place, then the queued
 * denials and exec_event.completed in the audit log (also when the artifacts failed). st:
 * the sandbox's kernel-side counters. 0 or an exit code, said. */
int run_finish(struct runner *r, struct outcome *oc, int exit_rc, const struct calyx_stats *st);

/* rollback.c: the :rw paths measured against the matrix's rollback_max_bytes before the
 * ledger (66 over it, 74 unreadable: said, nothing run, the lease not used); packed into
 * the run directory (rollback.tar.gz, rollback.json) before the command starts (74 said);
 * walked again after the run (rollback-after.json and the changes; a failure is said and
 * recorded, never fails the run); meta.json's "changes" and "rollback"; released. */
int run_rollback_measure(struct runner *r);
int run_rollback_pack(struct runner *r);
void run_rollback_after(struct runner *r);
void run_rollback_meta(const struct runner *r, cJSON *meta);
void run_rollback_free(struct runner *r);

/* report.c: each lease path (its directory for a pattern ending in a wildcard) must exist at the
 * start: those missing are kept for meta.json lease_paths_missing and warned about on
 * stderr (unless --quiet). Never fails the run. */
void run_check_lease_paths(struct runner *r);
/* runas.c: the matrix's run_as user must be able to write each :rw lease path that exists
 * (a directory: make entries in it) and enter the working directory, as the kernel decides
 * for that user (access(2) in a child that became it). 0, or 74 said with the fix, before
 * the lease is used. Nothing to check when run_as is root. */
int run_check_run_as_access(struct runner *r);
/* report.c: the fail_on_denial rule (the matrix's or --fail-on-denial): exit_rc 0 with any
 * denial (the kernel side's exact counter st, the seccomp baseline's refusals) becomes
 * EXIT_DENIED; anything else stays. Notes what it counted for meta.json. */
int run_fail_on_denial(struct runner *r, int exit_rc, const struct calyx_stats *st);
/* report.c: meta.json's lease_paths_missing and fail_on_denial. */
void run_report_meta(const struct runner *r, cJSON *meta);
/* report.c: a copy of the meta.json written, for the summary. */
void run_report_keep(struct runner *r, const cJSON *meta);
/* report.c: the end-of-run summary on stderr (unless --quiet): of the run's meta.json, or
 * one line when the command did not start; then its state is released. */
void run_report_summary(struct runner *r, int exit_rc);

#endif
