# Shared by install-kiosk.sh and install-server.sh (sourced, not run).
# Expects $root (staging directory or empty for /) and $source_dir.
# shellcheck shell=bash disable=SC2154 # root and source_dir are the caller's

say() { printf '  %s\n' "$*"; }

# Copy a file only when its content or mode differs: a second run changes nothing.
put() {
    local mode=$1 src=$2 dest=$root$3
    mkdir -p "$(dirname "$dest")"
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "$mode" ]; then
        return 0
    fi
    install -m "$mode" "$src" "$dest"
    say "installed $3"
}

# The application in /opt/muso/app; the one it replaces is kept for rollback.
install_app() {
    local app=$root/opt/muso/app stage
    mkdir -p "$root/opt/muso"
    stage=$(mktemp -d)
    tar -C "$source_dir" --exclude=.git --exclude=.venv --exclude=__pycache__ --exclude='*.egg-info' \
        --exclude=.pytest_cache --exclude=.ruff_cache --exclude=.hypothesis --exclude=.mypy_cache -cf - . |
        tar -C "$stage" -xf -
    if [ -d "$app" ] && diff -rq "$stage" "$app" >/dev/null 2>&1; then
        say "application unchanged"
    else
        if [ -d "$app" ]; then
            rm -rf "$app.previous"
            mv "$app" "$app.previous"
            say "previous application kept in /opt/muso/app.previous"
        fi
        mkdir -p "$app"
        tar -C "$stage" -cf - . | tar -C "$app" -xf -
        say "installed /opt/muso/app"
    fi
    rm -rf "$stage"
}

# The virtual environment and the package (skipped with --no-venv).
install_venv() {
    if [ ! -x "$root/opt/muso/venv/bin/python" ]; then
        python3 -m venv "$root/opt/muso/venv"
        say "created /opt/muso/venv"
    fi
    "$root/opt/muso/venv/bin/python" -m pip install -q --upgrade pip
    "$root/opt/muso/venv/bin/python" -m pip install -q "$root/opt/muso/app"
    say "installed the muso package"
}
