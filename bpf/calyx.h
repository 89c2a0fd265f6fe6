/* The ABI between the BPF programs (the bpf/ sources) and user space (user/enforce/): map keys
 * and values, ring-buffer records, limits. Only fixed-width types with explicit padding
 * cross the boundary; every struct's size is pinned with _Static_assert so both sides
 * agree, and every change to anything here bumps CALYX_ABI_VERSION: a resident program
 * set stamped with another ABI (or built from another object) is never used. */
#ifndef CALYX_BPF_SHARED_H
#define CALYX_BPF_SHARED_H

#ifdef __BPF__
/* vmlinux.h already defines the __u* types */
#else
#include <linux/types.h>
#endif

#define CALYX_ABI_VERSION 7

#define CALYX_PATH_MAX 256        /* path buffers (events, exec rules); the kernel matcher holds
                                   * CALYX_LPM_PATH_MAX - 1 bytes: longer paths are denied */

/* ---- how many of what, and why each map has its size ----
 * A resident set serves up to CALYX_MAX_SANDBOXES concurrent sandboxes. Each sandbox owns
 * one slot, 1..CALYX_MAX_SANDBOXES; slot 0 collects what belongs to no live sandbox
 * (orphaned cgroups). Per sandbox at most CALYX_SB_MAX_EXEC binaries (the lease's
 * commands, its helpers and the interpreters of its #! script commands: user space
 * asserts they fit), CALYX_SB_MAX_ARGV argv rules (each lease command gives one, a #!
 * script command up to three: one per path the script may be exec'd by, see
 * user/run/binaries.c) and CALYX_SB_MAX_PATH_ENTRIES LPM
 * entries (each lease or baseline pattern makes at most two, plus one TRAVERSE entry per
 * ancestor directory: at most CALYX_LPM_PATH_MAX / 2 of them for a pattern that fits the
 * matcher; user space asserts that every lease and baseline pattern at that depth fits).
 * The shared maps hold the sum; the trie allocates only for the entries of live
 * sandboxes (BPF_F_NO_PREALLOC). */
#define CALYX_MAX_SANDBOXES 255
#define CALYX_SLOTS (CALYX_MAX_SANDBOXES + 1)
#define CALYX_SB_MAX_EXEC 192
#define CALYX_SB_MAX_ARGV 192
#define CALYX_SB_MAX_PATH_ENTRIES 16384
#define CALYX_MAX_EXEC_RULES (CALYX_MAX_SANDBOXES * CALYX_SB_MAX_EXEC)
#define CALYX_MAX_ARGV_RULES (CALYX_MAX_SANDBOXES * CALYX_SB_MAX_ARGV)
#define CALYX_MAX_PATH_RULES (CALYX_MAX_SANDBOXES * CALYX_SB_MAX_PATH_ENTRIES)
/* Each sandbox has its own ring buffer (an inner map of the slot-indexed array of maps),
 * so one sandbox's flood never costs another its records. 2 MiB hold ~20,000 socket
 * denials (96 bytes + the ring buffer's 8-byte header), ~5,800 path denials; the runner
 * drains every 50 ms and as soon as a record finds the buffer past the wake-up fill
 * (records are submitted without wake-ups below it). Drops are counted per slot.
 * Why 2 MiB and a quarter, measured on the 2-core host (tests/bench/records.sh, floods of
 * socket denials from two producers): with 1 MiB, 2 of 5 paced floods at 250,000-300,000
 * records/s lost records (the runner, sharing the cores with the producers and writing
 * events.jsonl, went more than ~30 ms without draining); with 2 MiB none lost anything,
 * up to the 585,000/s the producers reached; 4 MiB did no better here. The cost: each live
 * run maps its buffer, and the mapping counts twice in its RSS (the data pages are mapped
 * twice), ~7.8 MiB for a run of /bin/true instead of ~5.8. The wake-up at a quarter:
 * ~5,000 small records of backlog, so a wake-up is rare and leaves three quarters of the
 * buffer for the time the runner takes to be scheduled and drain. */
#define CALYX_RINGBUF_BYTES (1u << 21)
#define CALYX_RINGBUF_WAKE_FILL (CALYX_RINGBUF_BYTES / 4)
/* Verdict cache (bpf-lsm file_open): LRU, shared by all sandboxes. 16k entries of 48
 * bytes; a miss only costs the full path decision. */
