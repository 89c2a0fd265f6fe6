/* Small file I/O helpers shared by the modules that touch files: whole writes and reads
 * of small kernel files (procfs, sysfs, securityfs, cgroupfs). Atomic file replacement
 * lives in artifacts.h. No logging; 0 or a count, else -errno. */
#ifndef CALYX_FILEIO_H
#define CALYX_FILEIO_H
#include <dirent.h>
#include <stddef.h>

/* Write all len bytes, retrying short writes and EINTR. 0 or -errno. */
int fileio_write_all(int fd, const void *buf, size_t len);

/* One write() of the string s to name in dirfd (a kernel file: cgroupfs, procfs takes a
 * value whole or refuses it). 0, -EIO for a short write, or -errno. */
int fileio_write_small_at(int dirfd, const char *name, const char *s);

/* One read of at most len - 1 bytes from the start of name in dirfd (AT_FDCWD for a
 * path), NUL-terminated: a kernel file hands over its whole small content in one read.
 * The byte count, or -errno. len must be at least 1. */
int fileio_read_small_at(int dirfd, const char *name, char *buf, size_t len);

/* fileio_read_small_at(AT_FDCWD, path) with the trailing whitespace (the newline of a
 * one-line kernel file) cut off. 0 or -errno. */
int fileio_read_line(const char *path, char *buf, size_t len);

/* A directory stream over a dup() of dirfd, so that closedir() leaves dirfd open for the
 * caller's *at() calls. NULL with errno set, and nothing left open. */
DIR *fileio_fdopendir_dup(int dirfd);

#endif
