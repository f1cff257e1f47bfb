#!/bin/bash
# A RabbitMQ node of our own: its own name, ports, files and Erlang cookie
# under one directory, for a test or a benchmark that must not load (or be
# limited by) the machine's broker: e.g. thousands of simulated compute
# agents, one AMQP connection each, beyond the shared broker's socket limit.
# Idempotent; parameterised by a directory, a node name and two ports.
#
#   altostack_rabbit_node_start DIR NAME PORT DIST_PORT [FD_LIMIT]
#   altostack_rabbit_node_ctl DIR NAME rabbitmqctl-args...
#   altostack_rabbit_node_stop DIR NAME

_altostack_rabbit_node_env() {
    local dir=$1 name=$2
    export HOME=$dir/home RABBITMQ_CONF_ENV_FILE=$dir/env.conf \
        RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf RABBITMQ_NODENAME=$name@localhost \
        RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
        RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_PID_FILE=$dir/pid \
        ERL_CRASH_DUMP=$dir/erl_crash.dump
}

altostack_rabbit_node_start() {
    local dir=$1 name=$2 port=$3 dist=$4 fds=${5:-20000}
    # (The Erlang cookie lives in $dir/home: make it before asking.)
    mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
    if altostack_rabbit_node_ctl "$dir" "$name" status >/dev/null 2>&1; then
        return 0
    fi
    # Not /etc/rabbitmq/rabbitmq-env.conf: it may force the machine's node name.
    : > "$dir/env.conf"
    cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
loopback_users = none
CONF
    echo "[]." > "$dir/enabled_plugins"
    (
        _altostack_rabbit_node_env "$dir" "$name"
        export RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$dist
        ulimit -n "$fds" 2>/dev/null || true
        # The Debian wrapper switches user; run the server script itself.
        setsid /usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/out.log" 2>&1 &
    )
    local i
    for i in $(seq 1 120); do
        if altostack_rabbit_node_ctl "$dir" "$name" await_startup >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    echo "RabbitMQ node $name did not start; see $dir/out.log" >&2
    return 1
}

altostack_rabbit_node_ctl() {
    local dir=$1 name=$2
    shift 2
    (
        _altostack_rabbit_node_env "$dir" "$name"
        /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$name@localhost" "$@"
    )
}

altostack_rabbit_node_stop() {
    local dir=$1 name=$2
    altostack_rabbit_node_ctl "$dir" "$name" stop >/dev/null 2>&1 || true
    if [ -f "$dir/pid" ]; then
        local pid
        pid=$(cat "$dir/pid")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
}
