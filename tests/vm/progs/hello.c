/* Payload for exec tests: its output proves that it ran. Copies of it stand in for
 * /usr/bin/git, /usr/bin/git-evil and friends (distinct inodes, distinct names). */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("HELLO-RAN argv0=%s", argv[0]);
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	return 0;
}
