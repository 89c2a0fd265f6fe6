/* links: audit/verify audit/checkpoint audit/svf audit/svf_record base/b64url base/errmsg base/fileio base/safedir base/paserk */
/* libFuzzer target for the SVF reader and verifier: a copied log is untrusted input to
 * `calyx audit verify`. The input is one flags byte, the bytes of svf.jsonl and, after a
 * NUL byte if there is one, the bytes of its sidecar svf.checkpoint.json; both are
 * written to a private temporary directory and verified there as `calyx audit verify`
 * (audit_verify) and an appender (audit_check_tail) do, and line by line (svf_parse_line)
 * and as a chain (svf_verify_file_ex), and the log alone as a shipped copy
 * (audit_verify_file, `calyx audit verify --log FILE`). Flag bit 0: every line's hash member is rewritten
 * to the right hash of its body; bit 1: every prev to the previous line's hash as well, so
 * mutations get past the hash checks to the record format, the seq order and the
 * checkpoints; bit 2: records after the last checkpoint are allowed (a run in progress).
 * Never a crash, hang or leak; every fault is a known one that says where and why; an
 * intact log is a valid chain of as many records as it has lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/checkpoint.h"
#include "audit/svf.h"
#include "audit/verify.h"

/* ASan keeps freed memory in a quarantine (256 MiB by default) before reusing it. One
 * input here frees far less than 16 MiB and nothing freed is kept between inputs, so a
 * use after free is caught as before; cycling through 256 MiB instead cost a page fault
 * and a cleared page for nearly every allocation. ASAN_OPTIONS still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

/* The audit key the seeds' checkpoints were signed with (a test state dir's audit.pub:
 * k4.public.hyHA6RP0FRv9M6FhoAXiASH0AfCJl4Npj0moMwlh8OE). */
static uint8_t pk[PASERK_PK_BYTES];
static char dir[64];
static int dirfd = -1;
/* The two files, open from LLVMFuzzerInitialize on and rewritten in place for each input
 * (the modules under test only read them): an open, a close and a path walk less for
 * each, per input. sidefd is -1 while the input has no sidecar (the file is absent). */
static int logfd = -1, sidefd = -1;