#define CALYX_VCACHE_ENTRIES 16384

_Static_assert((CALYX_RINGBUF_BYTES & (CALYX_RINGBUF_BYTES - 1)) == 0, "ring buffer size: a power of 2");

/* Access levels; a rule grants at most its level. TRAVERSE: the path's metadata may be
 * read (stat, readlink, getxattr, listxattr, watches) but the file may not be opened:
 * user space gives it to every ancestor directory of a lease or baseline pattern, so
 * path lookup, getcwd-like walks and the loader's stat of each component work, while
 * everything beside those directories stays unseen. */
enum calyx_access { CALYX_ACC_NONE = 0, CALYX_ACC_TRAVERSE = 1, CALYX_ACC_RO = 2, CALYX_ACC_RW = 3 };

/* sandboxes map: the sandbox cgroup's v2 id (inode number) -> its configuration. */
struct calyx_sandbox {
	__u32 slot;        /* 1..CALYX_MAX_SANDBOXES: index of its ring buffer and counters,
			    * and the sandbox part of every rule key */
	__u32 flags;       /* CALYX_SB_* */
	__u32 epoch;       /* unique per run: verdict-cache entries of an earlier run in the
			    * same slot never match */
	__u32 pad;
};
#define CALYX_SB_NET_DENY_ALL (1u << 0)
/* The lease's network allow rules (net_rules[slot]) decide inet connects and sends; the
 * sandbox keeps the host's network namespace. Without this flag the network is deny_all,
 * whatever else the flags say (fail closed). */
#define CALYX_SB_NET_ALLOW (1u << 8)
/* `calyx run --audit-only` (docs/audit-only.md): deny() records what it would have refused
 * (verdict CALYX_VERDICT_WOULD_DENY) and allows it, the exec-image/argv check records and
 * does not kill; the containment hooks (CALYX_HOOK_KEEPS_DENYING) still refuse. */
#define CALYX_SB_AUDIT_ONLY (1u << 1)
_Static_assert(sizeof(struct calyx_sandbox) == 16, "calyx_sandbox layout");

/* ---- network allow rules (docs/network.md) ----
 * net_rules: an array indexed by slot; user space writes a sandbox's rules before its
 * sandbox entry and zeroes them when it goes. Every destination is compared in IPv6 form:
 * an IPv4 address a.b.c.d (AF_INET, or IPv4-mapped ::ffff:a.b.c.d on an AF_INET6 socket)
 * is ::ffff:a.b.c.d, and an IPv4 rule is stored the same way with its mask widened by 96
 * bits; `family` keeps an IPv6 rule (even ::/0) from admitting a mapped IPv4 destination.
 * A destination is admitted when (addr[i] & mask[i]) == rule.addr[i] for all four words,
 * the protocol is the rule's and the port is the rule's (or the rule's port is 0). At
 * most CALYX_SB_MAX_NET_RULES per sandbox (policy/netrule.h NETRULE_MAX, asserted in
 * user/enforce/rule_maps.c): the BPF side loops over them all. */
#define CALYX_SB_MAX_NET_RULES 16
struct calyx_net_rule {
	__u32 addr[4];     /* the network, IPv6 form, network byte order, host bits zero */
	__u32 mask[4];     /* its prefix as a mask, network byte order */
	__u16 port;        /* host byte order; 0 = any port */
	__u8 proto;        /* IPPROTO_TCP (6) or IPPROTO_UDP (17) */
	__u8 family;       /* 4: admits IPv4 (and mapped) destinations only; 6: the others */
	__u32 pad;
};
_Static_assert(sizeof(struct calyx_net_rule) == 40, "calyx_net_rule layout");
struct calyx_net_rules {
	__u32 n;           /* rules used, 0..CALYX_SB_MAX_NET_RULES */
	__u32 pad;
	struct calyx_net_rule r[CALYX_SB_MAX_NET_RULES];
};
_Static_assert(sizeof(struct calyx_net_rules) == 8 + 40 * CALYX_SB_MAX_NET_RULES, "calyx_net_rules layout");

