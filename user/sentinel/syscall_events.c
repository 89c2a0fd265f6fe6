/* Seccomp refusals as records (syscall_events.h). */
#include "sentinel/syscall_events.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X32_SYSCALL_BIT 0x40000000U
/* i386 socketcall(2) sub-calls (<linux/net.h>) */
#define SOCKETCALL_SOCKET 1
#define SOCKETCALL_SOCKETPAIR 8

static bool is_x32(const struct syscall_denial *d)
{
	return d->arch == AUDIT_ARCH_X86_64 && ((uint32_t)d->nr & X32_SYSCALL_BIT);
}

const char *syscall_denial_abi(const struct syscall_denial *d)
{
	if (is_x32(d))
		return "x32";
	if (d->arch == AUDIT_ARCH_X86_64)
		return "x86_64";
	if (d->arch == AUDIT_ARCH_I386)
		return "i386";
	return "unknown";
}

static uint32_t scmp_arch(const struct syscall_denial *d)
{
	if (is_x32(d))
		return SCMP_ARCH_X32;
	return d->arch == AUDIT_ARCH_I386 ? SCMP_ARCH_X86 : SCMP_ARCH_X86_64;
}

char *syscall_denial_name(const struct syscall_denial *d)
{
	char *n = NULL;
	if (d->arch == AUDIT_ARCH_X86_64 || d->arch == AUDIT_ARCH_I386)
		n = seccomp_syscall_resolve_num_arch(scmp_arch(d), d->nr);
	if (n)
		return n;
	char buf[32];
	snprintf(buf, sizeof(buf), "syscall_%d", (int)d->nr);
	return strdup(buf);
}

/* 1 socket, 2 socketpair, 3 socketcall(SOCKET/SOCKETPAIR) whose family is in memory, 0
 * anything else. */
static int socket_kind(const char *name, const struct syscall_denial *d)
{
	if (!strcmp(name, "socket"))
		return 1;
	if (!strcmp(name, "socketpair"))
		return 2;
	if (!strcmp(name, "socketcall") &&
	    (d->args[0] == SOCKETCALL_SOCKET || d->args[0] == SOCKETCALL_SOCKETPAIR))
		return 3;
	return 0;
}

enum deny_class syscall_denial_class(const struct syscall_denial *d)
{
	char *n = syscall_denial_name(d);
	int k = n ? socket_kind(n, d) : 0;
	free(n);
	return k ? DENY_NET : DENY_SYSCALL;
}

const char *syscall_denial_svf_type(const struct syscall_denial *d)
{
	if (d->would_deny)
		return syscall_denial_class(d) == DENY_NET ? "net_event.would_deny" : "syscall_event.would_deny";
	return syscall_denial_class(d) == DENY_NET ? "net_event.denied" : "syscall_event.denied";
}

static void add_hex(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *syscall_denial_to_json(const struct syscall_denial *d)
{
	char *name = syscall_denial_name(d);
	cJSON *o = name ? cJSON_CreateObject() : NULL;
	if (!o) {
		free(name);
		return NULL;
	}
	char ts[EVENT_TS_LEN];
	event_format_ts(d->ts_real_ns, ts);
	cJSON_AddStringToObject(o, "type", d->would_deny ? "would_deny" : "deny");
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddNumberToObject(o, "pid", d->tgid ? d->tgid : d->tid);
	cJSON_AddNumberToObject(o, "tid", d->tid);
	char *comm = json_safe_strn(d->comm, sizeof(d->comm));
	cJSON_AddStringToObject(o, "comm", comm ? comm : "");
	free(comm);
	cJSON_AddStringToObject(o, "hook", "seccomp");
	int kind = socket_kind(name, d);
	cJSON_AddStringToObject(o, "class", deny_class_name(kind ? DENY_NET : DENY_SYSCALL));
	cJSON_AddNumberToObject(o, "errno", d->err);
	cJSON_AddStringToObject(o, "syscall", name);
	cJSON_AddStringToObject(o, "abi", syscall_denial_abi(d));
	cJSON_AddNumberToObject(o, "nr", (double)((uint32_t)d->nr & ~X32_SYSCALL_BIT));
	if (kind == 1 || kind == 2) {
		const char *fn = event_family_name((uint32_t)d->args[0]);
		if (fn && d->args[0] <= UINT32_MAX)
			cJSON_AddStringToObject(o, "family", fn);
		else
			cJSON_AddNumberToObject(o, "family", (double)d->args[0]);
		cJSON_AddNumberToObject(o, "sock_type", (double)(uint32_t)d->args[1]);
	} else if (kind == 3) {
		/* The family is in the sandbox's memory: refused whatever it is. */
		cJSON_AddStringToObject(o, "socketcall", d->args[0] == SOCKETCALL_SOCKET ? "socket" : "socketpair");
		cJSON_AddNullToObject(o, "family");
	} else if (!strcmp(name, "personality")) {
		add_hex(o, "persona", d->args[0]);
	} else if (!strcmp(name, "ioctl")) {
		add_hex(o, "request", d->args[1] & 0xffffffffULL);
	}
	free(name);
	return o;
}
