/* The smallest lease a recorded run needed (policy/suggest.h; the rules: docs/suggest.md). */
#include "policy/suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/lease.h"
#include "policy/limits.h"
#include "policy/pathpat.h"

/* ------------------------------------------------------------------ small helpers */

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_true(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(get(o, k));
}

/* A non-negative integer field; false when absent, null or not one. */
static bool get_u64(const cJSON *o, const char *k, uint64_t *v)
{
	const cJSON *n = get(o, k);
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 9007199254740992.0)
		return false;
	*v = (uint64_t)n->valuedouble;
	return true;
}

__attribute__((format(printf, 2, 3)))
static int warn(cJSON *warnings, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One warning per text: the same refusal seen a hundred times says it once. */
	const cJSON *w;
	cJSON_ArrayForEach(w, warnings)
		if (cJSON_IsString(w) && strcmp(w->valuestring, buf) == 0)
			return 0;
	return cJSON_AddItemToArray(warnings, cJSON_CreateString(buf)) ? 0 : -ENOMEM;
}

static bool str_array_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return false;
	for (const cJSON *x = a ? a->child : NULL, *y = b ? b->child : NULL; x && y; x = x->next, y = y->next)
		if (!cJSON_IsString(x) || !cJSON_IsString(y) || strcmp(x->valuestring, y->valuestring) != 0)
			return false;
	return true;
}

static bool str_array_has(const cJSON *arr, const char *s)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ commands and helpers */

/* Every exec seen, grouped by the file it ran (its canonical path). */
struct exec_bin {
	char path[PATH_MAX];
	cJSON *argvs;             /* distinct argv arrays, in the order first seen */
	bool any_argv;            /* an exec whose argv is not known exactly: a helper */
};

struct exec_set {
	struct exec_bin *b;
	size_t n, cap;
};

static struct exec_bin *exec_bin_of(struct exec_set *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->b[i].path, path) == 0)
			return &s->b[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct exec_bin *nb = realloc(s->b, cap * sizeof(*nb));
		if (!nb)
			return NULL;
		s->b = nb;
		s->cap = cap;
	}
	struct exec_bin *e = &s->b[s->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	if (!(e->argvs = cJSON_CreateArray()))
		return NULL;
	s->n++;
	return e;
}

static void exec_set_free(struct exec_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		cJSON_Delete(s->b[i].argvs);
	free(s->b);
}

/* Is this exec the start of the lease command that was run? Its argv is the command's, or
 * (a #! script command) the interpreter's as the kernel builds it: interpreter
 * [optional-arg] SCRIPT argv[1..], SCRIPT the path calyx exec'd (meta.json binary) or the
 * command's own argv[0]. */
static bool is_command_start(const cJSON *argv, const cJSON *cmd, const char *cmd_binary)
{
	if (str_array_equal(argv, cmd))
		return true;
	int n = cJSON_GetArraySize(argv), m = cJSON_GetArraySize(cmd);
	for (int extra = 1; extra <= 2; extra++) {
		if (n != m + extra)
			continue;
		const cJSON *s = cJSON_GetArrayItem(argv, extra);
		const cJSON *a0 = cJSON_GetArrayItem(cmd, 0);
		if (!cJSON_IsString(s) || !((cmd_binary && strcmp(s->valuestring, cmd_binary) == 0) ||
					    (cJSON_IsString(a0) && strcmp(s->valuestring, a0->valuestring) == 0)))
			continue;
		bool tail = true;
		for (int i = 1; i < m && tail; i++) {
			const cJSON *x = cJSON_GetArrayItem(argv, extra + i), *y = cJSON_GetArrayItem(cmd, i);
			tail = cJSON_IsString(x) && cJSON_IsString(y) && strcmp(x->valuestring, y->valuestring) == 0;
		}
		if (tail)
			return true;
	}
	return false;
}

/* One exec (a process line's execs[] entry, or an exec kill record): binary the file it
 * ran (as recorded), argv its argv or NULL when not known exactly. */