/* Allowed executable: the file's identity (kernel dev_t encoding: major << 20 | minor). */
struct calyx_exec_key {
	__u32 sandbox;     /* slot */
	__u32 pad;
	__u64 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct calyx_exec_key) == 24, "calyx_exec_key layout");
/* exec_rules value: the rule's canonical path. The inode identity alone is not enough (a
 * hard link elsewhere, or a deleted-and-reused inode number); bpf_d_path of the executed
 * file must equal this too. NUL-terminated. */
struct calyx_exec_val {
	char path[CALYX_PATH_MAX];
	__u32 flags;       /* CALYX_EXEC_* */
	__u32 pad;
};
_Static_assert(sizeof(struct calyx_exec_val) == CALYX_PATH_MAX + 8, "calyx_exec_val layout");
/* A helper (the lease's `helpers` claim): the command tree may run it with any argv.
 * Without the flag a binary runs only with one of its argv rules' argvs. */
#define CALYX_EXEC_ANY_ARGV (1u << 0)

/* ---- argv binding (sched_process_exec, both backends) ----
 * Every image a sandbox task starts runs only with an argv that one of the sandbox's argv
 * rules names for that file (the image actually run: for a #! script, its interpreter),
 * or is a CALYX_EXEC_ANY_ARGV binary. The argv is the new image's own
 * mm->arg_start..arg_end: each argument with its NUL, argv[0] included. At most
 * CALYX_ARGV_MAX bytes are compared; a longer argv matches no rule. The key holds a hash
 * of the bytes so that one look-up finds the only candidate; the bytes are then compared
 * in full (a collision is a mismatch, never a grant).
 *
 * The hash (user space: calyx_argv_hash in user/enforce/rule_maps.c; BPF: exec_image in
 * bpf/landlock.bpf.c; both must agree): the argv zero-padded to a multiple of
 * CALYX_ARGV_CHUNK bytes, read as little-endian __u64 words w; h = len ^ CALYX_ARGV_SEED,
 * then for each word h = (h ^ w) * CALYX_ARGV_PRIME (mod 2^64). */
#define CALYX_ARGV_MAX 16384
#define CALYX_ARGV_CHUNK 64
#define CALYX_ARGV_SEED 0xcbf29ce484222325ull
#define CALYX_ARGV_PRIME 0x100000001b3ull
_Static_assert(CALYX_ARGV_MAX % CALYX_ARGV_CHUNK == 0 && CALYX_ARGV_MAX / CALYX_ARGV_CHUNK == 256,
	       "the BPF loop masks the chunk index with 255");
struct calyx_argv_key {
	__u32 sandbox;     /* slot */
	__u32 len;         /* argv bytes, 1..CALYX_ARGV_MAX */
	__u64 dev;         /* the image's file (kernel dev_t encoding) */
	__u64 ino;
	__u64 hash;
};
_Static_assert(sizeof(struct calyx_argv_key) == 32, "calyx_argv_key layout");
struct calyx_argv_val {
	char argv[CALYX_ARGV_MAX];   /* key.len bytes, zero after them */
};
_Static_assert(sizeof(struct calyx_argv_val) == CALYX_ARGV_MAX, "calyx_argv_val layout");

/* LPM key: prefixlen counts bits of (sandbox, path bytes). Path rules are keyed per sandbox
 * by putting the slot (big-endian) in front of the path. EXACT rules include the
 * terminating NUL so "/usr/bin/git" cannot prefix-match "/usr/bin/git-evil". */
/* An LPM trie holds at most 256 data bytes (key_size <= 260): 4 for the slot leave 252 for
 * the path including its NUL. Longer paths are denied (file_open, exec), never matched
 * truncated; longer patterns are refused when the sandbox is added. */
#define CALYX_LPM_PATH_MAX 252
struct calyx_path_key {
	__u32 prefixlen;
	__u8 sandbox_be[4];
	char path[CALYX_LPM_PATH_MAX];
};
_Static_assert(sizeof(struct calyx_path_key) == 260, "calyx_path_key layout");

enum calyx_path_kind { CALYX_PATH_EXACT = 0, CALYX_PATH_CHILDREN = 1, CALYX_PATH_SUBTREE = 2 };
/* Access is precomputed in user space: `match` when the path satisfies this rule's kind,
 * else `fallback` = best access any shorter rule grants (LPM only returns the longest). */
