/* `calyx run` and the seccomp baseline (docs/seccomp.md): the filter built before the
 * ledger, the child's listener answered while the command runs (every notified call
 * fails EPERM: the runner records, it never decides), and the meta.json summary. */
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "policy/seccomp_groups.h"
#include "sentinel/syscall_events.h"

int run_build_seccomp(struct runner *r)
{
	char err[256];
	if (seccomp_baseline_build(r->l.network, r->m.seccomp_allow, &r->sc, err, sizeof(err)) < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s", err);
	r->have_sc = true;
	if (seccomp_notify_alloc(&r->sc_req, &r->sc_resp) < 0)
		return run_say(EXIT_INTERNAL, "out of memory");
	run_verbose(r, "seccomp baseline: %u instructions", r->sc.prog.len);
	return 0;
}

void run_seccomp_free(struct runner *r)
{
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	r->notify_fd = -1;
	if (r->sc_req)
		seccomp_notify_free(r->sc_req, r->sc_resp);
	r->sc_req = NULL;
	r->sc_resp = NULL;
	if (r->have_sc)
		seccomp_baseline_free(&r->sc);
	r->have_sc = false;
}

/* Name and thread group of the calling task, best effort (informational: the id check
 * after it tells whether tid was still that task). */
static void task_facts(struct syscall_denial *d)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *p = strstr(buf, "Name:\t");
	if (p) {
		p += 6;
		size_t k = strcspn(p, "\n");
		if (k >= sizeof(d->comm))
			k = sizeof(d->comm) - 1;
		memcpy(d->comm, p, k);
		d->comm[k] = '\0';
	}
	p = strstr(buf, "\nTgid:\t");
	if (p)
		d->tgid = (pid_t)atoi(p + 7);
}

static void record(struct runner *r, const struct syscall_denial *d)
{
	enum deny_class dc = syscall_denial_class(d);
	/* A continued call (audit-only) is no refusal: neither for the counts nor for the
	 * fail_on_denial rule (report.c). */
	if (d->would_deny) {
		r->counts.would_deny[dc]++;
		r->sc_continued++;
	} else {
		r->counts.denials[dc]++;
		r->sc_refused++;
	}
	summary_collect_syscall(&r->sum, d);
	cJSON *j = syscall_denial_to_json(d);
	if (!j) {
		r->sc_not_recorded++;
		return;
	}
	if (r->events) {
		char *s = cJSON_PrintUnformatted(j);
		if (s) {
			fputs(s, r->events);
			fputc('\n', r->events);
		}
		free(s);
	}
	if (r->per_class_logged[dc] < SVF_MAX_DENIAL_RECORDS) {
		r->per_class_logged[dc]++;
		cJSON *q = cJSON_CreateObject();
		cJSON_AddStringToObject(q, "type", syscall_denial_svf_type(d));
		cJSON_AddItemToObject(q, "data", j);
		cJSON_AddItemToArray(r->svf_denials, q);
		r->sc_recorded++;
	} else {
		r->svf_denials_omitted++;
		r->sc_not_recorded++;
		cJSON_Delete(j);
	}
}

void run_seccomp_answer(struct runner *r)
{
	/* The kernel wants a zeroed buffer (room for later fields) on every receive. */
	memset(r->sc_req, 0, sizeof(*r->sc_req));
	errno = 0;
	int rc = seccomp_notify_receive(r->notify_fd, r->sc_req);
	if (rc < 0) {
		/* libseccomp says ECANCELED for every failure; the ioctl's errno tells. ENOENT:
		 * the caller was killed after poll saw its call, nothing to answer. */
		int e = errno ? errno : -rc;
		if (e == ENOENT || e == EINTR)
			return;
		/* Anything else would repeat at every poll: close the listener instead. The
		 * kernel then fails the refused calls with ENOSYS: still refused, unrecorded,
		 * and meta.json says why. */
		if (!r->sc_err)
			r->sc_err = -e;
		close(r->notify_fd);
		r->notify_fd = -1;
		return;
	}
	const struct seccomp_notif *q = r->sc_req;
	struct syscall_denial d = {
		.arch = q->data.arch,
		.nr = q->data.nr,
		.tid = (pid_t)q->pid,
		.err = EPERM,
		.would_deny = r->o->audit_only,
	};
	memcpy(d.args, q->data.args, sizeof(d.args));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	d.ts_real_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	task_facts(&d);
	if (seccomp_notify_id_valid(r->notify_fd, q->id) < 0) {
		d.comm[0] = '\0';   /* the tid may name another task by now */
		d.tgid = 0;
	}
	r->sc_resp->id = q->id;
	r->sc_resp->val = 0;
	/* Audit-only: the call goes ahead as if no filter were there (recorded all the same). */
	r->sc_resp->error = d.would_deny ? 0 : -EPERM;
	r->sc_resp->flags = d.would_deny ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	errno = 0;
	rc = seccomp_notify_respond(r->notify_fd, r->sc_resp);
	if (rc < 0 && errno != ENOENT && !r->sc_err)   /* ENOENT: the caller died meanwhile */
		r->sc_err = -(errno ? errno : -rc);
	/* Recorded even when the caller died meanwhile: it made the call. */
	record(r, &d);
}

cJSON *run_seccomp_json(const struct runner *r)
{
	cJSON *o = cJSON_CreateObject();
	const struct scmp_version *v = seccomp_version();
	char buf[64];
	snprintf(buf, sizeof(buf), "libseccomp %u.%u.%u", v->major, v->minor, v->micro);
	cJSON_AddStringToObject(o, "filter", buf);
	cJSON_AddNumberToObject(o, "instructions", r->have_sc ? r->sc.prog.len : 0);
	cJSON *a = cJSON_AddArrayToObject(o, "abis");
	cJSON_AddItemToArray(a, cJSON_CreateString("x86_64"));
	cJSON_AddItemToArray(a, cJSON_CreateString("x32"));
	cJSON_AddItemToArray(a, cJSON_CreateString("i386"));
	a = cJSON_AddArrayToObject(o, "refused");
	for (size_t i = 0; r->have_sc && i < r->sc.n_refused; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->sc.refused[i]));
	a = cJSON_AddArrayToObject(o, "relaxed");
	for (int g = 0; g < SECCOMP_GROUP_COUNT; g++)
		if (r->m.seccomp_allow & SECCOMP_GROUP_BIT(g))
			cJSON_AddItemToArray(a, cJSON_CreateString(seccomp_group_name((enum seccomp_group)g)));
	a = cJSON_AddArrayToObject(o, "socket_families");
	for (size_t i = 0; r->have_sc && i < r->sc.n_families; i++) {
		const char *fn = event_family_name((uint32_t)r->sc.families[i]);
		cJSON_AddItemToArray(a, fn ? cJSON_CreateString(fn) : cJSON_CreateNumber(r->sc.families[i]));
	}
	cJSON_AddStringToObject(o, "clone3", "ENOSYS, not recorded");
	cJSON_AddNumberToObject(o, "refusals", (double)r->sc_refused);
	if (r->o->audit_only)   /* docs/audit-only.md: the would-be refusals, continued */
		cJSON_AddNumberToObject(o, "continued", (double)r->sc_continued);
	cJSON_AddNumberToObject(o, "recorded", (double)r->sc_recorded);
	cJSON_AddNumberToObject(o, "not_recorded", (double)r->sc_not_recorded);
	if (r->sc_err) {
		snprintf(buf, sizeof(buf), "listener: %s", strerror(-r->sc_err));
		cJSON_AddStringToObject(o, "error", buf);
	}
	return o;
}
