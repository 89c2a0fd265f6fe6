/* Ring-buffer record mapping (events.jsonl denial lines, SVF types, denial counts). */
#include "sentinel/events.h"

#include "sentinel/jsonfmt.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

const char *event_type_name(uint32_t type)
{
	switch (type) {
	case CALYX_EV_DENY: return "deny";
	case CALYX_EV_EXEC: return "exec";
	case CALYX_EV_EXIT: return "exit";
	case CALYX_EV_FORK: return "fork";
	case CALYX_EV_KILL: return "kill";
	default: return "unknown";
	}
}

const char *event_line_type(const struct calyx_event *ev)
{
	return event_is_would_deny(ev) ? "would_deny" : event_type_name(ev->type);
}

const char *event_hook_name(uint32_t hook)
{
	switch (hook) {
	case CALYX_HOOK_NONE: return "none";
	case CALYX_HOOK_EXEC: return "bprm_check_security";
	case CALYX_HOOK_FILE_OPEN: return "file_open";
	case CALYX_HOOK_SOCKET_CREATE: return "socket_create";
	case CALYX_HOOK_SOCKET_CONNECT: return "socket_connect";
	case CALYX_HOOK_SOCKET_SENDMSG: return "socket_sendmsg";
	case CALYX_HOOK_BPF: return "bpf";
	case CALYX_HOOK_EXEC_IMAGE: return "exec_image";
	case CALYX_HOOK_MOUNT: return "mount";
	case CALYX_HOOK_USERNS: return "userns_create";
	case CALYX_HOOK_SIGNAL: return "task_kill";
	case CALYX_HOOK_PTRACE: return "ptrace_access_check";
	case CALYX_HOOK_PATH_MUTATE: return "path_mutate";
	case CALYX_HOOK_MMAP_EXEC: return "mmap_exec";
	case CALYX_HOOK_PERF: return "perf_event_open";
	case CALYX_HOOK_EXEC_ARGV: return "exec_argv";
	case CALYX_HOOK_META: return "metadata";
	case CALYX_HOOK_IPC: return "ipc";
	case CALYX_HOOK_KEY: return "key";
	case CALYX_HOOK_SOCKET_BIND: return "socket_bind";
	case CALYX_HOOK_SOCKET_RECVMSG: return "socket_recvmsg";
	case CALYX_HOOK_SOCKET_LISTEN: return "socket_listen";
	default: return "unknown";
	}
}

const char *deny_class_name(enum deny_class c)
{
	static const char *const n[DENY_CLASS_COUNT] = { "exec", "file", "net", "other", "syscall" };
	return (unsigned)c < DENY_CLASS_COUNT ? n[c] : "other";
}

int event_deny_class(const struct calyx_event *ev)
{
	if (ev->type == CALYX_EV_KILL)
		return DENY_EXEC;
	if (ev->type != CALYX_EV_DENY)
		return -1;
	switch (ev->hook) {
	case CALYX_HOOK_EXEC:
	case CALYX_HOOK_EXEC_IMAGE:
	case CALYX_HOOK_EXEC_ARGV:
	case CALYX_HOOK_MMAP_EXEC:
		return DENY_EXEC;
	case CALYX_HOOK_FILE_OPEN:
	case CALYX_HOOK_PATH_MUTATE:
	case CALYX_HOOK_META:
		return DENY_FILE;
	case CALYX_HOOK_SOCKET_CREATE:
	case CALYX_HOOK_SOCKET_CONNECT:
	case CALYX_HOOK_SOCKET_SENDMSG:
	case CALYX_HOOK_SOCKET_BIND:
	case CALYX_HOOK_SOCKET_RECVMSG:
	case CALYX_HOOK_SOCKET_LISTEN:
		return DENY_NET;
	default:
		return DENY_OTHER;
	}
}

const char *event_svf_type(const struct calyx_event *ev)
{
	bool w = event_is_would_deny(ev);
	switch (event_deny_class(ev)) {
	case DENY_EXEC: return w ? "exec_event.would_deny" : "exec_event.denied";
	case DENY_FILE: return w ? "file_event.would_deny" : "file_event.denied";
	case DENY_NET: return w ? "net_event.would_deny" : "net_event.denied";
	default:
		/* counted as "other" in meta.json, but recorded under their own types */
		if (ev->type == CALYX_EV_DENY && ev->hook == CALYX_HOOK_IPC)
			return w ? "ipc_event.would_deny" : "ipc_event.denied";
		if (ev->type == CALYX_EV_DENY && ev->hook == CALYX_HOOK_KEY)
			return w ? "key_event.would_deny" : "key_event.denied";
		return NULL;
	}
}

