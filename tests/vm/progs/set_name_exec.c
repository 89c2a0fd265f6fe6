/* set_name_exec NAME PATH [ARG...]: prctl(PR_SET_NAME, NAME) then execv(PATH): a comm
 * that looks like a trusted tool must change nothing. Also reports whether the rename
 * itself took (it should: it is harmless) before the exec. */
#include <sys/prctl.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: set_name_exec NAME PATH [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) < 0)
		return report_errno("prctl", errno);
	char comm[17] = "";
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	printf("comm=%s\n", comm);
	fflush(stdout);
	execv(argv[2], argv + 2);
	return report_errno("execv", errno);
}
