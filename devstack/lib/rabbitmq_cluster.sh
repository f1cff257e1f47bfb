# shellcheck shell=bash
# A RabbitMQ cluster of our own on one machine (../shared/RECIPES.md item 9):
# N nodes of the Debian RabbitMQ 3.10, each its own Erlang VM with its own
# config, mnesia, log and pid files under DIR, one Erlang cookie (DIR/home)
# and one epmd of its own on a free port, so neither the machine's broker on
# 5672 nor its epmd on 4369 is touched. Nodes are rmq-TAG-I@localhost and
# listen on 127.0.0.1 only.
#
#   altostack_rabbit_cluster_up DIR [N]        start (or keep) N nodes (3), join them,
#                                              make the cloud's user and vhost
#   altostack_rabbit_cluster_url DIR           the transport_url listing every node
#   altostack_rabbit_node_kill DIR I           kill -9 node I (its whole process group)
#   altostack_rabbit_node_start DIR I          start node I again; it rejoins the cluster
#   altostack_rabbit_node_running DIR I        true while node I's VM runs
#   altostack_rabbit_quorum_leader DIR QUEUE   the index I of the node that leads QUEUE
#   altostack_rabbit_ctl DIR I ARGS...         rabbitmqctl against node I
#   altostack_rabbit_cluster_down DIR          stop every node and the epmd, leave nothing
#   altostack_rabbit_client_options            the [oslo_messaging_rabbit] section of
#                                              every service on a cluster
#
# Settings (optional; fixed in DIR/cluster.env the first time up runs):
#   ALTOSTACK_RABBIT_TAG    short tag in every node name (random)
#   ALTOSTACK_RABBIT_USER / ALTOSTACK_RABBIT_PASSWORD / ALTOSTACK_RABBIT_VHOST
#                           the cloud's login and vhost (altostack / random / altostack)
#
# The cluster runs `cluster_partition_handling = pause_minority` (a node
# that cannot see a majority stops serving rather than diverge) and the
# cloud's vhost has quorum as its default queue type, so a queue declared
# without a type is replicated too. Ports (AMQP and Erlang distribution per
# node, epmd) are picked free the first time and kept in DIR/cluster.env.

# What every service of a cloud on a cluster runs with (oslo.messaging
# >= 18; docs/deploy/rabbitmq.md says why each).
altostack_rabbit_client_options() {
    cat <<EOF
[oslo_messaging_rabbit]
rabbit_quorum_queue = true
rabbit_transient_quorum_queue = true
rabbit_stream_fanout = true
use_queue_manager = true
rabbit_qos_prefetch_count = 50
heartbeat_timeout_threshold = 10
heartbeat_rate = 2
rabbit_retry_interval = 1
rabbit_retry_backoff = 1
rabbit_interval_max = 5
kombu_reconnect_delay = 0.5
EOF
}

_arc_log() {
    echo "[rabbitmq-cluster] $*" >&2
}

_ARC_BIN=/usr/lib/rabbitmq/bin

# A TCP port nothing listens on, from 20000-29999 (below the ephemeral
# range; the CLI's own distribution ports are these + 10000).
_arc_free_port() {
    local p taken
    taken=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
    while :; do
        p=$((20000 + RANDOM % 10000))
        grep -qx "$p" <<<"$taken" && continue
        grep -qw "$p" <<<"${_ARC_PICKED:-}" && continue
        _ARC_PICKED="${_ARC_PICKED:-} $p"
        echo "$p"
        return 0
    done
}

# Load (or make, the first time) DIR/cluster.env.
_arc_env() {
    local dir=$1 n=${2:-3} i
    if [ ! -f "$dir/cluster.env" ]; then
        mkdir -p "$dir/home"
        _ARC_PICKED=
        {
            echo "ARC_TAG=${ALTOSTACK_RABBIT_TAG:-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
            echo "ARC_N=$n"
            echo "ARC_EPMD_PORT=$(_arc_free_port)"
            for i in $(seq 1 "$n"); do
                echo "ARC_PORT_$i=$(_arc_free_port)"
                echo "ARC_DIST_$i=$(_arc_free_port)"
            done
            echo "ARC_USER=${ALTOSTACK_RABBIT_USER:-altostack}"
            echo "ARC_PASSWORD=${ALTOSTACK_RABBIT_PASSWORD:-$(head -c12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
            echo "ARC_VHOST=${ALTOSTACK_RABBIT_VHOST:-altostack}"
        } >"$dir/cluster.env.tmp"
        mv "$dir/cluster.env.tmp" "$dir/cluster.env"
    fi
    # shellcheck disable=SC1091
    . "$dir/cluster.env"
    if [ ! -s "$dir/home/.erlang.cookie" ]; then
        head -c15 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$dir/home/.erlang.cookie"
        chmod 400 "$dir/home/.erlang.cookie"
    fi
}

