/* bpf_objects: what the tests need to see of the kernel's BPF objects without calyx.
 *   bpf_objects count            "progs N links M": every program and link on the host
 *                                (BPF_PROG/LINK_GET_NEXT_ID), to prove a run loaded none
 *   bpf_objects age-stamp PATH   rewrite a resident set's pinned stamp as if an older
 *                                build had loaded it (another object hash and version)
 * Exit 0 on success, 1 on failure (with the reason on stdout). */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "calyx.h"

static unsigned count_ids(int (*next)(__u32, __u32 *))
{
	unsigned n = 0;
	__u32 id = 0;
	while (next(id, &id) == 0)
		n++;
	return n;
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
	if (argc == 3 && !strcmp(argv[1], "age-stamp"))
		return age_stamp(argv[2]);
	fprintf(stderr, "usage: bpf_objects count | age-stamp PATH\n");
	return 2;
}
