/* `calyx run` while the command runs (docs/run.md steps 11-12): the ring-buffer records
 * of this sandbox (denial lines, process lines, SVF denials), and the poll loop over the child's output, its exit, the tick and
 * wall-clock timers and the runner's signals. */
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/testhook.h"
#include "enforce/resident.h"
#include "run/termout.h"

/* events.jsonl is written in chunks of about this much (and at every drain's end). */
#define EVENTS_FLUSH_BYTES (256u << 10)

/* What is formatted so far goes to events.jsonl. A line cut by a failed allocation is
 * not written (counted instead). */
static void events_flush(struct runner *r)
{
	if (r->evbuf.oom) {
		r->events_lost_oom++;
		jb_reset(&r->evbuf);
		return;
	}
	if (r->evbuf.len && r->events) {
		int fault = testhook_write_fault();
		if (fault && !r->events_werr)
			r->events_werr = -fault;
		if (!fault)
			fwrite(r->evbuf.p, 1, r->evbuf.len, r->events);
	}
	jb_reset(&r->evbuf);
}

/* The first SVF_MAX_DENIAL_RECORDS denials of each class become SVF records: a tree is
 * built for those only, from the line just formatted. */
static void queue_svf_denial(struct runner *r, const struct calyx_event *ev, const char *line, size_t len)
{
	const char *svf_type = event_svf_type(ev);
	int dc = event_deny_class(ev);
	if (!svf_type || dc < 0)
		return;
	if (r->per_class_logged[dc] >= SVF_MAX_DENIAL_RECORDS) {
		r->svf_denials_omitted++;
		return;
	}
	cJSON *j = cJSON_ParseWithLength(line, len);
	cJSON *q = j ? cJSON_CreateObject() : NULL;
	if (!q) {
		cJSON_Delete(j);
		r->svf_denials_omitted++;
		return;
	}
	r->per_class_logged[dc]++;
	cJSON_AddStringToObject(q, "type", svf_type);
	cJSON_AddItemToObject(q, "data", j);
	cJSON_AddItemToArray(r->svf_denials, q);
}

/* One record: counted; a denial formatted into its events.jsonl line (and maybe queued
 * for the SVF log); fork / exec / exit records aggregated into their process's line. No
 * allocation per record once the buffers have grown. */
static void on_event(const struct calyx_event *ev, void *ctx)
{
	struct runner *r = ctx;
	if (ev->sandbox_cgid != r->cg.cgid)
		return;   /* cannot happen (the ring buffer is this sandbox's own); never trusted */
	if (ev->type == CALYX_EV_FORK)
		r->live_seen = true;
	if (ev->type == CALYX_EV_KILL) {
		const struct calyx_kill_event *k = (const struct calyx_kill_event *)ev;
		/* a would-deny (audit-only) was never to be killed */
		if (k->d.err != SIGKILL && k->d.verdict != CALYX_VERDICT_WOULD_DENY && !r->kill_failed) {
			/* The image the enforcer refused is running: nothing of the sandbox may. */
			r->kill_failed = true;
			sandbox_cgroup_kill(&r->cg);
			run_say(0, "run: the enforcer could not kill a denied exec (pid %u, error %d): killing the sandbox",
				(unsigned)ev->tgid, k->d.err);
		}
	}
	event_count(&r->counts, ev);
	summary_collect_event(&r->sum, ev);
	if (ev->type == CALYX_EV_DENY || ev->type == CALYX_EV_KILL) {   /* would-denies too */
		size_t at = r->evbuf.len;
		event_format_denial(&r->evbuf, ev, r->mono_to_real_ns, &r->evhead);
		if (!r->evbuf.oom)
			queue_svf_denial(r, ev, r->evbuf.p + at, r->evbuf.len - at);
		jb_raw(&r->evbuf, "\n", 1);
	} else {
		procs_record(&r->procs, ev, &r->evbuf);
	}
	if (r->evbuf.len >= EVENTS_FLUSH_BYTES || r->evbuf.oom)
		events_flush(r);
}

void run_consume(struct runner *r)
{
	if (!r->sb)
		return;
	r->procs.mono_to_real_ns = r->mono_to_real_ns;
	int rc = resident_consume(r->sb, on_event, r);
	if (rc < 0 && !r->consume_err)
		r->consume_err = rc;
	events_flush(r);
	/* Out of stdio's buffer every tick: a runner killed mid-run leaves the records up
	 * to its last tick in events.jsonl for the sweep's abandoned run (the lines of the
	 * processes that had ended by then, and every denial). */
	if (rc > 0 && r->events)
		fflush(r->events);
}