static int note_exec(struct exec_set *s, const struct suggest_host *h, const char *binary, const cJSON *argv,
		     bool argv_exact, const cJSON *cmd, const char *cmd_binary, cJSON *warnings)
{
	if (argv && argv_exact && is_command_start(argv, cmd, cmd_binary))
		return 0;
	char canon[PATH_MAX];
	if (!binary || h->resolve(binary, canon, h->ctx) < 0) {
		if (!binary)
			return warn(warnings, "an exec without a recorded binary was left out");
		snprintf(canon, sizeof(canon), "%s", binary);
	}
	/* A #! script run by the command tree: the kernel records its interpreter, with
	 * SCRIPT at argv[1] (or argv[2] after the #! line's optional argument). The lease
	 * command is the script with its arguments: that binds the interpreter's argv and
	 * makes the script a lease binary, which it must be to be exec'd at all. */
	if (argv && argv_exact) {
		for (int k = 1; k <= 2 && k < cJSON_GetArraySize(argv); k++) {
			const cJSON *sp = cJSON_GetArrayItem(argv, k);
			struct shebang sb;
			if (!cJSON_IsString(sp) || sp->valuestring[0] != '/' || h->script(sp->valuestring, &sb, h->ctx) != 1)
				continue;
			/* Only the kernel's own argv for it: argv[0] the #! interpreter as written
			 * (and argv[1] its optional argument); `sh SCRIPT` run by hand is an exec
			 * of sh with that argv, a command of its own. */
			const cJSON *i0 = cJSON_GetArrayItem(argv, 0), *i1 = cJSON_GetArrayItem(argv, 1);
			if (!cJSON_IsString(i0) || strcmp(i0->valuestring, sb.interp) != 0 || (k == 2) != sb.has_arg ||
			    (k == 2 && (!cJSON_IsString(i1) || strcmp(i1->valuestring, sb.arg) != 0)))
				continue;
			char scanon[PATH_MAX];
			if (h->resolve(sp->valuestring, scanon, h->ctx) < 0)
				snprintf(scanon, sizeof(scanon), "%s", sp->valuestring);
			cJSON *sargv = cJSON_CreateArray();
			if (!sargv)
				return -ENOMEM;
			for (int i = k; i < cJSON_GetArraySize(argv); i++)
				cJSON_AddItemToArray(sargv, cJSON_CreateString(cJSON_GetArrayItem(argv, i)->valuestring));
			struct exec_bin *e = exec_bin_of(s, scanon);
			if (!e) {
				cJSON_Delete(sargv);
				return -ENOMEM;
			}
			const cJSON *x;
			cJSON_ArrayForEach(x, e->argvs)
				if (str_array_equal(x, sargv)) {
					cJSON_Delete(sargv);
					return 0;
				}
			cJSON_AddItemToArray(e->argvs, sargv);
			return 0;
		}
	}
	struct exec_bin *e = exec_bin_of(s, canon);
	if (!e)
		return -ENOMEM;
	if (!argv || !argv_exact) {
		e->any_argv = true;
		return warn(warnings, "an exec of %s has no exactly recorded argv (unread, or longer than recorded): "
			    "it is suggested as a helper (any argv)", canon);
	}
	/* The argv binds to the file its argv[0] resolves to: an argv[0] that names another
	 * file (or none: a relative name, a spoofed one) cannot be a command of this file. */
	const cJSON *a0 = cJSON_GetArrayItem(argv, 0);
	char a0canon[PATH_MAX];
	if (!cJSON_IsString(a0) || !a0->valuestring[0] || h->resolve(a0->valuestring, a0canon, h->ctx) < 0 ||
	    strcmp(a0canon, canon) != 0) {
		e->any_argv = true;
		return warn(warnings, "%s was exec'd with an argv[0] that does not name it through the sandbox PATH: "
			    "it is suggested as a helper (any argv)", canon);
	}
	const cJSON *x;
	cJSON_ArrayForEach(x, e->argvs)
		if (str_array_equal(x, argv))
			return 0;
	cJSON *dup = cJSON_Duplicate(argv, true);
	if (!dup)
		return -ENOMEM;
	cJSON_AddItemToArray(e->argvs, dup);
	return 0;
}

/* An exec entry's argv, when it is recorded exactly. */
static const cJSON *exact_argv(const cJSON *ex, bool *exact)
{
	const cJSON *argv = get(ex, "argv");
	*exact = cJSON_IsArray(argv) && cJSON_GetArraySize(argv) > 0 && !get_true(ex, "argv_truncated") &&
		 !get_true(ex, "argv_unread");
	return cJSON_IsArray(argv) ? argv : NULL;
}

static bool is_denial(const cJSON *ev)
{
	const char *t = get_str(ev, "type");
	/* would_deny: audit-only mode's "would have been denied", the same fields as deny. */
	return t && (strcmp(t, "deny") == 0 || strcmp(t, "would_deny") == 0);
}

static bool is_kill(const cJSON *ev)
{
	const char *t = get_str(ev, "type");
	const char *hook = get_str(ev, "hook");
	if (!t || !hook || (strcmp(hook, "exec_image") != 0 && strcmp(hook, "exec_argv") != 0))
		return false;
	return strcmp(t, "kill") == 0 || strcmp(t, "would_deny") == 0;
}

