/* Process records aggregated by tgid (sentinel/procs.h). */
#include "sentinel/procs.h"

#include <stdlib.h>
#include <string.h>

#include "sentinel/events.h"

struct proc {
	uint32_t tgid;           /* 0: a free slot */
	uint32_t ppid;
	uint64_t seq;
	uint64_t cgroup_id;
	char comm[16];
	uint64_t start_ns;       /* the fork record's bpf_ktime; valid when have_start */
	bool have_start;
	bool inherited;          /* image: the parent's at the fork (no exec of its own yet) */
	struct jbuf execs;       /* the exec objects so far, comma-separated */
	struct jbuf image;       /* "binary":…,"binary_source":…,"argv":…,"argv_truncated":… */
	/* The kernel's I/O counts of the children that ended while this was their parent, as
	 * their exit records had them: the kernel adds a reaped child's I/O (its own and what
	 * it had reaped) to its reaper's, so this process's own is its count less these. */
	uint64_t child_read_bytes, child_write_bytes, child_rchar, child_wchar;
	uint32_t n_execs;        /* execs seen; the first PROC_MAX_EXECS are in execs */
};

void procs_init(struct procs *t, int64_t mono_to_real_ns)
{
	memset(t, 0, sizeof(*t));
	t->mono_to_real_ns = mono_to_real_ns;
}

static void proc_release(struct proc *p)
{
	jb_free(&p->execs);
	jb_free(&p->image);
	memset(p, 0, sizeof(*p));
}

void procs_free(struct procs *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].tgid)
			proc_release(&t->slot[i]);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static size_t home_of(const struct procs *t, uint32_t tgid)
{
	return (size_t)((tgid * 2654435761u) & (uint32_t)(t->cap - 1));
}

static struct proc *find(struct procs *t, uint32_t tgid)
{
	if (!t->cap)
		return NULL;
	for (size_t i = home_of(t, tgid);; i = (i + 1) & (t->cap - 1)) {
		if (t->slot[i].tgid == tgid)
			return &t->slot[i];
		if (!t->slot[i].tgid)
			return NULL;
	}
}

/* A new entry (tgid not present); NULL when the table cannot grow. */
static struct proc *insert(struct procs *t, uint32_t tgid)
{
	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct proc *ns = calloc(cap, sizeof(*ns));
		if (!ns)
			return NULL;
		struct proc *old = t->slot;
		size_t oldcap = t->cap;
		t->slot = ns;
		t->cap = cap;
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].tgid)
				continue;
			size_t j = home_of(t, old[i].tgid);
			while (ns[j].tgid)
				j = (j + 1) & (cap - 1);
			ns[j] = old[i];
		}
		free(old);
	}
	size_t i = home_of(t, tgid);
	while (t->slot[i].tgid)
		i = (i + 1) & (t->cap - 1);
	struct proc *p = &t->slot[i];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->seq = t->next_seq++;
	t->n++;
	return p;
}

/* Linear probing's deletion: the entries after it that would no longer be found move up. */
static void erase(struct procs *t, struct proc *p)
{
	proc_release(p);
	t->n--;
	size_t i = (size_t)(p - t->slot);
	for (size_t j = (i + 1) & (t->cap - 1); t->slot[j].tgid; j = (j + 1) & (t->cap - 1)) {
		size_t h = home_of(t, t->slot[j].tgid);
		/* j's entry may move to i when i lies cyclically in [h, j) */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			t->slot[i] = t->slot[j];
			memset(&t->slot[j], 0, sizeof(t->slot[j]));
			i = j;
		}
	}
}

void proc_split_cpu(uint64_t cpu_ns, uint64_t utime, uint64_t stime, uint64_t *user_ns, uint64_t *sys_ns)
{
	if (stime == 0) {
		*user_ns = cpu_ns;
		*sys_ns = 0;
		return;
	}
	if (utime == 0) {
		*user_ns = 0;
		*sys_ns = cpu_ns;
		return;
	}
	unsigned __int128 s = (unsigned __int128)cpu_ns * stime / ((unsigned __int128)stime + utime);
	*sys_ns = (uint64_t)s;
	*user_ns = cpu_ns - *sys_ns;
}