const char *event_path_source(const struct calyx_event *ev)
{
	if (ev->type == CALYX_EV_EXEC)   /* the in-kernel walk of the file, or the name given */
		return (((const struct calyx_exec_event *)ev)->flags & CALYX_EXEC_BINARY_NAME) ? "caller" : "kernel";
	if (ev->type == CALYX_EV_KILL)
		return "caller";   /* bprm->filename (exec-image and argv kills alike) */
	/* connect/sendmsg of AF_UNIX: the sun_path string given (socket_connect,
	 * socket_sendmsg), unless the record is of the peer the kernel resolved. */
	if (ev->type == CALYX_EV_DENY && CALYX_HOOK_IS_SOCKET(ev->hook))   /* only a denial has flags */
		return (((const struct calyx_deny_event *)ev)->flags & CALYX_SOCK_PEER_RESOLVED) ? "kernel" : "caller";
	/* the landlock audit-only observer's changes: the name part is the task's string */
	if (ev->type == CALYX_EV_DENY && ev->hook == CALYX_HOOK_PATH_MUTATE &&
	    (((const struct calyx_deny_event *)ev)->flags & CALYX_MUT_CALLER_NAME))
		return "caller";
	return "kernel";
}

void event_count(struct event_counts *c, const struct calyx_event *ev)
{
	c->records++;
	switch (ev->type) {
	case CALYX_EV_EXEC: c->execs++; break;
	case CALYX_EV_FORK: c->forks++; break;
	case CALYX_EV_EXIT: c->exits++; break;
	default: break;
	}
	int dc = event_deny_class(ev);
	if (dc >= 0 && event_is_would_deny(ev))
		c->would_deny[dc]++;
	else if (dc >= 0)
		c->denials[dc]++;
}

