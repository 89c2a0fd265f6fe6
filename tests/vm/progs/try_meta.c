/* try_meta OP ARGS: a root command changing a file's metadata, the changes Landlock does
 * not mediate (so calyx refuses root on that backend) and bpf-lsm refuses outside :rw
 * (path_chmod, path_chown, inode_setxattr, inode_removexattr). Prints "ok OP" or
 * errno=NAME, like the other probes.
 *   chmod OCTAL PATH          chmod(2), e.g. 4755 for the setuid bit
 *   fchmod OCTAL PATH         fchmod(2) on an O_PATH-less O_RDONLY descriptor
 *   chown UID GID PATH        chown(2)
 *   lchown UID GID PATH       lchown(2) (the link itself)
 *   acl UID PATH              setxattr system.posix_acl_access: UID gets rwx
 *   setcap PATH               setxattr security.capability: the file gains cap_setuid
 *   setxattr NAME VALUE PATH  setxattr(2) with a text value (user.*, trusted.*)
 *   removexattr NAME PATH     removexattr(2)
 *   getxattr NAME PATH        prints "ok getxattr LEN" (to check a value from outside) */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "common.h"

/* The kernel's own ACL layout (uapi posix_acl_xattr.h): what setfacl writes. */
static int set_acl(const char *uid_s, const char *path)
{
	struct {
		struct posix_acl_xattr_header h;
		struct posix_acl_xattr_entry e[5];
	} acl = {
		.h = { .a_version = POSIX_ACL_XATTR_VERSION },
		.e = {
			{ .e_tag = ACL_USER_OBJ, .e_perm = 7, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_USER, .e_perm = 7, .e_id = (__u32)strtoul(uid_s, NULL, 10) },
			{ .e_tag = ACL_GROUP_OBJ, .e_perm = 5, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_MASK, .e_perm = 7, .e_id = ACL_UNDEFINED_ID },
			{ .e_tag = ACL_OTHER, .e_perm = 5, .e_id = ACL_UNDEFINED_ID },
		},
	};
	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0);
}

/* A file capability (VFS_CAP_REVISION_2) granting cap_setuid permitted + effective. */
static int set_cap(const char *path)
{
	struct vfs_cap_data cap = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };
	cap.data[0].permitted = 1u << CAP_SETUID;
	return setxattr(path, "security.capability", &cap, XATTR_CAPS_SZ_2, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: try_meta OP ARGS... PATH\n");
		return 2;
	}
	const char *op = argv[1];
	int r;
	if (!strcmp(op, "chmod") && argc == 4)
		r = chmod(argv[3], (mode_t)strtoul(argv[2], NULL, 8));
	else if (!strcmp(op, "fchmod") && argc == 4) {
		int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open", errno);
		r = fchmod(fd, (mode_t)strtoul(argv[2], NULL, 8));
	} else if (!strcmp(op, "chown") && argc == 5)
		r = chown(argv[4], (uid_t)strtoul(argv[2], NULL, 10), (gid_t)strtoul(argv[3], NULL, 10));
	else if (!strcmp(op, "lchown") && argc == 5)
		r = lchown(argv[4], (uid_t)strtoul(argv[2], NULL, 10), (gid_t)strtoul(argv[3], NULL, 10));
	else if (!strcmp(op, "acl") && argc == 4)
		r = set_acl(argv[2], argv[3]);
	else if (!strcmp(op, "setcap") && argc == 3)
		r = set_cap(argv[2]);
	else if (!strcmp(op, "setxattr") && argc == 5)
		r = setxattr(argv[4], argv[2], argv[3], strlen(argv[3]), 0);
	else if (!strcmp(op, "removexattr") && argc == 4)
		r = removexattr(argv[3], argv[2]);
	else if (!strcmp(op, "getxattr") && argc == 4) {
		char v[256];
		ssize_t n = getxattr(argv[3], argv[2], v, sizeof(v));
		if (n < 0)
			return report_errno(op, errno);
		printf("ok getxattr %zd\n", n);
		return 0;
	} else {
		fprintf(stderr, "try_meta: unknown op or wrong arguments: %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %s\n", op);
	return 0;
}
