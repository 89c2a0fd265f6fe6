/* Types shared by the BPF programs (bpf/calyx.bpf.c) and user space (user/loader.c,
 * user/runner.c). Only fixed-width types with explicit padding cross the boundary; every
 * struct's size is pinned with _Static_assert so both sides agree. */
#ifndef CALYX_BPF_SHARED_H
#define CALYX_BPF_SHARED_H

#ifdef __BPF__
/* vmlinux.h already defines the __u* types */
#else
#include <linux/types.h>
#endif

#define CALYX_PATH_MAX 256        /* path buffers (events, exec rules); the kernel matcher holds
                                   * CALYX_LPM_PATH_MAX - 1 bytes: longer paths are denied */
#define CALYX_MAX_SANDBOXES 256   /* concurrent sandboxes one loaded program set serves */
#define CALYX_MAX_EXEC_RULES 4096 /* allowed binaries, all sandboxes together */
#define CALYX_MAX_PATH_RULES 8192 /* path patterns incl. baseline, all sandboxes together */
#define CALYX_RINGBUF_BYTES (1u << 22) /* 4 MiB: a burst of ~10k records before drops */

/* Access levels; a rule grants at most its level. */
enum calyx_access { CALYX_ACC_NONE = 0, CALYX_ACC_RO = 1, CALYX_ACC_RW = 2 };

/* Per-sandbox configuration, keyed by the sandbox cgroup's v2 id (inode number). */
struct calyx_sandbox {
	__u32 id;          /* small index used in rule keys */
	__u32 flags;       /* CALYX_SB_* */
};
#define CALYX_SB_NET_DENY_ALL (1u << 0)
_Static_assert(sizeof(struct calyx_sandbox) == 8, "calyx_sandbox layout");

/* Allowed executable: the file's identity (kernel dev_t encoding: major << 20 | minor). */
struct calyx_exec_key {
	__u32 sandbox;
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
};
_Static_assert(sizeof(struct calyx_exec_val) == CALYX_PATH_MAX, "calyx_exec_val layout");

/* LPM key: prefixlen counts bits of (sandbox, path bytes). Path rules are keyed per sandbox
 * by putting the sandbox id (big-endian) in front of the path. EXACT rules include the
 * terminating NUL so "/usr/bin/git" cannot prefix-match "/usr/bin/git-evil". */
/* An LPM trie holds at most 256 data bytes (key_size <= 260): 4 for the sandbox id leave
 * 252 for the path including its NUL. Longer paths are denied (file_open, exec), never
 * matched truncated; longer patterns are refused when the sandbox is added. */
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

enum calyx_event_type {
	CALYX_EV_DENY = 1,   /* an LSM / cgroup hook refused something */
	CALYX_EV_EXEC = 2,   /* sched_process_exec */
	CALYX_EV_EXIT = 3,   /* sched_process_exit (thread-group leader's last thread) */
	CALYX_EV_FORK = 4,   /* sched_process_fork */
	CALYX_EV_KILL = 5,   /* landlock backend: exec of a non-lease image killed with SIGKILL */
};
enum calyx_hook {
	CALYX_HOOK_NONE = 0,
	CALYX_HOOK_EXEC = 1,          /* bprm_check_security */
	CALYX_HOOK_FILE_OPEN = 2,     /* file_open */
	CALYX_HOOK_SOCKET_CREATE = 3,
	CALYX_HOOK_SOCKET_CONNECT = 4,
	CALYX_HOOK_SOCKET_SENDMSG = 5,
	CALYX_HOOK_BPF = 6,
	CALYX_HOOK_EXEC_IMAGE = 7,    /* sched_process_exec kill (landlock backend) */
	CALYX_HOOK_SYSCALL_EXIT = 8,  /* EACCES/EPERM seen at syscall exit (landlock denials) */
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
};

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

/* One ring buffer record. Fixed layout; unused fields are zero. */
struct calyx_event {
	__u32 type;        /* calyx_event_type */
	__u32 hook;        /* calyx_hook */
	__u64 ts_ns;       /* bpf_ktime_get_ns */
	__u64 cgroup_id;   /* task's own v2 cgroup */
	__u64 sandbox_cgid;/* the sandbox cgroup the task belongs to */
	__u32 pid;         /* thread id */
	__u32 tgid;        /* process id */
	__u32 ppid;        /* parent tgid (fork: the parent; others: real_parent) */
	__s32 err;         /* DENY: positive errno returned (EACCES, EPERM); EXIT: exit_code (wait status) */
	__u32 family;      /* socket family for network denials, syscall nr for SYSCALL_EXIT */
	__u32 flags;       /* file_open: f_mode bits (FMODE_READ=1, FMODE_WRITE=2); sock: type/protocol */
	__u16 port;        /* network byte order converted to host order */
	__u16 pad0;
	__u32 pad1;
	__u8 addr[16];     /* IPv4 in the first 4 bytes, or IPv6 */
	/* EXIT only: resource counters of the whole thread group (signal->X + task->X) */
	__u64 cpu_ns;      /* se.sum_exec_runtime */
	__u64 maxrss_kb;
	__u64 min_flt, maj_flt, nvcsw, nivcsw;
	__u64 read_bytes, write_bytes;
	char comm[16];
	char path[CALYX_PATH_MAX]; /* exec/deny: resolved path (or AF_UNIX sun_path); "" when unresolvable */
};
_Static_assert(sizeof(struct calyx_event) == 416, "calyx_event layout");

/* Index into the per-CPU counters map. */
enum calyx_stat { CALYX_STAT_RB_DROPPED = 0, CALYX_STAT_DENIED = 1, CALYX_STAT_MAX = 4 };

#endif