struct calyx_path_val {
	__u8 kind;
	__u8 match;
	__u8 fallback;
	__u8 plen;     /* bytes of the key's path (the "dir/" prefix; EXACT: without the NUL):
			* the LPM lookup does not say how long the matched prefix was, and
			* CHILDREN must check that no '/' follows it */
};
_Static_assert(sizeof(struct calyx_path_val) == 4, "calyx_path_val layout");

/* Verdict cache (bpf-lsm file_open). Key: one file of one run's sandbox. The value holds
 * what makes the cached path decision still true: the file is the same (inode pointer and
 * generation, so a reused inode number is a miss), reached on the same mount, no rename
 * and no mount change anywhere on the host since (the kernel's rename_lock and mount_lock
 * sequence counts, read before the path was resolved). Only files with exactly one name
 * (or directories) are cached: a second hard link could name the inode outside the lease. */
struct calyx_vcache_key {
	__u32 slot;
	__u32 epoch;
	__u64 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct calyx_vcache_key) == 24, "calyx_vcache_key layout");
struct calyx_vcache_val {
	__u64 inode;       /* struct inode * */
	__u64 mnt;         /* struct vfsmount * the file was opened on */
	__u32 gen;         /* inode->i_generation */
	__u32 rename_seq;
	__u32 mount_seq;
	__u32 access;      /* calyx_access granted by the path rules */
};
_Static_assert(sizeof(struct calyx_vcache_val) == 32, "calyx_vcache_val layout");

enum calyx_event_type {
	CALYX_EV_DENY = 1,   /* an LSM / cgroup hook refused something */
	CALYX_EV_EXEC = 2,   /* sched_process_exec */
	CALYX_EV_EXIT = 3,   /* sched_process_exit (thread-group leader's last thread) */
	CALYX_EV_FORK = 4,   /* sched_process_fork */
	CALYX_EV_KILL = 5,   /* sched_process_exec: an image or argv the lease does not allow,
			      * killed with SIGKILL (a struct calyx_kill_event) */
};
enum calyx_hook {
	CALYX_HOOK_NONE = 0,
	CALYX_HOOK_EXEC = 1,          /* bprm_check_security */
	CALYX_HOOK_FILE_OPEN = 2,     /* file_open */
	CALYX_HOOK_SOCKET_CREATE = 3,
	CALYX_HOOK_SOCKET_CONNECT = 4,
	CALYX_HOOK_SOCKET_SENDMSG = 5,
	CALYX_HOOK_BPF = 6,
	CALYX_HOOK_EXEC_IMAGE = 7,    /* sched_process_exec kill: the image is no lease binary
				       * (landlock backend; bpf-lsm refuses it earlier) */
	/* 8 was a system-wide syscall-exit observer (retired: it cost every task of the host) */
	CALYX_HOOK_MOUNT = 9,         /* sb_mount / move_mount / sb_pivotroot / path_chroot:
				       * would change what bpf_d_path reports, so denied */
	CALYX_HOOK_USERNS = 10,       /* userns_create: a new user namespace gives the mount and
				       * chroot capabilities above */
	CALYX_HOOK_SIGNAL = 11,       /* task_kill: signal to a task outside the sandbox (family = sig) */
	CALYX_HOOK_PTRACE = 12,       /* ptrace_access_check: target outside the sandbox */
	CALYX_HOOK_PATH_MUTATE = 13,  /* path_* / inode_*xattr / file_ioctl: a change to the file
				       * system outside the :rw paths; flags = calyx_mutate_op */
	CALYX_HOOK_MMAP_EXEC = 14,    /* mmap_file / file_mprotect with PROT_EXEC of a file that is
				       * neither readable under a rule nor a lease binary;
				       * flags = 1 mmap, 2 mprotect */
	CALYX_HOOK_PERF = 15,         /* perf_event_open (family = the event type) */
	CALYX_HOOK_EXEC_ARGV = 16,    /* sched_process_exec kill: a lease binary with an argv
				       * none of its argv rules names (both backends) */
	CALYX_HOOK_META = 17,         /* inode_getattr / inode_readlink / inode_getxattr /
				       * inode_listxattr / path_notify: metadata of a path no rule
				       * grants (not even TRAVERSE); flags = calyx_meta_op */
	CALYX_HOOK_IPC = 18,          /* SysV IPC (ipc_permission, msg_queue_*, shm_*, sem_*) and
				       * POSIX message queues (file_open / inode_unlink on the mqueue
				       * file system): refused in a sandbox; family = calyx_ipc_op */
	CALYX_HOOK_KEY = 19,          /* key_alloc / key_permission: keyrings refused in a sandbox;
				       * family = calyx_key_op, flags = the permission asked */
	CALYX_HOOK_SOCKET_BIND = 20,  /* socket_bind of an abstract AF_UNIX name (or autobind), or
				       * of any inet socket (network allow rules) */
	CALYX_HOOK_SOCKET_RECVMSG = 21, /* socket_recvmsg on a non-AF_UNIX socket under deny_all
					 * (a socket received from outside) */
	CALYX_HOOK_SOCKET_LISTEN = 22,  /* socket_listen of an inet socket under network allow
					 * rules (bpf-lsm): the sandbox may reach out, never serve */
};
/* The hooks that keep refusing in an audit-only sandbox: they guard the enforcer itself
 * (bpf), what bpf_d_path reports and the view (mount, userns_create) and tasks outside the
 * sandbox (task_kill, ptrace, perf_event_open), not the lease's policy. */
