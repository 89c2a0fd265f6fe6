/* try_ipc OP [ARGS]: SysV IPC, POSIX message queues and keyrings (bpf/host.bpf.c,
 * bpf/file.bpf.c), each printing "ok OP ..." or errno=NAME.
 *   shm-create KEY | msg-create KEY | sem-create KEY
 *                      make a world-accessible object with that key (the host side of
 *                      the test); prints "ok OP ID"
 *   shm-new | msg-new | sem-new    make a private object (IPC_PRIVATE)
 *   shm-get KEY        shmget an existing segment, then shmat and read it
 *   shm-at ID          shmat by id (no key look-up)
 *   msg-get KEY        msgget an existing queue, then msgsnd to it
 *   sem-get KEY        semget an existing set, then semop on it
 *   mq-create NAME     mq_open(O_CREAT) (host side); mq-open NAME: open an existing one;
 *   mq-new NAME        create one; mq-unlink NAME
 *   key-create DESC DATA   add a "user" key to the user keyring (host side); prints its id
 *   key-read ID        keyctl(KEYCTL_READ)
 *   key-search DESC    keyctl(KEYCTL_SEARCH) in the user keyring
 *   key-add DESC       add_key "user" into the session keyring
 *   key-session        keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new empty keyring */
#include <fcntl.h>
#include <linux/keyctl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

static long keyctl(int cmd, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	return syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_ipc OP [ARGS]\n");
		return 2;
	}
	const char *op = argv[1], *a = argc > 2 ? argv[2] : "";
	key_t key = (key_t)strtol(a, NULL, 0);
	long r;
	if (!strcmp(op, "shm-create") || !strcmp(op, "shm-new")) {
		r = shmget(op[4] == 'c' ? key : IPC_PRIVATE, 4096, IPC_CREAT | IPC_EXCL | 0666);
		if (r < 0)
			return report_errno(op, errno);
		if (op[4] == 'c') {
			char *p = shmat((int)r, NULL, 0);
			if (p == (void *)-1)
				return report_errno("shmat", errno);
			strcpy(p, "host-secret");
		}
	} else if (!strcmp(op, "msg-create") || !strcmp(op, "msg-new")) {
		r = msgget(op[4] == 'c' ? key : IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0666);
	} else if (!strcmp(op, "sem-create") || !strcmp(op, "sem-new")) {
		r = semget(op[4] == 'c' ? key : IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0666);
	} else if (!strcmp(op, "shm-get") || !strcmp(op, "shm-at")) {
		int id = op[4] == 'g' ? shmget(key, 0, 0) : atoi(a);
		if (id < 0)
			return report_errno("shmget", errno);
		char *p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			return report_errno("shmat", errno);
		printf("ok %s read '%.16s'\n", op, p);
		return 0;
	} else if (!strcmp(op, "msg-get")) {
		int id = msgget(key, 0);
		if (id < 0)
			return report_errno("msgget", errno);
		struct { long type; char text[8]; } m = { 1, "x" };
		r = msgsnd(id, &m, sizeof(m.text), IPC_NOWAIT);
	} else if (!strcmp(op, "sem-get")) {
		int id = semget(key, 0, 0);
		if (id < 0)
			return report_errno("semget", errno);
		struct sembuf sb = { 0, 1, IPC_NOWAIT };
		r = semop(id, &sb, 1);
	} else if (!strcmp(op, "mq-create") || !strcmp(op, "mq-new") || !strcmp(op, "mq-open")) {
		struct mq_attr at = { .mq_maxmsg = 4, .mq_msgsize = 64 };
		int fl = O_RDWR | (op[3] == 'o' ? 0 : O_CREAT | O_EXCL);
		mqd_t q = mq_open(a, fl, 0666, op[3] == 'o' ? NULL : &at);
		if (q == (mqd_t)-1)
			return report_errno(op, errno);
		r = 0;
	} else if (!strcmp(op, "mq-unlink")) {
		r = mq_unlink(a);
	} else if (!strcmp(op, "key-create") && argc > 3) {
		r = syscall(SYS_add_key, "user", a, argv[3], strlen(argv[3]), KEY_SPEC_USER_KEYRING);
	} else if (!strcmp(op, "key-read")) {
		char buf[64] = "";
		r = keyctl(KEYCTL_READ, strtoul(a, NULL, 0), (unsigned long)buf, sizeof(buf) - 1, 0);
		if (r >= 0) {
			printf("ok key-read '%s'\n", buf);
			return 0;
		}
	} else if (!strcmp(op, "key-search")) {
		r = keyctl(KEYCTL_SEARCH, (unsigned long)KEY_SPEC_USER_KEYRING, (unsigned long)"user",
			   (unsigned long)a, 0);
	} else if (!strcmp(op, "key-add")) {
		r = syscall(SYS_add_key, "user", a, "planted", 7, KEY_SPEC_SESSION_KEYRING);
	} else if (!strcmp(op, "key-session")) {
		r = keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0);
	} else {
		fprintf(stderr, "try_ipc: unknown op %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %s %ld\n", op, r);
	return 0;
}
