/* Single-use ledger, host-wide: LEDGER/<iss>/<jti> holds the number of runs consumed so
 * far, LEDGER being the matrix's `ledger` directory (never the state dir: a consumed lease
 * must stay consumed whatever --state says). Read-modify-write happens under an exclusive
 * flock on LEDGER/<iss>/<jti>.lock, and the new count is written to a temp file, fsync'd,
 * renamed over and the directory fsync'd, so a crash leaves either the old or the new
 * count, never a torn one. A run is counted before it starts: a crash afterwards loses the
 * run rather than granting an extra one. Every name is opened beneath the ledger's fd
 * without following symlinks. */
#include "state/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fileio.h"
#include "base/units.h"
#include "policy/lease.h"
#include "base/safedir.h"
#include "state/state.h"

/* Reads the count; 0 when the file does not exist. Anything but digits and an optional
 * newline is corruption: refuse (fail closed) rather than guess a number. */
static int read_count(int dfd, const char *jti, uint32_t *out)
{
	_cleanup_close_ int fd = safedir_openat(dfd, jti, O_RDONLY, 0);
	if (fd < 0) {
		if (fd == -ENOENT) {
			*out = 0;
			return 0;
		}
		return fd;
	}
	char buf[32];
	ssize_t got = fileio_read_all(fd, buf, sizeof(buf) - 1);
	if (got == -EFBIG)
		return -EBADMSG;
	if (got < 0)
		return (int)got;
	size_t len = (size_t)got;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	uint64_t v;
	if (len == 0 || len > 10 || units_parse_u64(buf, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*out = (uint32_t)v;
	return 0;
}

static int write_count(int dfd, const char *jti, uint32_t v)
{
	char tmp[LEASE_ID_MAX + 8], buf[16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", jti);
	int n = snprintf(buf, sizeof(buf), "%" PRIu32 "\n", v);
	/* The lock makes this name private to us; O_TRUNC discards a crash leftover. */
	int fd = safedir_openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0)
		return fd;
	int rc = fileio_write_all(fd, buf, (size_t)n);
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dfd, tmp, dfd, jti) != 0)
		rc = -errno;
	if (rc) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	/* The rename is only durable once the directory entry is. */
	if (fsync(dfd) != 0)
		return -errno;
	return 0;
}

bool ledger_issuer_valid(const char *iss)
{
	return fileio_plain_name(iss) && strlen(iss) <= LEDGER_ISS_MAX && iss[0] != '.';
}

/* The count, also from where a ledger of before the per-issuer layout kept it
 * (LEDGER/<jti>): a lease consumed before an upgrade stays consumed. */
static int read_count_any(int ledger_fd, int dfd, const char *jti, uint32_t *used)
{
	int rc = read_count(dfd, jti, used);
	if (rc < 0 || *used)
		return rc;
	return read_count(ledger_fd, jti, used);
}

int ledger_consume(int ledger_fd, const char *iss, const char *jti, uint32_t runs_allowed,
		   uint32_t *run_no)
{
	if (ledger_fd < 0 || !ledger_issuer_valid(iss) || !lease_id_valid(jti) || runs_allowed == 0 ||
	    runs_allowed > LEASE_MAX_RUNS || !run_no)
		return -EINVAL;
	_cleanup_close_ int dfd = safedir_mkdirs(ledger_fd, iss, STATE_DIR_MODE);
	if (dfd < 0)
		return dfd;
	char lockname[LEASE_ID_MAX + 8];
	snprintf(lockname, sizeof(lockname), "%s.lock", jti);
	_cleanup_close_ int lfd = safedir_openat(dfd, lockname, O_RDWR | O_CREAT, 0640);
	if (lfd < 0)
		return lfd;
	while (flock(lfd, LOCK_EX) != 0) {
		if (errno != EINTR)
			return -errno;
	}
	uint32_t used;
	int rc = read_count_any(ledger_fd, dfd, jti, &used);
	if (rc)
		return rc;
	if (used >= runs_allowed)
		return -EALREADY;
	rc = write_count(dfd, jti, used + 1);
	if (rc)
		return rc;
	*run_no = used + 1;
	return 0; /* closing lfd releases the lock */
}

int ledger_runs_used(int ledger_fd, const char *iss, const char *jti, uint32_t *used)
{
	if (ledger_fd < 0 || !ledger_issuer_valid(iss) || !lease_id_valid(jti) || !used)
		return -EINVAL;
	_cleanup_close_ int dfd = safedir_openat(ledger_fd, iss, O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -ENOENT)
		return read_count(ledger_fd, jti, used);
	if (dfd < 0)
		return dfd;
	/* Writers replace the file by rename, so an unlocked read sees a whole count. */
	return read_count_any(ledger_fd, dfd, jti, used);
}
