/* The environment of the sandboxed command (docs/run.md "The sandbox"). */
#include "run/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PATH, HOME, LANG, TZ, then the lease's env names that are set in our environment. */
char **run_env_build(const struct lease *l)
{
	size_t n = 4 + l->n_env + 1, k = 0;
	char **env = calloc(n, sizeof(char *));
	if (!env)
		return NULL;
	const char *fixed[][2] = {
		{ "PATH", SANDBOX_PATH }, { "HOME", "/nonexistent" }, { "LANG", "C.UTF-8" }, { "TZ", "UTC" },
	};
	for (size_t i = 0; i < 4; i++) {
		const char *v = fixed[i][1];
		/* The lease may pass LANG or TZ through; PATH and HOME stay fixed (PATH is how
		 * the lease's binaries were resolved). */
		for (size_t j = 0; j < l->n_env && i >= 2; j++)
			if (strcmp(l->env[j], fixed[i][0]) == 0 && getenv(fixed[i][0]))
				v = getenv(fixed[i][0]);
		if (asprintf(&env[k++], "%s=%s", fixed[i][0], v) < 0)
			goto oom;
	}
	for (size_t j = 0; j < l->n_env; j++) {
		const char *name = l->env[j];
		const char *v = getenv(name);
		if (!v || !strcmp(name, "PATH") || !strcmp(name, "HOME") || !strcmp(name, "LANG") ||
		    !strcmp(name, "TZ"))
			continue;
		if (asprintf(&env[k++], "%s=%s", name, v) < 0)
			goto oom;
	}
	return env;
oom:
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return NULL;
}

void run_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
