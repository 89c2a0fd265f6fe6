/* Ring-buffer record mapping (events.jsonl, SVF types, denial counts). */
#include "sentinel/events.h"

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
		return DENY_NET;
	default:
		return DENY_OTHER;
	}
}

const char *event_svf_type(const struct calyx_event *ev)
{
	switch (event_deny_class(ev)) {
	case DENY_EXEC: return "exec_event.denied";
	case DENY_FILE: return "file_event.denied";
	case DENY_NET: return "net_event.denied";
	default:
		/* counted as "other" in meta.json, but recorded under their own types */
		if (ev->type == CALYX_EV_DENY && ev->hook == CALYX_HOOK_IPC)
			return "ipc_event.denied";
		if (ev->type == CALYX_EV_DENY && ev->hook == CALYX_HOOK_KEY)
			return "key_event.denied";
		return NULL;
	}
}

const char *event_path_source(const struct calyx_event *ev)
{
	if (ev->type == CALYX_EV_EXEC || ev->type == CALYX_EV_KILL)
		return "caller";   /* bprm->filename (exec-image and argv kills alike) */
	/* connect/sendmsg of AF_UNIX: the sun_path string given (socket_connect,
	 * socket_sendmsg), unless the record is of the peer the kernel resolved. */
	if (CALYX_HOOK_IS_SOCKET(ev->hook))
		return (ev->flags & CALYX_SOCK_PEER_RESOLVED) ? "kernel" : "caller";
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
	if (dc >= 0)
		c->denials[dc]++;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
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
		size_t k = utf8_seq(u + i, len - i);
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

static void add_safe(cJSON *o, const char *key, const char *s, size_t n)
{
	char *v = json_safe_strn(s, n);
	cJSON_AddStringToObject(o, key, v ? v : "");
	free(v);
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

/* The address a socket denial names, when the record has one (CALYX_SOCK_ADDR: socket
 * creation has none, and a record says nothing rather than 0.0.0.0:0). */
static void add_addr(cJSON *o, const struct calyx_event *ev)
{
	char buf[INET6_ADDRSTRLEN] = "";
	if (!(ev->flags & CALYX_SOCK_ADDR))
		return;
	if (ev->family == AF_INET)
		inet_ntop(AF_INET, ev->addr, buf, sizeof(buf));
	else if (ev->family == AF_INET6)
		inet_ntop(AF_INET6, ev->addr, buf, sizeof(buf));
	else
		return;
	cJSON_AddStringToObject(o, "addr", buf);
	cJSON_AddNumberToObject(o, "port", ev->port);
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

/* A kill record's argv: "argv" (the strings shown, the last one cut when the record is
 * truncated), "argv_bytes" (the whole argv's size), "argv_truncated", and whether the
 * kill was sent ("killed"; when not, "kill_error": the errno bpf_send_signal returned). */
static void add_kill(cJSON *o, const struct calyx_kill_event *k)
{
	bool killed = k->ev.err == 9; /* SIGKILL */
	cJSON_AddBoolToObject(o, "killed", killed);
	if (!killed)
		cJSON_AddNumberToObject(o, "kill_error", -k->ev.err);
	cJSON_AddNumberToObject(o, "argv_bytes", k->argv_len);
	cJSON_AddBoolToObject(o, "argv_truncated", (k->argv_flags & CALYX_KILL_ARGV_TRUNCATED) != 0);
	if (k->argv_flags & CALYX_KILL_ARGV_UNREAD) {
		cJSON_AddBoolToObject(o, "argv_unread", true);
		return;
	}
	cJSON *a = cJSON_AddArrayToObject(o, "argv");
	size_t shown = k->shown < sizeof(k->argv) ? k->shown : sizeof(k->argv);
	for (size_t off = 0; a && off < shown;) {
		size_t l = strnlen(k->argv + off, shown - off);
		char *v = json_safe_strn(k->argv + off, l);
		cJSON_AddItemToArray(a, cJSON_CreateString(v ? v : ""));
		free(v);
		off += l + 1;
	}
}

/* Long: one case per record type (docs/run.md "events.jsonl"). */
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

cJSON *event_to_json(const struct calyx_event *ev, int64_t mono_to_real_ns)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	char ts[EVENT_TS_LEN];
	event_format_ts((int64_t)ev->ts_ns + mono_to_real_ns, ts);
	cJSON_AddStringToObject(o, "type", event_type_name(ev->type));
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddNumberToObject(o, "pid", ev->tgid);
	cJSON_AddNumberToObject(o, "tid", ev->pid);
	cJSON_AddNumberToObject(o, "ppid", ev->ppid);
	add_safe(o, "comm", ev->comm, sizeof(ev->comm));
	cJSON_AddNumberToObject(o, "cgroup_id", (double)ev->cgroup_id);

	switch (ev->type) {
	case CALYX_EV_EXEC:
		add_safe(o, "path", ev->path, sizeof(ev->path));
		cJSON_AddStringToObject(o, "path_source", event_path_source(ev));
		break;
	case CALYX_EV_FORK:
		break;
	case CALYX_EV_EXIT: {
		/* err holds the wait status of the thread group's exit */
		int st = ev->err;
		if ((st & 0x7f) == 0)
			cJSON_AddNumberToObject(o, "exit_code", (st >> 8) & 0xff);
		else
			cJSON_AddNumberToObject(o, "signal", st & 0x7f);
		cJSON_AddNumberToObject(o, "cpu_ms", (double)(ev->cpu_ns / 1000000));
		cJSON_AddNumberToObject(o, "maxrss_kb", (double)ev->maxrss_kb);
		cJSON_AddNumberToObject(o, "min_flt", (double)ev->min_flt);
		cJSON_AddNumberToObject(o, "maj_flt", (double)ev->maj_flt);
		cJSON_AddNumberToObject(o, "nvcsw", (double)ev->nvcsw);
		cJSON_AddNumberToObject(o, "nivcsw", (double)ev->nivcsw);
		cJSON_AddNumberToObject(o, "read_bytes", (double)ev->read_bytes);
		cJSON_AddNumberToObject(o, "write_bytes", (double)ev->write_bytes);
		break;
	}
	case CALYX_EV_DENY:
	case CALYX_EV_KILL: {
		cJSON_AddStringToObject(o, "hook", event_hook_name(ev->hook));
		int dc = event_deny_class(ev);
		cJSON_AddStringToObject(o, "class", deny_class_name(dc < 0 ? DENY_OTHER : (enum deny_class)dc));
		cJSON_AddNumberToObject(o, "errno", ev->err);
		if (ev->hook == CALYX_HOOK_SIGNAL) {
			cJSON_AddNumberToObject(o, "signal", ev->family);
		} else if (CALYX_HOOK_IS_SOCKET(ev->hook)) {
			const char *fn = event_family_name(ev->family);
			if (fn)
				cJSON_AddStringToObject(o, "family", fn);
			else
				cJSON_AddNumberToObject(o, "family", ev->family);
			cJSON_AddNumberToObject(o, "sock_flags", ev->flags & ~(CALYX_SOCK_PEER_RESOLVED | CALYX_SOCK_ADDR));
			add_addr(o, ev);
		} else if (ev->hook == CALYX_HOOK_FILE_OPEN) {
			cJSON_AddStringToObject(o, "access", (ev->flags & 2) ? "write" : "read");
		} else if (ev->hook == CALYX_HOOK_PATH_MUTATE) {
			cJSON_AddStringToObject(o, "op", mutate_op_name(ev->flags));
		} else if (ev->hook == CALYX_HOOK_MMAP_EXEC) {
			cJSON_AddStringToObject(o, "op", ev->flags == 2 ? "mprotect" : "mmap");
		} else if (ev->hook == CALYX_HOOK_META) {
			cJSON_AddStringToObject(o, "op", meta_op_name(ev->flags));
		} else if (ev->hook == CALYX_HOOK_IPC) {
			cJSON_AddStringToObject(o, "op", ipc_op_name(ev->family));
		} else if (ev->hook == CALYX_HOOK_KEY) {
			cJSON_AddStringToObject(o, "op", ev->family == CALYX_KEY_ALLOC ? "key_alloc" : "key_permission");
			if (ev->family == CALYX_KEY_PERMISSION)
				cJSON_AddNumberToObject(o, "need_perm", ev->flags);
		}
		if (ev->path[0]) {
			add_safe(o, "path", ev->path, sizeof(ev->path));
			cJSON_AddStringToObject(o, "path_source", event_path_source(ev));
		}
		if (ev->type == CALYX_EV_KILL)   /* whole: the consumer checked (slots.c) */
			add_kill(o, (const struct calyx_kill_event *)ev);
		break;
	}
	default:
		cJSON_AddNumberToObject(o, "raw_type", ev->type);
		break;
	}
	return o;
}