/* Long: one pass over the process lines, one over the exec refusals, then the grouping. */
static int build_commands(const cJSON *meta, const cJSON *events, const cJSON *claims, bool complete,
			  const struct suggest_host *h, cJSON *commands, cJSON *helpers, cJSON *warnings)
{
	const cJSON *cmd = get(meta, "argv");
	const char *cmd_binary = get_str(meta, "binary");
	cJSON_AddItemToArray(commands, cJSON_Duplicate(cmd, true));
	struct exec_set s = { 0 };
	int rc = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events) {
		const char *t = get_str(ev, "type");
		if (t && strcmp(t, "process") == 0) {
			const cJSON *execs = get(ev, "execs");
			uint64_t pid = 0;
			get_u64(ev, "pid", &pid);
			if (get(ev, "execs_omitted") &&
			    (rc = warn(warnings, "process %" PRIu64 " exec'd more often than events.jsonl records "
				       "(execs_omitted): the recorded lease's commands and helpers are kept", pid)) < 0)
				goto out;
			const cJSON *ex;
			cJSON_ArrayForEach(ex, execs) {
				bool exact;
				const cJSON *argv = exact_argv(ex, &exact);
				if ((rc = note_exec(&s, h, get_str(ex, "binary"), argv, exact, cmd, cmd_binary, warnings)) < 0)
					goto out;
			}
		} else if (is_kill(ev)) {
			bool exact;
			const cJSON *argv = exact_argv(ev, &exact);
			if ((rc = note_exec(&s, h, get_str(ev, "path"), argv, exact, cmd, cmd_binary, warnings)) < 0)
				goto out;
		} else if (is_denial(ev) && (t = get_str(ev, "hook")) && strcmp(t, "bprm_check_security") == 0) {
			/* bpf-lsm refuses a non-lease binary at exec: the argv it would have had is
			 * not in the record, so only a helper can admit it. An audit-only run's
			 * would_deny went ahead: its argv is in the process line's execs (noted
			 * there); only a binary with no exec seen becomes a helper (below). */
			bool would = strcmp(get_str(ev, "type"), "would_deny") == 0;
			const char *p = get_str(ev, "path");
			if (!p)
				continue;
			char canon[PATH_MAX];
			if (h->resolve(p, canon, h->ctx) < 0)
				snprintf(canon, sizeof(canon), "%s", p);
			struct exec_bin *e = exec_bin_of(&s, canon);
			if (!e) {
				rc = -ENOMEM;
				goto out;
			}
			if (would)
				continue;
			e->any_argv = true;
			if ((rc = warn(warnings, "the exec of %s was refused before it ran, so its argv is unknown: it is "
				       "suggested as a helper (any argv); a command with its exact argv is tighter", canon)) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < s.n; i++) {
		struct exec_bin *e = &s.b[i];
		/* An audit-only exec would_deny whose exec left no process line (lost): a helper. */
		if (!e->any_argv && cJSON_GetArraySize(e->argvs) == 0) {
			e->any_argv = true;
			if ((rc = warn(warnings, "the exec of %s is recorded but not the argv it ran with: it is "
				       "suggested as a helper (any argv)", e->path)) < 0)
				goto out;
		}
		if (e->any_argv || cJSON_GetArraySize(e->argvs) > SUGGEST_MAX_ARGVS_PER_BINARY) {
			if (!e->any_argv && (rc = warn(warnings, "%s ran with %d different argvs (more than %d): it is "
						      "suggested as a helper (any argv)", e->path,
						      cJSON_GetArraySize(e->argvs), SUGGEST_MAX_ARGVS_PER_BINARY)) < 0)
				goto out;
			if (!str_array_has(helpers, e->path))
				cJSON_AddItemToArray(helpers, cJSON_CreateString(e->path));
			continue;
		}
		const cJSON *a;
		cJSON_ArrayForEach(a, e->argvs) {
			bool have = false;
			const cJSON *c;
			cJSON_ArrayForEach(c, commands)
				have = have || str_array_equal(c, a);
			if (!have)
				cJSON_AddItemToArray(commands, cJSON_Duplicate(a, true));
		}
	}
	/* What was not observed cannot be ruled out: keep what the run was granted. */
	if (!complete) {
		const cJSON *c;
		cJSON_ArrayForEach(c, get(claims, "commands")) {
			bool have = false;
			const cJSON *x;
			cJSON_ArrayForEach(x, commands)
				have = have || str_array_equal(x, c);
			if (!have)
				cJSON_AddItemToArray(commands, cJSON_Duplicate(c, true));
		}
		cJSON_ArrayForEach(c, get(claims, "helpers"))
			if (cJSON_IsString(c) && !str_array_has(helpers, c->valuestring))
				cJSON_AddItemToArray(helpers, cJSON_CreateString(c->valuestring));
	}
out:
	exec_set_free(&s);
	return rc;
}

/* ------------------------------------------------------------------ paths */

struct want {
	char path[PATHPAT_MAX + 1];
	bool rw;
	bool tree;               /* a directory made or removed: its whole subtree */
};

struct wants {
	struct want *w;
	size_t n, cap;
};

static int want_add(struct wants *ws, const char *path, bool rw, bool tree)
{
	for (size_t i = 0; i < ws->n; i++)
		if (strcmp(ws->w[i].path, path) == 0) {
			ws->w[i].rw |= rw;
			ws->w[i].tree |= tree;
			return 0;
		}
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? 2 * ws->cap : 16;
		struct want *nw = realloc(ws->w, cap * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		ws->w = nw;
		ws->cap = cap;
	}
	struct want *w = &ws->w[ws->n++];
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->rw = rw;
	w->tree = tree;
	return 0;
}

/* What access a file-like denial needed: 1 rw, 0 ro, -1 not a path need. tree: the
 * operation makes or removes a directory (so what lies in it is needed too). */
static int path_need(const cJSON *ev, bool *tree)
{
	const char *hook = get_str(ev, "hook"), *op = get_str(ev, "op"), *cls = get_str(ev, "class");
	*tree = false;
	if (!hook)
		return -1;
	if (strcmp(hook, "file_open") == 0) {
		const char *acc = get_str(ev, "access");
		return acc && strcmp(acc, "write") == 0 ? 1 : 0;
	}
	if (strcmp(hook, "path_mutate") == 0) {
		*tree = op && (strcmp(op, "mkdir") == 0 || strcmp(op, "rmdir") == 0);
		return 1;
	}
	if (strcmp(hook, "metadata") == 0 || strcmp(hook, "mmap_exec") == 0)
		return 0;
	/* AF_UNIX to a path: only a :rw path may be connected to or sent to (docs/run.md). */
	if (cls && strcmp(cls, "net") == 0) {
		const char *fam = get_str(ev, "family");
		return fam && strcmp(fam, "unix") == 0 ? 1 : -1;
	}
	return -1;
}

static void parent_of(const char *p, char *out, size_t len)
{
	snprintf(out, len, "%s", p);
	char *s = strrchr(out, '/');
	if (s && s != out)
		*s = 0;
	else
		snprintf(out, len, "/");
}

static int add_path(cJSON *paths, const char *pattern, bool rw)
{
	/* The same pattern twice: one entry, with the wider access. */
	cJSON *e;
	cJSON_ArrayForEach(e, paths) {
		const char *p = get_str(e, "pattern");
		if (p && strcmp(p, pattern) == 0) {
			if (rw)
				cJSON_ReplaceItemInObjectCaseSensitive(e, "access", cJSON_CreateString("rw"));
			return 0;
		}
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "pattern", pattern) ||
	    !cJSON_AddStringToObject(o, "access", rw ? "rw" : "ro")) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(paths, o);
	return 0;
}

