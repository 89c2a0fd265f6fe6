/* `calyx audit show`: read the state dir's audit log under a shared lock (an append holds
 * the exclusive one, so no line is seen half written) and print what the filters pass
 * (audit/show.h decides and formats). The chain is not checked here: that is what
 * `calyx audit verify` is for. */
#include "cli/audit_show.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "audit/show.h"
#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/safedir.h"
#include "state/state.h"

int audit_show_run(const struct audit_opts *o)
{
	char err[512];
	struct audit_filter f = { .lease = o->lease, .intent = o->intent, .type = o->type };
	if (o->since) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (audit_since_parse(o->since, now_ms, &f.since_ms, err, sizeof(err)) < 0) {
			fprintf(stderr, "calyx: %s\ntry 'calyx audit show --help'\n", err);
			return EXIT_USAGE;
		}
		f.have_since = true;
	}

	const char *state = state_dir_resolve(o->state_dir);
	_cleanup_close_ int dfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "calyx: audit show: no audit log: state dir %s: %s\n", state, strerror(errno));
		return EXIT_IO;
	}
	/* Nothing beneath the state dir is followed through a symlink (docs/run.md). */
	int fd = safedir_openat(dfd, STATE_SVF_LOG, O_RDONLY, 0);
	if (fd == -ENOENT) {
		fprintf(stderr, "calyx: audit show: no audit log at %s/%s: nothing was ever recorded in this state dir\n",
			state, STATE_SVF_LOG);
		return EXIT_IO;
	}
	if (fd < 0) {
		fprintf(stderr, "calyx: audit show: %s/%s: %s\n", state, STATE_SVF_LOG, strerror(-fd));
		return EXIT_IO;
	}
	FILE *in = fdopen(fd, "re");
	if (!in) {
		close(fd);
		fprintf(stderr, "calyx: audit show: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	if (flock(fd, LOCK_SH) < 0) {
		fprintf(stderr, "calyx: audit show: locking %s/%s: %s\n", state, STATE_SVF_LOG, strerror(errno));
		fclose(in);
		return EXIT_IO;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, bad = 0;
	int rc = EXIT_OK;
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			fprintf(stderr, "calyx: audit show: %s/%s:%" PRIu64 ": partial record at the end (log cut mid-line)\n",
				state, STATE_SVF_LOG, lineno);
			bad++;
			break;
		}
		char *out;
		size_t outlen;
		int r = audit_show_line(&f, o->json, line, (size_t)len - 1, &out, &outlen);
		if (r == -EBADMSG) {
			fprintf(stderr, "calyx: audit show: %s/%s:%" PRIu64 ": not a record; not shown\n", state,
				STATE_SVF_LOG, lineno);
			bad++;
		} else if (r < 0) {
			fprintf(stderr, "calyx: audit show: out of memory\n");
			rc = EXIT_INTERNAL;
			break;
		} else if (r == 1) {
			fwrite(out, 1, outlen, stdout);
			free(out);
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "calyx: audit show: reading %s/%s: %s\n", state, STATE_SVF_LOG, strerror(errno));
		rc = EXIT_IO;
	}
	free(line);
	fclose(in);
	if (rc == EXIT_OK && bad) {
		fprintf(stderr, "calyx: audit show: %" PRIu64 " line%s of the log %s not a record (calyx audit verify "
			"checks the chain)\n", bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
		rc = EXIT_IO;
	}
	return rc;
}
