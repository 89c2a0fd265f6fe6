/* What `calyx report` shows of one run, read from the state directory (docs/report.md):
 * the run directory STATE/outgoing/staging_runs/NAME/ (meta.json, events.jsonl, the
 * first bytes of stdout.log and stderr.log, every file's BLAKE2b-256) and the run's
 * records in the SVF log STATE/logs/svf_audit/svf.jsonl with the log's verification.
 * Every file is opened beneath the state dir's fd without following a symlink
 * (base/safedir.h). Reading only: a report never changes what it reports on. No logging. */
#ifndef CALYX_REPORT_LOAD_H
#define CALYX_REPORT_LOAD_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define REPORT_HASH_HEX 64
#define REPORT_EXCERPT_BYTES 4096     /* of stdout.log / stderr.log shown on the page */
#define REPORT_MAX_EVENT_LINES 20000  /* events.jsonl lines kept (the rest counted) */
#define REPORT_MAX_EVENT_LINE (1u << 20)
#define REPORT_MAX_SVF_RECORDS 4096   /* this run's SVF records kept (the rest counted) */
#define REPORT_MAX_ARTIFACTS 64       /* files of the run directory hashed (the rest counted) */
#define REPORT_MAX_META_BYTES (16u << 20)

struct report_artifact {
	char name[256];
	uint64_t bytes;
	char blake2b[REPORT_HASH_HEX + 1];   /* computed now; "" when it could not be read */
	char recorded[REPORT_HASH_HEX + 1];  /* what meta.json (or, for meta.json itself, the
					      * completion record) says; "" when nothing does */
	char error[128];                     /* why it could not be hashed, else "" */
};

struct report_excerpt {
	bool present;
	uint64_t size;                       /* the file's whole size */
	char *data;                          /* its first bytes (at most REPORT_EXCERPT_BYTES) */
	size_t len;
};

/* The audit status of the run (report_audit_status). */
struct report_audit {
	bool chain_verifies;                 /* the whole log's hash chain */
	uint64_t records;                    /* records in the log (when it verifies) */
	char head[REPORT_HASH_HEX + 1];
	bool verifies;                       /* the chain, and this run's records with it */
	char reason[1024];                   /* why not, when !verifies */
	uint64_t started_seq, completed_seq; /* this run's exec_event.started / .completed, 0: none */
};

struct report_run {
	char name[128];                      /* the run directory's name: LEASE-… or LEASE-…-rN */
	char state_path[PATH_MAX];           /* as given, for the page */
	cJSON *meta;                         /* meta.json: an object with schema 1 */
	const char *lease;                   /* meta.json lease (points into meta) */
	uint32_t run;                        /* meta.json run (1 when absent) */

	cJSON *events;                       /* array of events.jsonl's objects, in file order */
	bool events_present;
	size_t events_bad;                   /* lines that are not JSON objects */
	size_t events_omitted;               /* lines past REPORT_MAX_EVENT_LINES */

	struct report_excerpt out, err;      /* stdout.log, stderr.log */

	struct report_artifact *artifacts;   /* regular files of the run directory, by name */
	size_t n_artifacts;
	size_t artifacts_omitted;            /* past REPORT_MAX_ARTIFACTS; entries not regular
					      * files are listed in artifacts_other */
	size_t artifacts_other;

	cJSON *svf;                          /* array of this run's SVF records, in log order */
	size_t svf_omitted;
	bool svf_present;                    /* the log exists */
	char svf_error[256];                 /* reading the log failed (then svf is partial) */
	struct report_audit audit;
};

/* Load the run directory name beneath state_fd (the open state dir, state_path its name
 * for the page and messages) and the run's SVF records, and decide the audit status.
 * 0; -ENOENT: there is no run directory of that name (err says so); -EBADMSG: meta.json is
 * not a schema-1 run record of that run (missing, not JSON, wrong lease), err names the
 * file and what is wrong; -EINVAL: name is not one path component; other -errno: I/O.
 * The run is filled only on 0; report_run_free it then. */
int report_load(int state_fd, const char *state_path, const char *name, struct report_run *r,
		char *err, size_t errlen);
void report_run_free(struct report_run *r);

/* The audit status of the run: whether the whole log verifies (audit/verify.h
 * audit_verify: the chain and every signed checkpoint, with the state dir's audit public
 * key; records after the last checkpoint allowed, a run may be in progress) and this
 * run's records with it: an exec_event.started and an
 * exec_event.completed of the run whose meta_blake2b is meta.json's hash, and meta.json's
 * recorded artifact hashes equal to the files'. The one place the verdict is made, so
 * that the whole-log check is made once. state_fd is the state dir, log_fd the log open for
 * reading (-1: there is none). */
void report_audit_status(int state_fd, int log_fd, struct report_run *r);

/* RFC 3339 UTC with an optional fraction ("…T04:11:42.460Z", "…42.123456Z") as
 * microseconds since the epoch. 0 or -EINVAL. Pure. */
int report_parse_ts_us(const char *s, int64_t *us);

#endif
