#!/bin/sh
# bpf-lsm half of "a SIGKILLed calyx run leaves no sandbox unconfined" (the landlock half
# is in tests/host/run.sh). The checks are the VM tier's t_killrunner (make test-vm runs
# it with every other VM test); this boots the VM for it alone.
#   tests/host/vm/killed_runner.sh [CALYX_BIN]     on the host (default build/calyx)
# Not in tests/host/*.sh on purpose: run.sh runs those as host suites.
set -eu
cd "$(dirname "$0")/../../.."
exec scripts/vm-test.sh --tests t_killrunner "${1:-build/calyx}"
