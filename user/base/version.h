/* The calyx version, "0.1.0 (commit 7243d07)": the release (CALYX_VERSION in the Makefile)
 * and the commit it was built from, from the generated build/version.c. */
#ifndef CALYX_BASE_VERSION_H
#define CALYX_BASE_VERSION_H

extern const char calyx_version[];

#endif
