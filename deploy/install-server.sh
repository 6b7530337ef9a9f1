#!/usr/bin/env bash
# Stand up the MUSO sync server on Debian 12/13: PostgreSQL, Caddy (TLS), the app, its service.
#
#   sudo deploy/install-server.sh --domain muso.example.org
#   deploy/install-server.sh --root DIR --domain muso.example.org --no-venv   # staging (tests)
#
# Idempotent. Secrets are generated once into /etc/muso/server.env and never
# overwritten; migrations run as the service's ExecStartPre, before the workers.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/.." && pwd)
root=""
domain=""
packages=1
venv=1

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"  # the header comment
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=${2:?--root needs a directory}; packages=0; shift 2 ;;
        --domain) domain=${2:?}; shift 2 ;;
        --no-packages) packages=0; shift ;;
        --no-venv) venv=0; shift ;;
        -h|--help) usage ;;
        *) echo "unknown option: $1" >&2; usage ;;
    esac
done
[ -n "$domain" ] || { echo "--domain is required (the name coordinators and kiosks use)" >&2; exit 2; }
if [ -n "$root" ]; then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
elif [ "$(id -u)" != 0 ]; then
    echo "run as root (sudo), or with --root DIR to stage the files" >&2
    exit 1
fi

# shellcheck source=deploy/lib.sh
. "$here/lib.sh"

echo "MUSO server: installing into ${root:-/}"
if [ "$packages" = 1 ]; then
    echo "System packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql caddy python3-venv openssl >/dev/null
fi

if [ -z "$root" ] && ! id muso-server >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/muso-server --shell /usr/sbin/nologin muso-server
    say "created user muso-server"
fi

if [ -z "$root" ]; then
    echo "Database"
    runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'muso-server'" | grep -q 1 ||
        runuser -u postgres -- createuser muso-server
    runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'muso'" | grep -q 1 ||
        runuser -u postgres -- createdb --owner=muso-server muso
fi

echo "Application"
install_app
if [ "$venv" = 1 ]; then
    install_venv
fi

echo "Configuration"
env_file=$root/etc/muso/server.env
if [ ! -e "$env_file" ]; then
    mkdir -p "$(dirname "$env_file")"
    secret=$(openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-48)
    umask 077
    sed "s/@SECRET@/$secret/" "$here/server/server.env" >"$env_file"
    chmod 640 "$env_file"
    say "installed /etc/muso/server.env with a new secret"
fi
caddy_conf=$(mktemp)
sed "s/@DOMAIN@/$domain/" "$here/server/Caddyfile" >"$caddy_conf"
put 644 "$caddy_conf" /etc/caddy/Caddyfile
rm -f "$caddy_conf"
put 644 "$source_dir/systemd/muso-server.service" /etc/systemd/system/muso-server.service
put 755 "$here/server/muso-server" /usr/local/bin/muso-server
if [ -z "$root" ]; then
    chgrp muso-server "$env_file"
fi

echo "Services"
if [ -n "$root" ]; then
    systemctl --root="$root" enable muso-server.service >/dev/null 2>&1 || true
else
    systemctl daemon-reload
    systemctl enable --now muso-server.service
    systemctl reload caddy || systemctl restart caddy
    echo "Create the first administrator: muso-server create-user NAME"
fi
echo "Done."
