# shellcheck shell=bash
# The API copies' front: one HAProxy (devstack/lib/haproxy.sh runs it) that
# spreads the clients' requests over every altostack-api copy and stops
# sending to a copy within about a second of its death. The Keystone
# catalog points at the front ([api] public_host/public_port).
#
#   altostack_api_front_write DIR ADDR PORT NAME=HOST:PORT...
#       write DIR/haproxy.cfg: the front on ADDR:PORT, one server per copy
#   altostack_api_front_up DIR / altostack_api_front_down DIR
#
# What a failed request may become:
# - a connection to a copy that fails (refused, reset before the request
#   was sent) is retried on another copy, for every method: the request
#   never reached the first one;
# - a GET/HEAD/OPTIONS that a copy received but did not answer (it died,
#   it timed out, it said 502/503/504) is retried on another copy too;
# - any other request (POST, PUT, PATCH, DELETE) that a copy may already
#   have received is never resent (http-request disable-l7-retry): its
#   client gets the error (a 502 or 504) and decides, since a replay could
#   create a second server or delete something twice.
# The copy itself is checked every 500 ms on /healthcheck (two failures
# take it out, two successes bring it back) and taken out at once on a
# failed connection (observe layer4).
# The stats socket (DIR/haproxy.sock) answers "show stat" (who is UP).
# ALTOSTACK_FRONT_HTTPCHK (default /healthcheck) is the path checked; empty:
# a connection check only (the image service's copies have no health path).

_api_front_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/haproxy.sh
source "$_api_front_lib/haproxy.sh"

altostack_api_front_write() {
    local dir=$1 addr=$2 port=$3 backend name
    shift 3
    [ $# -gt 0 ] || { echo "[api_front] no API copy given" >&2; return 1; }
    mkdir -p "$dir"
    {
        cat <<CFG
# Written by altostack_api_front_write (devstack/lib/api_front.sh).
global
    maxconn 4096
    stats socket $dir/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 180s
    timeout server 180s
    timeout http-request 30s
    timeout http-keep-alive 10s
    timeout check 2s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504

frontend altostack_api
    bind $addr:$port
    default_backend altostack_api_copies

backend altostack_api_copies
    balance roundrobin
$(if [ -n "${ALTOSTACK_FRONT_HTTPCHK-/healthcheck}" ]; then
        printf '    option httpchk GET %s\n    http-check expect status 200\n' \
            "${ALTOSTACK_FRONT_HTTPCHK-/healthcheck}"
    fi)
    # Only what is safe to repeat is retried once a copy may have it.
    http-request disable-l7-retry unless METH_GET || METH_OPTIONS
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
CFG
        for backend in "$@"; do
            name=${backend%%=*}
            echo "    server $name ${backend#*=} check"
        done
    } >"$dir/haproxy.cfg.tmp"
    mv "$dir/haproxy.cfg.tmp" "$dir/haproxy.cfg"
}

altostack_api_front_up() {
    altostack_haproxy_up "$1"
}

altostack_api_front_down() {
    altostack_haproxy_down "$1"
}
