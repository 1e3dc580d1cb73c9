#!/usr/bin/env bash
# Installs the Debian packages Shoal builds and tests against, when missing.
set -euo pipefail

packages=(librdkafka-dev libsqlite3-dev pkg-config kcat)
# The tests also lint a node's metrics with Prometheus' promtool.
[ "${1:-}" = "--tests" ] && packages+=(prometheus)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "shoal: installing ${missing[*]}" >&2
run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "shoal: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
}
export DEBIAN_FRONTEND=noninteractive
run_as_root apt-get update -qq
run_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
