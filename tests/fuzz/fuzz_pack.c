/* links: rollback/pack rollback/archive_lib rollback/manifest base/errmsg */
/* libFuzzer target for the rollback pack reader (rollback.tar.gz: libarchive, gzip'd pax
 * tar, what `calyx rollback` reads back): any bytes must give members whose names passed
 * the checks every name must pass (relative in the archive, canonical, no "..") or an
 * error that says which member and why, never a crash, hang or leak. The input is one
 * flags byte and the pack: bit 0 set, the rest is a tar that the harness gzips first (so
 * mutations reach the tar reader past gzip's checksum); clear, the rest is the file as is
 * (the gzip reader). The file is written to a private temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rollback/pack.h"

static char dir[64];
static int dirfd = -1;

static void cleanup(void)
{
	if (dirfd < 0)
		return;
	unlinkat(dirfd, RB_PACK_NAME, 0);
	close(dirfd);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/calyx-fuzz-pack.XXXXXX", t);
	if (!mkdtemp(dir) || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

/* gzip (RFC 1952) of n bytes, malloc'd, *out_n its size. */
static uint8_t *gzip(const uint8_t *p, size_t n, size_t *out_n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t cap = deflateBound(&z, n) + 32;
	uint8_t *o = malloc(cap);
	if (!o)
		abort();
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*out_n = cap - z.avail_out;
	deflateEnd(&z);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	uint8_t *z = NULL;
	if (data[0] & 1) {
		z = gzip(p, n, &n);
		p = z;
	}
	int fd = openat(dirfd, RB_PACK_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0)
		abort();
	free(z);

	char err[512];
	struct rb_pack_reader *r = NULL;
	err[0] = '\0';
	int rc = rb_pack_open(dirfd, RB_PACK_NAME, &r, err, sizeof err);
	if (rc) {
		if (rc != -EIO || !err[0] || r)
			abort();
		return 0;
	}
	static char buf[1 << 16];
	for (;;) {
		struct rb_entry e;
		err[0] = '\0';
		rc = rb_pack_next(r, &e, err, sizeof err);
		if (rc == 0)
			break;
		if (rc < 0) {
			if ((rc != -EINVAL && rc != -EIO && rc != -ENOMEM) || !err[0])
				abort();
			break;   /* the reader stops at the first bad member, as `calyx rollback` does */
		}
		if (rc != 1 || !e.path || e.path[0] != '/' || !rb_path_canonical(e.path) ||
		    e.type <= RB_ABSENT || e.type >= RB_SOCK || e.mode > 07777)
			abort();
		if (e.type == RB_SYMLINK && (!e.target || e.size != strlen(e.target)))
			abort();
		uint64_t got = 0;
		ssize_t k;
		while ((k = rb_pack_data(r, buf, sizeof buf)) > 0)
			got += (uint64_t)k;
		if (k != 0 && k != -EIO)
			abort();
		if (e.type == RB_FILE && k == 0 && got > e.size)
			abort();   /* never more contents than the header said */
	}
	rb_pack_close(r);
	return 0;
}
