#!/usr/bin/env bash
# Set up this checkout on a fresh machine, then run the demo or the tests.
#   deploy/dev.sh demo [ARGS]   the kiosk on a demo group
#   deploy/dev.sh test [ARGS]   the test suite (ARGS go to pytest)
# Idempotent: the virtual environment is made once and reinstalled only when
# pyproject.toml changes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="${MUSO_VENV:-$root/.venv}"

# Shared libraries the PySide6 wheels expect from the system (offscreen, for the tests; xcb and
# Wayland, to open a window), and the DejaVu fonts that the app and the receipt previews use.
# Found with readelf/ldd on the wheels' Qt libraries and platform plugins (the rest of what they
# load comes with these as dependencies, or with every Debian system).
SYSTEM_PACKAGES="libglib2.0-0 libegl1 libgl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3
    fonts-dejavu-core
    libxcb1 libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
    libxcb-xfixes0 libxcb-xkb1 libwayland-client0 libwayland-cursor0 libwayland-egl1
    chromium"
# chromium: the browser the console's end-to-end tests drive through Playwright (tests/test_console_e2e.py;
# never `playwright install`, which downloads a browser of its own). Those tests skip without it.

missing_packages() {
    command -v dpkg-query >/dev/null 2>&1 || return 0  # not a Debian system: nothing to check here
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || printf '%s ' "$package"
    done
}

need_python() {
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Python 3.11 or newer is needed (Raspberry Pi OS Bookworm and Debian 12 have it)." >&2
        exit 1
    fi
    venv_missing=""
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || venv_missing="python3-venv"
    # shellcheck disable=SC2086  # the list is split into package names on purpose
    missing="$venv_missing $(missing_packages $SYSTEM_PACKAGES)"
    if [ -n "${missing// /}" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            # shellcheck disable=SC2086
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                $missing >/dev/null
        elif [ -n "$venv_missing" ]; then
            echo "python3-venv is missing: sudo apt-get install$missing" >&2
            exit 1
        else
            echo "Missing system packages for the app (Qt, fonts) and browser tests: sudo apt-get install$missing" >&2
        fi
    fi
}

setup() {
    need_python
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e "${root}[dev]"
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
