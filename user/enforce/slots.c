/* A run's sandbox in the resident set: its slot, rules, ring buffer and sandbox entry;
 * their removal; and the reclaim of slots whose runner died. Encoding of rules into map
 * entries: rules.c (pure, unit-tested). */
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "enforce/rule_maps.h"
#include "policy/lease.h"
#include "policy/matrix.h"
#include "base/cgroupfs.h"
#include "sentinel/ringrec.h"

/* What the per-sandbox maxima in calyx.h are derived from. */
_Static_assert(2 * LEASE_MAX_COMMANDS + LEASE_MAX_HELPERS <= CALYX_SB_MAX_EXEC,
	       "every lease command, its script's interpreter and every helper can have an exec rule");
_Static_assert(3 * LEASE_MAX_COMMANDS <= CALYX_SB_MAX_ARGV,
	       "every lease command can have its argv rules (a script command up to three)");
/* A pattern of at most CALYX_LPM_PATH_MAX - 1 bytes has at most CALYX_LPM_PATH_MAX / 2
 * '/', each one ancestor entry (rule_maps.h), beside its own two. */
_Static_assert((2 + CALYX_LPM_PATH_MAX / 2) * (LEASE_MAX_PATHS + MATRIX_MAX_BASELINE) <= CALYX_SB_MAX_PATH_ENTRIES,
	       "every lease and baseline pattern and its ancestors fit the sandbox's share of the path rules");

struct resident_sandbox {
	uint64_t cgid;
	bool entry_added;              /* the sandbox entry (sandboxes[cgid]) is ours to delete */
	uint32_t slot;
	struct calyx_slot owner;
	int rb_fd;
	struct ring_buffer *rb;
	resident_event_fn fn;
	void *fn_ctx;
	uint64_t malformed;            /* records of no known type or size (none expected) */
	struct calyx_exec_key exec_keys[CALYX_SB_MAX_EXEC];
	size_t n_exec;
	struct calyx_argv_key argv_keys[CALYX_SB_MAX_ARGV];
	size_t n_argv;
	struct calyx_path_key *path_keys;
	size_t n_path;
};

uint32_t resident_sandbox_slot(const struct resident_sandbox *s) { return s->slot; }
uint64_t resident_sandbox_malformed(const struct resident_sandbox *s) { return s ? s->malformed : 0; }
int resident_sandbox_poll_fd(const struct resident_sandbox *s) { return s && s->rb ? ring_buffer__epoll_fd(s->rb) : -1; }

/* ------------------------------------------------------------------ counters */