void proc_counters_of(const struct calyx_exit_event *x, struct proc_counters *c)
{
	c->cpu_ns = x->cpu_ns;
	proc_split_cpu(x->cpu_ns, x->utime_ns, x->stime_ns, &c->user_ns, &c->sys_ns);
	c->maxrss_kb = x->maxrss_kb;
	c->min_flt = x->min_flt;
	c->maj_flt = x->maj_flt;
	c->nvcsw = x->nvcsw;
	c->nivcsw = x->nivcsw;
	c->read_bytes = x->read_bytes;
	c->write_bytes = x->write_bytes;
	c->rchar = x->rchar;
	c->wchar = x->wchar;
}

void proc_format_counters(struct jbuf *b, const struct proc_counters *c)
{
	jb_lit(b, "{\"cpu_ns\":");
	jb_u64(b, c->cpu_ns);
	jb_lit(b, ",\"user_ns\":");
	jb_u64(b, c->user_ns);
	jb_lit(b, ",\"sys_ns\":");
	jb_u64(b, c->sys_ns);
	jb_lit(b, ",\"maxrss_kb\":");
	jb_u64(b, c->maxrss_kb);
	jb_lit(b, ",\"min_flt\":");
	jb_u64(b, c->min_flt);
	jb_lit(b, ",\"maj_flt\":");
	jb_u64(b, c->maj_flt);
	jb_lit(b, ",\"nvcsw\":");
	jb_u64(b, c->nvcsw);
	jb_lit(b, ",\"nivcsw\":");
	jb_u64(b, c->nivcsw);
	jb_lit(b, ",\"read_bytes\":");
	jb_u64(b, c->read_bytes);
	jb_lit(b, ",\"write_bytes\":");
	jb_u64(b, c->write_bytes);
	jb_lit(b, ",\"rchar\":");
	jb_u64(b, c->rchar);
	jb_lit(b, ",\"wchar\":");
	jb_u64(b, c->wchar);
	jb_raw(b, "}", 1);
}

