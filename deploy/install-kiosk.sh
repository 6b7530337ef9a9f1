#!/usr/bin/env bash
# Turn a Raspberry Pi (Raspberry Pi OS 64-bit, Bookworm or Trixie) into a MUSO kiosk.
#
#   sudo deploy/install-kiosk.sh --kiosk-id K07 [--read-only-root] [--data-device /dev/sda2]
#   deploy/install-kiosk.sh --root DIR [--no-venv]      # into a staging directory (tests, images)
#
# Idempotent: run it again after a `git pull` to update; files that did not
# change are not touched, the configuration in /etc/muso is never overwritten,
# and the previous application is kept in /opt/muso/app.previous for rollback.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/.." && pwd)
root=""
kiosk_id=""
packages=1
venv=1
read_only=0
data_device=""

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"  # the header comment
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=${2:?--root needs a directory}; packages=0; shift 2 ;;
        --kiosk-id) kiosk_id=${2:?}; shift 2 ;;
        --no-packages) packages=0; shift ;;
        --no-venv) venv=0; shift ;;
        --read-only-root) read_only=1; shift ;;
        --data-device) data_device=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "unknown option: $1" >&2; usage ;;
    esac
done

if [ -z "$root" ] && [ -z "$kiosk_id" ] && [ ! -e /var/lib/muso/kiosk.db ]; then
    # Receipts carry the kiosk id in their number: printed without one ("K00-…"), none of them
    # could ever be verified once the kiosk is enrolled under its real id.
    echo "--kiosk-id is needed on a first install (the id the coordinators gave this kiosk, e.g. K07)" >&2
    exit 2
fi

if [ -n "$root" ]; then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
elif [ "$(id -u)" != 0 ]; then
    echo "run as root (sudo), or with --root DIR to stage the files" >&2
    exit 1
fi

# Configuration: written once, then the technician's.
put_config() {
    local mode=$1 src=$2 dest=$root$3
    if [ -e "$dest" ]; then
        return 0
    fi
    put "$mode" "$src" "$3"
}

dir() {
    local mode=$1 path=$root$2
    mkdir -p "$path"
    [ "$(stat -c %a "$path")" = "$mode" ] || chmod "$mode" "$path"
}

# shellcheck source=deploy/lib.sh
. "$here/lib.sh"

echo "MUSO kiosk: installing into ${root:-/}"

if [ "$packages" = 1 ]; then
    echo "System packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # cage: a one-window Wayland compositor; the rest is what PySide6 and the printer need.
    apt-get install -y -qq --no-install-recommends \
        cage python3-venv python3-dev libusb-1.0-0 sqlite3 fonts-dejavu-core \
        libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libwayland-client0 libwayland-cursor0 \
        libwayland-egl1 systemd-timesyncd udisks2 >/dev/null
    if [ "$read_only" = 1 ]; then
        apt-get install -y -qq overlayroot >/dev/null
    fi
fi

if [ -z "$root" ] && ! id muso >/dev/null 2>&1; then
    echo "User"
    useradd --system --home-dir /var/lib/muso --shell /usr/sbin/nologin muso
    usermod -aG video,input,render,lp,dialout,plugdev muso 2>/dev/null || true
    say "created user muso"
fi

echo "Folders"
dir 755 /etc/muso
dir 750 /var/lib/muso
dir 750 /var/cache/muso
dir 755 /opt/muso
if [ "$read_only" = 1 ] && [ -n "$data_device" ]; then
    # Before anything is written there: the data partition is mounted on /var/lib/muso.
    line="$data_device /var/lib/muso ext4 defaults,noatime,commit=5 0 2"
    [ -e "$root/etc/fstab" ] || : >"$root/etc/fstab"
    grep -qF "$line" "$root/etc/fstab" || { echo "$line" >>"$root/etc/fstab"; say "data partition in /etc/fstab"; }
    if [ -z "$root" ] && ! mountpoint -q /var/lib/muso; then
        mount /var/lib/muso
        say "data partition mounted on /var/lib/muso"
    fi
fi
if [ -z "$root" ]; then
    chown muso:muso /var/lib/muso /var/cache/muso
    chmod 750 /var/lib/muso /var/cache/muso
fi

echo "Application"
install_app

if [ "$venv" = 1 ]; then
    install_venv
fi

echo "Configuration and system files"
put_config 640 "$here/kiosk/kiosk.env" /etc/muso/kiosk.env
put 644 "$here/kiosk/99-muso-printer.rules" /etc/udev/rules.d/99-muso-printer.rules
put 644 "$here/kiosk/99-muso-usb-sticks.rules" /etc/udev/rules.d/99-muso-usb-sticks.rules
put 644 "$here/kiosk/pam-muso-kiosk" /etc/pam.d/muso-kiosk
put 644 "$here/kiosk/timesyncd-muso.conf" /etc/systemd/timesyncd.conf.d/muso.conf
put 644 "$here/kiosk/tmpfiles-muso.conf" /etc/tmpfiles.d/muso.conf
put 755 "$here/kiosk/muso-kiosk" /usr/local/bin/muso-kiosk
for unit in muso-kiosk.service muso-sync.service muso-backup.service muso-backup.timer; do
    put 644 "$source_dir/systemd/$unit" "/etc/systemd/system/$unit"
done
if [ -z "$root" ]; then
    chgrp muso /etc/muso/kiosk.env
fi

# Screen blanking off: the console's, and the kernel's at boot.
cmdline=$root/boot/firmware/cmdline.txt
[ -f "$cmdline" ] || cmdline=$root/boot/cmdline.txt
if [ -f "$cmdline" ] && ! grep -q 'consoleblank=0' "$cmdline"; then
    sed -i '1 s/$/ consoleblank=0/' "$cmdline"
    say "screen blanking off in ${cmdline#"$root"}"
fi

if [ "$read_only" = 1 ]; then
    echo "Read-only root"
    put 644 "$here/kiosk/overlayroot.local.conf" /etc/overlayroot.local.conf
fi

echo "Services"
units="muso-kiosk.service muso-sync.service muso-backup.timer"
if [ -n "$root" ]; then
    # shellcheck disable=SC2086 # one word per unit
    systemctl --root="$root" enable $units >/dev/null 2>&1 || true
    systemctl --root="$root" set-default graphical.target >/dev/null 2>&1 || true
else
    udevadm control --reload || true
    systemctl daemon-reload
    # shellcheck disable=SC2086
    systemctl enable $units
    systemctl set-default graphical.target
    if [ -n "$kiosk_id" ]; then
        runuser -u muso -- env MUSO_DATA_DIR=/var/lib/muso /opt/muso/venv/bin/muso-kiosk init --kiosk-id "$kiosk_id"
    fi
fi

echo "Done. Next: docs/deploy.md (printer setup, enrollment, first group)."