#define CALYX_HOOK_KEEPS_DENYING(h) ((h) == CALYX_HOOK_BPF || (h) == CALYX_HOOK_MOUNT || \
				     (h) == CALYX_HOOK_USERNS || (h) == CALYX_HOOK_SIGNAL || \
				     (h) == CALYX_HOOK_PTRACE || (h) == CALYX_HOOK_PERF)
/* The socket hooks, whose records carry family / address fields. */
#define CALYX_HOOK_IS_SOCKET(h) (((h) >= CALYX_HOOK_SOCKET_CREATE && (h) <= CALYX_HOOK_SOCKET_SENDMSG) || \
				 (h) == CALYX_HOOK_SOCKET_BIND || (h) == CALYX_HOOK_SOCKET_RECVMSG || \
				 (h) == CALYX_HOOK_SOCKET_LISTEN)

/* CALYX_HOOK_META: which read was refused (event flags). */
enum calyx_meta_op {
	CALYX_META_GETATTR = 1,    /* stat, statx, fstat, access checks by path */
	CALYX_META_READLINK = 2,
	CALYX_META_GETXATTR = 3,
	CALYX_META_LISTXATTR = 4,
	CALYX_META_NOTIFY = 5,     /* an inotify / fanotify / dnotify mark */
};

/* CALYX_HOOK_IPC: the operation (event family). */
enum calyx_ipc_op {
	CALYX_IPC_PERMISSION = 1,  /* ipc_permission: access to an existing object */
	CALYX_IPC_MSG_ALLOC = 2,   /* msgget creating a queue */
	CALYX_IPC_MSG_ASSOC = 3,   /* msgget of an existing queue */
	CALYX_IPC_MSG_CTL = 4,
	CALYX_IPC_MSG_SND = 5,
	CALYX_IPC_MSG_RCV = 6,
	CALYX_IPC_SHM_ALLOC = 7,
	CALYX_IPC_SHM_ASSOC = 8,
	CALYX_IPC_SHM_CTL = 9,
	CALYX_IPC_SHM_AT = 10,
	CALYX_IPC_SEM_ALLOC = 11,
	CALYX_IPC_SEM_ASSOC = 12,
	CALYX_IPC_SEM_CTL = 13,
	CALYX_IPC_SEM_OP = 14,
	CALYX_IPC_MQ_OPEN = 15,    /* mq_open (an open on the mqueue file system) */
	CALYX_IPC_MQ_UNLINK = 16,
};

/* CALYX_HOOK_KEY: the operation (event family). */
enum calyx_key_op {
	CALYX_KEY_ALLOC = 1,       /* a key of any type but "keyring" (add_key, request_key) */
	CALYX_KEY_PERMISSION = 2,  /* any use of an existing key or keyring */
};

/* Socket denial records (event flags): the path is the bound path of the AF_UNIX peer the
 * kernel resolved (unix_stream_connect, unix_may_send), not the sun_path string the task
 * passed to connect/sendmsg. */
