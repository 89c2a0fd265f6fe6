/* links: base/shebang base/fileio */
/* #! lines parsed the way fs/binfmt_script.c does: the argv calyx binds for a script
 * command is only right if the interpreter and its optional argument are what the kernel
 * will take from the same bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/shebang.h"

static int parse(const char *s, struct shebang *sb)
{
	return shebang_parse(s, strlen(s), sb);
}

static void test_plain(void **state)
{
	(void)state;
	struct shebang sb;
	assert_int_equal(parse("#!/bin/sh\necho hi\n", &sb), 1);
	assert_string_equal(sb.interp, "/bin/sh");
	assert_false(sb.has_arg);
	assert_int_equal(parse("#! \t/usr/bin/python3  \t\nprint(1)\n", &sb), 1);
	assert_string_equal(sb.interp, "/usr/bin/python3");
	assert_false(sb.has_arg);   /* trailing blanks are no argument */
	assert_int_equal(parse("#!/bin/sh", &sb), 1);   /* no newline, file ends: the NUL ends it */
	assert_string_equal(sb.interp, "/bin/sh");
	assert_false(sb.has_arg);
}

static void test_optional_arg(void **state)
{
	(void)state;
	struct shebang sb;
	/* Everything after the name, trailing blanks cut, is ONE argument. */
	assert_int_equal(parse("#!/usr/bin/env -S python3 -u  \nx\n", &sb), 1);
	assert_string_equal(sb.interp, "/usr/bin/env");
	assert_true(sb.has_arg);
	assert_string_equal(sb.arg, "-S python3 -u");
	assert_int_equal(parse("#!/usr/local/bin/hello --tool\n", &sb), 1);
	assert_string_equal(sb.arg, "--tool");
	/* A NUL ends the name (no argument) or the argument, as for the kernel. */
	assert_int_equal(shebang_parse("#!/bin/sh\0 -x\n", 14, &sb), 1);
	assert_string_equal(sb.interp, "/bin/sh");
	assert_false(sb.has_arg);
	assert_int_equal(shebang_parse("#!/bin/sh -x\0y\n", 15, &sb), 1);
	assert_string_equal(sb.arg, "-x");
}

static void test_not_a_script(void **state)
{
	(void)state;
	struct shebang sb;
	assert_int_equal(parse("\x7f" "ELF", &sb), 0);
	assert_int_equal(parse("# !/bin/sh\n", &sb), 0);
	assert_int_equal(parse("", &sb), 0);
}

static void test_refused_like_the_kernel(void **state)
{
	(void)state;
	struct shebang sb;
	assert_int_equal(parse("#!\n", &sb), -ENOEXEC);       /* no interpreter */
	assert_int_equal(parse("#!   \t \n", &sb), -ENOEXEC);
	/* A name running past the 256-byte buffer without a newline would be cut: refused. */
	char buf[400];
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "#!/", 3);
	assert_int_equal(shebang_parse(buf, sizeof(buf), &sb), -ENOEXEC);
	/* ... but a name that ends within it, the rest of the line cut: the kernel takes it. */
	memcpy(buf, "#!/bin/sh -", 11);
	assert_int_equal(shebang_parse(buf, sizeof(buf), &sb), 1);
	assert_string_equal(sb.interp, "/bin/sh");
	assert_true(sb.has_arg);
	assert_int_equal(strlen(sb.arg), SHEBANG_BUF - 1 - 10);   /* buf[10..254]: "-" and x's */
}

/* "#!/usr/bin/env PROG": the program env goes on to exec, only when it is one word. */
static void test_env_program(void **state)
{
	(void)state;
	struct shebang sb;
	assert_int_equal(parse("#!/usr/bin/env python3\n", &sb), 1);
	assert_string_equal(shebang_env_program(&sb), "python3");
	assert_int_equal(parse("#!/bin/env /opt/py/bin/python3\n", &sb), 1);
	assert_string_equal(shebang_env_program(&sb), "/opt/py/bin/python3");
	assert_int_equal(parse("#!/usr/bin/env\n", &sb), 1);
	assert_null(shebang_env_program(&sb));            /* env alone: prints the environment */
	assert_int_equal(parse("#!/usr/bin/env -S python3 -u\n", &sb), 1);
	assert_null(shebang_env_program(&sb));            /* an option: not one program */
	assert_int_equal(parse("#!/usr/bin/env python3 -u\n", &sb), 1);
	assert_null(shebang_env_program(&sb));            /* one word "python3 -u" to env */
	assert_int_equal(parse("#!/usr/bin/env A=1\n", &sb), 1);
	assert_null(shebang_env_program(&sb));            /* an assignment */
	assert_int_equal(parse("#!/usr/bin/python3 -u\n", &sb), 1);
	assert_null(shebang_env_program(&sb));            /* not env */
	assert_int_equal(parse("#!/usr/bin/envy python3\n", &sb), 1);
	assert_null(shebang_env_program(&sb));
}

static void test_read(void **state)
{
	(void)state;
	char path[] = "/tmp/calyx-shebang-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "#!/usr/bin/python3 -I\nprint(1)\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	struct shebang sb;
	assert_int_equal(shebang_read(path, &sb), 1);
	assert_string_equal(sb.interp, "/usr/bin/python3");
	assert_string_equal(sb.arg, "-I");
	unlink(path);
	assert_int_equal(shebang_read(path, &sb), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_optional_arg),
		cmocka_unit_test(test_not_a_script),
		cmocka_unit_test(test_refused_like_the_kernel),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_env_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
