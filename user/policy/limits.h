/* Resource limits of a lease and of the matrix: cpu, mem, pids, wall, output, fsize. Pure. */
#ifndef CALYX_LIMITS_H
#define CALYX_LIMITS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LIMIT_FSIZE (the largest file the sandbox may write) came last and is the one limit a
 * matrix may leave out of its limit sets: absent, nothing bounds it (docs/matrix.md). */
enum limit_kind { LIMIT_CPU, LIMIT_MEM, LIMIT_PIDS, LIMIT_WALL, LIMIT_OUTPUT, LIMIT_FSIZE, LIMIT_COUNT };
/* Value in base units: ms for cpu/wall, bytes for mem/output/fsize, a count for pids. */
struct limits {
	bool set[LIMIT_COUNT];
	uint64_t v[LIMIT_COUNT];
};
/* "cpu", "mem", "pids", "wall", "output", "fsize" (CLI and matrix names) */
const char *limit_name(enum limit_kind k);
/* "cpu_ms", "mem_bytes", …, "fsize_bytes" (lease JSON names) */
const char *limit_claim_name(enum limit_kind k);
int limit_from_name(const char *name);   /* enum or -1 */
/* May a matrix limit set leave it out? (fsize only: the older sets have five keys.) */
bool limit_optional_in_matrix(enum limit_kind k);
/* Sizes (mem, output, fsize) take K/M/G suffixes; cpu and wall are durations. */
bool limit_is_size(enum limit_kind k);
bool limit_is_duration(enum limit_kind k);
/* Largest value a lease may carry: 2^53 (exact in a JSON number), pids PID_MAX_LIMIT. */
uint64_t limit_max(enum limit_kind k);
/* Parse "cpu=10s" or "cpu=10s,mem=256M" into l. Returns 0 or -EINVAL with *err naming it. */
int limits_parse_assignments(const char *s, struct limits *l, char *err, size_t errlen);
/* Shortest exact rendering in the limit's unit: "10s", "256M", "64". */
void limit_format(enum limit_kind k, uint64_t v, char *buf, size_t len);

#endif
