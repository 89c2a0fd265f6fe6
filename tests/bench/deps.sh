#!/usr/bin/env bash
# The benchmark's own Debian packages (make bench), installed the way scripts/deps.sh
# installs the build's: dpkg is asked first, apt only when something is missing (one
# `apt-get update`, then one install). Run as root.
#   hyperfine  host rows: timing calyx run, bwrap, firejail, /bin/true
#   bubblewrap, firejail: the peers calyx is compared with on the host
#   time       GNU time (/usr/bin/time -v): peak RSS
set -euo pipefail

PKGS=(hyperfine bubblewrap firejail time)

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "bench deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "bench deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
