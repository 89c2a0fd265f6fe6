/* The state dir's audit log, as calyx writes it (docs/audit.md): STATE/logs/svf_audit/
 * svf.jsonl and its rotated files, signed checkpoints with the host audit key, the
 * checkpoint sidecar. Every writer goes through here:
 *   - open: writers serialise on svf.lock; the log's tail since its last checkpoint must
 *     verify (audit_check_tail) or nothing is appended — a damaged or cut log is never
 *     silently extended; a log over its size bound is rotated, the new file starting with
 *     a checkpoint of the old one's head;
 *   - append: one record; every `checkpoint_every` records a checkpoint follows;
 *   - seal: a checkpoint of the head unless the last record already is one (the end of
 *     every run, every refusal, every sweep);
 *   - repair: the one mending there is — a last record cut mid-line is cut off and a
 *     signed log_event.repaired record says what was cut. */
#ifndef CALYX_AUDITLOG_H
#define CALYX_AUDITLOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "audit/verify.h"

#define AUDITLOG_ROTATE_BYTES (64ull << 20)
#define AUDITLOG_CHECKPOINT_EVERY 256u
#define AUDITLOG_LOCK "svf.lock"

struct auditlog_opts {
	uint64_t rotate_bytes;       /* 0: AUDITLOG_ROTATE_BYTES */
	unsigned checkpoint_every;   /* 0: AUDITLOG_CHECKPOINT_EVERY */
};

struct auditlog;

/* Open the log of the state dir state_fd for appending (above). o may be NULL (defaults).
 * 0; -EBADMSG when the tail does not verify (why->fault, where, msg: the caller names
 * `calyx audit repair` for a cut record); -errno for I/O or the key (why->msg). */
int auditlog_open(int state_fd, const struct auditlog_opts *o, struct auditlog **out, struct audit_result *why);
/* The PASERK k4.public of the audit key when this open made it (the host's first record),
 * else NULL: the caller prints it for the auditor. */
const char *auditlog_new_key(const struct auditlog *a);
int auditlog_append(struct auditlog *a, const char *type, const char *lease, const char *intent,
		    const cJSON *data, char *err, size_t errlen);
int auditlog_seal(struct auditlog *a, char *err, size_t errlen);
/* fsync, unlock, close; 0 or the first error. NULL-safe. */
int auditlog_close(struct auditlog *a);

/* Open, append one record (seal: then a checkpoint), close. why may be NULL; on an open
 * failure err holds why->msg. */
int auditlog_append_one(int state_fd, const char *type, const char *lease, const char *intent,
			const cJSON *data, bool seal, char *err, size_t errlen, struct audit_result *why);

/* `calyx audit repair`. */
struct auditlog_repair {
	bool repaired;               /* false: nothing to repair (the tail verified) */
	size_t cut_bytes;
	int64_t cut_offset;
	char cut_blake2b[SVF_HASH_HEX + 1];
	uint64_t record_seq;         /* of the log_event.repaired record */
};
/* 0 (repaired or nothing to do); -EBADMSG when the damage is not a cut last record (why
 * says what it is: nothing is changed); -errno. */
int auditlog_repair(int state_fd, struct auditlog_repair *out, struct audit_result *why);

#endif
