/* Single-use ledger: STATE/ledger/<jti> holds the number of runs consumed so far.
 * Read-modify-write happens under an exclusive flock on STATE/ledger/<jti>.lock, and the
 * new count is written to a temp file, fsync'd, renamed over and the directory fsync'd,
 * so a crash leaves either the old or the new count, never a torn one. A run is counted
 * before it starts: a crash afterwards loses the run rather than granting an extra one. */
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
#include "state/state.h"

static int open_ledger_dir(const char *state_dir, bool create)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", state_dir, STATE_LEDGER_DIR);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (create) {
		int rc = state_mkdirs(state_dir, STATE_LEDGER_DIR);
		if (rc)
			return rc;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Reads the count; 0 when the file does not exist. Anything but digits and an optional
 * newline is corruption: refuse (fail closed) rather than guess a number. */
static int read_count(int dfd, const char *jti, uint32_t *out)
{
	_cleanup_close_ int fd = openat(dfd, jti, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			*out = 0;
			return 0;
		}
		return -errno;
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
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
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

int ledger_consume(const char *state_dir, const char *jti, uint32_t runs_allowed, uint32_t *run_no)
{
	if (!state_dir || !*state_dir || !lease_id_valid(jti) || runs_allowed == 0 ||
	    runs_allowed > LEASE_MAX_RUNS || !run_no)
		return -EINVAL;
	_cleanup_close_ int dfd = open_ledger_dir(state_dir, true);
	if (dfd < 0)
		return dfd;
	char lockname[LEASE_ID_MAX + 8];
	snprintf(lockname, sizeof(lockname), "%s.lock", jti);
	_cleanup_close_ int lfd = openat(dfd, lockname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (lfd < 0)
		return -errno;
	while (flock(lfd, LOCK_EX) != 0) {
		if (errno != EINTR)
			return -errno;
	}
	uint32_t used;
	int rc = read_count(dfd, jti, &used);
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

int ledger_runs_used(const char *state_dir, const char *jti, uint32_t *used)
{
	if (!state_dir || !*state_dir || !lease_id_valid(jti) || !used)
		return -EINVAL;
	_cleanup_close_ int dfd = open_ledger_dir(state_dir, false);
	if (dfd == -ENOENT) {
		*used = 0;
		return 0;
	}
	if (dfd < 0)
		return dfd;
	/* Writers replace the file by rename, so an unlocked read sees a whole count. */
	return read_count(dfd, jti, used);
}
