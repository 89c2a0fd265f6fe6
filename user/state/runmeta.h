/* meta.json of a run (docs/run.md "Artifacts"): the parts every meta.json has, whoever
 * writes it: the runner at the end of its run (run/outcome.c), or a later run's sweep for
 * a runner that died (state/recovery.c, status "abandoned"). */
#ifndef CALYX_RUNMETA_H
#define CALYX_RUNMETA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "state/artifacts.h"

/* argv as a JSON array of strings, each made valid UTF-8. NULL on allocation failure. */
cJSON *runmeta_argv(char *const *argv, size_t argc);

struct runmeta_head {
	const char *lease, *intent;
	double run, runs_allowed;    /* as the runner had them (from its record, for the sweep) */
	cJSON *argv;                 /* taken over (NULL: an empty array) */
	const char *binary;
	const char *start;
	const char *end;             /* NULL: not known; then end and duration_ms are null */
	int64_t duration_ms;
	bool exited;                 /* exit_code: the command's own code, else null */
	int exit_code;
	int signal;                  /* 0: null */
	bool have_calyx_exit;        /* calyx_exit_code, else null */
	int calyx_exit_code;
	const char *status;
	const char *violation;       /* NULL: null */
};

/* {schema 1, lease, intent, run, runs_allowed, argv, binary, start, end, duration_ms,
 * exit_code, signal, calyx_exit_code, status, violation}: how every meta.json starts.
 * NULL on allocation failure. */
cJSON *runmeta_head(const struct runmeta_head *h);

/* {name: {bytes, blake2b}} of each of stdout.log, stderr.log, events.jsonl and
 * exit_code.txt that is in the run directory dirfd. */
cJSON *runmeta_artifacts(int dirfd);

/* {file: name, bytes, blake2b} of name in dirfd; NULL when it is not there (or out of
 * memory). */
cJSON *runmeta_file(int dirfd, const char *name);

/* meta (pretty-printed, with a final newline) written atomically as meta.json in dirfd,
 * and its BLAKE2b-256 into hash. 0, -ENOMEM, or -errno, with a message. */
int runmeta_write(int dirfd, const cJSON *meta, char hash[ARTIFACT_HASH_HEX + 1], char *err,
		  size_t errlen);

#endif
