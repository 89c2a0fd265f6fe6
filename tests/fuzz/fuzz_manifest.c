/* links: rollback/manifest base/errmsg */
/* libFuzzer target for the rollback manifest reader (what `calyx rollback` parses before it
 * touches anything): any byte string must either parse into a manifest whose every entry
 * is canonical, inside a root and below a directory entry, or fail with a message, never
 * crash, hang or leak; what parsed must write out and parse back to the same entries. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollback/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	if (!j)
		return 0;
	struct rb_manifest m, back;
	err[0] = '\0';
	int r = rb_manifest_from_json(j, &m, err, sizeof err);
	cJSON_Delete(j);
	if (r) {
		if ((r != -EINVAL && r != -ENOMEM && r != -ENOSPC) || !err[0])
			abort();
		rb_manifest_free(&m);
		return 0;
	}
	for (size_t i = 0; i < m.n; i++)
		if (!rb_path_canonical(m.e[i].path) || !rb_manifest_root_of(&m, m.e[i].path) ||
		    (i && strcmp(m.e[i - 1].path, m.e[i].path) >= 0))
			abort();
	cJSON *out = rb_manifest_to_json(&m);
	if (!out || rb_manifest_from_json(out, &back, err, sizeof err) != 0 || back.n != m.n)
		abort();
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(m.e[i].path, back.e[i].path) || rb_entry_differs(&m.e[i], &back.e[i], true))
			abort();
	cJSON_Delete(out);
	rb_manifest_free(&back);
	rb_manifest_free(&m);
	return 0;
}
