/* Writing the host's Prometheus text file (metrics_write.h). */
#include "fleet/metrics_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit/verify.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"
#include "enforce/resident.h"
#include "fleet/metrics.h"
#include "state/state.h"

/* Count every record of one log file (under its shared lock: never half an append). */
static int count_file(int dirfd, const char *name, struct metrics_counts *c, char *err, size_t errlen)
{
	int fd = safedir_openat(dirfd, name, O_RDONLY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return errmsg(err, errlen, fd, "%s/%s: %s", STATE_SVF_DIR, name, strerror(-fd));
	flock(fd, LOCK_SH);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long no = 0;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		no++;
		if (line[n - 1] != '\n')
			break;   /* a record still being written, or cut: `audit verify` says which */
		cJSON *rec = cJSON_ParseWithLength(line, (size_t)n - 1);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			rc = errmsg(err, errlen, -EBADMSG, "%s/%s:%lu: not a record (calyx audit verify says more)",
				    STATE_SVF_DIR, name, no);
			break;
		}
		rc = metrics_count_record(c, rec);
		cJSON_Delete(rec);
		if (rc < 0) {
			errmsg(err, errlen, rc, "out of memory");
			break;
		}
	}
	free(line);
	fclose(f);   /* closes fd, and with it the lock */
	return rc;
}

/* A set whose pins cannot be read is an error, not "down": no file rather than a wrong one. */
static int backend_status(enum enforce_backend b, struct metrics_backend *out, char *err, size_t errlen)
{
	struct resident_status *st = calloc(1, sizeof(*st));
	out->name = enforce_backend_name(b);
	if (!st)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = resident_status(b, st, err, errlen);
	if (rc < 0) {
		free(st);
		return rc;
	}
	out->up = st->up && st->complete;
	out->live = st->live;
	out->slots = st->n_slots;
	out->orphan_denials = st->orphans.v[CALYX_STAT_DENIED];
	for (unsigned i = 0; i < st->n_slots; i++) {
		out->records_lost += st->slots[i].stats.v[CALYX_STAT_RB_DROPPED];
		uint64_t peak = st->slots[i].stats.v[CALYX_STAT_RB_PEAK];
		out->ringbuf_peak_bytes = peak > out->ringbuf_peak_bytes ? peak : out->ringbuf_peak_bytes;
	}
	out->ringbuf_bytes = st->n_slots ? CALYX_RINGBUF_BYTES : 0;
	free(st);
	return 0;
}

char *metrics_collect(int state_fd, char *err, size_t errlen)
{
	struct metrics_counts c = { 0 };
	int dfd = safedir_openat(state_fd, STATE_SVF_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0 && dfd != -ENOENT) {
		errmsg(err, errlen, dfd, "%s: %s", STATE_SVF_DIR, strerror(-dfd));
		return NULL;
	}
	if (dfd >= 0) {
		char **rot = NULL;
		size_t nrot = 0;
		int rc = audit_rotated_files(dfd, &rot, &nrot);
		if (rc < 0)
			errmsg(err, errlen, rc, "%s: %s", STATE_SVF_DIR, strerror(-rc));
		for (size_t i = 0; rc == 0 && i <= nrot; i++)
			rc = count_file(dfd, i < nrot ? rot[i] : SVF_LOG_NAME, &c, err, errlen);
		audit_free_names(rot, nrot);
		close(dfd);
		metrics_counts_release(&c);   /* the counts themselves stay */
		if (rc < 0)
			return NULL;
	}
	struct metrics_backend b[2] = { 0 };
	if (backend_status(ENFORCE_BPF_LSM, &b[0], err, errlen) < 0 ||
	    backend_status(ENFORCE_LANDLOCK, &b[1], err, errlen) < 0)
		return NULL;
	char *text = metrics_render(&c, b, 2);
	if (!text)
		errmsg(err, errlen, -ENOMEM, "out of memory");
	return text;
}

int metrics_write_textfile(int state_fd, const char *path, char *err, size_t errlen)
{
	_cleanup_free_ char *text = metrics_collect(state_fd, err, errlen);
	if (!text)
		return -EIO;
	return fileio_write_atomic(path, text, strlen(text), 0644, true, err, errlen);
}
