/* The calyx version (git describe at build time), from the generated build/version.c. */
#ifndef CALYX_BASE_VERSION_H
#define CALYX_BASE_VERSION_H

extern const char calyx_version[];

#endif