#define CALYX_SOCK_PEER_RESOLVED (1u << 31)
/* Socket denial records: addr and port hold the address the task tried (connect, send,
 * the peer of a connected socket); without it the record has none (socket creation). */
#define CALYX_SOCK_ADDR (1u << 30)

/* CALYX_HOOK_PATH_MUTATE records of the landlock audit-only observer (bpf/observe.bpf.c):
 * the path ends in the name the task gave (path_source "caller"), not all kernel-resolved. */
#define CALYX_MUT_CALLER_NAME (1u << 29)
#define CALYX_MUT_OP_MASK 0xffu

/* CALYX_HOOK_PATH_MUTATE: which operation was refused (event flags). */
enum calyx_mutate_op {
	CALYX_MUT_UNLINK = 1,
	CALYX_MUT_RMDIR = 2,
	CALYX_MUT_MKDIR = 3,
	CALYX_MUT_MKNOD = 4,       /* also O_CREAT of a new file and bind() of an AF_UNIX socket */
	CALYX_MUT_MKNOD_DEV = 5,   /* a character or block device node: refused everywhere */
	CALYX_MUT_SYMLINK = 6,
	CALYX_MUT_LINK = 7,        /* the new name */
	CALYX_MUT_LINK_SRC = 8,    /* the file being linked */
	CALYX_MUT_RENAME = 9,      /* the old name */
	CALYX_MUT_RENAME_DST = 10, /* the new name */
	CALYX_MUT_TRUNCATE = 11,
	CALYX_MUT_CHMOD = 12,
	CALYX_MUT_CHOWN = 13,
	CALYX_MUT_SETXATTR = 14,   /* refused everywhere: the hook has no mount to resolve a path */
	CALYX_MUT_REMOVEXATTR = 15,/* likewise */
	CALYX_MUT_SETFLAGS = 16,   /* FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR (chattr) */
};

/* ---- ring-buffer records ----
 * Every record is a struct calyx_event (the head: who, when, which sandbox) followed by
 * the body of its type, and each type has one constant size (two for denials: with or
 * without a path), so a flood of small records packs the buffer densely: a socket denial
 * is 96 bytes, a fork 64, where one 416-byte layout used to carry every field for every
 * type. head.size is the record's size as reserved; the consumer takes a record only when
 * that, the ring buffer's own length and the size of its type agree (user/enforce/slots.c).
 * Unused fields are zero. */
struct calyx_event {
	__u32 type;        /* calyx_event_type */
	__u32 hook;        /* calyx_hook (CALYX_HOOK_NONE for exec / fork / exit) */
	__u64 ts_ns;       /* bpf_ktime_get_ns */
	__u64 cgroup_id;   /* task's own v2 cgroup */
	__u64 sandbox_cgid;/* the sandbox cgroup the task belongs to */
	__u32 pid;         /* thread id */
	__u32 tgid;        /* process id */
	__u32 ppid;        /* parent tgid (fork: the parent; others: real_parent) */
	__u16 size;        /* bytes of the whole record (head + body) */
	__u16 wake;        /* BPF side only: whether to wake the consumer at submit; 0 when read */
	char comm[16];
};
_Static_assert(sizeof(struct calyx_event) == 64, "calyx_event layout");

/* CALYX_EV_FORK: the head alone (the child's pid / tgid / cgroup, ppid = the parent). */
struct calyx_fork_event {
	struct calyx_event ev;
};
_Static_assert(sizeof(struct calyx_fork_event) == 64, "calyx_fork_event layout");

/* CALYX_EV_DENY without a path (sockets by address, signals, ipc, keys, bpf, ...). */
struct calyx_deny_event {
	struct calyx_event ev;
	__s32 err;         /* positive errno returned (EACCES, EPERM); KILL: see calyx_kill_event */
	__u32 family;      /* socket family for network denials; the operation for others */
	__u32 flags;       /* file_open: f_mode bits (FMODE_READ=1, FMODE_WRITE=2); sock: type/protocol,
	                    * plus CALYX_SOCK_PEER_RESOLVED */
	__u16 port;        /* network byte order converted to host order */
	__u16 verdict;     /* CALYX_VERDICT_*: refused, or (audit-only) recorded and allowed */
	__u8 addr[16];     /* IPv4 in the first 4 bytes, or IPv6 */
};
#define CALYX_VERDICT_DENIED 0
#define CALYX_VERDICT_WOULD_DENY 1  /* audit-only: the operation went ahead (a KILL record:
				     * the task was not killed, d.err 0) */
