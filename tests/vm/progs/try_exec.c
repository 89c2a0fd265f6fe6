/* try_exec PATH [ARG...]: execv(PATH, [PATH, ARG...]). On failure prints errno=NAME and
 * exits 1; on success the new image's own output shows. */
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_exec PATH [ARG...]\n");
		return 2;
	}
	fflush(stdout);
	execv(argv[1], argv + 1);
	return report_errno("execv", errno);
}