/* Is path admitted by one of the suggested patterns with at least this access? */
static bool admitted(const cJSON *paths, const char *path, bool rw)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, paths) {
		const char *p = get_str(e, "pattern"), *acc = get_str(e, "access");
		struct pathpat pp;
		char err[128];
		if (!p || !acc || (rw && strcmp(acc, "rw") != 0) || pathpat_parse(p, NULL, NULL, &pp, err, sizeof(err)) < 0)
			continue;
		if (pathpat_match(&pp, path))
			return true;
	}
	return false;
}

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->path, ((const struct want *)b)->path);
}

/* Long: collect the needs, then the grouping into exact paths, children and subtree
 * patterns (docs/suggest.md), then the merge with
 * the recorded lease's paths. */
static int build_paths(const cJSON *events, const cJSON *claims, cJSON *paths, cJSON *warnings)
{
	struct wants ws = { 0 };
	int rc = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events) {
		bool tree;
		int need;
		if (!is_denial(ev) || (need = path_need(ev, &tree)) < 0)
			continue;
		const char *p = get_str(ev, "path");
		char err[256];
		if (!p)
			continue;
		if (strncmp(p, "/proc/", 6) == 0) {
			rc = warn(warnings, "a refusal under /proc (%s) was left out: /proc is the sandbox's own, its paths "
				  "name processes of one run", p);
		} else if (strchr(p, '\\')) {
			/* events.jsonl writes bytes that are not UTF-8 as the text \xNN: such a line
			 * does not say which path it was. */
			rc = warn(warnings, "the refused path %s holds a backslash (events.jsonl's spelling of bytes that "
				  "are not UTF-8, or a real one: the record cannot tell): left out", p);
		} else if (pathpat_check(p, err, sizeof(err)) < 0 || strlen(p) > PATHPAT_MAX) {
			rc = warn(warnings, "the refused path %s cannot be a lease path (%s): left out", p,
				  strlen(p) > PATHPAT_MAX ? "too long" : err);
		} else {
			rc = want_add(&ws, p, need == 1, tree);
		}
		if (rc < 0)
			goto out;
	}
	if (ws.n)   /* qsort of a NULL array, even of 0 entries, is undefined */
		qsort(ws.w, ws.n, sizeof(*ws.w), cmp_want);

	/* The recorded lease's paths first: calyx records refusals, never allowed opens, so
	 * nothing says which of them the run used. */
	cJSON *new_paths = cJSON_CreateArray();
	if (!new_paths) {
		rc = -ENOMEM;
		goto out;
	}
	/* A directory made or removed: its subtree pattern (what the job does inside it was
	 * never reached). */
	for (size_t i = 0; i < ws.n; i++) {
		if (!ws.w[i].tree)
			continue;
		char pat[PATHPAT_MAX + 8];
		snprintf(pat, sizeof(pat), "%s/**", ws.w[i].path);
		if ((rc = add_path(new_paths, pat, true)) < 0)
			goto out_new;
	}
	/* Then per directory and access: two or more files of one directory give its
	 * children pattern, one file stays exact; what a subtree pattern or a :rw children
	 * pattern already admits is left out. */
	for (int pass_rw = 1; pass_rw >= 0; pass_rw--) {
		for (size_t i = 0; i < ws.n; i++) {
			struct want *w = &ws.w[i];
			if (w->tree || w->rw != (bool)pass_rw || admitted(new_paths, w->path, w->rw))
				continue;
			char dir[PATHPAT_MAX + 1];
			parent_of(w->path, dir, sizeof(dir));
			size_t siblings = 0;
			for (size_t j = 0; j < ws.n; j++) {
				char d2[PATHPAT_MAX + 1];
				parent_of(ws.w[j].path, d2, sizeof(d2));
				if (!ws.w[j].tree && ws.w[j].rw == w->rw && strcmp(d2, dir) == 0)
					siblings++;
			}
			char pat[PATHPAT_MAX + 8];
			if (siblings >= 2 && strcmp(dir, "/") != 0)
				snprintf(pat, sizeof(pat), "%s/*", dir);
			else
				snprintf(pat, sizeof(pat), "%s", w->path);
			if ((rc = add_path(new_paths, pat, w->rw)) < 0)
				goto out_new;
		}
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, get(claims, "paths")) {
		const char *p = get_str(e, "pattern"), *acc = get_str(e, "access");
		if (p && acc && (rc = add_path(paths, p, strcmp(acc, "rw") == 0)) < 0)
			goto out_new;
	}
	cJSON_ArrayForEach(e, new_paths)
		if ((rc = add_path(paths, get_str(e, "pattern"), strcmp(get_str(e, "access"), "rw") == 0)) < 0)
			goto out_new;
