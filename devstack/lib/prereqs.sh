# shellcheck shell=bash
# Prerequisites of an Altostack host: Debian packages, a RabbitMQ broker,
# libvirtd without systemd, and the Python venv.
#
# Sourced by devstack/stack.sh and by ./run_tests.sh (both run with
# `set -euo pipefail`, as root). Every function is idempotent and cheap when
# there is nothing to do, so re-runs stay fast.

ALTOSTACK_DEBS=(
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config
    qemu-system-x86 qemu-utils
    python3-venv python3-dev gcc
    syslinux syslinux-common mtools dosfstools genisoimage
    dnsmasq-base fdisk iproute2 cpio curl nftables iputils-ping
    # The dashboard's browser tests (tests/fixtures/browser.py) drive
    # Debian's Chromium headless through Playwright; the font gives the
    # screenshots readable text.
    chromium chromium-driver fonts-dejavu-core
    # Many machines (the multinode tier, deploy/): the engines operators
    # run for a control plane that survives losing a machine, and shared
    # block storage (../shared/RECIPES.md item 9). Our own scripts start
    # them with their own files and ports; the packages' services stay off.
    galera-4 mariadb-server haproxy keepalived memcached openssh-server
    ceph-mon ceph-mgr ceph-osd ceph-common python3-rbd python3-rados qemu-block-extra
)

# Our own "apt-get update succeeded" stamp (apt's list files keep the
# repository's timestamps, so their mtime says little).
ALTOSTACK_APT_STAMP=${ALTOSTACK_APT_STAMP:-/var/lib/apt/periodic/altostack-update-stamp}

altostack_log() {
    echo "[${ALTOSTACK_LOG_PREFIX:-stack}] $*"
}

altostack_die() {
    echo "[${ALTOSTACK_LOG_PREFIX:-stack}] ERROR: $*" >&2
    return 1
}

_altostack_need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        altostack_die "$1 needs root (run this as root)"
        return 1
    fi
}

# ---------------------------------------------------------------- Debian --

# Print the packages among "$@" that are not installed, one a line.
altostack_missing_debs() {
    local installed
    installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
        awk '$NF == "installed" {print $1}') || true
    local p
    for p in "$@"; do
        if ! grep -qxF -- "$p" <<<"$installed"; then
            echo "$p"
        fi
    done
}

# True when the package lists were refreshed less than a day ago.
_altostack_apt_lists_fresh() {
    local f
    for f in "$ALTOSTACK_APT_STAMP" /var/lib/apt/periodic/update-success-stamp; do
        if [ -e "$f" ] && [ -n "$(find "$f" -maxdepth 0 -mmin -1440 2>/dev/null)" ]; then
            return 0
        fi
    done
    return 1
}

altostack_apt_update() {
    _altostack_need_root "apt-get update" || return 1
    altostack_log "refreshing the Debian package lists..."
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null; then
        altostack_die "apt-get update failed"
        return 1
    fi
    mkdir -p "$(dirname "$ALTOSTACK_APT_STAMP")"
    touch "$ALTOSTACK_APT_STAMP"
}

# Install the given Debian packages that are missing (non-interactive,
# without recommends). A quick no-op when all are there.
altostack_apt_install() {
    local -a missing
    mapfile -t missing < <(altostack_missing_debs "$@")
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    _altostack_need_root "installing ${missing[*]}" || return 1
    local updated=no
    if ! _altostack_apt_lists_fresh; then
        altostack_apt_update
        updated=yes
    fi
    altostack_log "installing Debian packages: ${missing[*]} (this takes a minute)..."
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
        --no-install-recommends -o Dpkg::Options::=--force-confdef
        -o Dpkg::Options::=--force-confold)
    if ! "${apt[@]}" "${missing[@]}" >/tmp/altostack-apt.log 2>&1; then
        # Stale lists are the usual cause (a package version vanished).
        if [ "$updated" = yes ] || ! altostack_apt_update ||
            ! "${apt[@]}" "${missing[@]}" >/tmp/altostack-apt.log 2>&1; then
            tail -n 20 /tmp/altostack-apt.log >&2
            altostack_die "apt-get install failed (full log: /tmp/altostack-apt.log)"
            return 1
        fi
    fi
}

