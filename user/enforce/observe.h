/* The landlock backend's audit-only observer (bpf/observe.bpf.c, docs/audit-only.md): a
 * copy of the tp_btf/sys_exit program for one sandbox, loaded over the resident set's
 * maps and attached by the audit-only runner, detached when it is freed (or when the
 * runner dies: the link is only its fd). */
#ifndef CALYX_ENFORCE_OBSERVE_H
#define CALYX_ENFORCE_OBSERVE_H
#include <stddef.h>
#include <stdint.h>

struct resident;
struct audit_observer;

/* Load the observer over the maps of set (the landlock set the sandbox will be in):
 * before the lease is used, so a kernel that refuses it burns nothing. 0, or -errno with
 * the reason in err. */
int audit_observer_load(const struct resident *set, struct audit_observer **out, char *err, size_t errlen);
/* Aim it at the sandbox cgroup cgid (registered, no task in it yet) and attach it. 0, or
 * -errno with the reason in err. */
int audit_observer_start(struct audit_observer *o, uint64_t cgid, char *err, size_t errlen);
/* Detach and unload (NULL: nothing). */
void audit_observer_free(struct audit_observer *o);

#endif
