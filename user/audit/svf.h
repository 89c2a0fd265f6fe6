/* SVF audit log: JSON Lines, one hash-chained record per line.
 *
 * Record (keys in exactly this order, compact cJSON output, one line):
 *   {"seq":N,"ts":"RFC 3339 UTC, ms","type":"lease_event.verified","lease":"LEASE-…",
 *    "intent":"INT-…","host":"…","data":{…},"prev":"<64 hex>","hash":"<64 hex>"}
 * Every line ends in exactly ,"hash":"<64 lowercase hex>"}; hash = hex BLAKE2b-256
 * (libsodium crypto_generichash, no key) over the line's bytes before that member followed
 * by '}' (svf_hash_body): the bytes as written, never a re-serialisation (docs/audit.md).
 * prev = the previous record's hash, 64 zeros for the first record (seq 1).
 *
 * Appends happen under flock(LOCK_EX) on the log file; seq and prev continue from the
 * file's last line, whose own hash is checked first (a corrupt tail refuses appends:
 * the chain is never silently extended past damage). Library module: no logging. The
 * records themselves are svf_record.c (pure), the log file svf.c. */
#ifndef CALYX_SVF_H
#define CALYX_SVF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#define SVF_HASH_HEX 64
#define SVF_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define SVF_MAX_LINE (1u << 20)   /* a record longer than this is refused (and flagged when verifying) */

struct svf_writer;

/* Open (creating, mode 0640) and lock the log, read its tail. 0 or -errno
 * (-EBADMSG: the last record is damaged; err says how). */
int svf_open(const char *path, struct svf_writer **out, char *err, size_t errlen);
/* The same for rel beneath dirfd, no symlink followed (base/safedir.h): the state dir's log. */
int svf_open_at(int dirfd, const char *rel, struct svf_writer **out, char *err, size_t errlen);
/* Append one record; data may be NULL (written as {}), it is not consumed. lease and
 * intent may be NULL (written as ""). 0 or -errno. */
int svf_append(struct svf_writer *w, const char *type, const char *lease, const char *intent,
	       const cJSON *data, char *err, size_t errlen);
/* A writer on fd (open O_RDWR|O_APPEND, flock'ed LOCK_EX by the caller, who has checked its
 * tail: auditlog.c): the log's last seq and hash given. Takes fd over; NULL (fd left
 * open) when out of memory. */
struct svf_writer *svf_writer_adopt(int fd, uint64_t last_seq, const char prev[SVF_HASH_HEX + 1]);
uint64_t svf_writer_seq(const struct svf_writer *w);       /* the last record's seq (0: none) */
const char *svf_writer_head(const struct svf_writer *w);   /* the last record's hash */
off_t svf_writer_last_offset(const struct svf_writer *w);  /* where this writer's last record starts, -1 */
int svf_writer_fd(const struct svf_writer *w);
/* fsync, unlock, close. Returns 0 or the first -errno seen (fsync). NULL-safe. */
int svf_close(struct svf_writer *w);

/* Open + append + close. */
int svf_append_one(const char *path, const char *type, const char *lease, const char *intent,
		   const cJSON *data, char *err, size_t errlen);
int svf_append_one_at(int dirfd, const char *rel, const char *type, const char *lease,
		      const char *intent, const cJSON *data, char *err, size_t errlen);

/* The line (with its '\n') of record seq: the canonical record (keys in the order above)
 * with its hash member. *line malloc'd, *len its bytes, hash its hash. 0, -EINVAL (data
 * not an object), -E2BIG (longer than SVF_MAX_LINE), -ENOMEM, with a message. Pure. */
int svf_record_line(uint64_t seq, const char *ts, const char *type, const char *lease, const char *intent,
		    const char *host, const cJSON *data, const char *prev, char **line, size_t *len,
		    char hash[SVF_HASH_HEX + 1], char *err, size_t errlen);

/* hex BLAKE2b-256 of the first body_len bytes of line followed by '}': a record's hash. */
void svf_hash_body(const char *line, size_t body_len, char out[SVF_HASH_HEX + 1]);

/* Check one line (without its '\n'): the hash member last, the body one JSON object with
 * the keys above in order and their types, the hash right.
 * Fills seq, prev and hash (each 65 bytes, NUL-terminated). 0 or -EBADMSG with reason. */
int svf_check_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], char *err, size_t errlen);
/* The same, also handing over the parsed body (*obj, without "hash"; the caller deletes it). */
int svf_parse_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], cJSON **obj, char *err, size_t errlen);

/* Verify a whole log: every line complete and canonical, hashes right, seq 1,2,3…, each
 * prev equal to the previous hash. Detects an edited, deleted, inserted or reordered
 * record and a tail cut mid-line. Cutting whole lines off the end leaves a valid shorter
 * chain: only signed checkpoints of the head can detect that (docs/run.md).
 * Returns 0, -EBADMSG (err names the line) or -errno for I/O. An absent file is -ENOENT. */
int svf_verify_file(const char *path, char *err, size_t errlen);
/* Same, also reporting the record count and the head hash (zeros for an empty log). */
int svf_verify_file_ex(const char *path, uint64_t *n_records, char head[SVF_HASH_HEX + 1],
		       char *err, size_t errlen);

/* What the log holds about run `run` of `lease`: an exec_event.started, an
 * exec_event.completed (data.run equal to run), and the started record's ts ("" when
 * none). Reads under LOCK_SH; does not check the chain. An absent log is 0 with both
 * false. 0 or -errno. */
struct svf_run_state {
	bool started;
	bool completed;
	bool consumed;                /* lease_event.consumed of this run */
	bool recovered;               /* exec_event.artifacts_recovered of this run */
	char started_ts[32];
};
int svf_find_run(const char *path, const char *lease, uint32_t run, struct svf_run_state *st,
		 char *err, size_t errlen);
/* The same for path beneath dirfd, no symlink followed (AT_FDCWD: path as svf_find_run). */
int svf_find_run_at(int dirfd, const char *path, const char *lease, uint32_t run,
		    struct svf_run_state *st, char *err, size_t errlen);

/* RFC 3339 UTC with milliseconds ("2026-11-05T10:11:12.345Z") for a CLOCK_REALTIME time. */
void svf_format_ts(int64_t sec, long nsec, char out[32]);
/* The same for now. */
void svf_format_now(char out[32]);

#endif
