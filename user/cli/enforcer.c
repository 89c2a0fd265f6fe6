/* `calyx enforcer start|status|stop` (cli/enforcer.h). */
#include "cli/enforcer.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/svf.h"
#include "base/cgroupfs.h"
#include "base/exitcodes.h"
#include "cli/needroot.h"
#include "sandbox/sweep.h"
#include "enforce/resident.h"

static const enum enforce_backend all_backends[] = { ENFORCE_BPF_LSM, ENFORCE_LANDLOCK };

/* `enforcer start -v`: one line per step of calyx's own on stderr, like `run -v`. */
__attribute__((format(printf, 2, 3)))
static void step(const struct enforcer_opts *o, const char *fmt, ...)
{
	if (o->verbose < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("calyx: enforcer start: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int enforcer_start_run(const struct enforcer_opts *o)
{
	int nr = cli_need_root("enforcer start", "loading and pinning BPF programs and making cgroups take root", NULL);
	if (nr)
		return nr;
	struct resident *r = NULL;
	char why[1024] = "";
	/* -v: calyx's own steps; -vv: libbpf's debug output (the verifier log) as well. */
	unsigned flags = RESIDENT_BRING_UP | (o->verbose >= 2 ? RESIDENT_VERBOSE : 0);
	step(o, "picking the %s set (pinned under %s), loading it if it is not up",
	     o->backend == ENFORCE_AUTO ? "backend's" : enforce_backend_name(o->backend), RESIDENT_PIN_ROOT);
	int rc = resident_pick(o->backend, flags, &r, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "calyx: enforcer start: %s\n", why);
		return rc == -EBUSY ? EXIT_ENFORCER_BUSY : EXIT_ENFORCE_UNAVAILABLE;
	}
	const struct calyx_stamp *st = resident_stamp(r);
	printf("%s set %s: %s%s%s\n", enforce_backend_name(resident_backend(r)),
	       resident_loaded_now(r) ? "loaded" : "already up", why, st->note[0] ? "; " : "", st->note);
	/* On a set that is up: tidy what dead runners left, as a run's sweep would. */
	char mnt[PATH_MAX], err[PATH_MAX + 512];
	struct sweep_counts c = { 0 };
	bool have_mnt = cgroup2_root_mount(mnt, sizeof(mnt), err, sizeof(err)) == 0;
	if (have_mnt)
		step(o, "sweeping what dead runners left below %s/calyx/%s", mnt, enforce_backend_name(resident_backend(r)));
	if (!have_mnt || sandbox_sweep(r, mnt, &c, err, sizeof(err)) < 0)
		fprintf(stderr, "calyx: enforcer start: sweep: %s\n", err);
	else
		step(o, "sweep: %u dead runner director%s removed, %u slot%s freed", c.runner_dirs,
		     c.runner_dirs == 1 ? "y" : "ies", c.slots, c.slots == 1 ? "" : "s");
	if (c.runner_dirs || c.slots)
		printf("swept %u dead runner director%s, freed %u slot%s\n", c.runner_dirs,
		       c.runner_dirs == 1 ? "y" : "ies", c.slots, c.slots == 1 ? "" : "s");
	resident_close(r);
	return EXIT_OK;
}

static void stats_line(FILE *f, const struct calyx_stats *s)
{
	fprintf(f, "denied %llu, records lost %llu", (unsigned long long)s->v[CALYX_STAT_DENIED],
		(unsigned long long)s->v[CALYX_STAT_RB_DROPPED]);
}

void enforcer_status_print(FILE *f, enum enforce_backend b, const struct resident_status *st, const char *indent)
{
	const char *name = enforce_backend_name(b);
	if (!st->up) {
		fprintf(f, "%s%s: not up\n", indent, name);
		return;
	}
	if (!st->complete) {
		fprintf(f, "%s%s: incomplete (a load that did not finish; the next start or run replaces it)\n", indent, name);
		return;
	}
	char at[32] = "";
	svf_format_ts((int64_t)st->stamp.loaded_at, 0, at);
	fprintf(f, "%s%s: up, loaded %s by calyx %.*s (pid %u)%s, %u programs attached\n", indent, name, at,
		(int)sizeof(st->stamp.version), st->stamp.version, st->stamp.loader_pid,
		st->ours ? "" : " - ANOTHER BUILD: this calyx replaces it once it is idle", st->links);
	if (st->stamp.note[0])
		fprintf(f, "%s  left out on this kernel: %.*s\n", indent, (int)sizeof(st->stamp.note), st->stamp.note);
	fprintf(f, "%s  sandboxes: %u live, %u slot%s held\n", indent, st->live, st->n_slots, st->n_slots == 1 ? "" : "s");
	for (unsigned i = 0; i < st->n_slots; i++) {
		const struct resident_slot_info *si = &st->slots[i];
		fprintf(f, "%s    slot %u: %.*s (runner pid %u)%s: ", indent, si->slot, (int)sizeof(si->owner.cgroup),
			si->owner.cgroup, si->owner.runner_pid, si->live ? "" : " [not live: its runner is gone; the next run frees it]");
		stats_line(f, &si->stats);
		fputc('\n', f);
	}
	fprintf(f, "%s  outside every live sandbox (orphaned cgroups): ", indent);
	stats_line(f, &st->orphans);
	fputc('\n', f);
}

static cJSON *stats_json(const struct calyx_stats *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "denied", (double)s->v[CALYX_STAT_DENIED]);
	cJSON_AddNumberToObject(o, "records_lost", (double)s->v[CALYX_STAT_RB_DROPPED]);
	cJSON_AddNumberToObject(o, "verdict_cache_misses", (double)s->v[CALYX_STAT_VCACHE_MISS]);
	cJSON_AddNumberToObject(o, "kills_not_sent", (double)s->v[CALYX_STAT_KILL_FAILED]);
	return o;
}

cJSON *enforcer_status_json(enum enforce_backend b, const struct resident_status *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "backend", enforce_backend_name(b));
	cJSON_AddBoolToObject(o, "up", st->up);
	if (!st->up)
		return o;
	cJSON_AddBoolToObject(o, "complete", st->complete);
	cJSON_AddBoolToObject(o, "usable_by_this_calyx", st->ours);
	if (!st->complete)
		return o;
	char at[32] = "", ver[sizeof(st->stamp.version) + 1], note[sizeof(st->stamp.note) + 1];
	svf_format_ts((int64_t)st->stamp.loaded_at, 0, at);
	snprintf(ver, sizeof(ver), "%.*s", (int)sizeof(st->stamp.version), st->stamp.version);
	snprintf(note, sizeof(note), "%.*s", (int)sizeof(st->stamp.note), st->stamp.note);
	cJSON_AddStringToObject(o, "loaded_at", at);
	cJSON_AddStringToObject(o, "loaded_by", ver);
	cJSON_AddNumberToObject(o, "loader_pid", st->stamp.loader_pid);
	cJSON_AddNumberToObject(o, "abi", st->stamp.abi);
	cJSON_AddNumberToObject(o, "programs", st->links);
	cJSON_AddBoolToObject(o, "verdict_cache", st->stamp.flags & CALYX_STAMP_VCACHE);
	cJSON_AddStringToObject(o, "left_out", note);
	cJSON_AddNumberToObject(o, "live_sandboxes", st->live);
	cJSON *arr = cJSON_AddArrayToObject(o, "slots");
	for (unsigned i = 0; i < st->n_slots; i++) {
		const struct resident_slot_info *si = &st->slots[i];
		char cg[sizeof(si->owner.cgroup) + 1];
		snprintf(cg, sizeof(cg), "%.*s", (int)sizeof(si->owner.cgroup), si->owner.cgroup);
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "slot", si->slot);
		cJSON_AddStringToObject(e, "cgroup", cg);
		cJSON_AddNumberToObject(e, "cgroup_id", (double)si->owner.cgid);
		cJSON_AddNumberToObject(e, "runner_pid", si->owner.runner_pid);
		cJSON_AddBoolToObject(e, "live", si->live);
		cJSON_AddItemToObject(e, "counters", stats_json(&si->stats));
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddItemToObject(o, "orphans", stats_json(&st->orphans));
	return o;
}