_arc_node() {
    echo "rmq-$ARC_TAG-$1@localhost"
}

# _rabbit_run HOME D NODENAME ADDR PORT DIST TOOL ARGS...: a RabbitMQ tool
# as a node whose files are under D sees it (no Debian wrapper: it switches
# user; no /etc/rabbitmq/rabbitmq-env.conf: it forces a name), the node
# listening for AMQP on ADDR:PORT and for distribution on DIST. Extra
# settings (ERL_EPMD_PORT, RABBITMQ_USE_LONGNAME) come as the caller's
# assignments before the call.
_rabbit_run() {
    local home=$1 d=$2 node=$3 addr=$4 port=$5 dist=$6 tool=$7
    shift 7
    env HOME="$home" \
        RABBITMQ_CONF_ENV_FILE="$d/env.conf" RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
        RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS="$addr" \
        RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$dist" \
        RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_PID_FILE="$d/pid" \
        ERL_FLAGS="-kernel inet_dist_use_interface {${addr//./,}}" \
        "$_ARC_BIN/$tool" "$@"
}

# Run a RabbitMQ tool as node I of the cluster under DIR sees it.
_arc_run() {
    local dir=$1 i=$2 tool=$3 port dist
    shift 3
    port=ARC_PORT_$i dist=ARC_DIST_$i
    ERL_EPMD_PORT="$ARC_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
        _rabbit_run "$dir/home" "$dir/r$i" "$(_arc_node "$i")" 127.0.0.1 "${!port}" \
        "${!dist}" "$tool" "$@"
}

altostack_rabbit_ctl() {
    local dir=$1 i=$2
    shift 2
    _arc_env "$dir"
    _arc_run "$dir" "$i" rabbitmqctl -q -n "$(_arc_node "$i")" "$@"
}

_arc_pgid() {
    local f=$1/r$2/pgid p
    [ -s "$f" ] || return 1
    p=$(cat "$f")
    kill -0 -- "-$p" 2>/dev/null && echo "$p"
}

altostack_rabbit_node_running() {
    _arc_pgid "$1" "$2" >/dev/null
}

_arc_write_node_files() {
    local dir=$1 i=$2 d=$1/r$2 port
    port=ARC_PORT_$i
    mkdir -p "$d/mnesia" "$d/log"
    : >"$d/env.conf"
    echo "[]." >"$d/enabled_plugins"
    echo "[]." >"$d/advanced.config"
    cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:${!port}
cluster_partition_handling = pause_minority
loopback_users = none
log.file.level = info
log.console = false
EOF
}

_arc_epmd_up() {
    local dir=$1 _
    if ! epmd -port "$ARC_EPMD_PORT" -names >/dev/null 2>&1; then
        ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$ARC_EPMD_PORT" -daemon
        for _ in $(seq 1 50); do
            epmd -port "$ARC_EPMD_PORT" -names >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        _arc_log "epmd did not start on port $ARC_EPMD_PORT"
        return 1
    fi
}

# Start node I's VM as a process group of its own (the caller has `set -m`
# on, so a background job leads its group); the group id is kept, so kill
# and down reach every process the VM spawned.
_arc_spawn() {
    local dir=$1 i=$2 d=$1/r$2
    altostack_rabbit_node_running "$dir" "$i" && return 0
    _arc_write_node_files "$dir" "$i"
    _arc_run "$dir" "$i" rabbitmq-server </dev/null >>"$d/out.log" 2>&1 &
    echo $! >"$d/pgid"
}

_arc_await() {
    local dir=$1 i=$2 t=${3:-90} end
    end=$((SECONDS + t))
    while [ $SECONDS -lt $end ]; do
        if ! altostack_rabbit_node_running "$dir" "$i"; then
            _arc_log "node $i exited; see $dir/r$i/out.log and $dir/r$i/log/"
            return 1
        fi
        _arc_run "$dir" "$i" rabbitmqctl -q -n "$(_arc_node "$i")" await_startup \
            --timeout 30 >/dev/null 2>&1 && return 0
        sleep 1
    done
    _arc_log "node $i did not start in ${t}s; see $dir/r$i/log/"
    return 1
}

_arc_members() {
    _arc_run "$1" "$2" rabbitmqctl -q -n "$(_arc_node "$2")" eval \
        'rabbit_nodes:all().' 2>/dev/null
}

altostack_rabbit_cluster_up() {
    local dir=$1 n=${2:-3} i first
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    _arc_env "$dir" "$n"
    _arc_epmd_up "$dir" || return 1
    set -m
    for i in $(seq 1 "$ARC_N"); do
        _arc_spawn "$dir" "$i"
    done
    set +m
    for i in $(seq 1 "$ARC_N"); do
        _arc_await "$dir" "$i" || return 1
    done
    first=$(_arc_node 1)
    for i in $(seq 2 "$ARC_N"); do
        _arc_members "$dir" "$i" | grep -q "'$first'" && continue
        _arc_log "joining $(_arc_node "$i") to $first"
        altostack_rabbit_ctl "$dir" "$i" stop_app >/dev/null &&
            altostack_rabbit_ctl "$dir" "$i" join_cluster "$first" >/dev/null &&
            altostack_rabbit_ctl "$dir" "$i" start_app >/dev/null || {
            _arc_log "node $i did not join; see $dir/r$i/log/"
            return 1
        }
    done
    if ! altostack_rabbit_ctl "$dir" 1 list_users | grep -q "^$ARC_USER[[:space:]]"; then
        altostack_rabbit_ctl "$dir" 1 add_user "$ARC_USER" "$ARC_PASSWORD" >/dev/null
    fi
    if ! altostack_rabbit_ctl "$dir" 1 list_vhosts | grep -qx "$ARC_VHOST"; then
        altostack_rabbit_ctl "$dir" 1 add_vhost "$ARC_VHOST" --default-queue-type quorum >/dev/null
    fi
    altostack_rabbit_ctl "$dir" 1 set_permissions -p "$ARC_VHOST" "$ARC_USER" '.*' '.*' '.*' >/dev/null
    # The well-known guest login is not needed by anyone.
    altostack_rabbit_ctl "$dir" 1 delete_user guest >/dev/null 2>&1 || true
}

altostack_rabbit_cluster_url() {
    local dir=$1 i port hosts=
    _arc_env "$dir"
    for i in $(seq 1 "$ARC_N"); do
        port=ARC_PORT_$i
        hosts="$hosts${hosts:+,}$ARC_USER:$ARC_PASSWORD@127.0.0.1:${!port}"
    done
    echo "rabbit://$hosts/$ARC_VHOST"
}

altostack_rabbit_node_kill() {
    local dir=$1 i=$2 p _
    p=$(_arc_pgid "$dir" "$i") || return 0
    kill -KILL -- "-$p" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 -- "-$p" 2>/dev/null || return 0
        sleep 0.05
    done
    _arc_log "node $i (process group $p) still there after kill -9"
    return 1
}

altostack_rabbit_node_start() {
    local dir=$1 i=$2
    _arc_env "$dir"
    _arc_epmd_up "$dir" || return 1
    set -m
    _arc_spawn "$dir" "$i"
    set +m
    _arc_await "$dir" "$i"
}

# The node index (1..N) whose member leads quorum queue QUEUE of the vhost.
altostack_rabbit_quorum_leader() {
    local dir=$1 queue=$2 i leader
    _arc_env "$dir"
    for i in $(seq 1 "$ARC_N"); do
        altostack_rabbit_node_running "$dir" "$i" || continue
        leader=$(altostack_rabbit_ctl "$dir" "$i" list_queues -p "$ARC_VHOST" --no-table-headers \
            name leader 2>/dev/null | awk -v q="$queue" '$1 == q {print $2}')
        [ -n "$leader" ] || continue
        leader=${leader%@localhost}
        echo "${leader##*-}"
        return 0
    done
    _arc_log "no leader found for queue $queue"
    return 1
}

altostack_rabbit_cluster_down() {
    local dir=$1 i p _
    [ -f "$dir/cluster.env" ] || return 0
    _arc_env "$dir"
    for i in $(seq 1 "$ARC_N"); do
        altostack_rabbit_node_kill "$dir" "$i" || true
        rm -f "$dir/r$i/pgid"
    done
    if epmd -port "$ARC_EPMD_PORT" -names >/dev/null 2>&1; then
        epmd -port "$ARC_EPMD_PORT" -kill >/dev/null 2>&1 || true
    fi
    for _ in $(seq 1 50); do
        epmd -port "$ARC_EPMD_PORT" -names >/dev/null 2>&1 || break
        sleep 0.1
    done
    # An epmd that refused to die (it should not: our nodes are gone) is ours:
    # only it listens on our port.
    p=$(ss -Hltnp "sport = :$ARC_EPMD_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1)
    [ -n "$p" ] && kill -KILL "${p#pid=}" 2>/dev/null
    return 0
}

# -- one node per machine ---------------------------------------------------
# deploy/ansible runs one node on each controller instead: rabbit@ADDR
# (long names: the address is the host part, no name service needed), AMQP
# on ADDR:5672, distribution on ADDR:25672, the machine's own epmd (4369,
# started by the node), files under DIR; every node has the same COOKIE.
#
#   altostack_rabbit_host_node_up DIR ADDR COOKIE [JOIN_ADDR]
#       start this machine's node (idempotent); with JOIN_ADDR, join that
#       node's cluster unless a member already
#   altostack_rabbit_host_login DIR ADDR USER PASSWORD VHOST
#       the cloud's login and its vhost (quorum queues by default)
#   altostack_rabbit_host_ctl DIR ADDR ARGS...   rabbitmqctl against the node
#   DIR/rabbitmqctl ARGS...                      the same as a command (written by
#                                                node_up; e.g. [node_join] rabbitmqctl)

_ARH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rabbitmq_cluster.sh

_arh_run() {
    local dir=$1 addr=$2 tool=$3
    shift 3
    RABBITMQ_USE_LONGNAME=true \
        _rabbit_run "$dir/home" "$dir" "rabbit@$addr" "$addr" 5672 25672 "$tool" "$@"
}

altostack_rabbit_host_ctl() {
    local dir=$1 addr=$2
    shift 2
    _arh_run "$dir" "$addr" rabbitmqctl -q -n "rabbit@$addr" "$@"
}

altostack_rabbit_host_node_up() {
    local dir=$1 addr=$2 cookie=$3 join=${4:-} end
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    if [ "$(cat "$dir/home/.erlang.cookie" 2>/dev/null)" != "$cookie" ]; then
        rm -f "$dir/home/.erlang.cookie"
        printf '%s' "$cookie" >"$dir/home/.erlang.cookie"
        chmod 400 "$dir/home/.erlang.cookie"
    fi
    if ! { [ -s "$dir/pgid" ] && kill -0 -- "-$(cat "$dir/pgid")" 2>/dev/null; }; then
        : >"$dir/env.conf"
        echo "[]." >"$dir/enabled_plugins"
        echo "[]." >"$dir/advanced.config"
        cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = $addr:5672
cluster_partition_handling = pause_minority
loopback_users = none
log.file.level = info
log.console = false
CONF
        # A session of its own: it outlives the (ssh) session that started it.
        (
            # shellcheck disable=SC2016  # $$ is the inner shell's
            setsid bash -c 'echo $$ >"$0/pgid"; exec "$@"' "$dir" \
                bash -c "$(declare -f _rabbit_run _arh_run); _ARC_BIN=$_ARC_BIN; _arh_run \"\$@\"" _ \
                "$dir" "$addr" rabbitmq-server </dev/null >>"$dir/out.log" 2>&1 &
        )
    fi
    cat >"$dir/rabbitmqctl" <<CTL
#!/bin/bash
# rabbitmqctl against rabbit@$addr (written by devstack/lib/rabbitmq_cluster.sh).
source '$_ARH_LIB'
altostack_rabbit_host_ctl '$dir' '$addr' "\$@"
CTL
    chmod 700 "$dir/rabbitmqctl"
    end=$((SECONDS + 120))
    until altostack_rabbit_host_ctl "$dir" "$addr" await_startup --timeout 20 >/dev/null 2>&1; do
        if [ $SECONDS -ge $end ]; then
            _arc_log "rabbit@$addr did not start; see $dir/out.log and $dir/log/"
            return 1
        fi
        # A node left with its application stopped (a join that failed
        # half-way) starts it again.
        altostack_rabbit_host_ctl "$dir" "$addr" start_app >/dev/null 2>&1 || sleep 1
    done
    [ -n "$join" ] && [ "$join" != "$addr" ] || return 0
    altostack_rabbit_host_ctl "$dir" "$addr" eval 'rabbit_nodes:all().' 2>/dev/null |
        grep -q "'rabbit@$join'" && return 0
    _arc_log "joining rabbit@$addr to rabbit@$join"
    altostack_rabbit_host_ctl "$dir" "$addr" stop_app >/dev/null &&
        altostack_rabbit_host_ctl "$dir" "$addr" join_cluster "rabbit@$join" >/dev/null &&
        altostack_rabbit_host_ctl "$dir" "$addr" start_app >/dev/null || {
        _arc_log "rabbit@$addr did not join rabbit@$join; see $dir/log/"
        return 1
    }
}

altostack_rabbit_host_login() {
    local dir=$1 addr=$2 user=$3 password=$4 vhost=$5
    if ! altostack_rabbit_host_ctl "$dir" "$addr" list_users | grep -q "^$user[[:space:]]"; then
        altostack_rabbit_host_ctl "$dir" "$addr" add_user "$user" "$password" >/dev/null
    fi
    if ! altostack_rabbit_host_ctl "$dir" "$addr" list_vhosts | grep -qx "$vhost"; then
        altostack_rabbit_host_ctl "$dir" "$addr" add_vhost "$vhost" \
            --default-queue-type quorum >/dev/null
    fi
    altostack_rabbit_host_ctl "$dir" "$addr" set_permissions -p "$vhost" "$user" '.*' '.*' '.*' \
        >/dev/null
    altostack_rabbit_host_ctl "$dir" "$addr" delete_user guest >/dev/null 2>&1 || true
}
