/* Small file I/O helpers shared by the modules that touch files: whole writes, whole reads
 * of small files, kernel files (procfs, sysfs, securityfs, cgroupfs), atomic replacement
 * of a file, mkdir -p. No logging; 0 or a count, else -errno. */
#ifndef CALYX_FILEIO_H
#define CALYX_FILEIO_H
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes, retrying short writes and EINTR. 0 or -errno. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* One write() of the string s to name in dirfd (a kernel file: cgroupfs, procfs takes a
 * value whole or refuses it). 0, -EIO for a short write, or -errno. */
int fileio_write_small_at(int dirfd, const char *name, const char *s);

/* The whole content of a small file, from fd's offset to EOF, into buf, NUL-terminated:
 * at most cap - 1 bytes (cap >= 1), read retrying short reads and EINTR. The byte count,
 * -EFBIG when the file holds more than cap - 1 bytes, or -errno. The one reader of whole
 * small files (key files, tokens, the matrix, ledger counts, run records). */
ssize_t fileio_read_all(int fd, char *buf, size_t cap);

/* The first len - 1 bytes (or fewer: all there is) of name in dirfd (AT_FDCWD for a path),
 * NUL-terminated; a longer file is cut, which suits the kernel files (procfs, sysfs,
 * cgroupfs) it is for. The byte count, or -errno. len must be at least 1. */
int fileio_read_small_at(int dirfd, const char *name, char *buf, size_t len);

/* fileio_read_small_at(AT_FDCWD, path) with the trailing whitespace (the newline of a
 * one-line kernel file) cut off. 0 or -errno. */
int fileio_read_line(const char *path, char *buf, size_t len);

/* Write data to path atomically: a temp file in the same directory created O_EXCL with
 * mode 0600 from the start (mkostemp), chmod to mode, fsync, then rename over path
 * (replace) or link() to it (no replace: -EEXIST if path exists), fsync the directory.
 * Returns 0 or -errno with a message. */
int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool replace,
			char *err, size_t errlen);

/* mkdir -p: every missing directory of dir made with mode; each one that exists must be a
 * directory (-ENOTDIR otherwise, also for a dangling symlink). 0 or -errno. */
int fileio_mkdir_p(const char *dir, mode_t mode);
/* s is a non-empty run of A-Z a-z 0-9 . _ - only: a name that is one path component and
 * needs no quoting (key names, host names, issuers as directory names). */
bool fileio_plain_name(const char *s);

/* flock(op: LOCK_EX or LOCK_SH) on fd, retrying LOCK_NB every 10 ms for up to timeout_ms: a lock holder
 * that never lets go makes the caller fail instead of hanging. 0 or -errno (-ETIMEDOUT). */
int fileio_flock_timed(int fd, int op, int timeout_ms);

/* fn(line, ctx) for each line of path (with its newline, writable), in order, until fn
 * returns non-zero. What fn returned last (0 after the last line), or -errno when the file
 * cannot be opened. For the kernel's line files (/proc/self/mountinfo, /proc/self/cgroup). */
int fileio_each_line(const char *path, int (*fn)(char *line, void *ctx), void *ctx);

/* A directory stream over a dup() of dirfd, so that closedir() leaves dirfd open for the
 * caller's *at() calls; read from the start (the dup shares dirfd's offset, so it is
 * rewound). NULL with errno set, and nothing left open. */
DIR *fileio_fdopendir_dup(int dirfd);

#endif
