/* The enforcement backends: what --enforce and the matrix's `enforcement` name, and what
 * the enforcer loads (docs/backends.md). */
#ifndef CALYX_BACKEND_H
#define CALYX_BACKEND_H

enum enforce_backend { ENFORCE_AUTO = 0, ENFORCE_BPF_LSM = 1, ENFORCE_LANDLOCK = 2 };
const char *enforce_backend_name(enum enforce_backend b);  /* "auto", "bpf-lsm", "landlock" */
int enforce_backend_from_name(const char *s);                /* enum or -1 */

#endif