int resident_slot_stats(const struct resident *r, uint32_t slot, struct calyx_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct calyx_stats *v = calloc((size_t)r->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int rc = bpf_map_lookup_elem(r->map_fd[RM_STATS], &slot, v) < 0 ? -errno : 0;
	for (int c = 0; rc == 0 && c < r->ncpus; c++)
		for (int i = 0; i < CALYX_STAT_MAX; i++)
			if (i == CALYX_STAT_RB_PEAK)   /* a maximum per CPU: the largest */
				out->v[i] = v[c].v[i] > out->v[i] ? v[c].v[i] : out->v[i];
			else
				out->v[i] += v[c].v[i];
	free(v);
	return rc;
}

static int slot_stats_zero(struct resident *r, uint32_t slot)
{
	struct calyx_stats *v = calloc((size_t)r->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int rc = bpf_map_update_elem(r->map_fd[RM_STATS], &slot, v, BPF_ANY) < 0 ? -errno : 0;
	free(v);
	return rc;
}

int resident_sandbox_stats(const struct resident *r, const struct resident_sandbox *s, struct calyx_stats *out)
{
	return resident_slot_stats(r, s->slot, out);
}

/* ------------------------------------------------------------------ adding */

/* A free slot, claimed atomically (BPF_NOEXIST): concurrent runs never share one. */
static int slot_claim(struct resident *r, struct resident_sandbox *s, char *err, size_t errlen)
{
	for (uint32_t slot = 1; slot <= CALYX_MAX_SANDBOXES; slot++) {
		if (bpf_map_update_elem(r->map_fd[RM_SLOTS], &slot, &s->owner, BPF_NOEXIST) == 0) {
			s->slot = slot;
			return 0;
		}
		if (errno != EEXIST)
			return errmsg(err, errlen, -errno, "claiming a sandbox slot failed: %s", strerror(errno));
	}
	return errmsg(err, errlen, -ENOSPC, "the resident set serves %d sandboxes already (its maximum)",
		      CALYX_MAX_SANDBOXES);
}

static int add_exec_rules(struct resident *r, struct resident_sandbox *s, const struct sandbox_rules *rules,
			  char *err, size_t errlen)
{
	if (rules->n_exec > CALYX_SB_MAX_EXEC)
		return errmsg(err, errlen, -E2BIG, "%zu lease binaries, at most %d", rules->n_exec, CALYX_SB_MAX_EXEC);
	for (size_t i = 0; i < rules->n_exec; i++) {
		const struct exec_rule *x = &rules->exec[i];
		struct calyx_exec_key k;
		struct calyx_exec_val v;
		int rc = calyx_exec_entry(x->dev, x->ino, x->path, x->any_argv ? CALYX_EXEC_ANY_ARGV : 0,
					  s->slot, &k, &v, err, errlen);
		if (rc < 0)
			return rc;
		struct calyx_exec_val old;
		if (bpf_map_lookup_elem(r->map_fd[RM_EXEC_RULES], &k, &old) == 0) {
			if (strcmp(old.path, v.path) == 0 && old.flags == v.flags)
				continue; /* the same binary named by two commands */
			if (strcmp(old.path, v.path) == 0)
				return errmsg(err, errlen, -EINVAL, "exec rule %s given twice, as a helper and not", x->path);
			/* One inode, two names (hard links): the kernel side holds one path per
			 * file, and silently denying one of them would be a puzzle at run time. */
			return errmsg(err, errlen, -EINVAL, "lease binaries %s and %s are the same file (hard links)",
				      old.path, v.path);
		}
		if (bpf_map_update_elem(r->map_fd[RM_EXEC_RULES], &k, &v, BPF_NOEXIST) < 0)
			return errmsg(err, errlen, -errno, "adding exec rule %s failed: %s", x->path, strerror(errno));
		s->exec_keys[s->n_exec++] = k;
	}
	return 0;
}

/* Both backends bind argv in BPF (sched_process_exec). */
static int add_argv_rules(struct resident *r, struct resident_sandbox *s, const struct sandbox_rules *rules,
			  char *err, size_t errlen)
{
	if (rules->n_argv > CALYX_SB_MAX_ARGV)
		return errmsg(err, errlen, -E2BIG, "%zu argv rules, at most %d", rules->n_argv, CALYX_SB_MAX_ARGV);
	struct calyx_argv_val *v = malloc(sizeof(*v));
	if (!v)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < rules->n_argv && rc == 0; i++) {
		struct calyx_argv_key k;
		if ((rc = calyx_argv_entry(&rules->argv[i], s->slot, &k, v, err, errlen)) < 0)
			break;
		if (bpf_map_update_elem(r->map_fd[RM_ARGV_RULES], &k, v, BPF_NOEXIST) == 0)
			s->argv_keys[s->n_argv++] = k;
		else if (errno != EEXIST)   /* EEXIST: the same argv twice (or a hash twin: see below) */
			rc = errmsg(err, errlen, -errno, "adding an argv rule failed: %s", strerror(errno));
		else {
			/* Two different argvs with one key: the kernel holds one per key, so the
			 * other could never run. Refused rather than found out at run time. */
			struct calyx_argv_val *old = malloc(sizeof(*old));
			if (!old)
				rc = errmsg(err, errlen, -ENOMEM, "out of memory");
			else if (bpf_map_lookup_elem(r->map_fd[RM_ARGV_RULES], &k, old) < 0 ||
				 memcmp(old->argv, v->argv, sizeof(v->argv)) != 0)
				rc = errmsg(err, errlen, -EEXIST, "two argv rules share a hash; one could never run");
			free(old);
		}
	}
	free(v);
	return rc;
}

/* The bpf-lsm backend decides paths in BPF (Landlock does it for the other), and an
 * audit-only run on landlock has its opens matched here by the observer (observe.bpf.c):
 * without its rules every open, the runtime baseline's too, would be a would-deny. */
static int add_path_rules(struct resident *r, struct resident_sandbox *s, const struct sandbox_rules *rules,
			  char *err, size_t errlen)
{
	if ((r->backend != ENFORCE_BPF_LSM && !rules->audit_only) || !rules->n_paths)
		return 0;
	struct calyx_path_entry *ents = calloc(CALYX_SB_MAX_PATH_ENTRIES, sizeof(*ents));
	s->path_keys = calloc(CALYX_SB_MAX_PATH_ENTRIES, sizeof(*s->path_keys));
	if (!ents || !s->path_keys) {
		free(ents);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	int n = calyx_path_entries(rules->paths, rules->n_paths, ents, CALYX_SB_MAX_PATH_ENTRIES, err, errlen);
	int rc = n < 0 ? n : 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct calyx_path_key k;
		calyx_path_key_of(&ents[i], s->slot, &k);
		if (bpf_map_update_elem(r->map_fd[RM_PATH_RULES], &k, &ents[i].val, BPF_NOEXIST) < 0)
			rc = errmsg(err, errlen, -errno, "adding path rule %s failed: %s", ents[i].path, strerror(errno));
		else
			s->path_keys[s->n_path++] = k;
	}
	free(ents);
	return rc;
}

/* A ring buffer map through the bpf(2) syscall itself: libbpf's bpf_map_create() first
 * loads feature-probe programs of its own (memcg accounting, object names) in every
 * process, and a run must load no program at all. (Map fds are always close-on-exec.) */
/* The slot's network allow rules (zeroed under deny_all: the flag decides, but no earlier
 * run's rules stay behind in the slot either way). */
static int add_net_rules(struct resident *r, struct resident_sandbox *s, const struct sandbox_rules *rules,
			 char *err, size_t errlen)
{
	struct calyx_net_rules v;
	int rc = calyx_net_rules_of(rules->network == NET_ALLOW ? rules->net_allow : NULL,
				    rules->network == NET_ALLOW ? rules->n_net_allow : 0, &v, err, errlen);
	if (rc < 0)
		return rc;
	if (rules->network == NET_ALLOW && v.n == 0)
		return errmsg(err, errlen, -EINVAL, "network allow rules: none given");
	if (bpf_map_update_elem(r->map_fd[RM_NET_RULES], &s->slot, &v, BPF_ANY) < 0)
		return errmsg(err, errlen, -errno, "adding the network allow rules failed: %s", strerror(errno));
	return 0;
}

static void clear_net_rules(struct resident *r, uint32_t slot)
{
	struct calyx_net_rules zero = { 0 };
	bpf_map_update_elem(r->map_fd[RM_NET_RULES], &slot, &zero, BPF_ANY);
}

int resident_ringbuf_create(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_RINGBUF;
	a.max_entries = CALYX_RINGBUF_BYTES;
	memcpy(a.map_name, "calyx_rb", sizeof("calyx_rb"));
	return (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
}

/* The sandbox's own ring buffer, in its slot of the array of maps. A slot keeps its ring
 * buffer from one run to the next: every update or delete of an array of maps waits for
 * an RCU grace period in the kernel (so that no program still uses the old inner map),
 * ~13 ms each, which would be most of a warm run. So the first run in a slot makes and
 * installs one, the later ones open it by id; what a previous run left unread is
 * discarded before the sandbox entry exists (nothing can be written to it meanwhile: a
 * slot's buffer is written only for a registered sandbox of that slot). Memory: one
 * buffer per slot ever used since the set was loaded (slots are taken lowest first). */
static int add_ring_buffer(struct resident *r, struct resident_sandbox *s, char *err, size_t errlen)
{
	uint32_t id = 0;
	if (bpf_map_lookup_elem(r->map_fd[RM_SLOT_RB], &s->slot, &id) == 0 && id) {
		s->rb_fd = bpf_map_get_fd_by_id(id);
		if (s->rb_fd < 0)
			return errmsg(err, errlen, -errno, "opening the slot's ring buffer failed: %s", strerror(errno));
		return 0;
	}
	s->rb_fd = resident_ringbuf_create();
	if (s->rb_fd < 0)
		return errmsg(err, errlen, -errno, "creating the sandbox's ring buffer failed: %s", strerror(errno));
	if (bpf_map_update_elem(r->map_fd[RM_SLOT_RB], &s->slot, &s->rb_fd, BPF_ANY) < 0)
		return errmsg(err, errlen, -errno, "installing the sandbox's ring buffer failed: %s", strerror(errno));
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct resident_sandbox *s = ctx;
	const struct calyx_event *ev = data;
	/* Consumers read a record's body by its type: only whole records of a known type,
	 * whose head says the size the ring buffer delivered, reach them. */
	if (ringrec_valid(data, size) && s->fn)
		s->fn(ev, s->fn_ctx);
	else if (s->fn)
		s->malformed++;
	return 0;
}

int resident_add_sandbox(struct resident *r, const struct sandbox_rules *rules,
			 struct resident_sandbox **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!rules->cgid || !rules->cgroup || strlen(rules->cgroup) >= sizeof(((struct calyx_slot *)0)->cgroup))
		return errmsg(err, errlen, -EINVAL, "enforcer: sandbox cgroup not set or its path too long");
	struct resident_sandbox *s = calloc(1, sizeof(*s));
	if (!s)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	s->cgid = rules->cgid;
	s->rb_fd = -1;
	s->owner.cgid = rules->cgid;
	s->owner.claimed_at = (uint64_t)time(NULL);
	s->owner.runner_pid = (uint32_t)getpid();
	do
		s->owner.epoch = randombytes_random();
	while (!s->owner.epoch);
	snprintf(s->owner.cgroup, sizeof(s->owner.cgroup), "%s", rules->cgroup);

	int rc = slot_claim(r, s, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	if ((rc = slot_stats_zero(r, s->slot)) < 0)
		errmsg(err, errlen, rc, "resetting the sandbox's counters failed: %s", strerror(-rc));
	if (rc == 0)
		rc = add_ring_buffer(r, s, err, errlen);
	if (rc == 0)
		rc = add_exec_rules(r, s, rules, err, errlen);
	if (rc == 0)
		rc = add_argv_rules(r, s, rules, err, errlen);
	if (rc == 0)
		rc = add_path_rules(r, s, rules, err, errlen);
	if (rc == 0 && !(s->rb = ring_buffer__new(s->rb_fd, on_record, s, NULL)))
		rc = errmsg(err, errlen, -errno, "creating the ring buffer consumer failed: %s", strerror(errno));
	if (rc == 0 && ring_buffer__consume(s->rb) < 0)   /* s->fn unset: an earlier run's leftovers go */
		rc = errmsg(err, errlen, -EIO, "draining the slot's ring buffer failed");
	/* Last: until this entry exists the cgroup counts as an orphan (everything denied). */
	if (rc == 0)
		rc = add_net_rules(r, s, rules, err, errlen);
	struct calyx_sandbox sbv = {
		.slot = s->slot,
		.flags = (rules->network == NET_ALLOW ? CALYX_SB_NET_ALLOW : CALYX_SB_NET_DENY_ALL) |
			 (rules->audit_only ? CALYX_SB_AUDIT_ONLY : 0),
		.epoch = s->owner.epoch,
	};
	if (rc == 0 && bpf_map_update_elem(r->map_fd[RM_SANDBOXES], &s->cgid, &sbv, BPF_NOEXIST) < 0)
		rc = errmsg(err, errlen, -errno, "adding the sandbox failed: %s%s", strerror(errno),
			    errno == EEXIST ? " (its cgroup is already a sandbox)" : "");
	else if (rc == 0)
		s->entry_added = true;
	if (rc < 0) {
		resident_remove_sandbox(r, s);   /* no task has entered the cgroup yet */
		return rc;
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ consuming */

int resident_consume(struct resident_sandbox *s, resident_event_fn fn, void *ctx)
{
	if (!s || !s->rb)
		return -EINVAL;
	s->fn = fn;
	s->fn_ctx = ctx;
	int rc = ring_buffer__consume(s->rb);
	s->fn = NULL;
	s->fn_ctx = NULL;
	return rc;
}

/* ------------------------------------------------------------------ removing */

void resident_remove_sandbox(struct resident *r, struct resident_sandbox *s)
{
	if (!s)
		return;
	/* The sandbox entry goes first: from then on its tasks (there should be none) are
	 * denied everything while the rest goes. */
	if (s->slot) {
		/* Only an entry this registration added: a refused one (EEXIST) must not take
		 * away the live sandbox that holds the cgroup. */
		if (s->entry_added)
			bpf_map_delete_elem(r->map_fd[RM_SANDBOXES], &s->cgid);
		for (size_t i = 0; i < s->n_exec; i++)
			bpf_map_delete_elem(r->map_fd[RM_EXEC_RULES], &s->exec_keys[i]);
		for (size_t i = 0; i < s->n_argv; i++)
			bpf_map_delete_elem(r->map_fd[RM_ARGV_RULES], &s->argv_keys[i]);
		for (size_t i = 0; i < s->n_path; i++)
			bpf_map_delete_elem(r->map_fd[RM_PATH_RULES], &s->path_keys[i]);
		clear_net_rules(r, s->slot);
		bpf_map_delete_elem(r->map_fd[RM_SLOTS], &s->slot);   /* free for the next run */
	}
	ring_buffer__free(s->rb);
	if (s->rb_fd >= 0)
		close(s->rb_fd);
	free(s->path_keys);
	free(s);
}

/* ------------------------------------------------------------------ reclaiming */

bool resident_slot_cgroup_live(const struct resident *r, const struct calyx_slot *owner)
{
	char path[PATH_MAX + sizeof(owner->cgroup)];
	uint64_t id;
	snprintf(path, sizeof(path), "%s/%.*s", r->cg_root, (int)sizeof(owner->cgroup), owner->cgroup);
	/* An id that cannot be read is a cgroup that may still hold tasks: live (closed). */
	int rc = cgroup_id_of(path, &id);
	return rc == -ENOENT ? false : rc < 0 || id == owner->cgid;
}

/* A SIGKILLed runner's sandbox, once the kernel has killed its tasks, is an empty cgroup
 * that only the next run's sweep removes: nothing runs there and nobody will free the slot
 * but that sweep, so it must not count as live (it would refuse `enforcer stop` and the
 * replacement of the set by another build for a sandbox that is gone). A runner that lives
 * may hold an empty sandbox (before the command starts, while removing it): live. Any
 * doubt (unreadable cgroup.events, a pid that exists again) is live. */
bool resident_slot_live(const struct resident *r, const struct calyx_slot *owner)
{
	if (!resident_slot_cgroup_live(r, owner))
		return false;
	char path[PATH_MAX + sizeof(owner->cgroup)];
	snprintf(path, sizeof(path), "%s/%.*s", r->cg_root, (int)sizeof(owner->cgroup), owner->cgroup);
	if (cgroupfs_populated_path(path) != 0)
		return true;
	return kill((pid_t)owner->runner_pid, 0) == 0 || errno != ESRCH;
}

/* Delete every key of map fd for which belongs(key, slot). Keys are collected first: a
 * deletion during get_next_key restarts the walk. */
static void delete_keys_of(int fd, size_t key_size, uint32_t slot, bool (*belongs)(const void *, uint32_t))
{
	size_t cap = 64, n = 0;
	uint8_t *keys = malloc(cap * key_size), cur[512], next[512];
	if (!keys || key_size > sizeof(cur)) {
		free(keys);
		return;
	}
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (belongs(next, slot)) {
			if (n == cap) {
				uint8_t *k2 = realloc(keys, 2 * cap * key_size);
				if (!k2)
					break;
				keys = k2;
				cap *= 2;
			}
			memcpy(keys + n++ * key_size, next, key_size);
		}
		memcpy(cur, next, key_size);
		prev = cur;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

static bool exec_key_of_slot(const void *k, uint32_t slot)
{
	return ((const struct calyx_exec_key *)k)->sandbox == slot;
}

static bool argv_key_of_slot(const void *k, uint32_t slot)
{
	return ((const struct calyx_argv_key *)k)->sandbox == slot;
}

static bool path_key_of_slot(const void *k, uint32_t slot)
{
	const struct calyx_path_key *p = k;
	return (((uint32_t)p->sandbox_be[0] << 24) | ((uint32_t)p->sandbox_be[1] << 16) |
		((uint32_t)p->sandbox_be[2] << 8) | p->sandbox_be[3]) == slot;
}

void resident_slot_clear(struct resident *r, uint32_t slot, const struct calyx_slot *owner)
{
	bpf_map_delete_elem(r->map_fd[RM_SANDBOXES], &owner->cgid);
	delete_keys_of(r->map_fd[RM_EXEC_RULES], sizeof(struct calyx_exec_key), slot, exec_key_of_slot);
	delete_keys_of(r->map_fd[RM_ARGV_RULES], sizeof(struct calyx_argv_key), slot, argv_key_of_slot);
	delete_keys_of(r->map_fd[RM_PATH_RULES], sizeof(struct calyx_path_key), slot, path_key_of_slot);
	clear_net_rules(r, slot);
	bpf_map_delete_elem(r->map_fd[RM_SLOTS], &slot);
}

/* Slots whose cgroup is gone, into dead[]. */
static unsigned dead_slots(struct resident *r, uint32_t dead[CALYX_MAX_SANDBOXES],
			   struct calyx_slot owners[CALYX_MAX_SANDBOXES])
{
	/* Only the claimed slots (a hash: walked by key), not all CALYX_MAX_SANDBOXES: every
	 * run does this, and each look-up is a syscall. */
	unsigned n = 0;
	uint32_t key, *prev = NULL;
	/* A key deleted meanwhile restarts the walk (hash maps): bounded, duplicates harmless */
	for (int steps = 0; n < CALYX_MAX_SANDBOXES && steps < 2 * CALYX_MAX_SANDBOXES &&
			    bpf_map_get_next_key(r->map_fd[RM_SLOTS], prev, &key) == 0; steps++) {
		uint32_t slot = key;
		prev = &key;
		if (bpf_map_lookup_elem(r->map_fd[RM_SLOTS], &slot, &owners[n]) < 0)
			continue;   /* freed meanwhile */
		if (!resident_slot_cgroup_live(r, &owners[n]))
			dead[n++] = slot;
	}
	return n;
}

int resident_reclaim(struct resident *r, unsigned *reclaimed, char *err, size_t errlen)
{
	*reclaimed = 0;
	uint32_t dead[CALYX_MAX_SANDBOXES];
	struct calyx_slot *owners = calloc(CALYX_MAX_SANDBOXES, sizeof(*owners));
	if (!owners)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = 0;
	if (dead_slots(r, dead, owners) > 0) {
		/* Exclusive while removing: a run registering under the shared lock could
		 * otherwise claim a slot between our look and our deletions. Looked at again
		 * after the (non-atomic) change of lock mode. */
		bool was_ex = r->lock_ex;
		rc = was_ex ? 0 : resident_lock(r, true, err, errlen);
		unsigned n = rc == 0 ? dead_slots(r, dead, owners) : 0;
		for (unsigned i = 0; i < n; i++)
			resident_slot_clear(r, dead[i], &owners[i]);
		*reclaimed = n;
		if (rc == 0 && !was_ex)
			rc = resident_lock(r, false, err, errlen);
	}
	/* The lock may have changed mode twice (not atomically): a stop or a replacement may
	 * have come in between; a run must not register into a set that is going away. */
	if (rc == 0)
		rc = resident_recheck(r, err, errlen);
	free(owners);
	return rc;
}
