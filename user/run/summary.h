/* The end-of-run summary on stderr (docs/run.md "The summary"): the first few denials of
 * each class, collected as the records arrive, and the lines that say how the run went,
 * built from its meta.json. Pure: no I/O but the FILE the lines go to. */
#ifndef CALYX_SUMMARY_H
#define CALYX_SUMMARY_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "calyx.h"
#include "sentinel/events.h"
#include "sentinel/syscall_events.h"

#define SUMMARY_EXAMPLES 3        /* distinct examples kept per class */
#define SUMMARY_EXAMPLE_MAX 320   /* bytes of one example, raw (shown neutralised) */

/* What makes two ring-buffer records the same example: a flood of one denial is counted
 * without formatting each record again. */
struct summary_key {
	uint32_t type, hook, family, flags;
	uint16_t port;
	uint8_t addr[16];
	char path[CALYX_PATH_MAX];
};

struct summary_class {
	uint64_t seen;                               /* denials of the class collected */
	unsigned n;                                  /* distinct examples kept */
	char ex[SUMMARY_EXAMPLES][SUMMARY_EXAMPLE_MAX];
	uint64_t count[SUMMARY_EXAMPLES];            /* how often each example was seen */
	struct summary_key key[SUMMARY_EXAMPLES];    /* the record of each (seccomp: unused) */
	bool have_key[SUMMARY_EXAMPLES];
};

struct run_summary {
	struct summary_class cls[DENY_CLASS_COUNT];
	struct summary_class would[DENY_CLASS_COUNT];   /* audit-only would-denies */
};

/* One ring-buffer record / one seccomp refusal: a denial is counted in its class and, while
 * fewer than SUMMARY_EXAMPLES distinct ones are kept, its text kept ("/etc/shadow (read)",
 * "inet 10.0.0.1:80 (connect)", "io_uring_setup"). Other records are ignored. */
void summary_collect_event(struct run_summary *s, const struct calyx_event *ev);
void summary_collect_syscall(struct run_summary *s, const struct syscall_denial *d);

/* The text of a denial record as the summary shows it (raw bytes, not neutralised). */
void summary_event_text(const struct calyx_event *ev, char *out, size_t outlen);

/* n bytes of s as one line safe to show on a terminal: what termout_filter neutralises,
 * and also '\n' and '\t', spelled out (run/termout.h). out: at least SUMMARY_SAFE_MAX(n). */
#define SUMMARY_SAFE_MAX(n) (((n) + 4) * 4 + 1)
void summary_safe(const char *s, size_t n, char *out);

/* The summary of a run that reached its start (meta: its meta.json) to f, each line
 * prefixed "calyx: " (docs/run.md "The summary": which line says what, and from where). */
void summary_print(FILE *f, const struct run_summary *s, const cJSON *meta);

/* The one line of a run that has no meta.json: it stopped before its command started, or
 * (command_started) failed before its artifacts were written. */
void summary_print_not_started(FILE *f, int exit_code, bool lease_used, bool command_started);

#endif