static void add(struct proc_counters *s, const struct proc_counters *c)
{
	s->cpu_ns += c->cpu_ns;
	s->user_ns += c->user_ns;
	s->sys_ns += c->sys_ns;
	if (c->maxrss_kb > s->maxrss_kb)
		s->maxrss_kb = c->maxrss_kb;
	s->min_flt += c->min_flt;
	s->maj_flt += c->maj_flt;
	s->nvcsw += c->nvcsw;
	s->nivcsw += c->nivcsw;
	s->read_bytes += c->read_bytes;
	s->write_bytes += c->write_bytes;
	s->rchar += c->rchar;
	s->wchar += c->wchar;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* The process's line; x its exit record or NULL (still open). */
static void write_line(struct procs *t, const struct proc *p, const struct calyx_exit_event *x, struct jbuf *out)
{
	jb_lit(out, "{\"type\":\"process\",\"pid\":");
	jb_u64(out, p->tgid);
	jb_lit(out, ",\"ppid\":");
	jb_u64(out, x && !p->ppid ? x->ev.ppid : p->ppid);
	jb_lit(out, ",\"comm\":");
	jb_str(out, x ? x->ev.comm : p->comm, sizeof(p->comm));
	jb_lit(out, ",\"cgroup_id\":");
	jb_u64(out, p->cgroup_id ? p->cgroup_id : x ? x->ev.cgroup_id : 0);
	jb_lit(out, ",\"start\":");
	if (p->have_start)
		jb_ts(out, event_real_ns(p->start_ns, t->mono_to_real_ns));
	else
		jb_null(out);
	jb_lit(out, ",\"end\":");
	if (x)
		jb_ts(out, event_real_ns(x->ev.ts_ns, t->mono_to_real_ns));
	else
		jb_null(out);
	jb_raw(out, ",", 1);
	if (p->image.len)
		jb_raw(out, p->image.p, p->image.len);
	else
		jb_lit(out, "\"binary\":null,\"binary_source\":null,\"argv\":null,\"argv_truncated\":false");
	jb_lit(out, ",\"execs\":[");
	jb_raw(out, p->execs.p, p->execs.len);
	jb_raw(out, "]", 1);
	if (p->n_execs > PROC_MAX_EXECS) {
		jb_lit(out, ",\"execs_omitted\":");
		jb_u64(out, p->n_execs - PROC_MAX_EXECS);
	}
	jb_lit(out, ",\"exit_code\":");
	/* the wait status of the thread group's exit */
	if (x && (x->status & 0x7f) == 0)
		jb_u64(out, ((uint32_t)x->status >> 8) & 0xff);
	else
		jb_null(out);
	jb_lit(out, ",\"signal\":");
	if (x && (x->status & 0x7f) != 0)
		jb_u64(out, (uint32_t)x->status & 0x7f);
	else
		jb_null(out);
	jb_lit(out, ",\"counters\":");
	if (x) {
		struct proc_counters c;
		proc_counters_of(x, &c);
		c.read_bytes = sat_sub(c.read_bytes, p->child_read_bytes);
		c.write_bytes = sat_sub(c.write_bytes, p->child_write_bytes);
		c.rchar = sat_sub(c.rchar, p->child_rchar);
		c.wchar = sat_sub(c.wchar, p->child_wchar);
		proc_format_counters(out, &c);
		add(&t->totals.sum, &c);
		t->totals.processes++;
	} else {
		jb_null(out);
		t->totals.unfinished++;
	}
	jb_lit(out, "}\n");
	t->totals.lines++;
}

static void on_fork_rec(struct procs *t, const struct calyx_event *ev, struct jbuf *out)
{
	if (ev->pid != ev->tgid)
		return;   /* a new thread of a process, not a process */
	struct proc *p = find(t, ev->tgid);
	if (p) {      /* its exit record was lost and the pid reused: the old one ends here */
		write_line(t, p, NULL, out);
		erase(t, p);
	}
	if (!(p = insert(t, ev->tgid)))
		return;
	p->ppid = ev->ppid;
	p->cgroup_id = ev->cgroup_id;
	memcpy(p->comm, ev->comm, sizeof(p->comm));
	p->start_ns = ev->ts_ns;
	p->have_start = true;
	/* Until it execs, it runs its parent's image. */
	struct proc *parent = find(t, ev->ppid);
	if (parent && parent->image.len) {
		const char *img = parent->image.p;
		size_t n = parent->image.len;
		const char *src = memmem(img, n, "\"binary_source\":", 16);
		const char *argv = memmem(img, n, ",\"argv\":", 8);
		if (src && argv && src < argv) {
			/* the same binary and argv, its source "parent" */
			jb_raw(&p->image, img, (size_t)(src - img));
			jb_lit(&p->image, "\"binary_source\":\"parent\"");
			jb_raw(&p->image, argv, n - (size_t)(argv - img));
			p->inherited = true;
		}
	}
}

static void on_exec_rec(struct procs *t, const struct calyx_exec_event *x)
{
	struct proc *p = find(t, x->ev.tgid);
	if (!p && !(p = insert(t, x->ev.tgid)))
		return;
	if (!p->ppid)
		p->ppid = x->ev.ppid;
	if (!p->cgroup_id)
		p->cgroup_id = x->ev.cgroup_id;
	memcpy(p->comm, x->ev.comm, sizeof(p->comm));
	const char *source = (x->flags & CALYX_EXEC_BINARY_NAME) ? "exec_name" : "kernel";
	bool unread = (x->flags & CALYX_EXEC_ARGV_UNREAD) != 0;
	bool truncated = (x->flags & CALYX_EXEC_ARGV_TRUNCATED) != 0;
	size_t shown = x->shown < sizeof(x->argv) ? x->shown : sizeof(x->argv);

	/* the image: "binary":…,"binary_source":…,"argv":…,"argv_truncated":… */
	struct jbuf *im = &p->image;
	jb_reset(im);
	jb_lit(im, "\"binary\":");
	if (x->binary[0])
		jb_str(im, x->binary, sizeof(x->binary));
	else
		jb_null(im);
	jb_lit(im, ",\"binary_source\":");
	jb_name(im, source);
	jb_lit(im, ",\"argv\":");
	if (unread)
		jb_null(im);
	else
		event_format_argv(im, x->argv, shown);
	jb_lit(im, ",\"argv_truncated\":");
	jb_bool(im, truncated);
	p->inherited = false;

	/* the exec in the list: {"ts":…,<image>,"argv_bytes":…} */
	if (++p->n_execs > PROC_MAX_EXECS)
		return;
	struct jbuf *e = &p->execs;
	jb_sep(e);
	jb_lit(e, "{\"ts\":");
	jb_ts(e, event_real_ns(x->ev.ts_ns, t->mono_to_real_ns));
	jb_raw(e, ",", 1);
	jb_raw(e, im->p, im->len);
	jb_lit(e, ",\"argv_bytes\":");
	jb_u64(e, x->argv_len);
	if (unread)
		jb_lit(e, ",\"argv_unread\":true");
	jb_raw(e, "}", 1);
}

static void on_exit_rec(struct procs *t, const struct calyx_exit_event *x, struct jbuf *out)
{
	struct proc *p = find(t, x->ev.tgid);
	if (!p && !(p = insert(t, x->ev.tgid)))
		return;   /* its fork record was lost, and no room: nothing to write it with */
	write_line(t, p, x, out);
	erase(t, p);
	/* Its parent (real_parent at the exit) reaps it, and the kernel then adds its I/O to
	 * the parent's (kernel/exit.c wait_task_zombie): the parent's line counts it once. */
	struct proc *parent = x->ev.ppid != x->ev.tgid ? find(t, x->ev.ppid) : NULL;
	if (parent) {
		parent->child_read_bytes += x->read_bytes;
		parent->child_write_bytes += x->write_bytes;
		parent->child_rchar += x->rchar;
		parent->child_wchar += x->wchar;
	}
}

void procs_record(struct procs *t, const struct calyx_event *ev, struct jbuf *out)
{
	/* tgid 0 is the idle task, never one of a sandbox's, and the table's mark of a free
	 * slot: an entry for it would be lost (and its buffers with it). */
	if (!ev->tgid)
		return;
	switch (ev->type) {
	case CALYX_EV_FORK: on_fork_rec(t, ev, out); break;
	case CALYX_EV_EXEC: on_exec_rec(t, (const struct calyx_exec_event *)ev); break;
	case CALYX_EV_EXIT: on_exit_rec(t, (const struct calyx_exit_event *)ev, out); break;
	default: break;
	}
}

void procs_note_start(struct procs *t, uint32_t tgid, uint32_t ppid, int64_t mono_ns)
{
	if (!tgid)
		return;   /* as in procs_record */
	struct proc *p = find(t, tgid);
	if (!p && !(p = insert(t, tgid)))
		return;
	if (!p->ppid)
		p->ppid = ppid;
	if (!p->have_start && mono_ns >= 0) {
		p->start_ns = (uint64_t)mono_ns;
		p->have_start = true;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct proc *x = *(const struct proc *const *)a, *y = *(const struct proc *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void procs_flush(struct procs *t, struct jbuf *out)
{
	if (!t->n)
		return;
	struct proc **order = malloc(t->n * sizeof(*order));
	size_t k = 0;
	if (order) {
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].tgid)
				order[k++] = &t->slot[i];
		qsort(order, k, sizeof(*order), by_seq);
		for (size_t i = 0; i < k; i++)
			write_line(t, order[i], NULL, out);
	} else {   /* out of memory: the same lines, in table order */
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].tgid)
				write_line(t, &t->slot[i], NULL, out);
	}
	free(order);
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i].tgid)
			proc_release(&t->slot[i]);
	t->n = 0;
}
