/* Both backends: what a sandbox task may start, decided at sched_process_exec (the new
 * image is set up, its argv is in its own memory, and it has not run one instruction).
 * The image (bprm->file: for a #! script, its interpreter) must be a lease binary with
 * links, and it must run either as a helper (any argv) or with exactly one of the argvs
 * its argv rules name (calyx.h "argv binding"). Anything else is killed with SIGKILL
 * before it returns to user space, and recorded with its argv. Part of the calyx.bpf.c
 * unit.
 *
 * Fails closed everywhere: an argv that cannot be read, is longer than CALYX_ARGV_MAX,
 * or whose comparison cannot finish matches no rule. A kill bpf_send_signal could not
 * send is recorded as such (err = its error) and counted (CALYX_STAT_KILL_FAILED), and
 * the runner then kills the whole sandbox. */

struct argv_walk {
	__u32 len;                 /* argv bytes (<= CALYX_ARGV_MAX) */
	int failed;                /* a look-up failed, or the bytes differ */
	__u64 hash;
	struct calyx_argv_key key; /* compare: the candidate rule */
};

/* Which bytes of the little-endian word at off belong to an argv of len bytes. */
static __always_inline __u64 argv_word_mask(__u32 off, __u32 len)
{
	if (off >= len)
		return 0;
	if (len - off >= 8)
		return ~0ull;
	return (1ull << ((len - off) * 8)) - 1;
}

static __always_inline struct calyx_argv_val *argv_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&argv_scratch, &zero);
}

/* One CALYX_ARGV_CHUNK of the hash (calyx.h). */
static long argv_hash_cb(__u32 idx, void *data)
{
	struct argv_walk *w = data;
	struct calyx_argv_val *b = argv_buf();
	if (!b) {
		w->failed = 1;
		return 1;
	}
	__u32 base = (idx & 255) * CALYX_ARGV_CHUNK;
#pragma unroll
	for (__u32 j = 0; j < CALYX_ARGV_CHUNK; j += 8) {
		__u64 x = *(__u64 *)&b->argv[base + j] & argv_word_mask(base + j, w->len);
		w->hash = (w->hash ^ x) * CALYX_ARGV_PRIME;
	}
	return 0;
}

/* One CALYX_ARGV_CHUNK of the comparison with the candidate rule. */
static long argv_cmp_cb(__u32 idx, void *data)
{
	struct argv_walk *w = data;
	struct calyx_argv_val *b = argv_buf();
	struct calyx_argv_val *rule = bpf_map_lookup_elem(&argv_rules, &w->key);
	if (!b || !rule) {
		w->failed = 1;
		return 1;
	}
	__u32 base = (idx & 255) * CALYX_ARGV_CHUNK;
#pragma unroll
	for (__u32 j = 0; j < CALYX_ARGV_CHUNK; j += 8) {
		__u64 m = argv_word_mask(base + j, w->len);
		if ((*(__u64 *)&b->argv[base + j] & m) != (*(__u64 *)&rule->argv[base + j] & m)) {
			w->failed = 1;
			return 1;
		}
	}
	return 0;
}

/* Is the argv in argv_scratch (len bytes) one the sandbox's argv rules name for the
 * image *img? */
static __always_inline bool argv_allowed(const struct calyx_exec_key *img, __u32 len)
{
	if (len == 0 || len > CALYX_ARGV_MAX)
		return false;
	__u32 chunks = (len + CALYX_ARGV_CHUNK - 1) / CALYX_ARGV_CHUNK;
	struct argv_walk w = { .len = len, .hash = (__u64)len ^ CALYX_ARGV_SEED };
	if (bpf_loop(chunks, argv_hash_cb, &w, 0) != chunks || w.failed)
		return false;   /* the hash did not finish: closed */
	w.key.sandbox = img->sandbox;
	w.key.len = len;
	w.key.dev = img->dev;
	w.key.ino = img->ino;
	w.key.hash = w.hash;
	if (!bpf_map_lookup_elem(&argv_rules, &w.key))
		return false;
	/* The hash only picks the candidate: every byte must be the rule's. */
	return bpf_loop(chunks, argv_cmp_cb, &w, 0) == chunks && !w.failed;
}