out_new:
	cJSON_Delete(new_paths);
out:
	free(ws.w);
	return rc;
}

/* ------------------------------------------------------------------ network */

/* The protocol of a refused connect or send: the record's sock_flags (the socket's type,
 * its protocol in bits 16 and up, as socket_create's: both backends fill it for connects
 * and sends). A record without them (0: made before they were recorded) is guessed from
 * the hook: a connect taken as TCP, a send to an address as UDP (what the cgroup sendmsg
 * hooks see). */
static const char *net_proto(const cJSON *ev, const char *hook)
{
	uint64_t f = 0;
	if (get_u64(ev, "sock_flags", &f) && f) {
		uint64_t proto = f >> 16, type = f & 0xffff;
		if (proto == 6 /* IPPROTO_TCP */ || (proto == 0 && type == 1 /* SOCK_STREAM */))
			return "tcp";
		if (proto == 17 /* IPPROTO_UDP */ || (proto == 0 && type == 2 /* SOCK_DGRAM */))
			return "udp";
	}
	return strcmp(hook, "socket_sendmsg") == 0 ? "udp" : "tcp";
}

static int build_network(const cJSON *meta, const cJSON *events, const cJSON *claims, cJSON *out, cJSON *warnings)
{
	cJSON *allow = cJSON_CreateArray();
	if (!allow)
		return -ENOMEM;
	int rc = 0;
	/* Rules the run was granted (an allowlist lease) are kept: allowed connects are not
	 * recorded either. */
	const cJSON *net = get(claims, "network"), *r;
	cJSON_ArrayForEach(r, get(net, "allow"))
		cJSON_AddItemToArray(allow, cJSON_Duplicate(r, true));
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events) {
		const char *cls = get_str(ev, "class"), *fam = get_str(ev, "family"), *hook = get_str(ev, "hook");
		if (!is_denial(ev) || !cls || strcmp(cls, "net") != 0 || !fam || !hook)
			continue;
		bool v6 = strcmp(fam, "inet6") == 0;
		if (!v6 && strcmp(fam, "inet") != 0) {
			if (strcmp(fam, "unix") != 0)
				rc = warn(warnings, "a socket of family %s was refused: a lease grants no family but inet, "
					  "inet6 and unix; left out", fam);
			if (rc < 0)
				break;
			continue;
		}
		const char *addr = get_str(ev, "addr");
		uint64_t port;
		if (!addr || !get_u64(ev, "port", &port)) {
			if ((rc = warn(warnings, "a socket of family %s was refused at %s, before it named an address "
				       "(hook %s): which destination it wanted is unknown, so no rule is suggested for it",
				       fam, strcmp(hook, "seccomp") == 0 ? "creation by the seccomp baseline" : "creation",
				       hook)) < 0)
				break;
			continue;
		}
		const char *proto = net_proto(ev, hook);
		char cidr[128];
		snprintf(cidr, sizeof(cidr), "%s/%d", addr, v6 ? 128 : 32);
		bool have = false;
		cJSON_ArrayForEach(r, allow) {
			uint64_t rp;
			const char *rc_ = get_str(r, "cidr"), *rpr = get_str(r, "proto");
			if (rc_ && rpr && get_u64(r, "port", &rp) && strcmp(rc_, cidr) == 0 && rp == port &&
			    strcmp(rpr, proto) == 0)
				have = true;
		}
		if (have)
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddStringToObject(o, "cidr", cidr) || !cJSON_AddNumberToObject(o, "port", (double)port) ||
		    !cJSON_AddStringToObject(o, "proto", proto)) {
			cJSON_Delete(o);
			rc = -ENOMEM;
			break;
		}
		cJSON_AddItemToArray(allow, o);
	}
	(void)meta;
	if (rc < 0) {
		cJSON_Delete(allow);
		return rc;
	}
	if (cJSON_GetArraySize(allow) == 0) {
		cJSON_Delete(allow);
		return cJSON_AddStringToObject(out, "network", "deny_all") ? 0 : -ENOMEM;
	}
	cJSON *n = cJSON_AddObjectToObject(out, "network");
	if (!n) {
		cJSON_Delete(allow);
		return -ENOMEM;
	}
	cJSON_AddItemToObject(n, "allow", allow);
	return 0;
}

