/* Atomic file writes in a directory fd (run artifacts; by path: base/fileio.h), content
 * hashes, capped logs and the run directory.
 * A run directory is built as a hidden temp dir next to its final place and renamed into
 * place once complete, and every file in it is written atomically (temp file, fsync,
 * rename), so a crash never leaves a half-written meta.json. No logging. */
#ifndef CALYX_ARTIFACTS_H
#define CALYX_ARTIFACTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARTIFACT_HASH_HEX 64   /* BLAKE2b-256, hex */

/* Write name in dirfd atomically: temp file in the same dir, write, fsync, rename, fsync
 * the dir. The file appears complete or not at all. 0 or -errno. */
int artifact_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
			  char *err, size_t errlen);

/* BLAKE2b-256 (libsodium crypto_generichash, no key) of a file's whole content, read from
 * offset 0 with pread (the fd offset is untouched). 0 or -errno. */
int artifact_hash_fd(int fd, char hex[ARTIFACT_HASH_HEX + 1], uint64_t *bytes);
int artifact_hash_file(int dirfd, const char *name, char hex[ARTIFACT_HASH_HEX + 1], uint64_t *bytes);

/* A log file capped at `cap` bytes: past the cap the data is counted but not written. */
struct capped_log {
	int fd;
	uint64_t cap;
	uint64_t written;    /* bytes in the file */
	uint64_t seen;       /* bytes offered (written + dropped) */
	bool truncated;      /* seen > cap */
	int werr;            /* the first write error (errno; 0: none): the log misses bytes */
};
/* Returns 0 or -errno (write error, also kept in werr). Sets truncated once data had to be
 * dropped. */
int capped_log_write(struct capped_log *c, const void *buf, size_t n);

/* A run directory: tmp_name is ".NAME.tmp-PID" under runs_dir, final_name NAME. */
struct run_dir {
	int parent_fd;                 /* runs_dir */
	int fd;                        /* the (temp) run dir */
	char final_name[128];
	char tmp_name[160];
	bool committed;
};
/* Create the temp dir (mode 0750) in runs_dir, a relative path opened beneath base_fd
 * without following symlinks (base/safedir.h). Fails with -EEXIST when final_name already
 * exists. */
int run_dir_create(int base_fd, const char *runs_dir, const char *final_name, struct run_dir *rd,
		   char *err, size_t errlen);
/* fsync the dir, rename it into place (never replacing), fsync the parent. 0 or -errno. */
int run_dir_commit(struct run_dir *rd, char *err, size_t errlen);
/* Remove an uncommitted temp dir and the files in it (a run that never started). */
void run_dir_discard(struct run_dir *rd);
/* Close fds; an uncommitted temp dir is left for inspection (it holds the logs of a run
 * that could not finish). NULL-safe on a zeroed struct with fds -1. */
void run_dir_close(struct run_dir *rd);

#endif
