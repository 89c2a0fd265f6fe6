/* links: policy/lease policy/netrule policy/envnames base/units policy/pathpat base/errmsg policy/limits policy/argv policy/lease_text */
/* libFuzzer target for the lease claims (the JSON payload of a token, lease_from_json):
 * every claim, helpers, aud, cwd, env and limits. Any byte string must either parse or be
 * refused with -EINVAL and a message naming the claim, never crash, hang or leak. What
 * parsed must serialise (lease_to_json) to JSON that parses back to the same lease: the
 * audit log records the claims that way, and `lease show` describes them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/lease.h"
#include "policy/pathpat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease l, back;
	char err[512];

	err[0] = '\0';
	int r = lease_from_json((const char *)data, size, &l, err, sizeof err);
	if (r) {
		if (r != -EINVAL || !err[0])
			abort();
		return 0;
	}
	if (l.n_commands < 1 || l.n_commands > LEASE_MAX_COMMANDS || l.n_paths > LEASE_MAX_PATHS ||
	    l.n_helpers > LEASE_MAX_HELPERS || l.n_env > LEASE_MAX_ENV || l.runs < 1 ||
	    l.runs > LEASE_MAX_RUNS || !lease_id_valid(l.jti))
		abort();
	for (size_t i = 0; i < l.n_commands; i++) {
		const struct argv_list *a = &l.commands[i];
		if (a->argc < 1 || a->argv[a->argc] != NULL)
			abort();
		/* Every command matches itself (what `calyx run --cmd` relies on). */
		if (lease_match_command(&l, a->argv, a->argc) < 0)
			abort();
	}
	for (size_t i = 0; i < l.n_paths; i++)
		if (pathpat_check(l.paths[i].pattern, err, sizeof err) != 0)
			abort();
	if (l.cwd && !lease_cwd_covered(&l, l.cwd))
		abort();
	(void)lease_check_times(&l, 1767225600, 30, err, sizeof err);

	char *json = lease_to_json(&l);
	if (!json)
		abort();
	err[0] = '\0';
	if (lease_from_json(json, strlen(json), &back, err, sizeof err) != 0)
		abort();
	char *again = lease_to_json(&back);
	if (!again || strcmp(json, again) != 0)
		abort();
	char *text = lease_describe(&l);
	if (!text)
		abort();
	free(text);
	free(again);
	free(json);
	lease_free(&back);
	lease_free(&l);
	return 0;
}
