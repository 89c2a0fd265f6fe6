/* Verifying the state dir's SVF log (verify.h). One pass reads every record into a compact
 * entry (its seq, hash, prev, whether it is a checkpoint and whether that checkpoint
 * holds); a second pass walks the entries in order and classifies the first fault, looking
 * ahead where that tells a reordering from a deletion. */
#include "audit/verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "audit/checkpoint.h"
#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"

const char *audit_fault_name(enum audit_fault f)
{
	static const char *const names[] = {
		[AUDIT_INTACT] = "intact",         [AUDIT_EDITED] = "edited",
		[AUDIT_DELETED] = "deleted",       [AUDIT_INSERTED] = "inserted",
		[AUDIT_REORDERED] = "reordered",   [AUDIT_TRUNCATED] = "truncated",
		[AUDIT_CUT_RECORD] = "cut-record", [AUDIT_BAD_SIGNATURE] = "bad-signature",
		[AUDIT_UNSIGNED] = "unsigned",     [AUDIT_IO] = "io-error",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

int audit_fault_exit(enum audit_fault f)
{
	switch (f) {
	case AUDIT_INTACT: return EXIT_OK;
	case AUDIT_EDITED: return EXIT_AUDIT_EDITED;
	case AUDIT_DELETED: return EXIT_AUDIT_DELETED;
	case AUDIT_INSERTED: return EXIT_AUDIT_INSERTED;
	case AUDIT_REORDERED: return EXIT_AUDIT_REORDERED;
	case AUDIT_TRUNCATED: return EXIT_AUDIT_TRUNCATED;
	case AUDIT_CUT_RECORD: return EXIT_AUDIT_CUT_RECORD;
	case AUDIT_BAD_SIGNATURE: return EXIT_AUDIT_BAD_SIGNATURE;
	case AUDIT_UNSIGNED: return EXIT_AUDIT_UNSIGNED;
	case AUDIT_IO: break;
	}
	return EXIT_IO;
}

struct entry {
	uint64_t seq;
	uint64_t line;
	char hash[SVF_HASH_HEX + 1];
	char prev[SVF_HASH_HEX + 1];
	unsigned file;
	bool checkpoint;
	bool cp_bad;         /* a checkpoint that does not hold (see walk.cp_fault) */
};

struct walk {
	struct entry *e;
	size_t n, cap;
	const char *names[64];     /* file names for messages (not owned) */
	unsigned nfiles;
	const uint8_t *pk;
	/* the first checkpoint that does not hold, if any */
	size_t cp_idx;
	enum audit_fault cp_fault;
	char cp_msg[512];
};

static enum audit_fault fault(struct audit_result *r, enum audit_fault f, const char *file, uint64_t line,
			      uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum audit_fault fault(struct audit_result *r, enum audit_fault f, const char *file, uint64_t line,
			      uint64_t seq, const char *fmt, ...)
{
	r->fault = f;
	r->seq = seq;
	if (line)
		snprintf(r->where, sizeof(r->where), "%s:%" PRIu64, file, line);
	else
		snprintf(r->where, sizeof(r->where), "%s", file);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return f;
}

/* A checkpoint record holds when it signs exactly the record before it (its data's seq and
 * head are its own seq - 1 and prev) with the audit key. */
static void check_checkpoint(struct walk *w, struct entry *en, const cJSON *obj)
{
	if (w->cp_fault)
		return;   /* only the first matters; later ones are still counted as checkpoints */
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
	struct checkpoint cp;
	char why[400];
	int rc = checkpoint_check(data, w->pk, &cp, why, sizeof(why));
	enum audit_fault f = AUDIT_INTACT;
	if (rc == -EPERM || rc == -EKEYREJECTED)
		f = AUDIT_BAD_SIGNATURE;
	else if (rc < 0)
		f = AUDIT_EDITED;
	else if (cp.seq + 1 != en->seq || strcmp(cp.head, en->prev) != 0) {
		f = AUDIT_EDITED;
		snprintf(why, sizeof(why), "the checkpoint signed seq %" PRIu64 " with head %.16s…, but the chain "
			 "before it holds %.16s…: the records before it were rewritten", cp.seq, cp.head, en->prev);
	}
	if (f) {
		en->cp_bad = true;
		w->cp_idx = (size_t)(en - w->e);
		w->cp_fault = f;
		snprintf(w->cp_msg, sizeof(w->cp_msg), "%s", why);
	}
}

/* Read the records of fd from offset start (to EOF) into w. last_file: a record cut at
 * the very end is a cut record, not an edit. Returns AUDIT_INTACT or the fault (set in r). */
static enum audit_fault read_records(struct walk *w, int fd, off_t start, unsigned file, bool last_file,
				     struct audit_result *r)
{
	const char *name = w->names[file];
	size_t cap = 1 << 16, have = 0;
	char *buf = malloc(cap);
	if (!buf)
		return fault(r, AUDIT_IO, name, 0, 0, "out of memory");
	off_t off = start;
	uint64_t line = 0;
	enum audit_fault f = AUDIT_INTACT;
	bool eof = false;
	/* Line numbers count from start: the tail check reads from the last checkpoint and
	 * names the file "svf.jsonl (from byte N)" so a message never needs a full scan. */
	while (f == AUDIT_INTACT) {
		char *nl = have ? memchr(buf, '\n', have) : NULL;
		if (!nl && !eof) {
			if (have == cap) {
				if (cap > SVF_MAX_LINE) {
					f = fault(r, AUDIT_EDITED, name, line + 1, 0, "record longer than %u bytes", SVF_MAX_LINE);
					break;
				}
				char *nb = realloc(buf, cap * 2);
				if (!nb) {
					f = fault(r, AUDIT_IO, name, 0, 0, "out of memory");
					break;
				}
				buf = nb;
				cap *= 2;
			}
			ssize_t n = pread(fd, buf + have, cap - have, off);
			if (n < 0) {
				f = fault(r, AUDIT_IO, name, 0, 0, "read: %s", strerror(errno));
				break;
			}
			if (n == 0)
				eof = true;
			off += n;
			have += (size_t)n;
			continue;
		}
		if (!nl && have == 0)
			break;   /* the end, after a complete line */
		line++;
		size_t len = nl ? (size_t)(nl - buf) : have;
		uint64_t seq = 0;
		char prev[SVF_HASH_HEX + 1], hash[SVF_HASH_HEX + 1], why[300];
		cJSON *obj = NULL;
		int rc = svf_parse_line(buf, len, &seq, prev, hash, &obj, why, sizeof(why));
		if (!nl) {   /* bytes after the last newline: a record cut short */
			cJSON_Delete(obj);
			f = last_file ? fault(r, AUDIT_CUT_RECORD, name, line, 0,
					      "the last record is cut short (%zu bytes without an end of line): "
					      "a crash or a full disk; `calyx audit repair` cuts it off and records that", len)
				      : fault(r, AUDIT_EDITED, name, line, 0, "the file ends in a cut record");
			break;
		}
		if (rc < 0) {
			f = fault(r, AUDIT_EDITED, name, line, 0, "%s", why);
			break;
		}
		if (w->n == w->cap) {
			size_t nc = w->cap ? w->cap * 2 : 1024;
			struct entry *ne = realloc(w->e, nc * sizeof(*ne));
			if (!ne) {
				cJSON_Delete(obj);
				f = fault(r, AUDIT_IO, name, 0, 0, "out of memory");
				break;
			}
			w->e = ne;
			w->cap = nc;
		}
		struct entry *en = &w->e[w->n++];
		memset(en, 0, sizeof(*en));
		en->seq = seq;
		en->line = line;
		en->file = file;
		memcpy(en->hash, hash, sizeof(en->hash));
		memcpy(en->prev, prev, sizeof(en->prev));
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "type"));
		en->checkpoint = type && strcmp(type, CHECKPOINT_TYPE) == 0;
		if (en->checkpoint)
			check_checkpoint(w, en, obj);
		cJSON_Delete(obj);
		size_t used = len + 1;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return f;
}

/* Walk the entries from expected seq e / prev p: the first fault, else the counts. */
static enum audit_fault classify(struct walk *w, uint64_t e, const char *p, struct audit_result *r)
{
	char prev[SVF_HASH_HEX + 1];
	snprintf(prev, sizeof(prev), "%s", p);
	uint64_t since = 0;
	for (size_t i = 0; i < w->n; i++) {
		struct entry *en = &w->e[i];
		const char *name = w->names[en->file];
		if (en->seq > e) {
			for (size_t k = i + 1; k < w->n; k++)
				if (w->e[k].seq == e)
					return fault(r, AUDIT_REORDERED, name, en->line, en->seq,
						     "record seq %" PRIu64 " stands where seq %" PRIu64 " belongs "
						     "(seq %" PRIu64 " comes later): records reordered", en->seq, e, e);
			return fault(r, AUDIT_DELETED, name, en->line, en->seq,
				     "seq jumps from %" PRIu64 " to %" PRIu64 ": record%s %" PRIu64 "%s%.0" PRIu64 " deleted",
				     e - 1, en->seq, en->seq - e > 1 ? "s" : "", e, en->seq - e > 1 ? "…" : "",
				     en->seq - e > 1 ? en->seq - 1 : 0);
		}
		if (en->seq < e)
			return fault(r, AUDIT_INSERTED, name, en->line, en->seq,
				     "seq %" PRIu64 " again after seq %" PRIu64 ": a record inserted or copied",
				     en->seq, e - 1);
		if (strcmp(en->prev, prev) != 0) {
			if (i > 0)
				return fault(r, AUDIT_EDITED, w->names[w->e[i - 1].file], w->e[i - 1].line, e - 1,
					     "record seq %" PRIu64 " was changed and its hash recomputed: the next "
					     "record's prev no longer matches it", e - 1);
			return fault(r, AUDIT_EDITED, name, en->line, en->seq,
				     "prev of seq %" PRIu64 " does not match the record before it", en->seq);
		}
		if (en->cp_bad)
			return fault(r, w->cp_fault, name, en->line, en->seq, "%s", w->cp_msg);
		if (en->checkpoint) {
			r->checkpoints++;
			r->signed_seq = en->seq;
			since = 0;
		} else {
			since++;
		}
		memcpy(prev, en->hash, sizeof(prev));
		e++;
	}
	r->records += w->n;
	r->unsigned_tail = since;
	memcpy(r->head, prev, sizeof(r->head));
	return AUDIT_INTACT;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* svf.<12 digits>.jsonl */
static bool rotated_name(const char *s)
{
	if (strncmp(s, "svf.", 4) != 0 || strlen(s) != 4 + 12 + 6 || strcmp(s + 16, ".jsonl") != 0)
		return false;
	for (int i = 4; i < 16; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int audit_rotated_files(int dirfd, char ***names, size_t *n)
{
	*names = NULL;
	*n = 0;
	DIR *d = fileio_fdopendir_dup(dirfd);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	char **v = NULL;
	size_t k = 0;
	while ((de = readdir(d))) {
		if (!rotated_name(de->d_name))
			continue;
		char **nv = realloc(v, (k + 1) * sizeof(*v));
		char *s = strdup(de->d_name);
		if (!nv || !s) {
			free(s);
			audit_free_names(nv ? nv : v, k);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[k++] = s;
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_names);
	*names = v;
	*n = k;
	return 0;
}

void audit_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* After the chain: the sidecar must name a checkpoint the log holds, and (unless allowed)
 * nothing may follow the last checkpoint unsigned. */
static enum audit_fault check_sidecar(int dirfd, struct walk *w, bool allow_unsigned_tail, struct audit_result *r)
{
	struct checkpoint_sidecar sc;
	char why[300];
	int rc = checkpoint_sidecar_read(dirfd, &sc, why, sizeof(why));
	uint64_t last = w->n ? w->e[w->n - 1].seq : 0;
	if (rc == -ENOENT) {
		if (r->checkpoints)
			return fault(r, AUDIT_UNSIGNED, CHECKPOINT_SIDECAR, 0, 0,
				     "%s is missing, but the log holds checkpoints: it was removed", CHECKPOINT_SIDECAR);
	} else if (rc < 0) {
		return fault(r, rc == -EBADMSG ? AUDIT_EDITED : AUDIT_IO, CHECKPOINT_SIDECAR, 0, 0, "%s", why);
	} else if (sc.seq > last) {
		return fault(r, AUDIT_TRUNCATED, SVF_LOG_NAME, 0, last,
			     "the log ends at seq %" PRIu64 ", but its last checkpoint is seq %" PRIu64
			     " (%s): whole records were cut off the end", last, sc.seq, CHECKPOINT_SIDECAR);
	} else {
		struct entry *en = NULL;
		for (size_t i = w->n; i-- > 0;)
			if (w->e[i].seq == sc.seq) {
				en = &w->e[i];
				break;
			}
		if (!en || !en->checkpoint || strcmp(en->hash, sc.hash) != 0)
			return fault(r, AUDIT_EDITED, SVF_LOG_NAME, en ? en->line : 0, sc.seq,
				     "%s names checkpoint seq %" PRIu64 " with hash %.16s…, which the log does not hold",
				     CHECKPOINT_SIDECAR, sc.seq, sc.hash);
	}
	if (r->unsigned_tail && !allow_unsigned_tail)
		return fault(r, AUDIT_UNSIGNED, SVF_LOG_NAME, 0, last,
			     "%" PRIu64 " record%s after the last checkpoint (seq %" PRIu64 "…%" PRIu64 ") %s not signed: "
			     "a run still in progress, or one whose runner died (the next run's sweep completes and signs it)",
			     r->unsigned_tail, r->unsigned_tail > 1 ? "s" : "", last - r->unsigned_tail + 1, last,
			     r->unsigned_tail > 1 ? "are" : "is");
	return AUDIT_INTACT;
}

enum audit_fault audit_verify(int dirfd, const uint8_t pk[PASERK_PK_BYTES], bool allow_unsigned_tail,
			      struct audit_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->head, sizeof(r->head), "%s", SVF_ZERO_HASH);
	if (sodium_init() < 0)
		return fault(r, AUDIT_IO, "", 0, 0, "libsodium init failed");
	char **rot = NULL;
	size_t nrot = 0;
	if (audit_rotated_files(dirfd, &rot, &nrot) < 0)
		return fault(r, AUDIT_IO, ".", 0, 0, "cannot list the log directory: %s", strerror(errno));
	struct walk w = { .pk = pk };
	enum audit_fault f = AUDIT_INTACT;
	if (nrot + 1 > sizeof(w.names) / sizeof(w.names[0])) {
		f = fault(r, AUDIT_IO, ".", 0, 0, "more than %zu rotated files", sizeof(w.names) / sizeof(w.names[0]) - 1);
		goto out;
	}
	for (size_t i = 0; i <= nrot && f == AUDIT_INTACT; i++) {
		const char *name = i < nrot ? rot[i] : SVF_LOG_NAME;
		w.names[w.nfiles] = name;
		int fd = safedir_openat(dirfd, name, O_RDONLY, 0);
		if (fd == -ENOENT && i == nrot)
			break;   /* no current file: only rotated ones (or nothing) */
		if (fd < 0) {
			f = fault(r, AUDIT_IO, name, 0, 0, "%s", strerror(-fd));
			break;
		}
		flock(fd, LOCK_SH);   /* never half an append */
		f = read_records(&w, fd, 0, w.nfiles, i == nrot, r);
		close(fd);
		w.nfiles++;
		r->files = w.nfiles;
	}
	/* A fault while reading is reported after the chain up to it, which may hold an
	 * earlier one (a deletion before a cut record). */
	struct audit_result rr = *r;
	enum audit_fault cf = classify(&w, 1, SVF_ZERO_HASH, &rr);
	if (cf != AUDIT_INTACT) {
		*r = rr;
		f = cf;
	} else if (f == AUDIT_CUT_RECORD) {
		/* A crash cuts only a record no checkpoint names yet (the sidecar is written
		 * after its checkpoint is on disk): a cut named checkpoint was cut by someone. */
		struct checkpoint_sidecar sc;
		char why[300];
		uint64_t last = w.n ? w.e[w.n - 1].seq : 0;
		if (checkpoint_sidecar_read(dirfd, &sc, why, sizeof(why)) == 0 && sc.seq > last)
			f = fault(r, AUDIT_TRUNCATED, SVF_LOG_NAME, 0, last,
				  "the log's last checkpoint (seq %" PRIu64 ", %s) is cut: records were cut off the end, "
				  "not by a crash", sc.seq, CHECKPOINT_SIDECAR);
		r->records = rr.records;
		r->checkpoints = rr.checkpoints;
	} else if (f == AUDIT_INTACT) {
		*r = rr;
		f = check_sidecar(dirfd, &w, allow_unsigned_tail, r);
	} else {
		r->records = rr.records;
		r->checkpoints = rr.checkpoints;
	}
out:
	free(w.e);
	audit_free_names(rot, nrot);
	return f;
}

enum audit_fault audit_check_tail(int dirfd, int log_fd, const uint8_t pk[PASERK_PK_BYTES],
				  struct audit_tail *t, struct audit_result *r)
{
	memset(r, 0, sizeof(*r));
	memset(t, 0, sizeof(*t));
	snprintf(r->head, sizeof(r->head), "%s", SVF_ZERO_HASH);
	struct walk w = { .pk = pk, .nfiles = 1 };
	char tailname[64];
	w.names[0] = SVF_LOG_NAME;
	struct stat st;
	if (fstat(log_fd, &st) < 0)
		return fault(r, AUDIT_IO, SVF_LOG_NAME, 0, 0, "stat: %s", strerror(errno));
	struct checkpoint_sidecar sc;
	char why[300];
	int rc = checkpoint_sidecar_read(dirfd, &sc, why, sizeof(why));
	if (rc < 0 && rc != -ENOENT)
		return fault(r, rc == -EBADMSG ? AUDIT_EDITED : AUDIT_IO, CHECKPOINT_SIDECAR, 0, 0, "%s", why);
	bool have_sc = rc == 0;
	if (have_sc && sc.offset >= st.st_size)
		return fault(r, AUDIT_TRUNCATED, SVF_LOG_NAME, 0, 0,
			     "the log is %jd bytes, but its last checkpoint (seq %" PRIu64 ", %s) starts at byte %jd: "
			     "whole records were cut off the end", (intmax_t)st.st_size, sc.seq, CHECKPOINT_SIDECAR,
			     (intmax_t)sc.offset);
	if (have_sc) {
		snprintf(tailname, sizeof(tailname), "%s (from byte %jd)", SVF_LOG_NAME, (intmax_t)sc.offset);
		w.names[0] = tailname;
	}
	enum audit_fault f = read_records(&w, log_fd, have_sc ? sc.offset : 0, 0, true, r);
	enum audit_fault cf = AUDIT_INTACT;
	if (have_sc) {
		struct entry *first = w.n ? &w.e[0] : NULL;
		if (!first && f == AUDIT_CUT_RECORD) {
			cf = fault(r, AUDIT_TRUNCATED, SVF_LOG_NAME, 0, sc.seq,
				   "the log's last checkpoint (seq %" PRIu64 ", %s) is cut: records were cut off the end, "
				   "not by a crash", sc.seq, CHECKPOINT_SIDECAR);
		} else if (!first || first->seq != sc.seq || strcmp(first->hash, sc.hash) != 0 || !first->checkpoint) {
			cf = fault(r, AUDIT_EDITED, SVF_LOG_NAME, first ? first->line : 0, sc.seq,
				   "%s names checkpoint seq %" PRIu64 " at byte %jd, which the log does not hold there",
				   CHECKPOINT_SIDECAR, sc.seq, (intmax_t)sc.offset);
		} else {
			cf = classify(&w, sc.seq, first->prev, r);
		}
	} else {
		cf = classify(&w, 1, SVF_ZERO_HASH, r);
		if (cf == AUDIT_INTACT && r->checkpoints)
			cf = fault(r, AUDIT_UNSIGNED, CHECKPOINT_SIDECAR, 0, 0,
				   "%s is missing, but the log holds checkpoints: it was removed", CHECKPOINT_SIDECAR);
	}
	if (cf == AUDIT_INTACT && f == AUDIT_INTACT) {
		t->last_seq = w.n ? w.e[w.n - 1].seq : (have_sc ? sc.seq : 0);
		memcpy(t->head, r->head, sizeof(t->head));
		t->last_is_checkpoint = w.n && w.e[w.n - 1].checkpoint;
	}
	free(w.e);
	return cf != AUDIT_INTACT ? cf : f;
}

enum audit_fault audit_verify_file(int fd, const char *name, const uint8_t pk[PASERK_PK_BYTES],
				   bool allow_unsigned_tail, struct audit_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->head, sizeof(r->head), "%s", SVF_ZERO_HASH);
	if (sodium_init() < 0)
		return fault(r, AUDIT_IO, "", 0, 0, "libsodium init failed");
	struct walk w = { .pk = pk, .nfiles = 1 };
	w.names[0] = name;
	r->files = 1;
	enum audit_fault f = read_records(&w, fd, 0, 0, true, r);
	/* As for a state dir: a fault while reading is reported after the chain up to it. */
	struct audit_result rr = *r;
	enum audit_fault cf = classify(&w, 1, SVF_ZERO_HASH, &rr);
	if (cf != AUDIT_INTACT) {
		*r = rr;
		f = cf;
	} else if (f != AUDIT_INTACT) {
		r->records = rr.records;
		r->checkpoints = rr.checkpoints;
	} else {
		*r = rr;
		uint64_t last = w.n ? w.e[w.n - 1].seq : 0;
		/* No sidecar travels with a shipped copy: the log's own checkpoints are all there
		 * is, so it must hold one, and (unless allowed) end in one. */
		if (!r->checkpoints)
			f = fault(r, AUDIT_UNSIGNED, name, 0, last,
				  w.n ? "%" PRIu64 " records and no checkpoint: nothing in it is signed"
				      : "no records: nothing arrived, nothing is signed", last);
		else if (r->unsigned_tail && !allow_unsigned_tail)
			f = fault(r, AUDIT_UNSIGNED, name, 0, last,
				  "%" PRIu64 " record%s after the last checkpoint (seq %" PRIu64 "…%" PRIu64 ") %s not "
				  "signed: a run in progress on the host, records not shipped yet, or the end of the "
				  "log lost", r->unsigned_tail, r->unsigned_tail > 1 ? "s" : "",
				  last - r->unsigned_tail + 1, last, r->unsigned_tail > 1 ? "are" : "is");
	}
	free(w.e);
	return f;
}
