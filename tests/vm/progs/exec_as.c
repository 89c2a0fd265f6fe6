/* exec_as ARGV0 PATH [ARG...]: execv(PATH, [ARGV0, ARG...]): the name a program is started
 * under is the caller's choice, so an argv check must compare argv[0] too. On failure
 * prints errno=NAME and exits 1; on success the new image's own output shows. */
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: exec_as ARGV0 PATH [ARG...]\n");
		return 2;
	}
	char *path = argv[2];
	argv[2] = argv[1];
	fflush(stdout);
	execv(path, argv + 2);
	return report_errno("execv", errno);
}