/* ------------------------------------------------------------------ limits */

/* Unit a limit is rounded up to, and its floor (base units). */
static void limit_rounding(enum limit_kind k, uint64_t *unit, uint64_t *floor)
{
	switch (k) {
	case LIMIT_CPU: *unit = 1000; *floor = 1000; break;               /* 1s */
	case LIMIT_WALL: *unit = 1000; *floor = 10000; break;             /* 10s */
	case LIMIT_MEM: *unit = 1u << 20; *floor = 32u << 20; break;      /* 32M */
	case LIMIT_PIDS: *unit = 1; *floor = 8; break;
	case LIMIT_OUTPUT: *unit = 1u << 10; *floor = 64u << 10; break;   /* 64K */
	default: *unit = 1u << 10; *floor = 1u << 20; break;              /* fsize: 1M */
	}
}

static uint64_t with_headroom(enum limit_kind k, uint64_t measured, unsigned factor)
{
	uint64_t unit, floor;
	limit_rounding(k, &unit, &floor);
	uint64_t v = measured > limit_max(k) / factor ? limit_max(k) : measured * factor;
	if (v % unit)
		v += unit - v % unit;
	if (v < floor)
		v = floor;
	return v > limit_max(k) ? limit_max(k) : v;
}

static int build_limits(const cJSON *meta, const cJSON *claims, cJSON *out, cJSON *warnings)
{
	cJSON *lim = cJSON_AddObjectToObject(out, "limits");
	if (!lim)
		return -ENOMEM;
	const cJSON *measured = get(get(meta, "limits"), "measured");
	const cJSON *effective = get(get(meta, "limits"), "effective");
	const char *hit = get_str(get(meta, "violation"), "limit");
	int rc = 0;
	for (int k = 0; k < LIMIT_COUNT && rc == 0; k++) {
		const char *name = limit_claim_name((enum limit_kind)k);
		uint64_t m, bound, rec;
		uint64_t v = 0;
		if (hit && strcmp(hit, name) == 0 && get_u64(effective, name, &bound)) {
			v = with_headroom((enum limit_kind)k, bound, SUGGEST_HEADROOM_HIT);
			rc = warn(warnings, "the run was stopped by its %s limit (%" PRIu64 "): what it needs is unknown; "
				  "%u times the bound is suggested", name, bound, SUGGEST_HEADROOM_HIT);
		} else if (k != LIMIT_FSIZE && get_u64(measured, name, &m)) {
			v = with_headroom((enum limit_kind)k, m, SUGGEST_HEADROOM);
		} else if (get_u64(get(claims, "limits"), name, &rec)) {
			/* Not measured here (fsize never is; mem or pids without their peak file):
			 * the recorded lease's bound stays. */
			v = rec;
		} else if (k != LIMIT_FSIZE) {
			rc = warn(warnings, "%s was not measured on this host and the lease did not set it: left to the "
				  "matrix default", name);
		}
		if (v && !cJSON_AddNumberToObject(lim, name, (double)v))
			rc = -ENOMEM;
	}
	return rc;
}

/* ------------------------------------------------------------------ the whole */

