/* libarchive, loaded when a rollback pack is first made or read.
 *
 * Linked at build time, libarchive brings twelve more shared libraries into every calyx
 * process (libxml2, ICU, libstdc++, the compressors): about 3 MiB of resident file pages
 * and their relocation work at every start, paid by `calyx run` without a single :rw
 * path and by every other command. Only rollback packs need it, so it is opened with
 * dlopen on first use; the header's declarations give each entry point its exact type. */
#ifndef CALYX_ROLLBACK_ARCHIVE_LIB_H
#define CALYX_ROLLBACK_ARCHIVE_LIB_H

#include <archive.h>
#include <archive_entry.h>
#include <stddef.h>

/* The soname of the libarchive the build's headers are from (Debian: libarchive13). */
#define ARCHIVE_LIB_SONAME "libarchive.so.13"

/* Every libarchive function rollback/pack.c calls. */
#define ARCHIVE_LIB_FUNCS(X) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_gid) \
	X(archive_entry_hardlink) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_perm) \
	X(archive_entry_rdev) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_rdev) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_entry_size_is_set) \
	X(archive_entry_symlink) \
	X(archive_entry_uid) \
	X(archive_error_string) \
	X(archive_read_data) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open_fd) \
	X(archive_read_support_filter_gzip) \
	X(archive_read_support_format_tar) \
	X(archive_write_add_filter_gzip) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open_fd) \
	X(archive_write_set_format_pax_restricted)

struct archive_lib {
#define ARCHIVE_LIB_MEMBER(name) __typeof__(name) *name;
	ARCHIVE_LIB_FUNCS(ARCHIVE_LIB_MEMBER)
#undef ARCHIVE_LIB_MEMBER
};

/* The loaded library, or NULL with the reason in err (the soname, dlerror's text and the
 * package to install). Loaded once per process; later calls return the same table. */
const struct archive_lib *archive_lib_load(char *err, size_t errlen);

#endif
