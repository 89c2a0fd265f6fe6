#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR (docs/install.md), and the deps split:
# - the files installed are exactly the expected ones, the binary is the one built and
#   runs from where it was installed (--version as the Makefile's CALYX_VERSION and this
#   tree's commit, --help);
# - every man page renders with `man -l` and `groff -ww` warns about nothing, every
#   command has its page, every page a SEE ALSO names is installed, and calyx-matrix(5)'s
#   example is a matrix calyx loads;
# - the bash completion sources and completes `calyx au<TAB>` to `audit`, subcommands,
#   options and backend names, from the installed binary;
# - the systemd unit is the oneshot start/stop (without --force) and systemd-analyze
#   verify finds nothing wrong with it;
# - a reinstall never overwrites an edited /etc/calyx/capability_matrix.yaml (the shipped
#   one goes beside it as .dist) and `make uninstall` removes exactly what was installed,
#   leaving the edited matrix and files of others in place;
# - scripts/deps.sh: the packages `make all` installs hold neither QEMU nor the fuzzing
#   toolchain, those `make test` installs hold every tier's.
# Touches no cgroup or BPF state (run it alone like the other host suites, under the tier lock).
#   tests/host/install.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALYX=$(realpath "${1:-build/calyx}")
# The build the binary comes from, and the flags it was built with (tests/lib/objs.sh: the
# sanitizer flags of make test-asan's build/asan): make install relinks with the same
# flags whenever its objects are newer, so the binary under test stays the one it was.
. tests/lib/objs.sh
. tests/lib/suite.sh

T=$(mktemp -d /tmp/calyx-install.XXXXXX) || { bad "mktemp"; finish; }
trap 'rm -rf "$T"' EXIT
D=$T/dest
REL=$(sed -n 's/^CALYX_VERSION *:= *//p' Makefile)
[ -n "$REL" ] || bad "no CALYX_VERSION line in the Makefile"

# make_in ARGS...: make in the repository with this suite's build dir; output in $T/make.out
make_in() { make -s -C "$ROOT" BUILD="$BUILD" SANITIZE="$OBJ_CFLAGS" "$@" >"$T/make.out" 2>&1; }
# files DIR: every file and symlink below DIR, relative, sorted
files() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort); }

# ---------------------------------------------------------------- install
# A file of someone else's in a directory calyx installs into: uninstall must leave it.
mkdir -p "$D/usr/bin" && echo other >"$D/usr/bin/other-tool"
if make_in install DESTDIR="$D" PREFIX=/usr; then ok "make install DESTDIR PREFIX=/usr"
else bad "make install DESTDIR PREFIX=/usr: $(tail -n 3 "$T/make.out")"; finish; fi

PAGES1=$(cd docs/man && ls *.1 | LC_ALL=C sort)
PAGES5=$(cd docs/man && ls *.5 | LC_ALL=C sort)
{
	echo etc/calyx/capability_matrix.yaml
	echo usr/bin/calyx
	echo usr/bin/other-tool
	echo usr/lib/systemd/system/calyx-enforcer.service
	echo usr/share/bash-completion/completions/calyx
	for p in $PAGES1; do echo "usr/share/man/man1/$p"; done
	for p in $PAGES5; do echo "usr/share/man/man5/$p"; done
} | LC_ALL=C sort >"$T/expected"
files "$D" >"$T/got"
check "exactly the binary, $(echo $PAGES1 $PAGES5 | wc -w) man pages, the completion, the unit and the matrix installed" \
	diff "$T/expected" "$T/got"
check "the installed binary is the one built (mode 0755)" \
	sh -c "cmp -s '$CALYX' '$D/usr/bin/calyx' && [ \$(stat -c %a '$D/usr/bin/calyx') = 755 ]"
check "the installed matrix is the shipped one byte for byte" cmp -s policies/capability_matrix.yaml "$D/etc/calyx/capability_matrix.yaml"

