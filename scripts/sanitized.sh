#!/usr/bin/env bash
# Run one test tier against the sanitizer build (make test-asan, docs/sanitizers.md):
#   scripts/sanitized.sh REPORT_DIR CMD [ARG]...
# CMD runs with ASan, LSan and UBSan set to stop at the first finding, and every report
# goes to a file under REPORT_DIR (one per process) as well as failing that process: a
# finding in a process whose exit status no test looks at (a child, a command whose
# failure a test expects anyway) still fails the tier. REPORT_DIR is emptied first.
# Exit status: CMD's when it failed, 1 when it passed but a report was written.
set -u
[ $# -ge 2 ] || { echo "usage: $0 REPORT_DIR CMD [ARG]..." >&2; exit 2; }
dir=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir"
mkdir -p "$dir" || exit 2
dir=$(cd "$dir" && pwd)

# abort_on_error: a finding ends the process with SIGABRT (134), never with a status a
# test could take for calyx's own. detect_leaks: LeakSanitizer at every exit() of calyx
# (the CLI paths free what they allocate). log_path: the report also lands in $dir.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:log_path=$dir/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$dir/ubsan"
export LSAN_OPTIONS="suppressions=$here/tests/asan/lsan.supp:print_suppressions=0"

"$@"
rc=$?
reports=$(find "$dir" -type f | sort)
if [ -n "$reports" ]; then
  echo "sanitized.sh: sanitizer reports from '$*':" >&2
  for r in $reports; do
    echo "---- $r" >&2
    cat "$r" >&2
  done
  [ $rc -ne 0 ] || rc=1
fi
exit $rc
