/* bpf_objects: what the tests need to see of the kernel's BPF objects without calyx.
 *   bpf_objects count            "progs N links M": every program and link on the host
 *                                (BPF_PROG/LINK_GET_NEXT_ID), to prove a run loaded none
 *   bpf_objects next-prog-id     "prog P": the id the kernel gives a program loaded now
 *                                (a two-instruction socket filter is loaded, its id read,
 *                                and unloaded). Program ids are handed out in increasing
 *                                order, so two of these around an action differ by exactly
 *                                1 iff no program was loaded in between, not even one
 *                                that was unloaded again (the highest live id misses that)
 *   bpf_objects age-stamp PATH   rewrite a resident set's pinned stamp as if an older
 *                                build had loaded it (another object hash and version)
 * Exit 0 on success, 1 on failure (with the reason on stdout). */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "calyx.h"

static unsigned count_ids(int (*next)(__u32, __u32 *))
{
	unsigned n = 0;
	__u32 id = 0;
	while (next(id, &id) == 0)
		n++;
	return n;
}

/* The raw syscall, not bpf_prog_load(): libbpf loads a feature probe program of its own
 * before the first load of a process, which would take an id too. */
static int next_prog_id(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (__u64)(unsigned long)"GPL";
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0) {
		printf("loading the probe program: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (__u32)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	int rc = (int)syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
	if (rc < 0)
		printf("reading the probe program's id: %s\n", strerror(errno));
	else
		printf("prog %u\n", info.id);
	close(fd);
	return rc < 0;
}

static int age_stamp(const char *path)
{
	int fd = bpf_obj_get(path);
	if (fd < 0) {
		printf("%s: %s\n", path, strerror(errno));
		return 1;
	}
	struct calyx_stamp st;
	__u32 zero = 0;
	if (bpf_map_lookup_elem(fd, &zero, &st) < 0) {
		printf("reading %s: %s\n", path, strerror(errno));
		return 1;
	}
	st.object[0] ^= 0xff;
	snprintf(st.version, sizeof(st.version), "older-build");
	if (bpf_map_update_elem(fd, &zero, &st, BPF_EXIST) < 0) {
		printf("writing %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "count")) {
		printf("progs %u links %u\n", count_ids(bpf_prog_get_next_id), count_ids(bpf_link_get_next_id));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "next-prog-id"))
		return next_prog_id();
	if (argc == 3 && !strcmp(argv[1], "age-stamp"))
		return age_stamp(argv[2]);
	fprintf(stderr, "usage: bpf_objects count | next-prog-id | age-stamp PATH\n");
	return 2;
}