int suggest_build(const cJSON *meta, const cJSON *events, const cJSON *claims, const struct suggest_host *h,
		  cJSON **out, cJSON *warnings, char *err, size_t errlen)
{
	*out = NULL;
	const cJSON *argv = get(meta, "argv");
	if (!cJSON_IsArray(argv) || cJSON_GetArraySize(argv) == 0) {
		snprintf(err, errlen, "meta.json has no argv (the command that was run)");
		return -EINVAL;
	}
	const cJSON *a;
	cJSON_ArrayForEach(a, argv)
		if (!cJSON_IsString(a) || !a->valuestring[0]) {
			snprintf(err, errlen, "meta.json argv holds something other than non-empty strings");
			return -EINVAL;
		}
	const char *intent = get_str(claims, "intent");
	if (!intent)
		intent = get_str(meta, "intent");
	if (!intent) {
		snprintf(err, errlen, "neither the recorded lease nor meta.json names the intent");
		return -EINVAL;
	}

	/* What can be missing from the record: say it, and keep what the run was granted. */
	int rc = 0;
	uint64_t dropped = 0;
	bool complete = true;
	const char *status = get_str(meta, "status");
	const char *backend = get_str(get(meta, "enforcement"), "backend");
	if (get_u64(meta, "dropped_events", &dropped) && dropped > 0) {
		complete = false;
		rc = warn(warnings, "%" PRIu64 " ring-buffer records of the run were lost: what they held is missing "
			  "here; the recorded lease's commands and helpers are kept", dropped);
	}
	if (rc == 0 && status && strcmp(status, "abandoned") == 0) {
		complete = false;
		rc = warn(warnings, "the run was abandoned (its runner died): its records stop there; the recorded "
			  "lease's commands and helpers are kept");
	}
	if (rc == 0 && get_str(meta, "start_error"))
		rc = warn(warnings, "the command never ran (%s): there is nothing to learn from this run",
			  get_str(meta, "start_error"));
	bool audit_only = get_true(meta, "audit_only");
	if (rc == 0 && backend && strcmp(backend, "landlock") == 0 && audit_only)
		rc = warn(warnings, "the run was audit-only on the landlock backend: of file accesses only the opens "
			  "were observed (not creating, removing or renaming a file, mkdir, chmod, metadata reads, "
			  "nor execve's own opens): a file the job creates is suggested as its exact path, which "
			  "admits writing it once it exists, not creating it (that needs DIR/** :rw); run it on "
			  "bpf-lsm to see those");
	else if (rc == 0 && backend && strcmp(backend, "landlock") == 0)
		rc = warn(warnings, "the run was on the landlock backend: Landlock's own refusals (file opens, file "
			  "changes, exec of a file outside the lease) are enforced but not recorded, so no path or "
			  "program they refused is suggested; run it on bpf-lsm (or --audit-only) to see them");
	if (rc == 0 && !claims)
		rc = warn(warnings, "the recorded lease's claims are unknown: its paths cannot be kept");
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
		if (rc == 0 && get(ev, "execs_omitted"))
			complete = false;
	if (rc < 0)
		return rc;

	cJSON *o = cJSON_CreateObject();
	cJSON *commands = cJSON_CreateArray(), *helpers = cJSON_CreateArray(), *paths = cJSON_CreateArray();
	if (!o || !commands || !helpers || !paths) {
		rc = -ENOMEM;
		goto fail;
	}
	cJSON_AddStringToObject(o, "intent", intent);
	if ((rc = build_commands(meta, events, claims, complete, h, commands, helpers, warnings)) < 0)
		goto fail;
	cJSON_AddItemToObject(o, "commands", commands);
	commands = NULL;
	if ((rc = build_paths(events, claims, paths, warnings)) < 0)
		goto fail;
	cJSON_AddItemToObject(o, "paths", paths);
	paths = NULL;
	if ((rc = build_network(meta, events, claims, o, warnings)) < 0 ||
	    (rc = build_limits(meta, claims, o, warnings)) < 0)
		goto fail;
	/* Kept as granted: nothing records which variables a command read, and aud and cwd
	 * are where and how it ran. */
	const cJSON *env = get(claims, "env");
	if (cJSON_GetArraySize(env) > 0)
		cJSON_AddItemToObject(o, "env", cJSON_Duplicate(env, true));
	if (cJSON_GetArraySize(helpers) > 0) {
		cJSON_AddItemToObject(o, "helpers", helpers);
		helpers = NULL;
	}
	if (get_str(claims, "aud"))
		cJSON_AddStringToObject(o, "aud", get_str(claims, "aud"));
	if (get_str(claims, "cwd"))
		cJSON_AddStringToObject(o, "cwd", get_str(claims, "cwd"));
	cJSON_Delete(helpers);
	/* Said here, refused by lease issue: a lease holds at most this many of each. */
	static const struct { const char *claim; int max; } caps[] = {
		{ "commands", LEASE_MAX_COMMANDS }, { "helpers", LEASE_MAX_HELPERS }, { "paths", LEASE_MAX_PATHS },
	};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int n = cJSON_GetArraySize(get(o, caps[i].claim));
		if (n > caps[i].max && (rc = warn(warnings, "the suggestion has %d %s, more than a lease holds (%d): "
						  "lease issue will refuse it; the job needs a wider pattern or helper",
						  n, caps[i].claim, caps[i].max)) < 0)
			goto fail_o;
	}
	*out = o;
	return 0;
fail_o:
	cJSON_Delete(o);
	return rc;
