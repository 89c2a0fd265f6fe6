/* Limits: names, bounds, the CLI's NAME=VALUE form and how they are shown (see limits.h). */
#include "policy/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/units.h"

/* Largest integer a JSON number (a double to most parsers) holds exactly. */
#define LIMIT_JSON_MAX (UINT64_C(1) << 53)
/* The kernel's PID_MAX_LIMIT: more tasks than this can never exist. */
#define LIMIT_PIDS_MAX UINT64_C(4194304)

static const char *const limit_names[LIMIT_COUNT] = { "cpu", "mem", "pids", "wall", "output",
						      "fsize" };
static const char *const limit_claims[LIMIT_COUNT] = { "cpu_ms", "mem_bytes", "pids", "wall_ms",
						       "output_bytes", "fsize_bytes" };

const char *limit_name(enum limit_kind k)
{
	return (unsigned)k < LIMIT_COUNT ? limit_names[k] : "?";
}

const char *limit_claim_name(enum limit_kind k)
{
	return (unsigned)k < LIMIT_COUNT ? limit_claims[k] : "?";
}

int limit_from_name(const char *name)
{
	for (int k = 0; name && k < LIMIT_COUNT; k++)
		if (strcmp(name, limit_names[k]) == 0)
			return k;
	return -1;
}

bool limit_optional_in_matrix(enum limit_kind k)
{
	return k == LIMIT_FSIZE;
}

bool limit_is_size(enum limit_kind k)
{
	return k == LIMIT_MEM || k == LIMIT_OUTPUT || k == LIMIT_FSIZE;
}

bool limit_is_duration(enum limit_kind k)
{
	return k == LIMIT_CPU || k == LIMIT_WALL;
}

uint64_t limit_max(enum limit_kind k)
{
	return k == LIMIT_PIDS ? LIMIT_PIDS_MAX : LIMIT_JSON_MAX;
}

void limit_format(enum limit_kind k, uint64_t v, char *buf, size_t len)
{
	if (limit_is_duration(k))
		units_format_duration(v, buf, len);
	else if (limit_is_size(k))
		units_format_size(v, buf, len);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

int limits_parse_assignments(const char *s, struct limits *l, char *err, size_t errlen)
{
	if (!s || !*s)
		return errmsg(err, errlen, -EINVAL, "limits: empty (expected e.g. cpu=10s,mem=256M)");
	char *copy = strdup(s);
	if (!copy)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	/* Work on a copy so a refused string leaves l untouched. */
	struct limits tmp = *l;
	int rc = 0;
	char *save = NULL;
	size_t n = strlen(copy);
	if (copy[0] == ',' || copy[n - 1] == ',' || strstr(copy, ",,")) {
		rc = errmsg(err, errlen, -EINVAL, "limits '%s': empty assignment", s);
		goto out;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1]) {
			rc = errmsg(err, errlen, -EINVAL, "limit '%s': expected NAME=VALUE", tok);
			goto out;
		}
		*eq = '\0';
		const char *val = eq + 1;
		int k = limit_from_name(tok);
		if (k < 0) {
			rc = errmsg(err, errlen, -EINVAL,
				    "limit '%s': unknown (cpu, mem, pids, wall, output, fsize)", tok);
			goto out;
		}
		if (tmp.set[k]) {
			rc = errmsg(err, errlen, -EINVAL, "limit '%s': given more than once", tok);
			goto out;
		}
		uint64_t v = 0;
		int r;
		if (limit_is_duration((enum limit_kind)k)) {
			r = units_parse_duration_ms(val, &v);
			if (r) {
				rc = errmsg(err, errlen, -EINVAL,
					    "limit '%s': bad duration '%s' (e.g. 500ms, 10s, 5m)", tok, val);
				goto out;
			}
		} else if (limit_is_size((enum limit_kind)k)) {
			r = units_parse_size(val, &v);
			if (r) {
				rc = errmsg(err, errlen, -EINVAL,
					    "limit '%s': bad size '%s' (e.g. 4096, 16K, 256M, 1G)", tok, val);
				goto out;
			}
		} else if (units_parse_u64(val, &v) < 0) {
			rc = errmsg(err, errlen, -EINVAL, "limit '%s': bad count '%s'", tok, val);
			goto out;
		}
		if (v == 0) {
			rc = errmsg(err, errlen, -EINVAL, "limit '%s': must be greater than zero", tok);
			goto out;
		}
		if (v > limit_max(k)) {
			rc = errmsg(err, errlen, -EINVAL, "limit '%s': '%s' is too large", tok, val);
			goto out;
		}
		tmp.set[k] = true;
		tmp.v[k] = v;
	}
	*l = tmp;
out:
	free(copy);
	return rc;
}