_Static_assert(sizeof(struct calyx_deny_event) == 96, "calyx_deny_event layout");

/* CALYX_EV_DENY of a hook that names a path (files, exec, AF_UNIX peers). */
struct calyx_deny_path_event {
	struct calyx_deny_event d;
	char path[CALYX_PATH_MAX]; /* resolved path (or AF_UNIX sun_path); "" when unresolvable */
};
_Static_assert(sizeof(struct calyx_deny_path_event) == 96 + CALYX_PATH_MAX, "calyx_deny_path_event layout");

/* CALYX_EV_EXEC (sched_process_exec): the image now running and the argv it was started
 * with (the new image's mm->arg_start..arg_end, its first CALYX_EXEC_ARGV_SHOWN bytes). */
#define CALYX_EXEC_ARGV_SHOWN 1024
#define CALYX_EXEC_BINARY_NAME (1u << 0)    /* binary is the name given to exec (bprm->filename),
					     * the file's path could not be resolved */
#define CALYX_EXEC_ARGV_TRUNCATED (1u << 1) /* the argv is longer than what is shown */
#define CALYX_EXEC_ARGV_UNREAD (1u << 2)    /* the argv could not be read (none shown) */
struct calyx_exec_event {
	struct calyx_event ev;
	__u32 flags;       /* CALYX_EXEC_* */
	__u32 argv_len;    /* bytes of the whole argv */
	__u32 shown;       /* bytes of it in argv[] */
	__u32 pad;
	char binary[CALYX_PATH_MAX]; /* the executed file's path in the task's view, "" if neither
				      * it nor the name could be read */
	char argv[CALYX_EXEC_ARGV_SHOWN];
};
_Static_assert(sizeof(struct calyx_exec_event) == 64 + 16 + CALYX_PATH_MAX + CALYX_EXEC_ARGV_SHOWN,
	       "calyx_exec_event layout");

/* CALYX_EV_EXIT (sched_process_exit of the thread group's last thread): counters of the
 * whole thread group, each signal->X + task->X. cpu_ns is the scheduler's precise total
 * (se.sum_exec_runtime); utime_ns / stime_ns are the tick-sampled user / system times,
 * only good for splitting cpu_ns in proportion (as the kernel's own rusage does). */
struct calyx_exit_event {
	struct calyx_event ev;
	__s32 status;      /* task->exit_code: the wait status */
	__u32 pad;
	__u64 cpu_ns;
	__u64 utime_ns, stime_ns;
	__u64 maxrss_kb;   /* signal->maxrss (pages) * 4 */
	__u64 min_flt, maj_flt;
	__u64 nvcsw, nivcsw;
	__u64 read_bytes, write_bytes;   /* storage I/O (ioac.read_bytes / write_bytes) */
	__u64 rchar, wchar;              /* syscall-level I/O (ioac.rchar / wchar) */
};
_Static_assert(sizeof(struct calyx_exit_event) == 64 + 8 + 12 * 8, "calyx_exit_event layout");

/* A CALYX_EV_KILL record: the denial part, the name given to exec, then the argv the
 * image was started with (its first CALYX_ARGV_SHOWN bytes). d.err: SIGKILL when the kill
 * was sent, else the (negative) error of bpf_send_signal: the task was NOT killed, and
 * the runner kills the whole sandbox. d.flags: the image's link count. */
#define CALYX_ARGV_SHOWN 4096
#define CALYX_KILL_ARGV_TRUNCATED (1u << 0)   /* the argv is longer than what is shown */
#define CALYX_KILL_ARGV_UNREAD (1u << 1)      /* the argv could not be read (none shown) */
struct calyx_kill_event {
	struct calyx_deny_event d;
	char path[CALYX_PATH_MAX];
	__u32 argv_len;    /* bytes of the whole argv (arg_end - arg_start) */
	__u32 shown;       /* bytes of it in argv[] */
	__u32 argv_flags;  /* CALYX_KILL_ARGV_* */
	__u32 pad;
	char argv[CALYX_ARGV_SHOWN];
};
_Static_assert(sizeof(struct calyx_kill_event) == 96 + CALYX_PATH_MAX + 16 + CALYX_ARGV_SHOWN,
	       "calyx_kill_event layout");
