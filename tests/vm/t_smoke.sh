# Harness smoke test: calyx runs in the guest and python3 starts.
check "calyx --version runs in the guest" sh -c "$CALYX --version > $WORK/v 2>&1"
check "python3 --version in the guest" sh -c 'python3 --version 2>&1 | grep -q "^Python 3\."'
