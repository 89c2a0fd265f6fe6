/* libarchive through dlopen (rollback/archive_lib.h). */
#include "rollback/archive_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct archive_lib lib;
static const struct archive_lib *loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen(ARCHIVE_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
#define ARCHIVE_LIB_RESOLVE(name)                                                        \
	if (!(lib.name = (__typeof__(name) *)dlsym(h, #name))) {                        \
		snprintf(load_error, sizeof(load_error), "%s has no symbol %s",         \
			 ARCHIVE_LIB_SONAME, #name);                                    \
		dlclose(h);                                                             \
		return;                                                                 \
	}
	ARCHIVE_LIB_FUNCS(ARCHIVE_LIB_RESOLVE)
#undef ARCHIVE_LIB_RESOLVE
	/* never closed: the table's pointers live as long as the process */
	loaded = &lib;
}

const struct archive_lib *archive_lib_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded && err && errlen)
		snprintf(err, errlen, "rollback packs need libarchive: cannot load %s (%s); install Debian's libarchive13",
			 ARCHIVE_LIB_SONAME, load_error);
	return loaded;
}
