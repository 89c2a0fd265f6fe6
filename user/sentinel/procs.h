/* The sandbox's processes, one events.jsonl line each: the fork, exec and exit records of
 * a thread group aggregated by tgid (its start, its execs in order, its end, exit status
 * and counters), and the totals of the whole tree for meta.json's `resources`. A line is
 * written when the process's exit record arrives; the processes still open at the end
 * (alive when the sandbox was killed, or whose exit record was lost) by procs_flush. Pure
 * module: the lines go to a caller's buffer. Schema in docs/run.md. */
#ifndef CALYX_PROCS_H
#define CALYX_PROCS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calyx.h"
#include "sentinel/jsonfmt.h"

/* An exit record's counters, the CPU time split into user / system. */
struct proc_counters {
	uint64_t cpu_ns, user_ns, sys_ns;
	uint64_t maxrss_kb;
	uint64_t min_flt, maj_flt, nvcsw, nivcsw;
	uint64_t read_bytes, write_bytes, rchar, wchar;
};

struct proc_totals {
	uint64_t processes;      /* exit records counted (lines with counters) */
	uint64_t lines;          /* process lines written */
	uint64_t unfinished;     /* of those, without an exit record (end null) */
	struct proc_counters sum;/* sums; maxrss_kb: the largest of any process */
};

/* A process's line lists its first PROC_MAX_EXECS execs; later ones are counted
 * ("execs_omitted"), and its binary / argv are still its last image's. A process that
 * execs in a loop costs the runner a bounded amount of memory. */
#define PROC_MAX_EXECS 64

struct proc;
struct procs {
	struct proc *slot;       /* open addressing by tgid, capacity a power of 2 */
	size_t cap, n;
	uint64_t next_seq;       /* order of first sight */
	int64_t mono_to_real_ns;
	struct proc_totals totals;
};

void procs_init(struct procs *t, int64_t mono_to_real_ns);
void procs_free(struct procs *t);
/* A FORK, EXEC or EXIT record (others are ignored). An exit appends its process's line
 * (with its newline) to out; so does a fork of a tgid whose entry is still open (its exit
 * record was lost and the pid was reused). */
void procs_record(struct procs *t, const struct calyx_event *ev, struct jbuf *out);
/* The start of a process whose fork no record reports (the sandbox's main process when
 * it was moved into the cgroup after its fork): mono_ns (CLOCK_MONOTONIC), unless a fork
 * record already gave one. */
void procs_note_start(struct procs *t, uint32_t tgid, uint32_t ppid, int64_t mono_ns);
/* Lines for every entry still open, in order of first sight; the table is empty after. */
void procs_flush(struct procs *t, struct jbuf *out);

/* Split the precise total cpu_ns in the proportion of the tick-sampled utime / stime,
 * as the kernel's cputime_adjust does for rusage: no system samples, all user; no user
 * samples, all system. */
void proc_split_cpu(uint64_t cpu_ns, uint64_t utime, uint64_t stime, uint64_t *user_ns, uint64_t *sys_ns);
void proc_counters_of(const struct calyx_exit_event *x, struct proc_counters *c);
/* "counters" object body: {"cpu_ns":…,…,"wchar":…} */
void proc_format_counters(struct jbuf *b, const struct proc_counters *c);

#endif
