#!/usr/bin/env bash
# Set up this checkout on a fresh machine, then run the demo or the tests.
#   deploy/dev.sh demo [ARGS]   the kiosk on a demo group
#   deploy/dev.sh test [ARGS]   the test suite (ARGS go to pytest)
# Idempotent: the virtual environment is made once and reinstalled only when
# pyproject.toml changes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="${MUSO_VENV:-$root/.venv}"

need_python() {
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Python 3.11 or newer is needed (Raspberry Pi OS Bookworm and Debian 12 have it)." >&2
        exit 1
    fi
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        else
            echo "python3-venv is missing: sudo apt-get install python3-venv" >&2
            exit 1
        fi
    fi
}

setup() {
    need_python
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e "$root[dev]"
        rm -f "$venv"/.installed-*
        touch "$stamp"
    fi
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
    demo)
        setup
        exec "$venv/bin/muso-kiosk" demo "$@"
        ;;
    test)
        setup
        cd "$root"
        exec "$venv/bin/python" -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    *)
        echo "usage: deploy/dev.sh demo|test|setup [ARGS]" >&2
        exit 2
        ;;
esac
