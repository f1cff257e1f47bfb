# shellcheck shell=bash
# keepalived instances of our own (not Debian's service) holding a virtual
# address (VRRP) for the API front: each lives in a directory with its
# keepalived.conf, its pid files and its log, optionally inside a network
# namespace. The peers talk unicast VRRP (no multicast to configure on the
# network between them), all of them start as BACKUP and the highest
# priority takes the address; when it stops advertising, the next takes the
# address after about 3 x advert_int (3.4 s measured with advert_int 1).
#
#   altostack_keepalived_write DIR TAG IFACE VIP/PREFIX VRID PRIORITY SRC_IP PEER_IP...
#       write DIR/keepalived.conf; TAG names the instance (unique per cloud),
#       VRID (1-255) must differ from any other VRRP router on that network
#   altostack_keepalived_up DIR [NETNS]    start it (in NETNS when given)
#   altostack_keepalived_down DIR          stop it; the address goes with it
#   altostack_keepalived_running DIR       true while it runs
#   altostack_keepalived_pids DIR          its processes (parent and VRRP child)
#   altostack_keepalived_reload DIR        make a running one read its keepalived.conf again
#
# Optional settings of altostack_keepalived_write:
#   ALTOSTACK_KEEPALIVED_CHECK  a command (run as root every second): after
#       two failures in a row this peer gives the address up (FAULT) and
#       takes part again after two successes, e.g. "the HAProxy in front
#       runs"; its path must be writable by root only
#   ALTOSTACK_KEEPALIVED_NOPREEMPT  non-empty: a peer that comes back does
#       not take the address from the one holding it, whatever their
#       priorities (one move per failure, not two)
#
# A keepalived killed with SIGKILL does not remove the address it held: the
# new holder takes over with gratuitous ARPs, but the old machine still has
# it until it is rebooted or keepalived is started again there (a start
# clears the addresses of its configuration before it negotiates).

_altostack_keepalived_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/altostack.sh
source "$_altostack_keepalived_lib/altostack.sh"

altostack_keepalived_write() {
    local dir=$1 tag=$2 iface=$3 vip=$4 vrid=$5 prio=$6 src=$7 peer advert=${ALTOSTACK_VRRP_ADVERT_INT:-1}
    local check=${ALTOSTACK_KEEPALIVED_CHECK:-}
    shift 7
    mkdir -p "$dir"
    {
        cat <<CFG
# Written by altostack_keepalived_write (devstack/lib/keepalived.sh).
global_defs {
    router_id altostack_$tag
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 3
CFG
        if [ -n "$check" ]; then
            cat <<CFG
    script_user root
    enable_script_security
}

vrrp_script altostack_${tag}_check {
    script "$check"
    interval 1
    timeout 2
    fall 2
    rise 2
CFG
        fi
        cat <<CFG
}

vrrp_instance altostack_$tag {
    state BACKUP
    interface $iface
CFG
        [ -z "${ALTOSTACK_KEEPALIVED_NOPREEMPT:-}" ] || echo "    nopreempt"
        [ -z "$check" ] || printf '    track_script {\n        altostack_%s_check\n    }\n' "$tag"
        cat <<CFG
    virtual_router_id $vrid
    priority $prio
    advert_int $advert
    unicast_src_ip $src
    unicast_peer {
CFG
        for peer in "$@"; do
            echo "        $peer"
        done
        cat <<CFG
    }
    virtual_ipaddress {
        $vip dev $iface
    }
}
CFG
    } >"$dir/keepalived.conf.tmp"
    mv "$dir/keepalived.conf.tmp" "$dir/keepalived.conf"
}

altostack_keepalived_pids() {
    local f p
    for f in "$1/keepalived.pid" "$1/vrrp.pid"; do
        [ -s "$f" ] || continue
        p=$(head -n1 "$f")
        # (a pid file of a keepalived killed -9 may name a reused number)
        altostack_alive "$p" && grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && echo "$p"
    done
    return 0
}

altostack_keepalived_running() {
    [ -n "$(altostack_keepalived_pids "$1")" ]
}

altostack_keepalived_up() {
    local dir=$1 netns=${2:-} cfg=$1/keepalived.conf _
    local -a run=()
    [ -f "$cfg" ] || { echo "[keepalived] no $cfg" >&2; return 1; }
    altostack_keepalived_running "$dir" && return 0
    keepalived -t -f "$cfg" 2>"$dir/config-test.log" || {
        echo "[keepalived] $cfg is not valid: $(cat "$dir/config-test.log")" >&2; return 1; }
    [ -n "$netns" ] && run=(ip netns exec "$netns")
    rm -f "$dir"/*.pid
    # In the foreground of a session of its own (-n), logging to its file.
    setsid "${run[@]}" keepalived -n -l -D -G -P -f "$cfg" -p "$dir/keepalived.pid" \
        -r "$dir/vrrp.pid" -c "$dir/checkers.pid" -b "$dir/bfd.pid" \
        >>"$dir/keepalived.log" 2>&1 </dev/null &
    for _ in $(seq 1 50); do
        [ "$(altostack_keepalived_pids "$dir" | wc -l)" -ge 2 ] && return 0
        sleep 0.1
    done
    echo "[keepalived] did not start from $cfg (see $dir/keepalived.log)" >&2
    return 1
}

altostack_keepalived_reload() {
    local pid
    pid=$(altostack_keepalived_pids "$1" | head -n1)
    [ -n "$pid" ] || { echo "[keepalived] not running from $1" >&2; return 1; }
    keepalived -t -f "$1/keepalived.conf" 2>"$1/config-test.log" || {
        echo "[keepalived] $1/keepalived.conf is not valid: $(cat "$1/config-test.log")" >&2; return 1; }
    kill -HUP "$pid"
}

altostack_keepalived_down() {
    local dir=$1
    # shellcheck disable=SC2046  # a list of pids
    altostack_stop_pid -w 5 $(altostack_keepalived_pids "$dir") ||
        echo "[keepalived] would not die: $(altostack_keepalived_pids "$dir")" >&2
    rm -f "$dir"/*.pid
}