# ---------------------------------------------------------------- the installed binary
out=$("$D/usr/bin/calyx" --version 2>&1); rc=$?
commit=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
check "installed calyx --version: 'calyx $REL (commit $commit…)' (got '$out')" \
	sh -c "[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -Eqx 'calyx $REL \\(commit $commit(-dirty)?\\)'" _ "$out"
out=$("$D/usr/bin/calyx" --help 2>&1); rc=$?
check "installed calyx --help exits 0 and lists the commands" \
	sh -c "[ $rc -eq 0 ] && printf '%s' \"\$1\" | grep -q '^  audit verify ' && printf '%s' \"\$1\" | grep -q '^  enforcer stop '" _ "$out"

# ---------------------------------------------------------------- man pages
for p in $PAGES1 $PAGES5; do
	sec=${p##*.} name=${p%.*}
	f=$D/usr/share/man/man$sec/$p
	txt=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$f" 2>"$T/man.err"); rc=$?
	up=$(echo "$name" | tr a-z A-Z)
	check "man -l $p renders ($up($sec) header, NAME '$name', no errors)" \
		sh -c "[ $rc -eq 0 ] && [ ! -s '$T/man.err' ] && printf '%s\n' \"\$1\" | head -n1 | grep -q '^$up($sec) ' &&
		       printf '%s\n' \"\$1\" | grep -Eq '^ +$name +- '" _ "$txt"
	warn=$(groff -man -ww -z "$f" 2>&1)
	check "groff -ww: no warnings in $p${warn:+: $warn}" [ -z "$warn" ]
	check "$p: footer version $REL from the Makefile, no placeholder left" \
		sh -c "grep -q '^\\.TH .* \"calyx $REL\" ' '$f' && ! grep -q @VERSION@ '$f'"
done
# Every command `calyx --help` lists has its page; every page a SEE ALSO names exists.
missing=
for c in $("$CALYX" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' | sort -u); do
	[ -f "$D/usr/share/man/man1/calyx-$c.1" ] || missing+=" calyx-$c.1"
done
check "a man page per command of calyx --help${missing:+ (missing:$missing)}" [ -z "$missing" ]
dangling=
for ref in $(cat docs/man/*.[15] | sed -n 's/^\.BR \(calyx[a-z\\-]*\) (\([15]\)).*/\1.\2/p' | sed 's/\\-/-/g' | sort -u); do
	[ -f "$D/usr/share/man/man${ref##*.}/$ref" ] || dangling+=" $ref"
done
check "every page a SEE ALSO or .BR names is installed${dangling:+ (not:$dangling)}" [ -z "$dangling" ]
# calyx-matrix(5)'s EXAMPLE is a matrix calyx reads: a lease verifies against it.
sed -n '/^\.EX/,/^\.EE/p' docs/man/calyx-matrix.5 | sed '1d;$d' >"$T/example.yaml"
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
"$CALYX" lease issue -k "$T/k/calyx.key" -i INT-TEST-INSTALL --ttl 5m --cmd true --aud "$(uname -n)" -o "$T/l.tok" 2>/dev/null || bad "lease issue"
"$CALYX" lease verify --matrix "$T/example.yaml" --pub "$T/k/calyx.pub" "$T/l.tok" >"$T/verify.out" 2>&1; rc=$?
check "calyx-matrix(5)'s example loads: a lease verifies against it (exit $rc: $(head -c 200 "$T/verify.out"))" [ $rc -eq 0 ]

# ---------------------------------------------------------------- bash completion
# complete WORDS...: what TAB offers for the last word, with the installed calyx first on PATH
complete_words() {
	PATH="$D/usr/bin:$PATH" bash --norc --noprofile -c '
		. "$1" || exit 9
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_calyx
		echo "${COMPREPLY[*]}"' _ "$D/usr/share/bash-completion/completions/calyx" "$@"
}
reg=$(PATH="$D/usr/bin:$PATH" bash --norc --noprofile -c '. "$1" && complete -p calyx' _ "$D/usr/share/bash-completion/completions/calyx" 2>&1)
check "the completion sources and registers itself (got '$reg')" [ "$reg" = "complete -F _calyx calyx" ]
got=$(complete_words calyx au)
check "calyx au<TAB> completes to 'audit' (got '$got')" [ "$got" = audit ]
got=$(complete_words calyx audit "")
check "calyx audit <TAB>: its subcommands (got '$got')" [ "$got" = "repair show verify" ]
got=$(complete_words calyx enforcer stop --f)
check "calyx enforcer stop --f<TAB>: --force (got '$got')" [ "$got" = --force ]
got=$(complete_words calyx run --enforce "")
check "calyx run --enforce <TAB>: the backends (got '$got')" [ "$got" = "auto bpf-lsm landlock" ]
got=$(complete_words calyx --ver)
check "calyx --ver<TAB>: --version (got '$got')" [ "$got" = --version ]

# ---------------------------------------------------------------- systemd unit
U=$D/usr/lib/systemd/system/calyx-enforcer.service
check "the unit: oneshot, RemainAfterExit, start/stop the installed calyx, the stop without --force" \
	sh -c "grep -qx 'Type=oneshot' '$U' && grep -qx 'RemainAfterExit=yes' '$U' &&
	       grep -qx 'ExecStart=/usr/bin/calyx enforcer start' '$U' &&
	       grep -qx 'ExecStop=/usr/bin/calyx enforcer stop' '$U' && ! grep -v '^#' '$U' | grep -q -- '--force' &&
	       grep -qx 'WantedBy=multi-user.target' '$U'"
# systemd-analyze verify checks that ExecStart's binary exists and that the Documentation=
# man page resolves: the installed unit with its paths moved into the DESTDIR (an install
# with a real PREFIX would rebuild the binary: SYSCONFDIR is compiled in).
if command -v systemd-analyze >/dev/null; then
	sed "s|=/usr/bin/calyx |=$D/usr/bin/calyx |" "$U" >"$T/calyx-enforcer.service"
	if grep -q "^ExecStart=$D/usr/bin/calyx enforcer start\$" "$T/calyx-enforcer.service"; then
		v=$(MANPATH="$D/usr/share/man" systemd-analyze verify "$T/calyx-enforcer.service" 2>&1); rc=$?
		check "systemd-analyze verify: the unit is clean (exit $rc${v:+: $v})" [ $rc -eq 0 ] && [ -z "$v" ]
	else
		bad "the unit's ExecStart could not be moved into the DESTDIR for systemd-analyze"
	fi
	# The check can fail: a unit with an unknown Type= is not clean.
	sed 's/^Type=oneshot$/Type=bogus/' "$T/calyx-enforcer.service" >"$T/calyx-bogus.service"
	v=$(MANPATH="$D/usr/share/man" systemd-analyze verify "$T/calyx-bogus.service" 2>&1)
	check "... and it reports a unit with Type=bogus" [ -n "$v" ]
else
	diag "systemd-analyze not installed (scripts/deps.sh install installs systemd): the unit cannot be verified"
	bad "systemd-analyze verify: no systemd-analyze on this machine"
fi

# ---------------------------------------------------------------- reinstall, uninstall
M=$D/etc/calyx/capability_matrix.yaml
sed 's/^max_runs: .*/max_runs: 3/' policies/capability_matrix.yaml >"$M"
cp "$M" "$T/edited"
if make_in install DESTDIR="$D" PREFIX=/usr; then ok "make install again over the edited matrix"
else bad "make install again: $(tail -n 3 "$T/make.out")"; fi
check "the edited matrix is kept byte for byte, and make install says so" \
	sh -c "cmp -s '$T/edited' '$M' && grep -q 'differs from the shipped matrix: kept' '$T/make.out'"
check "the shipped matrix went beside it as capability_matrix.yaml.dist" cmp -s policies/capability_matrix.yaml "$M.dist"
if make_in uninstall DESTDIR="$D" PREFIX=/usr; then ok "make uninstall"
else bad "make uninstall: $(tail -n 3 "$T/make.out")"; fi
files "$D" >"$T/got"
printf '%s\n' etc/calyx/capability_matrix.yaml usr/bin/other-tool >"$T/expected"
check "uninstall removed everything it installed (the .dist too), left the edited matrix and the other file" \
	diff "$T/expected" "$T/got"
check "the edited matrix is still byte for byte the edit" cmp -s "$T/edited" "$M"

# An unedited install uninstalls to nothing, /etc/calyx included; the default PREFIX is /usr/local.
D2=$T/dest2
make_in install DESTDIR="$D2" || bad "make install DESTDIR (default PREFIX): $(tail -n 3 "$T/make.out")"
check "default PREFIX: the binary in /usr/local/bin, the unit runs it from there, the matrix still in /etc/calyx" \
	sh -c "[ -x '$D2/usr/local/bin/calyx' ] && grep -qx 'ExecStart=/usr/local/bin/calyx enforcer start' '$D2/usr/local/lib/systemd/system/calyx-enforcer.service' &&
	       [ -f '$D2/etc/calyx/capability_matrix.yaml' ] && [ -f '$D2/usr/local/share/man/man1/calyx.1' ]"
make_in uninstall DESTDIR="$D2" || bad "make uninstall DESTDIR (default PREFIX): $(tail -n 3 "$T/make.out")"
left=$(files "$D2"; [ -d "$D2/etc/calyx" ] && echo etc/calyx/)
check "an unedited install uninstalls to nothing, /etc/calyx removed${left:+ (left: $left)}" [ -z "$left" ]

# ---------------------------------------------------------------- deps split
# The groups `make GOAL` passes to scripts/deps.sh, and the packages they stand for.
pkgs_for() { local g; g=$(make -n -C "$ROOT" BUILD="$T/nobuild" "$@" 2>/dev/null | sed -n 's|^scripts/deps.sh ||p' | head -n1)
	[ -n "$g" ] || { echo "NO-DEPS-LINE"; return; }
	scripts/deps.sh --list $g | tr '\n' ' '; }
# has LIST PKG...: every PKG is in the space-separated LIST; lacks LIST PKG...: none is
has()   { local l=" $1 " p; shift; for p; do [[ $l == *" $p "* ]] || { WHY="no $p"; return 1; }; done; }
lacks() { local l=" $1 " p; shift; for p; do [[ $l != *" $p "* ]] || { WHY="has $p"; return 1; }; done; }
all_pkgs=$(pkgs_for all)
check "make all installs the build's packages ($all_pkgs)" \
	has "$all_pkgs" make gcc pkg-config clang-19 bpftool libbpf-dev libsodium-dev libyaml-dev libcjson-dev libseccomp-dev libarchive-dev
check "make all installs no QEMU, fuzzing toolchain, cmocka or VM initramfs tools" \
	lacks "$all_pkgs" qemu-system-x86 libfuzzer-19-dev libclang-rt-19-dev libcmocka-dev busybox-static cpio
check "make test installs every tier's packages (build, cmocka, python3-nacl, libFuzzer, QEMU, busybox-static, man-db, systemd)" \
	has "$(pkgs_for test)" gcc bpftool libcmocka-dev python3-nacl libfuzzer-19-dev libclang-rt-19-dev qemu-system-x86 busybox-static cpio man-db groff-base systemd
check "make fuzz installs libFuzzer and the sanitizer runtimes" \
	has "$(pkgs_for fuzz)" clang-19 libfuzzer-19-dev libclang-rt-19-dev
fuzz_pkgs=$(pkgs_for test-fuzz)
check "make test-fuzz installs libFuzzer and the sanitizer runtimes" has "$fuzz_pkgs" clang-19 libfuzzer-19-dev libclang-rt-19-dev
check "make test-fuzz installs no QEMU" lacks "$fuzz_pkgs" qemu-system-x86
check "make demo installs flake8 and the VM tier's packages" \
	has "$(pkgs_for demo)" gcc flake8 python3-nacl qemu-system-x86 busybox-static
unit_pkgs=$(pkgs_for test-unit)
check "make test-unit installs cmocka" has "$unit_pkgs" libcmocka-dev; check "make test-unit installs no QEMU" lacks "$unit_pkgs" qemu-system-x86

finish
