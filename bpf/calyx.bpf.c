// SPDX-License-Identifier: GPL-2.0
/* calyx's resident program set: one object, one skeleton, two program sets.
 *
 *  - bpf-lsm backend (autoloaded only for it): exec.bpf.c, file.bpf.c, meta.bpf.c,
 *    net.bpf.c, host.bpf.c: non-sleepable lsm/ programs (bpf_d_path is allowed there for hooks in
 *    the sleepable set, and only non-sleepable programs may use the LPM trie).
 *  - landlock backend (autoloaded only for it): landlock.bpf.c.
 *  - both: argv.bpf.c (the exec image and its argv), monitor.bpf.c, limits.bpf.c (the
 *    SIGXFSZ count of the fsize limit).
 *
 * One compilation unit: the per-concern files share one set of maps and the static
 * helpers of common.bpf.h (scope, records, the verdict) and path.bpf.h (walk, matcher,
 * verdict cache). Loaded, attached and pinned once per host and backend
 * (user/enforce/resident.c); runs only add and remove map entries. */
#include "common.bpf.h"
#include "path.bpf.h"
#include "netrule.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#include "exec.bpf.c"
#include "file.bpf.c"
#include "meta.bpf.c"
#include "net.bpf.c"
#include "host.bpf.c"
#include "argv.bpf.c"
#include "monitor.bpf.c"
#include "limits.bpf.c"
#include "landlock.bpf.c"
