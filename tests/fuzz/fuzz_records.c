/* links: sentinel/ringrec sentinel/events sentinel/jsonfmt sentinel/procs run/summary run/termout sentinel/syscall_events */
/* libFuzzer target for the ring-buffer record decoder: what the runner does with each
 * record the BPF programs submit (run/supervise.c on_event), fed records as bytes. The
 * input is a sequence of records, each a 2-byte little-endian length and that many bytes
 * (what the ring buffer delivers: its length and the record). Only what ringrec_valid
 * takes reaches the consumers, as in user/enforce/slots.c; they must never read outside
 * the record, crash or leak, and every events.jsonl line they write (denials, process
 * lines, the flush at the end) must be one JSON object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calyx.h"
#include "run/summary.h"
#include "sentinel/events.h"
#include "sentinel/procs.h"
#include "sentinel/ringrec.h"

/* Every '\n'-terminated line of b from offset at on must be one JSON object. */
static void check_lines(const struct jbuf *b, size_t at)
{
	if (b->oom)
		abort();
	while (at < b->len) {
		const char *p = b->p + at;
		const char *nl = memchr(p, '\n', b->len - at);
		size_t n = nl ? (size_t)(nl - p) : b->len - at;
		cJSON *j = cJSON_ParseWithLength(p, n);
		if (!cJSON_IsObject(j) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "type")))
			abort();
		cJSON_Delete(j);
		at += n + 1;
	}
}

static struct run_summary sum;   /* large: not on the stack */

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
		/* Exactly n bytes, 8-byte aligned like the ring buffer's, so ASan sees any read
		 * past the record. */
		void *rec = n ? aligned_alloc(8, (n + 7) & ~(size_t)7) : NULL;
		if (n && !rec)
			abort();
		if (n)
			memcpy(rec, data + off, n);
		off += n;
		if (!ringrec_valid(rec, n)) {
			free(rec);
			continue;
		}
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
		free(rec);
	}
	size_t at = out.len;
	procs_flush(&procs, &out);
	check_lines(&out, at);
	procs_free(&procs);
	jb_free(&out);
	return 0;
}
