#!/usr/bin/env bash
# Installs the system programs that the smoke tests use and npm does not provide:
# redis-server (breakwater/redis) and chromium (browser suites, dashboard). Debian's packages.
# Run by `npm test` before anything else; quiet when everything is already there.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
echo "system-deps: missing ${need[*]}; the smoke tests need them." >&2
echo "  On Debian or Ubuntu: sudo apt-get install ${need[*]}" >&2
exit 1