/* Kill the task now running the new image, count and record it; in an audit-only
 * sandbox (would_deny_only, the same decision as deny()'s) only count and record it.
 * Always returns 0 (a tracepoint decides nothing by its return value). */
static __always_inline int exec_kill(const struct scope *sc, __u32 hook, __u32 nlink,
				     struct linux_binprm *bprm, __u32 argv_len, __u32 read_len,
				     bool unread)
{
	bool would = would_deny_only(sc, hook);
	long rc = would ? 0 : bpf_send_signal(SIGKILL);
	stat_inc(sc->slot, would ? CALYX_STAT_WOULD_DENY : CALYX_STAT_DENIED);
	if (rc)
		stat_inc(sc->slot, CALYX_STAT_KILL_FAILED); /* the runner kills the sandbox */
	struct calyx_kill_event *k = ev_reserve(sc, CALYX_EV_KILL, hook, sizeof(*k));
	if (!k)
		return 0; /* counted as dropped; the kill (or the counted failure) stands */
	__builtin_memset((char *)k + sizeof(k->d.ev), 0, sizeof(k->d) - sizeof(k->d.ev));
	struct calyx_event *ev = &k->d.ev;
	ev_task(ev);
	/* SIGKILL, or the helper's error: then the record says the kill did not happen */
	k->d.err = would ? 0 : rc ? (int)rc : SIGKILL;
	k->d.verdict = would ? CALYX_VERDICT_WOULD_DENY : CALYX_VERDICT_DENIED;
	k->d.flags = nlink;
	bpf_probe_read_kernel_str(k->path, sizeof(k->path), BPF_CORE_READ(bprm, filename));
	k->argv_len = argv_len;
	k->argv_flags = unread ? CALYX_KILL_ARGV_UNREAD : 0;
	k->pad = 0;
	__u32 shown = unread ? 0 : read_len;
	if (shown > CALYX_ARGV_SHOWN)
		shown = CALYX_ARGV_SHOWN;
	if (argv_len > shown)
		k->argv_flags |= CALYX_KILL_ARGV_TRUNCATED;
	struct calyx_argv_val *b = argv_buf();
	asm volatile("" : "+r"(shown));   /* keep the bound check next to the call */
	if (shown > CALYX_ARGV_SHOWN)
		shown = CALYX_ARGV_SHOWN;
	if (!b || (shown && bpf_probe_read_kernel(k->argv, shown, b->argv))) {
		shown = 0;
		k->argv_flags |= CALYX_KILL_ARGV_UNREAD;
	}
	k->shown = shown;
	ev_submit(ev);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(calyx_exec_image, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	SCOPE_ENTER(sc);
	struct file *f = BPF_CORE_READ(bprm, file);
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 nlink = BPF_CORE_READ(ino, __i_nlink);
	struct calyx_exec_key img = exec_key_of(sc.slot, ino);
	/* closed: an orphan, a fileless image, an image that is no lease binary */
	struct calyx_exec_val *x = sc.sb && nlink > 0 ? bpf_map_lookup_elem(&exec_rules, &img) : NULL;
	if (x && (x->flags & CALYX_EXEC_ANY_ARGV))
		return 0;
	/* The new image's argv, as the kernel laid it out in its memory (p is current). */
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
	__u64 total = end > start ? end - start : 0;
	__u32 argv_len = total > 0xffffffffull ? 0xffffffffu : (__u32)total;
	__u32 read_len = argv_len > CALYX_ARGV_MAX ? CALYX_ARGV_MAX : argv_len;
	struct calyx_argv_val *b = argv_buf();
	bool unread = !b || !read_len;
	if (!unread) {
		asm volatile("" : "+r"(read_len));
		if (read_len > CALYX_ARGV_MAX)
			read_len = CALYX_ARGV_MAX;
		/* argv pages were just written by the exec: a failure is closed */
		unread = bpf_probe_read_user(b->argv, read_len, (const void *)start) != 0;
	}
	if (!x)
		return exec_kill(&sc, CALYX_HOOK_EXEC_IMAGE, nlink, bprm, argv_len, read_len, unread);
	if (!unread && argv_len <= CALYX_ARGV_MAX && argv_allowed(&img, argv_len))
		return 0;
	return exec_kill(&sc, CALYX_HOOK_EXEC_ARGV, nlink, bprm, argv_len, read_len, unread);
}
