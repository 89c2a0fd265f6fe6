# For the host suites that link a test helper against calyx's own objects (a token
# signer, a relinked calyx, the enforcer API's smoke test): the objects of the build the
# binary under test comes from, never a fixed build/. Source it after CALYX is set:
#   . tests/lib/objs.sh
# BUILD: the binary's directory (build/, or make test-asan's build/asan).
# OBJ_CFLAGS: the flags those objects were built with beyond the defaults, which every
# compile and link against them needs too: the sanitizer flags of a make test-asan build
# (the Makefile writes them to $BUILD/sanitize.flags), empty for the plain build.
# BUILD is relative to the repository root (the suites' cwd) when it is under it, so
# `make BUILD=$BUILD` names the same targets as the Makefile's own .d files do.
BUILD=$(realpath --relative-to="$PWD" "$(dirname "$CALYX")")
OBJ_CFLAGS=$(cat "$BUILD/sanitize.flags" 2>/dev/null || true)