altostack_install_debs() {
    altostack_apt_install "${ALTOSTACK_DEBS[@]}"
}

# -------------------------------------------------------------- RabbitMQ --

# True when something accepts TCP connections on HOST:PORT.
altostack_port_open() {
    timeout 2 bash -c "</dev/tcp/$1/$2" 2>/dev/null
}

_altostack_is_local_host() {
    case "$1" in
        localhost | 127.* | ::1 | "$(hostname)") return 0 ;;
    esac
    ip -o addr show 2>/dev/null | awk '{print $4}' | grep -q "^$1/"
}

_altostack_rabbit_ping() {
    rabbitmq-diagnostics -q ping >/dev/null 2>&1
}

# altostack_ensure_rabbitmq HOST PORT: reuse a broker answering there, or
# install and start a local RabbitMQ node.
altostack_ensure_rabbitmq() {
    local host=${1:-127.0.0.1} port=${2:-5672}
    if altostack_port_open "$host" "$port"; then
        altostack_log "reusing the AMQP broker on $host:$port"
        return 0
    fi
    if ! _altostack_is_local_host "$host"; then
        altostack_die "no AMQP broker answers on $host:$port (not this machine: start it there)"
        return 1
    fi
    altostack_apt_install rabbitmq-server
    # The package's postinst may have started it already.
    if ! _altostack_rabbit_ping; then
        altostack_log "starting RabbitMQ (a few seconds)..."
        if [ "$port" != 5672 ]; then
            export RABBITMQ_NODE_PORT=$port
        fi
        rabbitmq-server -detached
        # -detached returns before the node registers with epmd: poll ping
        # first, only then await_startup.
        local _
        for _ in $(seq 1 120); do
            _altostack_rabbit_ping && break
            sleep 0.5
        done
    fi
    if ! timeout 90 rabbitmqctl -q await_startup --timeout 80 >/dev/null 2>&1; then
        altostack_die "RabbitMQ did not start (see /var/log/rabbitmq/)"
        return 1
    fi
    local _
    for _ in $(seq 1 20); do
        altostack_port_open "$host" "$port" && break
        sleep 0.5
    done
    if ! altostack_port_open "$host" "$port"; then
        altostack_die "RabbitMQ runs but nothing answers on $host:$port"
        return 1
    fi
    altostack_log "RabbitMQ is up on $host:$port"
}

# altostack_ensure_vhost VHOST [USER]: the vhost exists and USER (guest) may
# configure, write and read everything in it. Needs a local rabbitmqctl.
altostack_ensure_vhost() {
    local vhost=$1 user=${2:-guest}
    if ! command -v rabbitmqctl >/dev/null 2>&1; then
        altostack_log "WARNING: no local rabbitmqctl; make sure vhost '$vhost' exists with permissions for $user"
        return 0
    fi
    # One call answers both questions when all is in place (~1 s).
    if rabbitmqctl -q list_permissions -p "$vhost" 2>/dev/null |
        awk -v u="$user" '$1 == u && $2 == ".*" && $3 == ".*" && $4 == ".*" {f = 1} END {exit !f}'; then
        return 0
    fi
    altostack_log "creating RabbitMQ vhost '$vhost'"
    local out
    if ! out=$(rabbitmqctl -q add_vhost "$vhost" 2>&1); then
        if ! grep -qi 'already exists' <<<"$out"; then
            echo "$out" >&2
            altostack_die "rabbitmqctl add_vhost $vhost failed"
            return 1
        fi
    fi
    rabbitmqctl -q set_permissions -p "$vhost" "$user" '.*' '.*' '.*' >/dev/null
}

# --------------------------------------------------------------- libvirtd --

altostack_libvirt_ok() {
    timeout 10 virsh -c qemu:///system version >/dev/null 2>&1
}