static void cleanup(void)
{
	if (dirfd < 0)
		return;
	close(logfd);
	if (sidefd >= 0)
		close(sidefd);
	unlinkat(dirfd, SVF_LOG_NAME, 0);
	unlinkat(dirfd, CHECKPOINT_SIDECAR, 0);
	close(dirfd);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (paserk_k4_public_decode("k4.public.hyHA6RP0FRv9M6FhoAXiASH0AfCJl4Npj0moMwlh8OE", pk) != 0)
		abort();
	const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/calyx-fuzz-svf.XXXXXX", t);
	if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	if ((logfd = openat(dirfd, SVF_LOG_NAME, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

/* The file of fd holds exactly the n bytes at p. */
static void put(int fd, const uint8_t *p, size_t n)
{
	if (ftruncate(fd, 0) != 0 || (n && pwrite(fd, p, n, 0) != (ssize_t)n))
		abort();
}

/* Rewrite prev (fix_prev) and hash of one line ending in ,"prev":"<64>","hash":"<64>"}
 * (well enough to find the members by their place; the parser decides the rest). */
static void fix_line(char *l, size_t len, bool fix_prev, char last[SVF_HASH_HEX + 1])
{
	static const char tail[] = ",\"hash\":\"", pv[] = "\"prev\":\"";
	size_t tl = sizeof tail - 1 + SVF_HASH_HEX + 2;
	if (len < tl || memcmp(l + len - tl, tail, sizeof tail - 1) != 0)
		return;
	size_t body = len - tl;
	if (fix_prev && body >= SVF_HASH_HEX + 1 + sizeof pv - 1 &&
	    memcmp(l + body - SVF_HASH_HEX - 1 - (sizeof pv - 1), pv, sizeof pv - 1) == 0)
		memcpy(l + body - SVF_HASH_HEX - 1, last, SVF_HASH_HEX);
	char h[SVF_HASH_HEX + 1];
	svf_hash_body(l, body, h);
	memcpy(l + len - SVF_HASH_HEX - 2, h, SVF_HASH_HEX);
	memcpy(last, h, SVF_HASH_HEX + 1);
}

static void check_result(enum audit_fault f, const struct audit_result *r)
{
	if (f != r->fault || f > AUDIT_IO || !audit_fault_name(f))
		abort();
	if (f != AUDIT_INTACT && (!r->msg[0] || f == AUDIT_IO)) {
		fprintf(stderr, "fault %d (%s) msg [%s] where [%s]\n", f, audit_fault_name(f), r->msg, r->where);
		abort();   /* a fault says what; the files are ours and readable */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t n = size - 1;
	char *log = malloc(n + 1);
	if (!log)
		return 0;
	memcpy(log, data + 1, n);
	log[n] = '\0';
	size_t loglen = strlen(log);   /* up to the NUL: the rest is the sidecar */
	const uint8_t *side = loglen < n ? (const uint8_t *)log + loglen + 1 : NULL;
	size_t sidelen = side ? n - loglen - 1 : 0;

	char last[SVF_HASH_HEX + 1] = SVF_ZERO_HASH;
	uint64_t lines = 0;
	for (size_t off = 0; off < loglen;) {
		char *nl = memchr(log + off, '\n', loglen - off);
		size_t l = nl ? (size_t)(nl - (log + off)) : loglen - off;
		if (flags & 1)
			fix_line(log + off, l, flags & 2, last);
		/* The memory API, on every line. */
		uint64_t seq;
		char prev[SVF_HASH_HEX + 1], hash[SVF_HASH_HEX + 1], why[300];
		cJSON *obj = NULL;
		why[0] = '\0';
		int rc = svf_parse_line(log + off, l, &seq, prev, hash, &obj, why, sizeof why);
		if (rc == 0) {
			if (!cJSON_IsObject(obj) || seq < 1 || strlen(prev) != SVF_HASH_HEX ||
			    strlen(hash) != SVF_HASH_HEX || cJSON_GetObjectItemCaseSensitive(obj, "hash"))
				abort();
			if (svf_check_line(log + off, l, &seq, prev, hash, why, sizeof why) != 0)
				abort();
		} else if (rc != -EBADMSG || !why[0] || obj) {
			abort();
		}
		cJSON_Delete(obj);
		lines += nl != NULL;
		off += l + (nl != NULL);
	}
	put(logfd, (const uint8_t *)log, loglen);
	if (side) {
		if (sidefd < 0 && (sidefd = openat(dirfd, CHECKPOINT_SIDECAR, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
			abort();
		put(sidefd, side, sidelen);
	} else if (sidefd >= 0) {
		if (unlinkat(dirfd, CHECKPOINT_SIDECAR, 0) != 0)
			abort();
		close(sidefd);
		sidefd = -1;
	}

	struct audit_result r;
	enum audit_fault f = audit_verify(dirfd, pk, flags & 4, &r);
	check_result(f, &r);

	char path[128], why[512], head[SVF_HASH_HEX + 1];
	uint64_t records = 0;
	snprintf(path, sizeof path, "%s/%s", dir, SVF_LOG_NAME);
	why[0] = '\0';
	int vr = svf_verify_file_ex(path, &records, head, why, sizeof why);
	if (vr != 0 && (vr != -EBADMSG || !why[0]))
		abort();
	if (f == AUDIT_INTACT) {
		/* Intact as a whole log: a valid chain, one record a line, the same head. */
		if (vr != 0 || records != lines || r.records != lines || strcmp(head, r.head) != 0)
			abort();
	}

	int lfd = logfd;
	/* The log on its own, as a central server verifies a shipped copy (no sidecar): an
	 * intact one is the same valid chain. */
	f = audit_verify_file(lfd, SVF_LOG_NAME, pk, flags & 4, &r);
	check_result(f, &r);
	if (f == AUDIT_INTACT &&
	    (vr != 0 || records != lines || r.records != lines || strcmp(head, r.head) != 0))
		abort();
	if (lseek(lfd, 0, SEEK_SET) != 0)
		abort();
	struct audit_tail t;
	f = audit_check_tail(dirfd, lfd, pk, &t, &r);
	check_result(f, &r);
	free(log);
	return 0;
}
