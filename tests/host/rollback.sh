#!/usr/bin/env bash
# Rollback packs (docs/rollback.md), on this host's real runner: a run that rewrites,
# deletes, creates and chmods files in its :rw directory (files of several modes and
# owners, a symlink, a subdirectory) lists exactly that in meta.json's changes, and
# `calyx rollback` gives back the tree byte for byte (diff -r, and mode, owner, size,
# mtime and link target of every entry), with its lease_event.rolled_back record in a
# chain that still verifies; a change after the run is refused (76) and left alone until
# --force; a pack that is not the run's, or one whose members would write through a
# symlink, is refused (77) with nothing changed; a runner killed mid-run leaves a pack its
# sweep records, restored with --force; and a :rw path over the matrix's
# rollback_max_bytes is refused (66) before the lease is used: the same lease runs
# afterwards under a matrix that allows it. The rolled_back record is sealed by a signed
# checkpoint (`calyx audit verify` exits 0 right after), and a log whose tail does not
# verify refuses the rollback (80) before anything is restored. libarchive is loaded with
# dlopen, not linked: where it cannot be loaded a run with :rw paths is refused (74)
# before the lease is used.
#   tests/host/rollback.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
set -f   # lease patterns are arguments, never globs

suite_scratch rollback
# libarchive is opened at the first pack (user/rollback/archive_lib.h), never linked: a
# run without :rw paths and every other command start without its twelve libraries.
if ldd "$CALYX" | grep -q 'libarchive'; then bad "calyx links libarchive (it must dlopen it)"; else ok "calyx does not link libarchive"; fi
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
ST=$T/st
NOBODY=65534

# The tree under W: the sandbox (nobody) owns what it changes; a root-owned 0444 file and
# a 0700 root-owned subdirectory it leaves alone show owners coming back as they were.
W=$T/w
mk_tree() {
	rm -rf "$W"
	mkdir -p "$W/sub" "$W/rootdir"
	printf 'original a\n' > "$W/a.txt"
	printf 'to be deleted\n' > "$W/gone.txt"
	printf '#!/bin/sh\necho tool\n' > "$W/tool.sh"
	printf 'root only\n' > "$W/ro.txt"
	printf 'deep\n' > "$W/sub/deep.txt"
	printf 'hidden\n' > "$W/rootdir/h"
	ln -s a.txt "$W/link"
	chmod 0644 "$W/a.txt"; chmod 0600 "$W/gone.txt"; chmod 0755 "$W/tool.sh"; chmod 0444 "$W/ro.txt"
	chmod 0640 "$W/sub/deep.txt"; chmod 0700 "$W/rootdir"; chmod 0755 "$W/sub" "$W"
	chown -h "$NOBODY:$NOBODY" "$W" "$W/a.txt" "$W/gone.txt" "$W/tool.sh" "$W/sub" "$W/sub/deep.txt" "$W/link"
	touch -d '2024-01-02 03:04:05.123456789' "$W/a.txt" "$W/ro.txt" "$W/sub/deep.txt" "$W/sub"
	touch -h -d '2024-01-02 03:04:05' "$W/link"
	rm -rf "$T/before"
	cp -a "$W" "$T/before"
}
# listing DIR: every entry's path, type, mode, owner, size (not for directories), mtime and
# link target, sorted.
listing() { (cd "$1" && find . -printf '%p %y %m %U %G %T@ %l ' -a \( -type d -printf '-\n' -o -printf '%s\n' \) | sort); }
# same_tree: W is the tree it was before the run, byte for byte.
same_tree() {
	local d
	d=$(diff -r --no-dereference "$T/before" "$W" 2>&1) || { WHY="diff -r: $(echo "$d" | head -n 5 | tr '\n' '|')"; return 1; }
	d=$(diff <(listing "$T/before") <(listing "$W")) || { WHY="stat: $(echo "$d" | head -n 6 | tr '\n' '|')"; return 1; }
}