int enforcer_status_run(const struct enforcer_opts *o)
{
	struct resident_status *st = calloc(1, sizeof(*st));
	if (!st)
		return EXIT_INTERNAL;
	cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
	bool usable = false;
	int rc = EXIT_OK;
	for (size_t i = 0; i < sizeof(all_backends) / sizeof(all_backends[0]); i++) {
		enum enforce_backend b = all_backends[i];
		if (o->backend != ENFORCE_AUTO && o->backend != b)
			continue;
		char err[512];
		if (resident_status(b, st, err, sizeof(err)) < 0) {
			fprintf(stderr, "calyx: enforcer status: %s\n", err);
			rc = EXIT_IO;
			continue;
		}
		usable |= st->ours;
		if (arr)
			cJSON_AddItemToArray(arr, enforcer_status_json(b, st));
		else
			enforcer_status_print(stdout, b, st, "");
	}
	if (arr) {
		char *s = cJSON_Print(arr);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(arr);
	}
	free(st);
	return rc != EXIT_OK ? rc : usable ? EXIT_OK : EXIT_ENFORCE_UNAVAILABLE;
}

#define STOP_WAIT_MS 10000   /* killed sandboxes' runners finish in well under a second */

int enforcer_stop_run(const struct enforcer_opts *o)
{
	int rc = cli_need_root("enforcer stop", "detaching BPF programs and removing their pins and cgroups take root", NULL);
	if (rc)
		return rc;
	bool any = false;
	for (size_t i = 0; i < sizeof(all_backends) / sizeof(all_backends[0]); i++) {
		enum enforce_backend b = all_backends[i];
		if (o->backend != ENFORCE_AUTO && o->backend != b)
			continue;
		char msg[2048];
		int r = resident_stop(b, o->force, STOP_WAIT_MS, msg, sizeof(msg));
		if (r == -ENOENT)
			continue;
		any = true;
		if (r < 0) {
			fprintf(stderr, "calyx: enforcer stop: %s\n", msg);
			rc = r == -EBUSY ? EXIT_ENFORCER_BUSY : EXIT_INTERNAL;
		} else {
			printf("%s\n", msg);
		}
	}
	if (!any && rc == EXIT_OK)
		printf("no resident set is up\n");
	return rc;
}
