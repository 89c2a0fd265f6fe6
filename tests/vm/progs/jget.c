/* jget [-l] FILE FIELD...: print JSON fields for shell tests (cJSON, no hand parsing).
 * FIELD is a dotted path ("denials.exec", "argv.0", "artifacts.stdout.log": an object key
 * containing dots is matched whole, longest first); "#FIELD" prints the number of
 * elements of an array or object. Strings print raw, numbers as integers when integral,
 * objects and arrays as compact JSON. Several fields print tab-separated.
 * Without -l FILE is one JSON document and a missing field is an error (exit 1); with -l
 * FILE is JSON Lines, one output line per record, a missing field printed as "-".
 * A line that is not valid JSON is an error (exit 3) in both modes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *lookup(const cJSON *j, const char *path)
{
	while (j && *path) {
		if (cJSON_IsArray(j)) {
			char *end;
			long i = strtol(path, &end, 10);
			if (end == path || (*end && *end != '.'))
				return NULL;
			j = cJSON_GetArrayItem(j, (int)i);
			path = *end ? end + 1 : end;
			continue;
		}
		if (!cJSON_IsObject(j))
			return NULL;
		const cJSON *best = NULL, *c;
		size_t bestlen = 0;
		cJSON_ArrayForEach(c, j) {
			size_t kl = strlen(c->string);
			if (strncmp(path, c->string, kl) == 0 && (path[kl] == 0 || path[kl] == '.') &&
			    kl >= bestlen) {
				best = c;
				bestlen = kl;
			}
		}
		if (!best)
			return NULL;
		j = best;
		path += bestlen;
		if (*path == '.')
			path++;
	}
	return j;
}

static int print_field(const cJSON *doc, const char *field)
{
	int count = field[0] == '#';
	const cJSON *v = lookup(doc, field + count);
	if (!v)
		return -1;
	if (count) {
		printf("%d", cJSON_GetArraySize(v));
	} else if (cJSON_IsString(v)) {
		fputs(v->valuestring, stdout);
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 9e15)
			printf("%lld", (long long)d);
		else
			printf("%.17g", d);
	} else {
		char *s = cJSON_PrintUnformatted(v);
		fputs(s ? s : "?", stdout);
		free(s);
	}
	return 0;
}

static int print_fields(const cJSON *doc, char **fields, int n, int lines)
{
	for (int i = 0; i < n; i++) {
		if (i)
			putchar('\t');
		if (print_field(doc, fields[i]) < 0) {
			if (!lines) {
				putchar('\n');
				fprintf(stderr, "jget: no field '%s'\n", fields[i]);
				return 1;
			}
			putchar('-');
		}
	}
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	int lines = argc > 1 && strcmp(argv[1], "-l") == 0;
	int a = 1 + lines;
	if (argc - a < 2) {
		fprintf(stderr, "usage: jget [-l] FILE FIELD...\n");
		return 2;
	}
	FILE *f = strcmp(argv[a], "-") == 0 ? stdin : fopen(argv[a], "re");
	if (!f) {
		fprintf(stderr, "jget: %s: %s\n", argv[a], strerror(errno));
		return 2;
	}
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	if (lines) {
		ssize_t n;
		long lineno = 0;
		while ((n = getline(&buf, &cap, f)) >= 0) {
			lineno++;
			if (n == 0 || buf[0] == '\n')
				continue;
			cJSON *doc = cJSON_ParseWithLength(buf, (size_t)n);
			if (!doc) {
				fprintf(stderr, "jget: %s:%ld: invalid JSON\n", argv[a], lineno);
				return 3;
			}
			print_fields(doc, argv + a + 1, argc - a - 1, 1);
			cJSON_Delete(doc);
		}
	} else {
		size_t len = 0;
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			buf = realloc(buf, len + n + 1);
			memcpy(buf + len, chunk, n);
			len += n;
		}
		cJSON *doc = buf ? cJSON_ParseWithLength(buf, len) : NULL;
		if (!doc) {
			fprintf(stderr, "jget: %s: invalid JSON\n", argv[a]);
			return 3;
		}
		rc = print_fields(doc, argv + a + 1, argc - a - 1, 0);
		cJSON_Delete(doc);
	}
	free(buf);
	return rc;
}
