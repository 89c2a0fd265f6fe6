#!/usr/bin/env bash
# Run every cmocka unit test binary; fail if any fails or if none ran.
set -u
[ $# -gt 0 ] || { echo "run-unit-tests: no unit tests were built" >&2; exit 1; }
fail=0
for t in "$@"; do
  echo "== $(basename "$t")"
  "$t" || fail=1
done
exit $fail
