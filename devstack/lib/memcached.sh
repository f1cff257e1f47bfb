# shellcheck shell=bash
# memcached instances of our own (not Debian's service), each with its pid
# file in a directory, on the address and port given: the API copies share
# one for token validations ([cache] memcache_servers).
#
#   altostack_memcached_up DIR PORT [ADDR] [MEGABYTES]   start (idempotent)
#   altostack_memcached_down DIR                         stop, wait until gone
#   altostack_memcached_running DIR                      true while it runs

_altostack_memcached_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/altostack.sh
source "$_altostack_memcached_lib/altostack.sh"

_altostack_memcached_pid() {
    local f=$1/memcached.pid p
    [ -s "$f" ] || return 1
    p=$(head -n1 "$f")
    altostack_alive "$p" && echo "$p"
}

altostack_memcached_running() {
    _altostack_memcached_pid "$1" >/dev/null
}

altostack_memcached_up() {
    local dir=$1 port=$2 addr=${3:-127.0.0.1} mb=${4:-64} _
    mkdir -p "$dir"
    altostack_memcached_running "$dir" && return 0
    rm -f "$dir/memcached.pid"
    # -U 0: no UDP (an amplification vector, and nothing of ours uses it).
    memcached -d -u "$(id -un)" -l "$addr" -p "$port" -U 0 -m "$mb" -c 4096 \
        -P "$dir/memcached.pid" >>"$dir/memcached.log" 2>&1 || {
        echo "[memcached] did not start on $addr:$port" >&2; return 1; }
    for _ in $(seq 1 50); do
        if altostack_memcached_running "$dir" && (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null
        then
            return 0
        fi
        sleep 0.1
    done
    echo "[memcached] not answering on $addr:$port (see $dir/memcached.log)" >&2
    return 1
}

altostack_memcached_down() {
    local dir=$1 pid
    # A cache has nothing to save, and on TERM memcached waits ~2 s for its
    # clients' connections: KILL it.
    if pid=$(_altostack_memcached_pid "$dir"); then
        altostack_stop_pid -s KILL -w 5 "$pid" || echo "[memcached] $pid would not die" >&2
    fi
    rm -f "$dir/memcached.pid"
}