void run_events_end(struct runner *r)
{
	procs_flush(&r->procs, &r->evbuf);
	events_flush(r);
}

void run_events_free(struct runner *r)
{
	procs_free(&r->procs);
	jb_free(&r->evbuf);
}

/* Polled by sandbox_spawn while the child waits before exec. */
int run_live_check(void *ctx)
{
	struct runner *r = ctx;
	run_consume(r);
	if (r->live_seen)
		return 1;
	return r->consume_err < 0 ? r->consume_err : 0;
}

void run_note_kill_failures(struct runner *r, struct outcome *oc, const struct calyx_stats *st)
{
	if (!r->kill_failed && (!st || st->v[CALYX_STAT_KILL_FAILED])) {
		r->kill_failed = true;
		sandbox_cgroup_kill(&r->cg);
		if (st)   /* its record may be lost; the counter is not */
			run_say(0, "run: the enforcer could not kill %ju denied exec(s): killing the sandbox",
				(uintmax_t)st->v[CALYX_STAT_KILL_FAILED]);
		else      /* a failed kill could go unseen: closed */
			run_say(0, "run: the enforcer's counters could not be read: killing the sandbox");
	}
	if (r->kill_failed) {
		oc->kill_failed = true;
		oc->status = ST_FAILED;
	}
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

/* Where one output stream is echoed: to a terminal (isatty) through the filter that
 * spells out control sequences (run/termout.h), anywhere else as the raw bytes. */
struct echo {
	int fd;
	bool tty;
	struct termout t;
};

static void echo_bytes(struct echo *e, const char *buf, size_t n)
{
	if (!e->tty) {
		forward(e->fd, buf, n);
		return;
	}
	static char shown[TERMOUT_MAX(65536)];
	forward(e->fd, shown, termout_filter(&e->t, buf, n, shown));
}

/* The stream ended (or supervision did): an unfinished UTF-8 sequence is shown spelled
 * out. A second call shows nothing. */
static void echo_end(struct echo *e)
{
	if (e->tty) {
		char tail[TERMOUT_MAX(0)];
		forward(e->fd, tail, termout_flush(&e->t, tail));
	}
}

static void drain_fd(int *fd, struct capped_log *cl, struct echo *e, struct runner *r, struct outcome *oc)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		echo_end(e);
		return;
	}
	/* output_bytes bounds stdout and stderr together: this log may take what the other
	 * has left of the bound. */
	if (r->eff.set[LIMIT_OUTPUT]) {
		uint64_t other = cl == &oc->out ? oc->err.written : oc->out.written;
		cl->cap = r->eff.v[LIMIT_OUTPUT] > other ? r->eff.v[LIMIT_OUTPUT] - other : 0;
	}
	uint64_t before = cl->written;
	int rc = capped_log_write(cl, buf, (size_t)n);
	if (rc < 0)
		run_say(0, "writing output log: %s", strerror(-rc));
	echo_bytes(e, buf, (size_t)(cl->written - before));
	if (cl->truncated)
		run_violation(r, oc, LIMIT_OUTPUT, true, oc->out.seen + oc->err.seen, "stdout and stderr bytes produced");
}

/* A signal to the runner (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the sandbox goes, the first
 * signal is the one recorded. */
static void on_signal(struct runner *r, struct outcome *oc)
{
	struct signalfd_siginfo si;
	if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !oc->interrupted_by) {
		run_say(0, "run: received %s, killing the sandbox", strsignal((int)si.ssi_signo));
		oc->interrupted_by = (int)si.ssi_signo;
		sandbox_cgroup_kill(&r->cg);
	}
}

/* The child's pidfd is readable: reap it. true once it is. */
static bool on_child_exit(struct runner *r, const struct sandbox_child *c, struct outcome *oc)
{
	int status;
	if (wait4(c->pid, &status, WNOHANG, &oc->ru) != c->pid)
		return false;
	oc->have_ru = true;
	if (WIFEXITED(status)) {
		oc->exited = true;
		oc->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		oc->signal = WTERMSIG(status);
	}
	/* The command is done: whatever it left running (daemonized grandchildren) goes
	 * with it. */
	sandbox_cgroup_kill(&r->cg);
	return true;
}

/* Every TICK_MS: the ring buffer, the limits (run_limits_watch), and once the child is reaped the drain
 * bound. false when the loop must end. */
