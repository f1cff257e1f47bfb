# shellcheck shell=bash
# HAProxy instances of our own (not Debian's service): each lives in a
# directory that holds its haproxy.cfg, written by the caller (the Galera
# writer/backup front, the API copies' front, a test), and its pid file.
#
#   altostack_haproxy_up DIR      start (or reload, when running) DIR/haproxy.cfg
#   altostack_haproxy_down DIR    stop it and wait until it is gone
#   altostack_haproxy_running DIR true while it runs
#
# The configuration is checked (haproxy -c) before it is used, so a bad one
# fails here with HAProxy's own message rather than in a half-started daemon.

_altostack_haproxy_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/altostack.sh
source "$_altostack_haproxy_lib/altostack.sh"

_altostack_haproxy_pid() {
    local f=$1/haproxy.pid p
    [ -s "$f" ] || return 1
    p=$(head -n1 "$f")
    # (a pid file of an HAProxy killed -9 may name a reused number, which
    # a reload's -sf would signal)
    altostack_alive "$p" && grep -q haproxy "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}

altostack_haproxy_running() {
    _altostack_haproxy_pid "$1" >/dev/null
}

altostack_haproxy_up() {
    local dir=$1 cfg=$1/haproxy.cfg pid _
    [ -f "$cfg" ] || { echo "[haproxy] no $cfg" >&2; return 1; }
    haproxy -c -q -f "$cfg" || { echo "[haproxy] $cfg is not valid" >&2; return 1; }
    if pid=$(_altostack_haproxy_pid "$dir"); then
        # A soft reload: the old process finishes its connections.
        haproxy -D -f "$cfg" -p "$dir/haproxy.pid" -sf "$pid"
    else
        rm -f "$dir/haproxy.pid"
        haproxy -D -f "$cfg" -p "$dir/haproxy.pid"
    fi
    for _ in $(seq 1 50); do
        altostack_haproxy_running "$dir" && return 0
        sleep 0.1
    done
    echo "[haproxy] did not start from $cfg" >&2
    return 1
}

altostack_haproxy_down() {
    local dir=$1 pid
    if pid=$(_altostack_haproxy_pid "$dir"); then
        altostack_stop_pid -w 5 "$pid" || echo "[haproxy] $pid would not die" >&2
    fi
    rm -f "$dir/haproxy.pid"
}
