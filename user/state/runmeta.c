/* The shared parts of meta.json: see runmeta.h. */
#include "state/runmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "sentinel/events.h"

cJSON *runmeta_argv(char *const *argv, size_t argc)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < argc; i++) {
		_cleanup_free_ char *s = json_safe_strn(argv[i], strlen(argv[i]));
		cJSON_AddItemToArray(a, cJSON_CreateString(s ? s : ""));
	}
	return a;
}

cJSON *runmeta_head(const struct runmeta_head *h)
{
	cJSON *m = cJSON_CreateObject();
	if (!m) {
		cJSON_Delete(h->argv);
		return NULL;
	}
	cJSON_AddNumberToObject(m, "schema", 1);
	cJSON_AddStringToObject(m, "lease", h->lease);
	cJSON_AddStringToObject(m, "intent", h->intent);
	cJSON_AddNumberToObject(m, "run", h->run);
	cJSON_AddNumberToObject(m, "runs_allowed", h->runs_allowed);
	cJSON_AddItemToObject(m, "argv", h->argv ? h->argv : cJSON_CreateArray());
	cJSON_AddStringToObject(m, "binary", h->binary);
	cJSON_AddStringToObject(m, "start", h->start);
	if (h->end) {
		cJSON_AddStringToObject(m, "end", h->end);
		cJSON_AddNumberToObject(m, "duration_ms", (double)h->duration_ms);
	} else {
		cJSON_AddNullToObject(m, "end");
		cJSON_AddNullToObject(m, "duration_ms");
	}
	if (h->exited)
		cJSON_AddNumberToObject(m, "exit_code", h->exit_code);
	else
		cJSON_AddNullToObject(m, "exit_code");
	if (h->signal)
		cJSON_AddNumberToObject(m, "signal", h->signal);
	else
		cJSON_AddNullToObject(m, "signal");
	if (h->have_calyx_exit)
		cJSON_AddNumberToObject(m, "calyx_exit_code", h->calyx_exit_code);
	else
		cJSON_AddNullToObject(m, "calyx_exit_code");
	cJSON_AddStringToObject(m, "status", h->status);
	if (h->violation)
		cJSON_AddStringToObject(m, "violation", h->violation);
	else
		cJSON_AddNullToObject(m, "violation");
	return m;
}

cJSON *runmeta_artifacts(int dirfd)
{
	static const char *const files[] = { "stdout.log", "stderr.log", "events.jsonl", "exit_code.txt" };
	cJSON *art = cJSON_CreateObject();
	for (size_t i = 0; art && i < sizeof(files) / sizeof(files[0]); i++) {
		char hex[ARTIFACT_HASH_HEX + 1];
		uint64_t bytes;
		if (artifact_hash_file(dirfd, files[i], hex, &bytes) < 0)
			continue;
		cJSON *f = cJSON_AddObjectToObject(art, files[i]);
		cJSON_AddNumberToObject(f, "bytes", (double)bytes);
		cJSON_AddStringToObject(f, "blake2b", hex);
	}
	return art;
}

cJSON *runmeta_file(int dirfd, const char *name)
{
	char hex[ARTIFACT_HASH_HEX + 1];
	uint64_t bytes;
	if (artifact_hash_file(dirfd, name, hex, &bytes) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "file", name) || !cJSON_AddNumberToObject(o, "bytes", (double)bytes) ||
		  !cJSON_AddStringToObject(o, "blake2b", hex))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int runmeta_write(int dirfd, const cJSON *meta, char hash[ARTIFACT_HASH_HEX + 1], char *err,
		  size_t errlen)
{
	_cleanup_free_ char *txt = meta ? cJSON_Print(meta) : NULL;
	if (!txt)
		return errmsg(err, errlen, -ENOMEM, "meta.json: out of memory");
	size_t len = strlen(txt);
	char *withnl = realloc(txt, len + 2);
	if (!withnl)
		return errmsg(err, errlen, -ENOMEM, "meta.json: out of memory");
	txt = withnl;
	txt[len] = '\n';
	txt[len + 1] = '\0';
	int rc = artifact_write_atomic(dirfd, "meta.json", txt, len + 1, 0640, err, errlen);
	if (rc < 0)
		return rc;
	uint64_t bytes;
	rc = artifact_hash_file(dirfd, "meta.json", hash, &bytes);
	if (rc < 0)
		return errmsg(err, errlen, rc, "meta.json: hash: %s", strerror(-rc));
	return 0;
}