char *json_safe_strn(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t k = json_utf8_seq(u + i, len - i);
		if (k == 0) {
			o += (size_t)sprintf(out + o, "\\x%02x", u[i]);
			i++;
			continue;
		}
		memcpy(out + o, u + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static const char *mutate_op_name(uint32_t op)
{
	static const char *const n[] = {
		[CALYX_MUT_UNLINK] = "unlink",     [CALYX_MUT_RMDIR] = "rmdir",
		[CALYX_MUT_MKDIR] = "mkdir",       [CALYX_MUT_MKNOD] = "mknod",
		[CALYX_MUT_MKNOD_DEV] = "mknod_device", [CALYX_MUT_SYMLINK] = "symlink",
		[CALYX_MUT_LINK] = "link",         [CALYX_MUT_LINK_SRC] = "link_source",
		[CALYX_MUT_RENAME] = "rename",     [CALYX_MUT_RENAME_DST] = "rename_target",
		[CALYX_MUT_TRUNCATE] = "truncate", [CALYX_MUT_CHMOD] = "chmod",
		[CALYX_MUT_CHOWN] = "chown",       [CALYX_MUT_SETXATTR] = "setxattr",
		[CALYX_MUT_REMOVEXATTR] = "removexattr", [CALYX_MUT_SETFLAGS] = "setflags",
	};
	return op < sizeof(n) / sizeof(n[0]) && n[op] ? n[op] : "unknown";
}

static const char *meta_op_name(uint32_t op)
{
	static const char *const n[] = {
		[CALYX_META_GETATTR] = "stat",        [CALYX_META_READLINK] = "readlink",
		[CALYX_META_GETXATTR] = "getxattr",   [CALYX_META_LISTXATTR] = "listxattr",
		[CALYX_META_NOTIFY] = "notify",
	};
	return op < sizeof(n) / sizeof(n[0]) && n[op] ? n[op] : "unknown";
}

static const char *ipc_op_name(uint32_t op)
{
	static const char *const n[] = {
		[CALYX_IPC_PERMISSION] = "ipc_permission",
		[CALYX_IPC_MSG_ALLOC] = "msgget_create", [CALYX_IPC_MSG_ASSOC] = "msgget",
		[CALYX_IPC_MSG_CTL] = "msgctl",          [CALYX_IPC_MSG_SND] = "msgsnd",
		[CALYX_IPC_MSG_RCV] = "msgrcv",
		[CALYX_IPC_SHM_ALLOC] = "shmget_create", [CALYX_IPC_SHM_ASSOC] = "shmget",
		[CALYX_IPC_SHM_CTL] = "shmctl",          [CALYX_IPC_SHM_AT] = "shmat",
		[CALYX_IPC_SEM_ALLOC] = "semget_create", [CALYX_IPC_SEM_ASSOC] = "semget",
		[CALYX_IPC_SEM_CTL] = "semctl",          [CALYX_IPC_SEM_OP] = "semop",
		[CALYX_IPC_MQ_OPEN] = "mq_open",         [CALYX_IPC_MQ_UNLINK] = "mq_unlink",
	};
	return op < sizeof(n) / sizeof(n[0]) && n[op] ? n[op] : "unknown";
}

/* a.b.c.d without inet_ntop's printf: this is the flood path */
static void ipv4_text(const uint8_t a[4], struct jbuf *b)
{
	char buf[18], *o = buf;
	*o++ = '"';
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '"';
	}
	jb_raw(b, buf, (size_t)(o - buf));
}

/* The address a socket denial names, when the record has one (CALYX_SOCK_ADDR: socket
 * creation has none, and a record says nothing rather than 0.0.0.0:0). */
static void add_addr(struct jbuf *b, const struct calyx_deny_event *d)
{
	if (!(d->flags & CALYX_SOCK_ADDR))
		return;
	if (d->family == AF_INET) {
		jb_key(b, "addr");
		ipv4_text(d->addr, b);
	} else if (d->family == AF_INET6) {
		char buf[INET6_ADDRSTRLEN] = "";
		inet_ntop(AF_INET6, d->addr, buf, sizeof(buf));
		jb_key(b, "addr");
		jb_name(b, buf);
	} else {
		return;
	}
	jb_key(b, "port");
	jb_u64(b, d->port);
}

const char *event_family_name(uint32_t f)
{
	switch (f) {
	case AF_UNIX: return "unix";
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_NETLINK: return "netlink";
	case AF_PACKET: return "packet";
	case AF_VSOCK: return "vsock";
	default: return NULL;
	}
}

/* An argv as strings: shown bytes of NUL-separated arguments (the last one may be cut). */
void event_format_argv(struct jbuf *b, const char *argv, size_t shown)
{
	jb_raw(b, "[", 1);
	for (size_t off = 0; off < shown;) {
		size_t l = strnlen(argv + off, shown - off);
		jb_sep(b);
		jb_str(b, argv + off, l);
		off += l + 1;
	}
	jb_raw(b, "]", 1);
}

/* A kill record's argv: "argv" (the strings shown, the last one cut when the record is
 * truncated), "argv_bytes" (the whole argv's size), "argv_truncated", and whether the
 * kill was sent ("killed"; when not, "kill_error": the errno bpf_send_signal returned). */
static void add_kill(struct jbuf *b, const struct calyx_kill_event *k)
{
	bool killed = k->d.err == 9; /* SIGKILL */
	jb_key(b, "killed");
	jb_bool(b, killed);
	if (!killed && k->d.verdict != CALYX_VERDICT_WOULD_DENY) {   /* audit-only: not tried */
		jb_key(b, "kill_error");
		jb_i64(b, -(int64_t)k->d.err);
	}
	jb_key(b, "argv_bytes");
	jb_u64(b, k->argv_len);
	jb_key(b, "argv_truncated");
	jb_bool(b, (k->argv_flags & CALYX_KILL_ARGV_TRUNCATED) != 0);
	if (k->argv_flags & CALYX_KILL_ARGV_UNREAD) {
		jb_key(b, "argv_unread");
		jb_bool(b, true);
		return;
	}
	jb_key(b, "argv");
	event_format_argv(b, k->argv, k->shown < sizeof(k->argv) ? k->shown : sizeof(k->argv));
}

void event_format_ts(int64_t real_ns, char out[EVENT_TS_LEN])
{
	char base[24];
	struct tm tm;
	time_t sec = (time_t)(real_ns / 1000000000);
	if (real_ns < 0 || !gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, EVENT_TS_LEN, "%s.%06ldZ", base, (long)((real_ns % 1000000000) / 1000));
}

static void format_task(struct jbuf *b, const struct calyx_event *ev)
{
	jb_lit(b, ",\"pid\":");
	jb_u64(b, ev->tgid);
	jb_lit(b, ",\"tid\":");
	jb_u64(b, ev->pid);
	jb_lit(b, ",\"ppid\":");
	jb_u64(b, ev->ppid);
	jb_lit(b, ",\"comm\":");
	jb_str(b, ev->comm, sizeof(ev->comm));
	jb_lit(b, ",\"cgroup_id\":");
	jb_u64(b, ev->cgroup_id);
}

static bool same_task(const struct event_head_cache *hc, const struct calyx_event *ev)
{
	return hc->valid && hc->pid == ev->pid && hc->tgid == ev->tgid && hc->ppid == ev->ppid &&
	       hc->cgroup_id == ev->cgroup_id && memcmp(hc->comm, ev->comm, sizeof(hc->comm)) == 0;
}

void event_format_head(struct jbuf *b, const struct calyx_event *ev, int64_t mono_to_real_ns,
		       struct event_head_cache *hc)
{
	jb_lit(b, "{\"type\":");
	jb_name(b, event_line_type(ev));
	jb_lit(b, ",\"ts\":");
	jb_ts(b, event_real_ns(ev->ts_ns, mono_to_real_ns));
	if (hc && same_task(hc, ev)) {
		jb_raw(b, hc->text, hc->len);
		return;
	}
	size_t at = b->len;
	format_task(b, ev);
	if (!hc || b->oom)
		return;
	hc->valid = b->len - at <= sizeof(hc->text);
	if (!hc->valid)
		return;
	hc->pid = ev->pid;
	hc->tgid = ev->tgid;
	hc->ppid = ev->ppid;
	hc->cgroup_id = ev->cgroup_id;
	memcpy(hc->comm, ev->comm, sizeof(hc->comm));
	hc->len = b->len - at;
	memcpy(hc->text, b->p + at, hc->len);
}

/* Long: one case per hook (docs/run.md "events.jsonl"). */
void event_format_denial(struct jbuf *b, const struct calyx_event *ev, int64_t mono_to_real_ns,
			 struct event_head_cache *hc)
{
	const struct calyx_deny_event *d = (const struct calyx_deny_event *)ev;
	event_format_head(b, ev, mono_to_real_ns, hc);
	jb_key(b, "hook");
	jb_name(b, event_hook_name(ev->hook));
	int dc = event_deny_class(ev);
	jb_key(b, "class");
	jb_name(b, deny_class_name(dc < 0 ? DENY_OTHER : (enum deny_class)dc));
	jb_key(b, "errno");
	jb_i64(b, d->err);
	if (ev->hook == CALYX_HOOK_SIGNAL) {
		jb_key(b, "signal");
		jb_u64(b, d->family);
	} else if (CALYX_HOOK_IS_SOCKET(ev->hook)) {
		const char *fn = event_family_name(d->family);
		jb_key(b, "family");
		if (fn)
			jb_name(b, fn);
		else
			jb_u64(b, d->family);
		jb_key(b, "sock_flags");
		jb_u64(b, d->flags & ~(CALYX_SOCK_PEER_RESOLVED | CALYX_SOCK_ADDR));
		add_addr(b, d);
	} else if (ev->hook == CALYX_HOOK_FILE_OPEN) {
		jb_key(b, "access");
		jb_name(b, (d->flags & 2) ? "write" : "read");
	} else if (ev->hook == CALYX_HOOK_PATH_MUTATE) {
		jb_key(b, "op");
		jb_name(b, mutate_op_name(d->flags & CALYX_MUT_OP_MASK));
	} else if (ev->hook == CALYX_HOOK_MMAP_EXEC) {
		jb_key(b, "op");
		jb_name(b, d->flags == 2 ? "mprotect" : "mmap");
	} else if (ev->hook == CALYX_HOOK_META) {
		jb_key(b, "op");
		jb_name(b, meta_op_name(d->flags));
	} else if (ev->hook == CALYX_HOOK_IPC) {
		jb_key(b, "op");
		jb_name(b, ipc_op_name(d->family));
	} else if (ev->hook == CALYX_HOOK_KEY) {
		jb_key(b, "op");
		jb_name(b, d->family == CALYX_KEY_ALLOC ? "key_alloc" : "key_permission");
		if (d->family == CALYX_KEY_PERMISSION) {
			jb_key(b, "need_perm");
			jb_u64(b, d->flags);
		}
	}
	const char *path = event_path(ev);
	if (path[0]) {
		jb_key(b, "path");
		jb_str(b, path, CALYX_PATH_MAX);
		jb_key(b, "path_source");
		jb_name(b, event_path_source(ev));
	}
	if (ev->type == CALYX_EV_KILL)   /* whole: the consumer checked (slots.c) */
		add_kill(b, (const struct calyx_kill_event *)ev);
	jb_raw(b, "}", 1);
}