_Static_assert(sizeof(struct calyx_kill_event) < 65536, "head.size holds every record's size");

/* Per-slot counters (a per-CPU array indexed by slot; user space sums the CPUs, except
 * CALYX_STAT_RB_PEAK, a maximum). A slot's counters are zeroed when a run claims it. */
enum calyx_stat {
	CALYX_STAT_RB_DROPPED = 0,  /* records lost: the slot's ring buffer was full or missing */
	CALYX_STAT_DENIED = 1,      /* operations refused (recorded or not) */
	CALYX_STAT_VCACHE_MISS = 2, /* file_open decided by path resolution + rules (hits are
				     * not counted: the hit path is the one kept short) */
	CALYX_STAT_KILL_FAILED = 3, /* sched_process_exec kills bpf_send_signal could not send:
				     * the runner kills the whole sandbox and fails the run */
	CALYX_STAT_RB_DROPPED_PROC = 4, /* of RB_DROPPED, the fork / exec / exit records: the
					 * rest are denial records, so records delivered and
					 * lost add up to the denials exactly */
	CALYX_STAT_FSIZE = 5,       /* SIGXFSZ the kernel raised in the sandbox: each a write or
				     * truncate refused (EFBIG) past RLIMIT_FSIZE, the fsize limit
				     * (limits.bpf.c); the runner ends the run as a violation */
	CALYX_STAT_WOULD_DENY = 6,  /* audit-only: operations recorded as would-deny and allowed
				     * (not in CALYX_STAT_DENIED) */
	CALYX_STAT_RB_PEAK = 7,     /* a maximum, not a count: the most bytes the slot's ring
				     * buffer held (records reserved, not yet consumed) when a
				     * record was reserved, on this CPU; user space takes the
				     * largest over the CPUs, not the sum */
	CALYX_STAT_MAX = 8,
};
struct calyx_stats {
	__u64 v[CALYX_STAT_MAX];
};
_Static_assert(sizeof(struct calyx_stats) == 8 * CALYX_STAT_MAX, "calyx_stats layout");

/* ---- what user space keeps in the pinned set beside the programs' maps ----
 * (the BPF programs never read these; they are part of the set's ABI all the same) */

/* The set's stamp: one entry of an array map, pinned last, so a set without one is
 * incomplete. A calyx binary uses a set only when magic, abi, backend and object (the
 * BLAKE2b-256 of the BPF object it embeds) all match its own. */
#define CALYX_STAMP_MAGIC 0x58594c43u /* "CLYX" */
#define CALYX_STAMP_VCACHE (1u << 0)  /* the verdict cache is on (kernel addresses known) */
struct calyx_stamp {
	__u32 magic;
	__u32 abi;          /* CALYX_ABI_VERSION */
	__u32 backend;      /* 1 bpf-lsm, 2 landlock */
	__u32 root_level;   /* rodata root_level */
	__u64 root_cgid;    /* rodata root_cgid */
	__u64 loaded_at;    /* CLOCK_REALTIME seconds */
	__u8 object[32];
	__u32 loader_pid;
	__u32 flags;        /* CALYX_STAMP_* */
	char version[48];   /* the calyx version that loaded it */
	char note[176];     /* what the loader had to leave out on this kernel, "" if nothing */
};
_Static_assert(sizeof(struct calyx_stamp) == 296, "calyx_stamp layout");

/* slots map (hash, slot -> owner): a run claims a free slot with BPF_NOEXIST, so
 * concurrent runs never share one; the entry goes last when the run's sandbox is removed. */
struct calyx_slot {
	__u64 cgid;         /* the sandbox cgroup's id */
	__u64 claimed_at;   /* CLOCK_REALTIME seconds */
	__u32 epoch;        /* = its calyx_sandbox.epoch */
	__u32 runner_pid;
	char cgroup[176];   /* the sandbox cgroup below the set's root cgroup ("<runner>/<sandbox>") */
};
_Static_assert(sizeof(struct calyx_slot) == 200, "calyx_slot layout");

#endif