fail:
	cJSON_Delete(commands);
	cJSON_Delete(helpers);
	cJSON_Delete(paths);
	cJSON_Delete(o);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* ------------------------------------------------------------------ the flags */

int suggest_quote_arg(const char *arg, char *out, size_t len)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-";
	size_t n = strlen(arg), o = 0;
	if (n && strspn(arg, plain) == n) {
		if (n + 1 > len)
			return -ENOSPC;
		memcpy(out, arg, n + 1);
		return 0;
	}
	bool single = !strchr(arg, '\'');
	char q = single ? '\'' : '"';
	if (o + 1 >= len)
		return -ENOSPC;
	out[o++] = q;
	for (const char *p = arg; *p; p++) {
		if (!single && strchr("\"\\$`", *p)) {
			if (o + 1 >= len)
				return -ENOSPC;
			out[o++] = '\\';
		}
		if (o + 1 >= len)
			return -ENOSPC;
		out[o++] = *p;
	}
	if (o + 2 > len)
		return -ENOSPC;
	out[o++] = q;
	out[o] = 0;
	return 0;
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* A word for a POSIX shell: '…' with ' as '\''. */
static void sb_shell_word(struct sbuf *b, const char *s)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@%+,-";
	if (*s && strspn(s, plain) == strlen(s)) {
		sb_add(b, s);
		return;
	}
	sb_add(b, "'");
	for (const char *p = s; *p; p++) {
		char c[2] = { *p, 0 };
		sb_add(b, *p == '\'' ? "'\\''" : c);
	}
	sb_add(b, "'");
}

static void sb_flag(struct sbuf *b, const char *flag, const char *value)
{
	if (b->len)
		sb_add(b, " \\\n  ");
	sb_add(b, flag);
	if (value) {
		sb_add(b, " ");
		sb_shell_word(b, value);
	}
}

char *suggest_flags(const cJSON *claims)
{
	struct sbuf b = { 0 };
	sb_flag(&b, "--intent", get_str(claims, "intent"));
	const cJSON *c;
	cJSON_ArrayForEach(c, get(claims, "commands")) {
		struct sbuf cmd = { 0 };
		const cJSON *a;
		cJSON_ArrayForEach(a, c) {
			size_t n = strlen(a->valuestring) * 2 + 3;
			char *q = malloc(n);
			if (!q || suggest_quote_arg(a->valuestring, q, n) < 0) {
				free(q);
				cmd.oom = true;
				break;
			}
			if (cmd.len)
				sb_add(&cmd, " ");
			sb_add(&cmd, q);
			free(q);
		}
		if (cmd.oom)
			b.oom = true;
		else
			sb_flag(&b, "--cmd", cmd.p);
		free(cmd.p);
	}
	cJSON_ArrayForEach(c, get(claims, "helpers"))
		sb_flag(&b, "--helper", c->valuestring);
	cJSON_ArrayForEach(c, get(claims, "paths")) {
		char pa[PATHPAT_MAX + 16];
		snprintf(pa, sizeof(pa), "%s:%s", get_str(c, "pattern"), get_str(c, "access"));
		sb_flag(&b, "--path", pa);
	}
	const cJSON *net = get(claims, "network");
	if (cJSON_IsString(net)) {
		sb_flag(&b, "--net", net->valuestring);
	} else {
		cJSON_ArrayForEach(c, get(net, "allow")) {
			const char *cidr = get_str(c, "cidr"), *proto = get_str(c, "proto");
			uint64_t port = 0;
			get_u64(c, "port", &port);
			char rule[200], ps[24];
			if (port)
				snprintf(ps, sizeof(ps), "%" PRIu64, port);
			else
				snprintf(ps, sizeof(ps), "*");
			bool v6 = cidr && strchr(cidr, ':');
			snprintf(rule, sizeof(rule), v6 ? "allow=[%s]:%s/%s" : "allow=%s:%s/%s", cidr ? cidr : "?", ps,
				 proto ? proto : "tcp");
			sb_flag(&b, "--net", rule);
		}
	}
	char lim[512] = "";
	for (int k = 0; k < LIMIT_COUNT; k++) {
		uint64_t v;
		if (!get_u64(get(claims, "limits"), limit_claim_name((enum limit_kind)k), &v))
			continue;
		char one[64];
		limit_format((enum limit_kind)k, v, one, sizeof(one));
		size_t l = strlen(lim);
		snprintf(lim + l, sizeof(lim) - l, "%s%s=%s", l ? "," : "", limit_name((enum limit_kind)k), one);
	}
	if (lim[0])
		sb_flag(&b, "--limit", lim);
	cJSON_ArrayForEach(c, get(claims, "env"))
		sb_flag(&b, "--env", c->valuestring);
	if (get_str(claims, "aud"))
		sb_flag(&b, "--aud", get_str(claims, "aud"));
	if (get_str(claims, "cwd"))
		sb_flag(&b, "--cwd", get_str(claims, "cwd"));
	sb_add(&b, "\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
