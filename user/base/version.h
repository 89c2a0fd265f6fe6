/* The calyx version, "0.1.0 (commit 7243d07)": the release (CALYX_VERSION in the Makefile)
 * and the commit it was built from, from the generated build/version.c. */
#ifndef CALYX_BASE_VERSION_H
#define CALYX_BASE_VERSION_H

extern const char calyx_version[];
/* The host matrix file read when no --matrix is given (SYSCONFDIR in the Makefile, where
 * make install puts the shipped matrix): "/etc/calyx/capability_matrix.yaml". */
extern const char calyx_host_matrix[];

#endif
