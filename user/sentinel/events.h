/* Ring-buffer records (struct calyx_event and the bodies of calyx.h) → events.jsonl
 * denial lines (formatted straight into a reused buffer, sentinel/jsonfmt.h), SVF event
 * types and per-run denial counts. Process records (fork, exec, exit) are aggregated by
 * sentinel/procs.h. Pure module: no I/O. Schema in docs/run.md. Every function that takes
 * a record expects one the consumer has checked (its size is its type's,
 * user/enforce/slots.c). */
#ifndef CALYX_EVENTS_H
#define CALYX_EVENTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "calyx.h"
#include "sentinel/jsonfmt.h"

/* DENY_SYSCALL: refused by the seccomp baseline (sentinel/syscall_events.h), never a
 * ring-buffer record. */
enum deny_class { DENY_EXEC = 0, DENY_FILE, DENY_NET, DENY_OTHER, DENY_SYSCALL, DENY_CLASS_COUNT };

struct event_counts {
	uint64_t records;               /* records of this sandbox seen */
	uint64_t execs, forks, exits;
	uint64_t denials[DENY_CLASS_COUNT];
	uint64_t would_deny[DENY_CLASS_COUNT];   /* audit-only: recorded, allowed (not in denials) */
};

const char *event_type_name(uint32_t type);    /* "exec", "fork", "exit", "deny", "kill", "unknown" */
const char *event_hook_name(uint32_t hook);    /* "bprm_check_security", "file_open", … */
const char *deny_class_name(enum deny_class c);/* "exec", "file", "net", "other", "syscall" */
const char *event_family_name(uint32_t f);     /* "unix", "inet", "vsock", …, or NULL */

/* Whether a DENY/KILL record is an audit-only would-deny (the operation went ahead). */
static inline bool event_is_would_deny(const struct calyx_event *ev)
{
	return (ev->type == CALYX_EV_DENY || ev->type == CALYX_EV_KILL) &&
	       ((const struct calyx_deny_event *)ev)->verdict == CALYX_VERDICT_WOULD_DENY;
}
/* The "type" of a record's events.jsonl line: event_type_name, but "would_deny" for a
 * would-deny (docs/audit-only.md). */
const char *event_line_type(const struct calyx_event *ev);

/* Denial class of a DENY/KILL record, or -1 for records that are not denials. */
int event_deny_class(const struct calyx_event *ev);
/* SVF type for a denial ("exec_event.denied", "file_event.denied", "net_event.denied",
 * "….would_deny" instead of "….denied" for an audit-only would-deny,
 * and of class "other" "ipc_event.denied" (SysV IPC, POSIX message queues) and
 * "key_event.denied" (keyrings)), NULL for records that are no denial or other denials
 * (mount, bpf, signals, ...: counted, in events.jsonl, not in the SVF log). */
const char *event_svf_type(const struct calyx_event *ev);
/* Where a record's path comes from (docs/enforcer.md "Where record fields come from"):
 * "kernel" when the program resolved it from the kernel's own struct path of the object
 * it decided on (bpf_d_path, the path walk, an AF_UNIX peer's bound path), "caller" when
 * it is the name the sandboxed task passed to execve (bprm->filename: copied into the
 * kernel at the call, but not resolved, and the decision was made on the inode). */
const char *event_path_source(const struct calyx_event *ev);

void event_count(struct event_counts *c, const struct calyx_event *ev);

/* The path a record carries: a path denial's, a kill's (the name given to exec), an
 * exec's binary; "" for every other record. */
static inline const char *event_path(const struct calyx_event *ev)
{
	if (ev->type == CALYX_EV_DENY && ev->size >= sizeof(struct calyx_deny_path_event))
		return ((const struct calyx_deny_path_event *)ev)->path;
	if (ev->type == CALYX_EV_KILL)
		return ((const struct calyx_kill_event *)ev)->path;
	if (ev->type == CALYX_EV_EXEC)
		return ((const struct calyx_exec_event *)ev)->binary;
	return "";
}

/* Wall time (CLOCK_REALTIME ns) of a record's bpf_ktime_get_ns: a record's ts_ns is the
 * kernel's word, and one far off (a damaged record) saturates instead of overflowing
 * (signed overflow is undefined behaviour). */
static inline int64_t event_real_ns(uint64_t mono_ns, int64_t mono_to_real_ns)
{
	int64_t r;
	/* mono_ns is not negative: only a sum too large overflows */
	if (mono_ns > INT64_MAX || __builtin_add_overflow((int64_t)mono_ns, mono_to_real_ns, &r))
		return INT64_MAX;
	return r;
}

/* The text of the task fields of the last record formatted (pid, tid, ppid, comm,
 * cgroup_id): a flood comes from a few tasks, and this part of its lines repeats. */
struct event_head_cache {
	bool valid;
	uint32_t pid, tgid, ppid;
	uint64_t cgroup_id;
	char comm[16];
	size_t len;
	char text[160];    /* ,"pid":…,"cgroup_id":N; comm: at most 16 bytes of 6 each */
};

/* The events.jsonl line (without its newline) of a DENY or KILL record, appended to b.
 * mono_to_real_ns converts the record's bpf_ktime_get_ns (CLOCK_MONOTONIC) to wall time.
 * hc: the caller's cache of the task fields' text, or NULL. */
void event_format_denial(struct jbuf *b, const struct calyx_event *ev, int64_t mono_to_real_ns,
			 struct event_head_cache *hc);
/* {"type":…,"ts":…,"pid":…,"tid":…,"ppid":…,"comm":…,"cgroup_id":… (open: the caller
 * adds its keys and the closing brace). hc as above. */
void event_format_head(struct jbuf *b, const struct calyx_event *ev, int64_t mono_to_real_ns,
		       struct event_head_cache *hc);
/* An argv (shown bytes of NUL-terminated arguments; the last may be cut) as a JSON array
 * of strings. */
void event_format_argv(struct jbuf *b, const char *argv, size_t shown);

/* Wall time (CLOCK_REALTIME ns) as RFC 3339 UTC with microseconds, the records' "ts": a
 * JSON number (a double) cannot hold epoch nanoseconds exactly. */
#define EVENT_TS_LEN 40
void event_format_ts(int64_t real_ns, char out[EVENT_TS_LEN]);

/* Copy of n bytes of s that is valid UTF-8 for JSON: invalid bytes become "\xNN" text.
 * Stops at the first NUL. malloc'd (NULL on allocation failure). */
char *json_safe_strn(const char *s, size_t n);

#endif
