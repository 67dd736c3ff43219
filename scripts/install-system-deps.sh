#!/usr/bin/env bash
# System packages the test suite needs that pip cannot provide: Debian's `chromium`, the
# headless browser tests/test_report.py opens the HTML report in (driven by Playwright's
# Python package with executable_path=/usr/bin/chromium; Playwright's own browser download is
# never used), and `postgresql`, the server tests/test_store.py runs the run store against
# (tests/postgres.py starts a throwaway cluster of its own; the package's default one is not
# used). Idempotent: does nothing when everything is already installed. Called by
# `make test` and .ci/run (CI runs as root on a fresh Debian machine).
set -euo pipefail

PACKAGES=(chromium postgresql)
missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "labecon: missing system package(s): ${missing[*]} (needed by the report's browser test and the store's PostgreSQL tests)." >&2
    echo "Run as root:  $command" >&2
    echo "or:           sudo scripts/install-system-deps.sh" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "labecon: missing system package(s) ${missing[*]} and no apt-get on this machine;" \
        "install Chromium (binary at /usr/bin/chromium) and PostgreSQL's server (programs in" \
        "/usr/lib/postgresql/VERSION/bin) with your system's package manager." >&2
    exit 1
fi
echo "labecon: installing ${missing[*]} (for the report's browser test and the store's PostgreSQL tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
