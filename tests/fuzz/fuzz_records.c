/* links: sentinel/ringrec sentinel/events sentinel/jsonfmt sentinel/procs run/summary run/termout sentinel/syscall_events */
/* libFuzzer target for the ring-buffer record decoder: what the runner does with each
 * record the BPF programs submit (run/supervise.c on_event), fed records as bytes. The
 * input is a sequence of records, each a 2-byte little-endian length and that many bytes
 * (what the ring buffer delivers: its length and the record). Only what ringrec_valid
 * takes reaches the consumers, as in user/enforce/slots.c; they must never read outside
 * the record, crash or leak, and every events.jsonl line they write (denials, process
 * lines, the flush at the end) must be one JSON object. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sanitizer/asan_interface.h>

#include "calyx.h"
#include "run/summary.h"
#include "sentinel/events.h"
#include "sentinel/procs.h"
#include "sentinel/ringrec.h"

/* cJSON's allocations while the harness checks a line come from an arena, not malloc:
 * the tree of a parsed line is dozens of small allocations, and under ASan (a stack trace
 * recorded and 4 KiB filled for each) they cost more than the decoding under test. The
 * hooks are installed only around the check (the modules under test keep malloc); the
 * arena is emptied after each line and is large enough for any line of n bytes: cJSON
 * allocates at most one node and one string of at most n + 1 bytes per byte of input. */
static char *arena;
static size_t arena_cap, arena_used;

static void *arena_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n > arena_cap - arena_used)
		abort();   /* the reserve below is wrong: a harness bug, not a finding */
	void *p = arena + arena_used;
	arena_used += n;
	return p;
}

static void arena_free(void *p)
{
	(void)p;
}

static void arena_reserve(size_t line)
{
	size_t need = (line + 1) * (sizeof(cJSON) + 32) + (line + 16) * 2 + 4096;
	if (need > arena_cap) {
		free(arena);
		arena = malloc(need);
		if (!arena)
			abort();
		arena_cap = need;
	}
	arena_used = 0;
}

static void check_line(const char *p, size_t n)
{
	static cJSON_Hooks hooks = { arena_alloc, arena_free };
	arena_reserve(n);
	cJSON_InitHooks(&hooks);
	cJSON *j = cJSON_ParseWithLength(p, n);
	bool ok = cJSON_IsObject(j) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "type"));
	cJSON_InitHooks(NULL);   /* malloc and free again */
	if (!ok)
		abort();
}

/* Every '\n'-terminated line of b from offset at on must be one JSON object. */
static void check_lines(const struct jbuf *b, size_t at)
{
	if (b->oom)
		abort();
	while (at < b->len) {
		const char *p = b->p + at;
		const char *nl = memchr(p, '\n', b->len - at);
		size_t n = nl ? (size_t)(nl - p) : b->len - at;
		check_line(p, n);
		at += n + 1;
	}
}

/* ASan keeps freed memory in a quarantine (256 MiB by default) before reusing it. One
 * input here frees far less than 16 MiB and nothing freed is kept between inputs, so a
 * use after free is caught as before; cycling through 256 MiB instead cost a page fault
 * and a cleared page for nearly every allocation. ASAN_OPTIONS still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

static struct run_summary sum;   /* large: not on the stack */

/* One buffer for every record, allocated once: a malloc and free per record (ASan records
 * a stack trace for each) cost more than the decoding under test. Before each record
 * everything past its n bytes is poisoned, so ASan still reports any read past the record
 * as it would past an allocation of exactly n bytes; 8-byte aligned like the ring
 * buffer's records. */
#define REC_CAP 65536   /* the 2-byte length's maximum, rounded up */
static uint8_t *recbuf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	recbuf = aligned_alloc(8, REC_CAP);
	if (!recbuf)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_counts counts;
	struct event_head_cache hc;
	struct procs procs;
	struct jbuf out = { 0 };
	uint64_t valid = 0;

	memset(&counts, 0, sizeof counts);
	memset(&hc, 0, sizeof hc);
	memset(&sum, 0, sizeof sum);
	procs_init(&procs, (int64_t)1 << 60);
	for (size_t off = 0; off + 2 <= size;) {
		size_t n = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (n > size - off)
			n = size - off;
		/* Exactly n bytes addressable (none: NULL, as before), so ASan sees any read past
		 * the record. */
		void *rec = n ? recbuf : NULL;
		ASAN_UNPOISON_MEMORY_REGION(recbuf, REC_CAP);
		ASAN_POISON_MEMORY_REGION(recbuf + n, REC_CAP - n);
		if (n)
			memcpy(rec, data + off, n);
		off += n;
		if (!ringrec_valid(rec, n))
			continue;
		valid++;
		const struct calyx_event *ev = rec;
		event_count(&counts, ev);
		summary_collect_event(&sum, ev);
		(void)event_svf_type(ev);
		(void)event_path_source(ev);
		size_t at = out.len;
		if (ev->type == CALYX_EV_DENY || ev->type == CALYX_EV_KILL) {
			char text[SUMMARY_EXAMPLE_MAX];   /* the summary's text: of denials only */
			summary_event_text(ev, text, sizeof text);
			if (event_deny_class(ev) < 0 && ev->type == CALYX_EV_KILL)
				abort();   /* a kill is always a denial */
			event_format_denial(&out, ev, procs.mono_to_real_ns, &hc);
			jb_raw(&out, "\n", 1);
		} else {
			procs_record(&procs, ev, &out);
		}
		check_lines(&out, at);
		/* Each record counted once, as the runner's meta.json says. */
		if (counts.records != valid)
			abort();
	}
	size_t at = out.len;
	procs_flush(&procs, &out);
	check_lines(&out, at);
	procs_free(&procs);
	jb_free(&out);
	return 0;
}
