/* Verifying the state dir's SVF log (docs/audit.md "Verifying"): every file of the chain
 * (rotated svf.<first seq>.jsonl files in order, then svf.jsonl), every record's hash,
 * seq and prev, every checkpoint's signature with the audit public key, and the sidecar
 * naming the last checkpoint. The first fault found is classified, with the file and
 * line it is at. Used by `calyx audit verify`, by `calyx run` (only the tail since the
 * last checkpoint, before it appends) and by `calyx report`. No logging. */
#ifndef CALYX_AUDIT_VERIFY_H
#define CALYX_AUDIT_VERIFY_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "audit/svf.h"
#include "base/paserk.h"

#define SVF_LOG_NAME "svf.jsonl"

enum audit_fault {
	AUDIT_INTACT = 0,
	AUDIT_EDITED,       /* a record's bytes changed (its hash, or the next prev, or a checkpoint's head) */
	AUDIT_DELETED,      /* records missing from the middle (seq jumps ahead) */
	AUDIT_INSERTED,     /* a record that the chain does not hold (a seq seen twice) */
	AUDIT_REORDERED,    /* records out of order */
	AUDIT_TRUNCATED,    /* whole records cut off the end: the log ends before its last checkpoint */
	AUDIT_CUT_RECORD,   /* the last record cut mid-line (a crash, a full disk): `calyx audit repair` */
	AUDIT_BAD_SIGNATURE,/* a checkpoint whose signature fails or that another key signed */
	AUDIT_UNSIGNED,     /* no signature where one is due: records after the last checkpoint,
	                     * or the checkpoint file missing */
	AUDIT_IO,           /* a file could not be read */
};
const char *audit_fault_name(enum audit_fault f);
/* The exit code of each fault (base/exitcodes.h EXIT_AUDIT_*; EXIT_IO for AUDIT_IO). */
int audit_fault_exit(enum audit_fault f);

struct audit_result {
	enum audit_fault fault;
	char where[PATH_MAX + 32];   /* "svf.jsonl:12" of the first fault, "" when none */
	uint64_t seq;                /* the seq of the record at fault, 0 when none */
	char msg[768];               /* what is wrong, for people */
	uint64_t records;            /* records read */
	uint64_t checkpoints;        /* checkpoints that verified */
	uint64_t signed_seq;         /* the last record a verified checkpoint covers (its own seq) */
	uint64_t unsigned_tail;      /* records after the last checkpoint */
	char head[SVF_HASH_HEX + 1]; /* the last record's hash (zeros for an empty log) */
	unsigned files;
};

/* Verify the whole log in dirfd (the svf_audit directory) with the audit public key pk.
 * allow_unsigned_tail: records after the last checkpoint are not a fault (a run in
 * progress). Returns r->fault (0: intact). An absent log is intact and empty. */
enum audit_fault audit_verify(int dirfd, const uint8_t pk[PASERK_PK_BYTES], bool allow_unsigned_tail,
			      struct audit_result *r);

/* Verify one log file on its own, open as fd (a shipped copy: a central server's file of
 * one host's svf.jsonl, docs/fleet.md "Shipping logs"); name is used in messages. The
 * chain must start at seq 1. Without a sidecar the log's own checkpoints are all there
 * is: the log must hold one, and records after the last are AUDIT_UNSIGNED unless
 * allow_unsigned_tail; an empty file is AUDIT_UNSIGNED (nothing is signed). r->fault. */
enum audit_fault audit_verify_file(int fd, const char *name, const uint8_t pk[PASERK_PK_BYTES],
				   bool allow_unsigned_tail, struct audit_result *r);

/* What an appender needs of the tail. */
struct audit_tail {
	uint64_t last_seq;
	char head[SVF_HASH_HEX + 1];
	bool last_is_checkpoint;
};
/* Check svf.jsonl (open as log_fd, locked by the caller) from its last checkpoint (the
 * sidecar) to the end: the checkpoint record and its signature, then the chain after it.
 * Without a sidecar the whole file is checked and must hold no checkpoint. Returns
 * r->fault and fills t when intact. */
enum audit_fault audit_check_tail(int dirfd, int log_fd, const uint8_t pk[PASERK_PK_BYTES],
				  struct audit_tail *t, struct audit_result *r);

/* The sorted names of the rotated files in dirfd ("svf.000000000001.jsonl", ...); *names
 * malloc'd (each entry too), *n their count. 0 or -errno. */
int audit_rotated_files(int dirfd, char ***names, size_t *n);
void audit_free_names(char **names, size_t n);

#endif
