/* __attribute__((cleanup)) helpers (bubblewrap/systemd style): a variable declared with
 * one of these is released when it goes out of scope, on every path out of the function,
 * so a function with many exits has one cleanup. Hand ownership on with TAKE_FD/TAKE_PTR.
 *   _cleanup_close_  int fd = -1;       close(fd) when >= 0
 *   _cleanup_fclose_ FILE *f = NULL;    fclose(f) when non-NULL
 *   _cleanup_free_   char *buf = NULL;  free(buf)
 *   _cleanup_cjson_  cJSON *j = NULL;   cJSON_Delete(j) */
#ifndef CALYX_CLEANUP_H
#define CALYX_CLEANUP_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cjson/cJSON.h>

static inline void cleanup_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void cleanup_fclose(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_free(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_cjson(cJSON **j)
{
	cJSON_Delete(*j);
}

#define _cleanup_close_ __attribute__((cleanup(cleanup_close)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclose)))
#define _cleanup_free_ __attribute__((cleanup(cleanup_free)))
#define _cleanup_cjson_ __attribute__((cleanup(cleanup_cjson)))

/* The value, leaving -1 / NULL behind: the cleanup then has nothing to release. */
static inline int take_fd(int *fd)
{
	int f = *fd;
	*fd = -1;
	return f;
}
#define TAKE_FD(fd) take_fd(&(fd))
#define TAKE_PTR(p) ({ __typeof__(p) _take_ = (p); (p) = NULL; _take_; })

#endif
