/* Landlock rulesets for the `landlock` backend. See landlock.h for the split and
 * docs/backends.md for what this backend guarantees and where it differs from bpf-lsm. */
#include "enforce/landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>
#include <linux/openat2.h>

#include "base/errmsg.h"

/* Debian 12's UAPI headers are Linux 6.1's (ABI 2): declare what they lack. Values are
 * the kernel's ABI and never change. */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)       /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)    /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)   /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)    /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)               /* ABI 6 */
#endif
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/* The ruleset attribute as of ABI 6. The kernel takes the size we pass: older kernels
 * get only the fields they know (passing a larger struct with non-zero tails is EINVAL). */
struct calyx_ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;   /* ABI 4 */
	__u64 scoped;               /* ABI 6 */
};
_Static_assert(sizeof(struct calyx_ll_ruleset_attr) == 24, "landlock_ruleset_attr ABI 6 layout");
_Static_assert(sizeof(struct landlock_path_beneath_attr) == 12, "landlock_path_beneath_attr is packed");

#define FS_ABI1 ((1ULL << 13) - 1)  /* EXECUTE .. MAKE_SYM */
/* Rights that mean something on a non-directory; the kernel refuses others on a file rule. */
#define FS_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
			LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_RO (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* rw: read, write, truncate, create and remove files, dirs, symlinks, sockets and fifos,
 * rename/link inside the granted trees (REFER: Landlock itself refuses a move that would
 * gain rights). Never MAKE_CHAR/MAKE_BLOCK (device nodes) nor IOCTL_DEV nor EXECUTE. */
#define FS_RW (FS_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	       LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	       LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | \
	       LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

struct landlock_plan {
	int abi;
	int ruleset_fd;
	uint64_t handled_fs, handled_net, scoped;
	size_t n_rules;
	size_t n_skipped;           /* patterns whose path did not exist at start */
	char first_skipped[PATHPAT_MAX + 1];
	size_t n_noncanon;          /* patterns naming a path through a symlink */
	char first_noncanon[PATHPAT_MAX + 1];
};

static int ll_create_ruleset(const struct calyx_ll_ruleset_attr *attr, size_t size, __u32 flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}
static int ll_add_rule(int fd, enum landlock_rule_type type, const void *attr, __u32 flags)
{
	return (int)syscall(__NR_landlock_add_rule, fd, type, attr, flags);
}
static int ll_restrict_self(int fd, __u32 flags)
{
	return (int)syscall(__NR_landlock_restrict_self, fd, flags);
}

int landlock_abi(void)
{
	int abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return -errno;
	return abi;
}

/* ---- pure part ---- */

static int clamp_abi(int abi)
{
	return abi > CALYX_LANDLOCK_ABI_KNOWN ? CALYX_LANDLOCK_ABI_KNOWN : abi;
}

uint64_t landlock_fs_handled(int abi)
{
	abi = clamp_abi(abi);
	if (abi < 1)
		return 0;
	uint64_t m = FS_ABI1;
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

uint64_t landlock_net_handled(int abi, enum net_policy net)
{
	/* deny_all: handle both TCP rights and add no port rule. Network allow rules: handle
	 * neither. Landlock's refusal comes first (at socket_connect / socket_bind, before
	 * the cgroup programs run) and is not recorded; the cgroup programs decide every
	 * connect, send and bind by address and port, and record each refusal with both
	 * (docs/network.md). */
	if (clamp_abi(abi) < 4 || net != NET_DENY_ALL)
		return 0;
	return LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
}

uint64_t landlock_scoped(int abi)
{
	if (clamp_abi(abi) < 6)
		return 0;
	return LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
}

uint64_t landlock_access_for(enum path_access acc, int abi, bool is_dir)
{
	uint64_t m = acc == ACCESS_RW ? FS_RW : FS_RO;
	if (!is_dir)
		m &= FS_FILE_RIGHTS;
	return m & landlock_fs_handled(abi);
}

uint64_t landlock_exec_access(int abi)
{
	return (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE) & landlock_fs_handled(abi);
}

/* The pattern's path without the trailing '/' of the directory forms ("/" stays "/"). */
static int strip_slash(const char *in, char *out, size_t len)
{
	size_t n = strlen(in);
	if (n > 1 && in[n - 1] == '/')
		n--;
	if (n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int landlock_specs(const struct path_rule *paths, size_t n, const struct exec_rule *exec,
		   size_t n_exec, int abi, struct landlock_spec *out, size_t cap,
		   char *err, size_t errlen)
{
	size_t k = 0;
	if (abi < 1)
		return errmsg(err, errlen, -EINVAL, "landlock: ABI %d is not usable", abi);
	if (n + n_exec > cap)
		return errmsg(err, errlen, -E2BIG, "landlock: %zu rules exceed the limit of %zu",
			      n + n_exec, cap);
	for (size_t i = 0; i < n_exec; i++) {
		if (exec[i].path[0] != '/')
			return errmsg(err, errlen, -EINVAL, "landlock: binary path '%s' is not absolute",
				      exec[i].path);
		out[k++] = (struct landlock_spec){
			.kind = LL_SPEC_EXEC, .path = exec[i].path,
			.file_access = landlock_exec_access(abi), .dir_access = 0,
			.ident = &exec[i],
		};
	}
	for (size_t i = 0; i < n; i++) {
		const struct pathpat *p = &paths[i].pat;
		enum path_access acc = paths[i].access;
		if (p->path[0] != '/')
			return errmsg(err, errlen, -EINVAL, "landlock: pattern path '%s' is not absolute",
				      p->path);
		struct landlock_spec s = { .path = p->path, .ident = NULL };
		switch (p->kind) {
		case PATHPAT_EXACT:
			/* A rule on a directory covers everything beneath it; an exact pattern
			 * admits only the directory itself, so grant just its listing. */
			s.kind = LL_SPEC_PATH;
			s.file_access = landlock_access_for(acc, abi, false);
			s.dir_access = LANDLOCK_ACCESS_FS_READ_DIR;
			break;
		case PATHPAT_SUBTREE:
			s.kind = LL_SPEC_PATH;
			s.file_access = landlock_access_for(acc, abi, false);
			s.dir_access = landlock_access_for(acc, abi, true);
			break;
		case PATHPAT_CHILDREN:
			/* Per-entry rules for the entries present at start: file entries get the
			 * pattern's file rights, directory entries their listing only (a rule on
			 * a directory would cover its whole subtree). Nothing on the directory
			 * itself, so no entry can be created or removed: narrower than bpf-lsm,
			 * never wider (docs/backends.md). */
			s.kind = LL_SPEC_CHILDREN;
			s.file_access = landlock_access_for(acc, abi, false);
			s.dir_access = LANDLOCK_ACCESS_FS_READ_DIR;
			break;
		default:
			return errmsg(err, errlen, -EINVAL, "landlock: unknown pattern kind %d", (int)p->kind);
		}
		out[k++] = s;
	}
	return (int)k;
}

/* ---- parent side ---- */

int landlock_elf_interp(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	int rc = 0;
	buf[0] = '\0';
	if (elf_version(EV_CURRENT) == EV_NONE)
		return errmsg(err, errlen, -EIO, "libelf: %s", elf_errmsg(-1));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		goto out;   /* not ELF (a #! script): no loader */
	size_t nph = 0;
	if (elf_getphdrnum(e, &nph) != 0) {
		rc = errmsg(err, errlen, -ENOEXEC, "%s: bad program headers: %s", path, elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz < 2 || ph.p_filesz > len) {
			rc = errmsg(err, errlen, -ENAMETOOLONG, "%s: PT_INTERP of %llu bytes", path,
				    (unsigned long long)ph.p_filesz);
			goto out;
		}
		ssize_t r = pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset);
		if (r != (ssize_t)ph.p_filesz || buf[ph.p_filesz - 1] != '\0' ||
		    strlen(buf) != ph.p_filesz - 1 || buf[0] != '/') {
			buf[0] = '\0';
			rc = errmsg(err, errlen, -ENOEXEC, "%s: malformed PT_INTERP", path);
		}
		goto out;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

/* Opens path O_PATH only if no component is a symlink. bpf-lsm decides on the resolved
 * path, so a pattern spelled through a symlink (/lib on a merged-/usr host, a link planted
 * in a writable directory) admits nothing there; Landlock must not grant the link's target
 * either. RESOLVE_NO_SYMLINKS makes the check and the open one atomic step (ELOOP). */
static int open_canonical(const char *path, int extra_flags)
{
	struct open_how how = {
		.flags = (__u64)(O_PATH | O_CLOEXEC | extra_flags),
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int add_path_rule(struct landlock_plan *p, int fd, uint64_t access, const char *what,
			 char *err, size_t errlen)
{
	if (!access)
		return 0;
	if (p->n_rules >= CALYX_LANDLOCK_MAX_RULES)
		return errmsg(err, errlen, -E2BIG, "landlock: more than %d rules (at %s)",
			      CALYX_LANDLOCK_MAX_RULES, what);
	struct landlock_path_beneath_attr a = {
		.allowed_access = access & p->handled_fs,
		.parent_fd = fd,
	};
	if (ll_add_rule(p->ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0)
		return errmsg(err, errlen, -errno, "landlock: rule on %s (access 0x%llx): %s", what,
			      (unsigned long long)a.allowed_access, strerror(errno));
	p->n_rules++;
	return 0;
}

static void note_skipped(struct landlock_plan *p, const char *path)
{
	if (!p->n_skipped++)
		snprintf(p->first_skipped, sizeof(p->first_skipped), "%s", path);
}

static void note_noncanon(struct landlock_plan *p, const char *path)
{
	if (!p->n_noncanon++)
		snprintf(p->first_noncanon, sizeof(p->first_noncanon), "%s", path);
}

/* One rule per entry of dir as it is now. Symlinks are skipped: Landlock decides on the
 * resolved object, and the target is only allowed if some rule covers it. */
static int add_children(struct landlock_plan *p, const struct landlock_spec *s,
			char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	int dfd = (int)syscall(SYS_openat2, AT_FDCWD, s->path, &how, sizeof(how));
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			note_skipped(p, s->path);
			return 0;
		}
		if (errno == ELOOP) {
			note_noncanon(p, s->path);
			return 0;
		}
		return errmsg(err, errlen, -errno, "landlock: %s: %s", s->path, strerror(errno));
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return errmsg(err, errlen, -e, "landlock: %s: %s", s->path, strerror(e));
	}
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int fd = openat(dirfd(d), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;   /* vanished since readdir: nothing to grant */
		struct stat st;
		if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
			close(fd);
			continue;
		}
		char what[PATHPAT_MAX + 258];
		snprintf(what, sizeof(what), "%s/%s", s->path, de->d_name);
		rc = add_path_rule(p, fd, S_ISDIR(st.st_mode) ? s->dir_access : s->file_access,
				   what, err, errlen);
		close(fd);
		if (rc)
			break;
		errno = 0;
	}
	if (!rc && errno)
		rc = errmsg(err, errlen, -errno, "landlock: reading %s: %s", s->path, strerror(errno));
	closedir(d);
	return rc;
}

static int add_spec(struct landlock_plan *p, const struct landlock_spec *s, char *err, size_t errlen)
{
	char path[PATHPAT_MAX + 1];
	if (strip_slash(s->path, path, sizeof(path)))
		return errmsg(err, errlen, -ENAMETOOLONG, "landlock: path too long: %s", s->path);
	if (s->kind == LL_SPEC_CHILDREN) {
		struct landlock_spec c = *s;
		c.path = path;
		return add_children(p, &c, err, errlen);
	}
	int fd = open_canonical(path, 0);
	if (fd < 0) {
		int e = -fd;
		if (s->kind == LL_SPEC_PATH && (e == ENOENT || e == ENOTDIR)) {
			note_skipped(p, path);
			return 0;
		}
		if (s->kind == LL_SPEC_PATH && e == ELOOP) {
			note_noncanon(p, path);
			return 0;
		}
		if (e == ELOOP)
			return errmsg(err, errlen, -ELOOP, "landlock: binary path %s is not canonical (symlink)", path);
		return errmsg(err, errlen, -e, "landlock: %s: %s", path, strerror(e));
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = errmsg(err, errlen, -errno, "landlock: stat %s: %s", path, strerror(errno));
	} else if (s->kind == LL_SPEC_EXEC && !S_ISREG(st.st_mode)) {
		rc = errmsg(err, errlen, -EACCES, "landlock: binary %s is not a regular file", path);
	} else if (s->ident && (st.st_dev != s->ident->dev || st.st_ino != s->ident->ino)) {
		/* Replaced between lease resolution and now: grant nothing, refuse the run. */
		rc = errmsg(err, errlen, -ESTALE, "landlock: binary %s changed since it was resolved", path);
	} else {
		rc = add_path_rule(p, fd, S_ISDIR(st.st_mode) ? s->dir_access : s->file_access,
				   path, err, errlen);
	}
	close(fd);
	return rc;
}

/* Long: builds one ruleset fd from the specs, and every failure goes through the one exit
 * that closes it. */
int landlock_prepare(const struct path_rule *paths, size_t n, const struct exec_rule *exec,
		     size_t n_exec, enum net_policy net, struct landlock_plan **out,
		     char *err, size_t errlen)
{
	*out = NULL;
	int abi = landlock_abi();
	if (abi < 0)
		return errmsg(err, errlen, abi == -ENOSYS || abi == -EOPNOTSUPP ? -ENOTSUP : abi,
			      "landlock: not available (%s)", strerror(-abi));
	if (n + 2 * n_exec > CALYX_LANDLOCK_MAX_RULES)
		return errmsg(err, errlen, -E2BIG, "landlock: too many rules");

	struct landlock_plan *p = calloc(1, sizeof(*p));
	if (p)
		p->ruleset_fd = -1;   /* never close fd 0 on an early failure */
	size_t cap = n + 2 * n_exec;
	struct landlock_spec *specs = calloc(cap ? cap : 1, sizeof(*specs));
	char (*interps)[CALYX_PATH_MAX] = calloc(n_exec ? n_exec : 1, CALYX_PATH_MAX);
	int rc = 0;
	if (!p || !specs || !interps) {
		rc = errmsg(err, errlen, -ENOMEM, "landlock: out of memory");
		goto out;
	}
	p->abi = abi;
	p->handled_fs = landlock_fs_handled(abi);
	p->handled_net = landlock_net_handled(abi, net);
	p->scoped = landlock_scoped(abi);

	int ns = landlock_specs(paths, n, exec, n_exec, abi, specs, cap, err, errlen);
	if (ns < 0) {
		rc = ns;
		goto out;
	}
	/* The kernel opens a binary's ELF interpreter for exec too (FMODE_EXEC), so it needs
	 * EXECUTE: that also lets the loader itself be exec'd as a launcher, which the BPF
	 * exec-image check kills (docs/backends.md). */
	size_t n_interp = 0;
	for (size_t i = 0; i < n_exec; i++) {
		char ip[CALYX_PATH_MAX];
		rc = landlock_elf_interp(exec[i].path, ip, sizeof(ip), err, errlen);
		if (rc)
			goto out;
		if (!ip[0])
			continue;
		/* The kernel follows links to the loader; the rule goes on the file itself, and
		 * only if the sandbox could read it anyway (bpf-lsm lets the loader's exec-open
		 * through only under a path rule): a binary naming some other file as its
		 * interpreter gains nothing. Not covered: no rule, and the exec fails. */
		char real[PATH_MAX];
		if (!realpath(ip, real) || strlen(real) >= CALYX_PATH_MAX) {
			rc = errmsg(err, errlen, -ENOENT, "landlock: ELF interpreter %s of %s not found",
				    ip, exec[i].path);
			goto out;
		}
		bool covered = false;
		for (size_t j = 0; j < n && !covered; j++)
			covered = pathpat_match(&paths[j].pat, real);
		if (!covered)
			continue;
		snprintf(ip, sizeof(ip), "%s", real);
		bool dup = false;
		for (size_t j = 0; j < n_interp && !dup; j++)
			dup = !strcmp(interps[j], ip);
		if (dup)
			continue;
		memcpy(interps[n_interp], ip, sizeof(ip));
		specs[ns++] = (struct landlock_spec){
			.kind = LL_SPEC_EXEC, .path = interps[n_interp],
			.file_access = landlock_exec_access(abi),
		};
		n_interp++;
	}

	struct calyx_ll_ruleset_attr attr = {
		.handled_access_fs = p->handled_fs,
		.handled_access_net = p->handled_net,
		.scoped = p->scoped,
	};
	size_t attr_size = abi >= 6 ? 24 : abi >= 4 ? 16 : 8;
	p->ruleset_fd = ll_create_ruleset(&attr, attr_size, 0);
	if (p->ruleset_fd < 0) {
		rc = errmsg(err, errlen, -errno, "landlock: create ruleset (ABI %d): %s", abi, strerror(errno));
		goto out;
	}
	for (int i = 0; i < ns; i++) {
		rc = add_spec(p, &specs[i], err, errlen);
		if (rc)
			goto out;
	}
out:
	free(specs);
	free(interps);
	if (rc) {
		landlock_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void landlock_plan_free(struct landlock_plan *p)
{
	if (!p)
		return;
	if (p->ruleset_fd >= 0)
		close(p->ruleset_fd);
	free(p);
}

int landlock_plan_abi(const struct landlock_plan *p) { return p ? p->abi : 0; }
size_t landlock_plan_rules(const struct landlock_plan *p) { return p ? p->n_rules : 0; }

void landlock_plan_describe(const struct landlock_plan *p, char *buf, size_t len)
{
	if (!p) {
		snprintf(buf, len, "no landlock plan");
		return;
	}
	int w = snprintf(buf, len, "Landlock ABI %d; %zu rules; fs 0x%llx net 0x%llx scoped 0x%llx",
			 p->abi, p->n_rules, (unsigned long long)p->handled_fs,
			 (unsigned long long)p->handled_net, (unsigned long long)p->scoped);
	if (p->n_skipped && w > 0 && (size_t)w < len)
		w += snprintf(buf + w, len - (size_t)w,
			      "; %zu path(s) missing at start, nothing granted there (first: %s)",
			      p->n_skipped, p->first_skipped);
	if (p->n_noncanon && w > 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w,
			 "; %zu path(s) through a symlink, nothing granted there (first: %s)",
			 p->n_noncanon, p->first_noncanon);
}

/* ---- child side ---- */

int landlock_add_in_view(const struct landlock_plan *p, const char *path, enum path_access acc)
{
	if (!p || p->ruleset_fd < 0)
		return -EINVAL;
	int fd = open_canonical(path, 0);
	if (fd == -ENOENT || fd == -ELOOP)
		return 0;   /* as landlock_prepare: nothing is granted there */
	if (fd < 0)
		return fd;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else {
		struct landlock_path_beneath_attr a = {
			.allowed_access = landlock_access_for(acc, p->abi, S_ISDIR(st.st_mode)) & p->handled_fs,
			.parent_fd = fd,
		};
		if (a.allowed_access && ll_add_rule(p->ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

int landlock_apply(const struct landlock_plan *p)
{
	if (!p || p->ruleset_fd < 0)
		return -EINVAL;
	/* Required for an unprivileged caller, and keeps setuid binaries from shedding it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (ll_restrict_self(p->ruleset_fd, 0) < 0)
		return -errno;
	close(p->ruleset_fd);   /* the child's copy only; the domain stays */
	return 0;
}