static bool on_tick(struct runner *r, struct outcome *oc, int tick, bool reaped, int64_t *empty_since)
{
	uint64_t x;
	if (read(tick, &x, sizeof(x)) < 0 && errno != EAGAIN)
		return false;
	/* The BPF side submits without wake-ups: poll the ring buffer here. */
	run_consume(r);
	struct calyx_stats st;
	bool have_st = r->sb && resident_sandbox_stats(r->set, r->sb, &st) == 0;
	if (r->sb)
		run_note_kill_failures(r, oc, have_st ? &st : NULL);
	run_limits_watch(r, oc, have_st ? &st : NULL);
	if (!reaped)
		return true;
	/* Bound the drain: once the cgroup is empty nobody can hold the pipes, but never hang
	 * on a kernel that disagrees. */
	int pop = sandbox_cgroup_populated(&r->cg);
	if (pop == 0 && *empty_since < 0)
		*empty_since = clock_mono_ns();
	if (pop != 0)
		sandbox_cgroup_kill(&r->cg);
	return !(*empty_since >= 0 && clock_mono_ns() - *empty_since > (int64_t)DRAIN_AFTER_EMPTY_MS * 1000000);
}

int run_supervise(struct runner *r, struct sandbox_child *c, struct outcome *oc)
{
	/* The pipes are ours from here on: closed on every way out. */
	_cleanup_close_ int outfd = TAKE_FD(c->out_fd), errfd = TAKE_FD(c->err_fd);
	_cleanup_close_ int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	_cleanup_close_ int wall = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tick < 0 || wall < 0 || arm_timer(tick, TICK_MS, TICK_MS) < 0) {
		int e = errno;
		sandbox_cgroup_kill(&r->cg);
		return run_say(EXIT_INTERNAL, "timerfd: %s", strerror(e));
	}
	/* Unarmed, the command would run past its wall-clock limit: stop it instead. */
	if (r->eff.set[LIMIT_WALL] && r->eff.v[LIMIT_WALL] > 0 && arm_timer(wall, r->eff.v[LIMIT_WALL], 0) < 0) {
		int e = errno;
		sandbox_cgroup_kill(&r->cg);
		return run_say(EXIT_INTERNAL, "timerfd (wall_ms): %s", strerror(e));
	}
	/* Started by fork + cgroup.procs, the main process has no fork record of this
	 * sandbox: its line's start is the runner's. */
	procs_note_start(&r->procs, (uint32_t)c->pid, (uint32_t)getpid(), oc->start_mono);
	fcntl(outfd, F_SETFL, O_NONBLOCK);
	fcntl(errfd, F_SETFL, O_NONBLOCK);
	bool reaped = false;
	int64_t empty_since = -1;
	struct echo out_echo = { .fd = STDOUT_FILENO, .tty = isatty(STDOUT_FILENO) == 1 };
	struct echo err_echo = { .fd = STDERR_FILENO, .tty = isatty(STDERR_FILENO) == 1 };

	while (!reaped || outfd >= 0 || errfd >= 0) {
		struct pollfd p[8] = {
			{ .fd = outfd, .events = POLLIN },
			{ .fd = errfd, .events = POLLIN },
			{ .fd = reaped ? -1 : c->pidfd, .events = POLLIN },
			{ .fd = tick, .events = POLLIN },
			{ .fd = wall, .events = POLLIN },
			{ .fd = r->sigfd, .events = POLLIN },
			/* the BPF side wakes us when the ring buffer fills up between ticks */
			{ .fd = resident_sandbox_poll_fd(r->sb), .events = POLLIN },
			/* the seccomp listener: a sandboxed call waits for its EPERM */
			{ .fd = r->notify_fd, .events = POLLIN },
		};
		int n = poll(p, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sandbox_cgroup_kill(&r->cg);
			break;
		}
		if (p[0].revents)
			drain_fd(&outfd, &oc->out, &out_echo, r, oc);
		if (p[1].revents)
			drain_fd(&errfd, &oc->err, &err_echo, r, oc);
		if (p[5].revents & POLLIN)
			on_signal(r, oc);
		if (p[4].revents & POLLIN) {
			uint64_t x;
			if (read(wall, &x, sizeof(x)) > 0)
				run_violation(r, oc, LIMIT_WALL, true, (uint64_t)((clock_mono_ns() - oc->start_mono) / 1000000),
					      "runner clock (monotonic), start to the timer");
		}
		if ((p[2].revents & POLLIN) && on_child_exit(r, c, oc))
			reaped = true;
		if (p[6].revents & POLLIN)
			run_consume(r);
		if (p[7].revents & POLLIN) {
			run_seccomp_answer(r);
		} else if (p[7].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* No task uses the filter any more: nothing will come. */
			close(r->notify_fd);
			r->notify_fd = -1;
		}
		if ((p[3].revents & POLLIN) && !on_tick(r, oc, tick, reaped, &empty_since))
			break;
	}
	echo_end(&out_echo);
	echo_end(&err_echo);
	return 0;
}
