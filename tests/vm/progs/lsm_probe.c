/* lsm_probe OBJ: load lsm_probe.bpf.o, aim it at ourselves, and check that an open is
 * denied with EPERM while attached and allowed again once detached. Exit 0 only when BPF
 * LSM really enforces: this is the VM tier's "is BPF LSM active" gate. */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: lsm_probe OBJ\n");
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open %s failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int err = bpf_object__load(obj);
	if (err) {
		printf("load failed: %s\n", strerror(-err));
		return 1;
	}
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	__u32 key = 0, tgid = (__u32)getpid();
	if (!bss || bpf_map_update_elem(bpf_map__fd(bss), &key, &tgid, BPF_ANY) < 0) {
		printf("cannot set target_tgid: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "probe_open");
	struct bpf_link *link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		printf("attach lsm/file_open failed: %s\n", strerror(errno));
		return 1;
	}
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	int e = errno;
	if (fd >= 0) {
		printf("open was not denied while the lsm program was attached\n");
		return 1;
	}
	if (e != EPERM) {
		printf("open failed with %s, expected EPERM\n", errname(e));
		return 1;
	}
	bpf_link__destroy(link);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open still fails after detach: %s\n", errname(errno));
		return 1;
	}
	close(fd);
	bpf_object__close(obj);
	printf("ok lsm/file_open denied an open with EPERM and released it on detach\n");
	return 0;
}