# True when the pid in FILE is a live process named NAME.
_altostack_pidfile_alive() {
    local file=$1 name=$2 pid
    [ -r "$file" ] || return 1
    pid=$(cat "$file" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# Start virtlogd and libvirtd by hand (no systemd here), once.
altostack_start_libvirtd() {
    if altostack_libvirt_ok; then
        return 0
    fi
    _altostack_need_root "starting libvirtd" || return 1
    altostack_log "starting libvirtd..."
    getent group kvm >/dev/null || groupadd -r kvm
    getent passwd libvirt-qemu >/dev/null ||
        useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
    local qconf=/etc/libvirt/qemu.conf
    if ! grep -qE '^[[:space:]]*user[[:space:]]*=' "$qconf" 2>/dev/null; then
        echo 'user = "root"' >>"$qconf"
    fi
    if ! grep -qE '^[[:space:]]*group[[:space:]]*=' "$qconf" 2>/dev/null; then
        echo 'group = "root"' >>"$qconf"
    fi
    mkdir -p /var/log/libvirt /var/run/libvirt
    if ! _altostack_pidfile_alive /run/virtlogd.pid virtlogd; then
        virtlogd -d
    fi
    if ! _altostack_pidfile_alive /run/libvirtd.pid libvirtd; then
        libvirtd -d
    fi
    local _
    for _ in $(seq 1 40); do
        if altostack_libvirt_ok; then
            altostack_log "libvirtd is up"
            return 0
        fi
        sleep 0.5
    done
    altostack_die "libvirtd did not answer on qemu:///system within 20 s (see /var/log/libvirt/)"
}

# ------------------------------------------------------------------ venv --

# The interpreter for the venv: python3.11 (or newer) from PATH, else python3.
altostack_python() {
    local c
    for c in python3.11 python3.12 python3.13 python3; do
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    altostack_die "Python >= 3.11 not found (apt-get install python3 python3-venv python3-dev)"
}

# What decides whether the venv must be re-installed: the packaging files,
# where the project lives (an editable install points there) and the pip
# requirement line.
_altostack_venv_fingerprint() {
    local project=$1 f
    {
        echo "project=$project"
        echo "reqs=$ALTOSTACK_PIP_EXTRAS $ALTOSTACK_PIP_EXTRA_PACKAGES"
        for f in setup.cfg setup.py pyproject.toml; do
            if [ -f "$project/$f" ]; then
                echo "$f $(sha256sum <"$project/$f")"
            fi
        done
    } | sha256sum | cut -d' ' -f1
}

ALTOSTACK_PIP_EXTRAS=${ALTOSTACK_PIP_EXTRAS:-mysql,postgresql,libvirt}
ALTOSTACK_PIP_EXTRA_PACKAGES=${ALTOSTACK_PIP_EXTRA_PACKAGES:-python-openstackclient}

# altostack_make_venv VENV PROJECT_DIR: a venv with the project installed in
# editable mode plus python-openstackclient; skipped when nothing changed.
altostack_make_venv() {
    local venv=$1 project
    project=$(cd "$2" && pwd -P)
    local stamp=$venv/.altostack-installed fp
    fp=$(_altostack_venv_fingerprint "$project")
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fp" ] &&
        "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        return 0
    fi
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        local py
        py=$(altostack_python)
        altostack_log "creating the venv $venv with $py"
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")"
        "$py" -m venv "$venv"
    fi
    local log=$venv/pip-install.log
    altostack_log "installing Altostack and $ALTOSTACK_PIP_EXTRA_PACKAGES into $venv" \
        "(libvirt-python compiles from source: ~20 s the first time; log: $log)..."
    rm -f "$stamp"
    local -a extra
    read -r -a extra <<<"$ALTOSTACK_PIP_EXTRA_PACKAGES"
    if ! {
        "$venv/bin/python" -m pip install -q --upgrade pip &&
            "$venv/bin/python" -m pip install -e "${project}[${ALTOSTACK_PIP_EXTRAS}]" "${extra[@]}"
    } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        altostack_die "pip install failed (full log: $log)"
        return 1
    fi
    echo "$fp" >"$stamp"
    altostack_log "venv ready"
}