CMD="/bin/sh -c 'printf rewritten > $W/a.txt; rm $W/gone.txt; echo made > $W/sub/made.txt; chmod 700 $W/tool.sh'"
N=0
# job NAME [MATRIX]: issue a lease for CMD with W as its :rw path and run it; RC, ERR, RUN.
issue_job() {
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-ROLLBACK --ttl 5m \
		--cmd "$CMD" --helper /usr/bin/rm --helper /usr/bin/chmod --path "$W/**:rw" -o "$T/$1.tok" 2>"$T/$1.issue" || bad "issue $1: $(cat "$T/$1.issue")"
}
run_job() {
	local name=$1 matrix=${2:-}
	RC=0
	ERR=$T/$name.err
	"$CALYX" run --lease "$T/$name.tok" ${matrix:+--matrix "$matrix"} --pub "$T/k/calyx.pub" --state "$ST" -q \
		-- /bin/sh -c "printf rewritten > $W/a.txt; rm $W/gone.txt; echo made > $W/sub/made.txt; chmod 700 $W/tool.sh" \
		>"$T/$name.out" 2>"$ERR" || RC=$?
	ID=$("$CALYX" lease show "$T/$name.tok" 2>/dev/null | awk '$1 == "lease" { print $2 }')
	RUN=$ST/outgoing/staging_runs/$ID
}
rollback() { RRC=0; "$CALYX" rollback "$@" --state "$ST" >"$T/rb.out" 2>"$T/rb.err" || RRC=$?; }
meta() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(json.dumps(v))' "$RUN/meta.json" "$1" 2>/dev/null; }
expect_rc() { [ "$1" = "$2" ] || { WHY="exit $1, want $2: $(head -c 400 "$3" | tr '\n' '|')"; return 1; }; }
eq() { [ "$1" = "$2" ] || { WHY="got '$1', want '$2'"; return 1; }; }
# last_svf TYPE: the data of the last record of that type, as JSON.
last_svf() { python3 -c 'import json,sys
d = None
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == sys.argv[2]:
        d = {"lease": r["lease"], "intent": r["intent"], **r["data"]}
print(json.dumps(d, sort_keys=True))' "$ST/logs/svf_audit/svf.jsonl" "$1"; }
svf_chain_ok() {
	python3 - "$ST/logs/svf_audit/svf.jsonl" <<'EOF'
import hashlib, json, sys
prev, n = "0" * 64, 0
for line in open(sys.argv[1], "rb").read().splitlines():
    n += 1
    r = json.loads(line)
    cut = line[: line.rindex(b',"hash"')] + b"}"
    if r["seq"] != n or r["prev"] != prev or hashlib.blake2b(cut, digest_size=32).hexdigest() != r["hash"]:
        sys.exit("record %d breaks the chain" % n)
    prev = r["hash"]
EOF
}

# ---------------------------------------------------------------- A: run, changes, rollback
mk_tree
issue_job a
run_job a
check "the run that rewrites, deletes, creates and chmods exits 0" expect_rc "$RC" 0 "$ERR"
check "meta.json changes.created is exactly the file it made" eq "$(meta changes.created)" "[\"$W/sub/made.txt\"]"
check "meta.json changes.modified is exactly the rewritten and the chmodded file" eq "$(meta changes.modified)" "[\"$W/a.txt\", \"$W/tool.sh\"]"
check "meta.json changes.deleted is exactly the deleted file" eq "$(meta changes.deleted)" "[\"$W/gone.txt\"]"
check "meta.json rollback names the :rw path, the pack and both manifests" eq \
	"$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["rollback"]; print(r["paths"], r["entries"], r["pack"]["file"], r["manifest"]["file"], r["after"]["file"])' "$RUN/meta.json")" \
	"['$W'] 10 rollback.tar.gz rollback.json rollback-after.json"
check "the pack holds every entry of the tree before the run (tar tzf)" eq \
	"$(tar tzf "$RUN/rollback.tar.gz" | sed 's:/$::' | sort | tr '\n' ' ')" \
	"$(cd "$T/before" && find . | sed "s:^\.:${W#/}:" | sort | tr '\n' ' ')"
check "meta.json's existing fields are still there" eq "$(meta status) $(meta exit_code)" '"ok" 0'
check "the run really changed the tree" bash -c '! diff -r "$1" "$2" >/dev/null 2>&1' _ "$T/before" "$W"
rollback "$ID"
check "calyx rollback exits 0" expect_rc "$RRC" 0 "$T/rb.err"
check "... the tree is byte for byte what it was (diff -r; mode, owner, size, mtime, target of each entry)" same_tree
check "... it says what it did" grep -q "1 created removed, 2 modified and 1 deleted put back" "$T/rb.out"
SPID=$(last_svf lease_event.rollback_started | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "... lease_event.rolled_back names the run, the path, the counts and its rollback_started's pid" eq "$(last_svf lease_event.rolled_back)" \
	"$(python3 -c 'import json,sys; print(json.dumps({"lease": sys.argv[1], "intent": "INT-TEST-ROLLBACK", "run": 1, "run_dir": sys.argv[1], "paths": [sys.argv[2]], "removed": 1, "restored_modified": 2, "restored_deleted": 1, "entries": 10, "forced": False, "pid": int(sys.argv[3]), "changed_since_run": None}, sort_keys=True))' "$ID" "$W" "$SPID")"
check "... the SVF chain still verifies" svf_chain_ok
check "... its record in STATE/run is gone" bash -c '! ls "$1/run" 2>/dev/null | grep -q "^rollback-"' _ "$ST"
VRC=0; "$CALYX" audit verify --state "$ST" --pub "$ST/keys/audit.pub" >"$T/verify.out" 2>&1 || VRC=$?
check "... calyx audit verify exits 0: the record is sealed by a signed checkpoint at once" expect_rc "$VRC" 0 "$T/verify.out"
check "... the log's last record is that checkpoint" eq \
	"$(tail -n2 "$ST/logs/svf_audit/svf.jsonl" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["type"] for l in sys.stdin))')" \
	"lease_event.rolled_back log_event.checkpoint"
rollback "$ID"
check "a second rollback: the tree differs from the run's result now: 76" expect_rc "$RRC" 76 "$T/rb.err"

# ---------------------------------------------------------------- B: changed after the run
mk_tree
issue_job b
run_job b
check "run B exits 0" expect_rc "$RC" 0 "$ERR"
printf 'later\n' > "$W/later.txt"
rollback "$ID"
check "a change after the run: rollback refused (76)" expect_rc "$RRC" 76 "$T/rb.err"
check "... naming the path" grep -q "$W/later.txt changed since the run (new)" "$T/rb.err"
check "... and nothing was changed" bash -c '[ "$(cat "$1/later.txt")" = later ] && [ "$(cat "$1/a.txt")" = rewritten ] && [ ! -e "$1/gone.txt" ]' _ "$W"
rollback "$ID" --force
check "--force restores anyway (0)" expect_rc "$RRC" 0 "$T/rb.err"
check "... the tree is byte for byte what it was before the run" same_tree
check "... the record says forced and what changed since" eq \
	"$(python3 -c 'import json,sys; d = json.loads(sys.argv[1]); print(d["forced"], d["changed_since_run"], d["removed"])' "$(last_svf lease_event.rolled_back)")" \
	"True $W/later.txt 2"

# ---------------------------------------------------------------- C: packs that are not the run's
cp "$RUN/rollback.tar.gz" "$T/good.tar.gz"
# The attack: the manifest and the pack both say link -> /etc, then a member link/x.
python3 - "$T/evil.tar.gz" "${W#/}" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo(sys.argv[2]); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    l = tarfile.TarInfo(sys.argv[2] + "/link"); l.type = tarfile.SYMTYPE; l.linkname = "/etc"; t.addfile(l)
    data = b"pwned\n"
    f = tarfile.TarInfo(sys.argv[2] + "/link/calyx-rollback-pwned"); f.size = len(data); t.addfile(f, io.BytesIO(data))
EOF
cp "$T/evil.tar.gz" "$RUN/rollback.tar.gz"
printf 'after B\n' > "$W/a.txt"
rollback "$ID" --force
check "a pack that is not the one meta.json names: refused (77)" expect_rc "$RRC" 77 "$T/rb.err"
check "... saying so" grep -q "rollback.tar.gz is not the file the run wrote" "$T/rb.err"
# Now with meta.json naming it and a manifest of the root and link -> /etc (its hash in
# meta.json too): the member beneath the link is refused.
python3 - "$RUN" "$T/evil.tar.gz" <<'EOF'
import hashlib, json, sys
run, evil = sys.argv[1], sys.argv[2]
b2 = lambda b: hashlib.blake2b(b, digest_size=32).hexdigest()
man = json.load(open(run + "/rollback.json"))
root = man["roots"][0]
man["entries"] = [e for e in man["entries"] if e["path"] in (root, root + "/link")]
for e in man["entries"]:
    if e["path"] == root + "/link":
        e["target"], e["size"], e["blake2b"] = "/etc", 4, b2(b"/etc")
txt = json.dumps(man).encode()
open(run + "/rollback.json", "wb").write(txt)
m = json.load(open(run + "/meta.json"))
m["rollback"]["pack"]["blake2b"] = b2(open(evil, "rb").read())
m["rollback"]["manifest"]["blake2b"] = b2(txt)
json.dump(m, open(run + "/meta.json", "w"))
EOF
rollback "$ID" --force
check "a pack whose member lies beneath a symlink member: refused (77)" expect_rc "$RRC" 77 "$T/rb.err"
check "... naming it" grep -q "lies beneath the symlink member" "$T/rb.err"
check "... nothing written through the link, nothing changed" bash -c '[ ! -e /etc/calyx-rollback-pwned ] && [ "$(cat "$1/a.txt")" = "after B" ]' _ "$W"

# ---------------------------------------------------------------- D: a runner killed mid-run
# Its sweep (by the next run in this state dir) records the pack in the abandoned run's
# meta.json; no one walked the paths after the run, so only --force restores them.
mk_tree
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-ROLLBACK --ttl 5m \
	--cmd "/bin/sh -c 'printf killed > $W/a.txt; rm $W/gone.txt; sleep 60'" --helper /usr/bin/rm \
	--helper /usr/bin/sleep --path "$W/**:rw" -o "$T/e.tok" 2>"$T/e.issue" || bad "issue e: $(cat "$T/e.issue")"
"$CALYX" run --lease "$T/e.tok" --pub "$T/k/calyx.pub" --state "$ST" -q \
	-- /bin/sh -c "printf killed > $W/a.txt; rm $W/gone.txt; sleep 60" >"$T/e.out" 2>"$T/e.err" &
RP=$!
for _ in $(seq 200); do
	[ "$(cat "$W/a.txt" 2>/dev/null)" = killed ] && [ ! -e "$W/gone.txt" ] && break
	sleep 0.05
done
check "the killed run's command changed the tree" bash -c '[ "$(cat "$1/a.txt")" = killed ] && [ ! -e "$1/gone.txt" ]' _ "$W"
kill -KILL "$RP"
wait "$RP" 2>/dev/null
ID=$("$CALYX" lease show "$T/e.tok" 2>/dev/null | awk '$1 == "lease" { print $2 }')
RUN=$ST/outgoing/staging_runs/$ID
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-ROLLBACK --ttl 5m \
	--cmd /bin/true -o "$T/sweep.tok" 2>/dev/null || bad "issue sweep"
RC=0
"$CALYX" run --lease "$T/sweep.tok" --pub "$T/k/calyx.pub" --state "$ST" -q -- /bin/true >/dev/null 2>"$T/sweep.err" || RC=$?
check "the next run (its sweep finishes the killed run) exits 0" expect_rc "$RC" 0 "$T/sweep.err"
check "... the abandoned run's meta.json records the pack, no walk after it" eq \
	"$(meta status) $(meta changes) $(meta rollback.after) $(meta rollback.pack.file)" '"abandoned" null null "rollback.tar.gz"'
rollback "$ID"
check "rollback of the abandoned run without --force: 76" expect_rc "$RRC" 76 "$T/rb.err"
check "... saying why" grep -q "no record of the tree after the run" "$T/rb.err"
rollback "$ID" --force
check "--force restores the killed run's paths (0)" expect_rc "$RRC" 0 "$T/rb.err"
check "... byte for byte" same_tree

# ---------------------------------------------------------------- E: over the cap
mk_tree
head -c 4096 /dev/zero > "$W/big.bin"
chown "$NOBODY:$NOBODY" "$W/big.bin"
sed 's/^rollback_max_bytes: .*/rollback_max_bytes: 1K/' policies/capability_matrix.yaml > "$T/small.yaml"
grep -q '^rollback_max_bytes: 1K' "$T/small.yaml" || bad "the small matrix has rollback_max_bytes: 1K"
issue_job d
run_job d "$T/small.yaml"
check "a :rw path over rollback_max_bytes: refused (66)" expect_rc "$RC" 66 "$ERR"
# The bytes a pack holds: file sizes and symlink target lengths.
BYTES=$(python3 -c 'import os,sys
n = 0
for d, ds, fs in os.walk(sys.argv[1]):
    for x in ds + fs:
        p = os.path.join(d, x)
        n += len(os.readlink(p)) if os.path.islink(p) else os.lstat(p).st_size if os.path.isfile(p) else 0
print(n)' "$W")
check "... naming the path and the sizes" grep -qF "the :rw paths hold $BYTES bytes ($W: $BYTES bytes), more than the matrix's rollback_max_bytes 1K (1024 bytes)" "$ERR"
check "... nothing ran: the tree is untouched, no run directory" bash -c '[ "$(cat "$1/a.txt")" = "original a" ] && [ ! -e "$2" ]' _ "$W" "$RUN"
run_job d
check "... the lease was not used: it runs once the cap allows it (0)" expect_rc "$RC" 0 "$ERR"

# ---------------------------------------------------------------- F: a damaged audit log
# The record must be writable before anything is restored: a log whose last record was
# edited refuses the rollback with the fault's code (80), the tree and the log untouched.
mk_tree
issue_job f
run_job f
check "run F exits 0" expect_rc "$RC" 0 "$ERR"
LOGF=$ST/logs/svf_audit/svf.jsonl
cp "$LOGF" "$T/log.good"
sed -i '$ s/"type":"log_event.checkpoint"/"type":"log_event.checkpoinT"/' "$LOGF"
cp "$LOGF" "$T/log.edited"
rollback "$ID"
diag "rollback on the edited log: $(head -c 400 "$T/rb.err")"
check "rollback on a log whose last record was edited: refused (80)" expect_rc "$RRC" 80 "$T/rb.err"
check "... saying so, and that nothing was changed" grep -q "the audit log .*nothing was changed" "$T/rb.err"
check "... the tree is still the run's result" bash -c '[ "$(cat "$1/a.txt")" = rewritten ] && [ ! -e "$1/gone.txt" ] && [ -e "$1/sub/made.txt" ]' _ "$W"
check "... and the log is as it was" cmp -s "$LOGF" "$T/log.edited"
cp "$T/log.good" "$LOGF"
rollback "$ID"
check "the log put back, the rollback runs (0)" expect_rc "$RRC" 0 "$T/rb.err"
check "... byte for byte" same_tree

# ---------------------------------------------------------------- G: no libarchive
# In a mount namespace of its own, /dev/null bound over the library: the run is refused
# before the ledger (74) naming the library and the package, nothing changed, and the
# same lease runs once the library is back.
LIBA=$(readlink -f /usr/lib/x86_64-linux-gnu/libarchive.so.13)
mk_tree
issue_job g
RC=0
unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' _ "$LIBA" \
	"$CALYX" run --lease "$T/g.tok" --pub "$T/k/calyx.pub" --state "$ST" -q \
	-- /bin/sh -c "printf rewritten > $W/a.txt; rm $W/gone.txt; echo made > $W/sub/made.txt; chmod 700 $W/tool.sh" \
	>"$T/g.out" 2>"$T/g.err" || RC=$?
check "libarchive unloadable: the run is refused (74)" expect_rc "$RC" 74 "$T/g.err"
check "... naming the library, the package and that the lease was not used" \
	grep -q "cannot load libarchive.so.13 .*libarchive13; nothing was run, the lease was not used" "$T/g.err"
check "... the tree is untouched" bash -c '[ "$(cat "$1/a.txt")" = "original a" ]' _ "$W"
run_job g
check "... the same lease runs with the library back (0)" expect_rc "$RC" 0 "$ERR"

finish
