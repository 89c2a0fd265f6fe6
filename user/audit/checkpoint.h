/* Signed checkpoints of the SVF chain (docs/audit.md "Checkpoints").
 *
 * A checkpoint is a record of type log_event.checkpoint whose data is
 *   {"seq":N,"head":"<hash of record N>","key":"k4.pid.…","sig":"<base64url Ed25519>"}
 * signing the statement "calyx-svf-checkpoint-v1\n<N>\n<head>\n" with the host audit key:
 * whoever holds the public key can check that the chain up to record N is what the host
 * wrote. Beside the log, svf.checkpoint.json names the last checkpoint record (its seq,
 * hash and byte offset in svf.jsonl): cutting whole records off the end, checkpoint
 * included, leaves a log shorter than the file says. Pure except the sidecar I/O. */
#ifndef CALYX_CHECKPOINT_H
#define CALYX_CHECKPOINT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include "audit/svf.h"
#include "base/paserk.h"

#define CHECKPOINT_TYPE "log_event.checkpoint"
#define CHECKPOINT_SIDECAR "svf.checkpoint.json"

/* The data object of a checkpoint of record seq whose hash is head, signed with sk. NULL
 * when out of memory. */
cJSON *checkpoint_make(uint64_t seq, const char head[SVF_HASH_HEX + 1], const uint8_t sk[PASERK_SK_BYTES]);

/* What a checkpoint's data says, once it is well formed and its signature checks with pk. */
struct checkpoint {
	uint64_t seq;
	char head[SVF_HASH_HEX + 1];
	char key[64];
};
/* 0; -EBADMSG (malformed: err says how); -EKEYREJECTED (signed by a key other than pk);
 * -EPERM (the signature does not verify). */
int checkpoint_check(const cJSON *data, const uint8_t pk[PASERK_PK_BYTES], struct checkpoint *out,
		     char *err, size_t errlen);

/* The sidecar: the last checkpoint record's seq, hash and offset in svf.jsonl. */
struct checkpoint_sidecar {
	uint64_t seq;
	char hash[SVF_HASH_HEX + 1];
	off_t offset;
};
/* Read it from dirfd (the svf_audit directory). 0, -ENOENT (none yet), -EBADMSG (malformed),
 * -errno. */
int checkpoint_sidecar_read(int dirfd, struct checkpoint_sidecar *out, char *err, size_t errlen);
/* Replace it atomically (temp file, fsync, rename, fsync of the directory). 0 or -errno. */
int checkpoint_sidecar_write(int dirfd, const struct checkpoint_sidecar *s, char *err, size_t errlen);

#endif
