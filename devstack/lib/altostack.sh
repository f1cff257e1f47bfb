# shellcheck shell=bash
# Settings and service helpers shared by stack.sh and unstack.sh.
# Every setting can be given in the environment; unstack.sh needs the same
# ALTOSTACK_STATE as the stack.sh it undoes.

# shellcheck disable=SC2034  # the settings are used by the scripts sourcing this
altostack_settings() {
    ALTOSTACK_STATE=${ALTOSTACK_STATE:-/var/lib/altostack}
    ALTOSTACK_ETC=${ALTOSTACK_ETC:-/etc/altostack}
    ALTOSTACK_VENV=${ALTOSTACK_VENV:-/opt/altostack/venv}
    ALTOSTACK_BIN_DIR=${ALTOSTACK_BIN_DIR:-/usr/local/bin}
    ALTOSTACK_CLOUDS_YAML=${ALTOSTACK_CLOUDS_YAML:-/etc/openstack/clouds.yaml}
    ALTOSTACK_GUEST_IMAGE_DIR=${ALTOSTACK_GUEST_IMAGE_DIR:-$ALTOSTACK_STATE/guest-image}
    ALTOSTACK_WAIT=${ALTOSTACK_WAIT:-60}
    ADMIN_PASSWORD=${ADMIN_PASSWORD:-altostack-admin}
    DEMO_PASSWORD=${DEMO_PASSWORD:-altostack-demo}
    HOST_IP=${HOST_IP:-127.0.0.1}
    API_PORT=${API_PORT:-8080}
    IMAGE_PORT=${IMAGE_PORT:-9292}
    SERIALPROXY_PORT=${SERIALPROXY_PORT:-6083}
    DASHBOARD_PORT=${DASHBOARD_PORT:-8000}
    NOVNCPROXY_PORT=${NOVNCPROXY_PORT:-6080}
    TRANSPORT_URL=${TRANSPORT_URL:-rabbit://guest:guest@127.0.0.1:5672/altostack}
    DATABASE_URL=${DATABASE_URL:-sqlite:///$ALTOSTACK_STATE/altostack.sqlite}

    ALTOSTACK_CONF=$ALTOSTACK_ETC/altostack.conf
    ALTOSTACK_LOGS=$ALTOSTACK_STATE/logs
    ALTOSTACK_RUN=$ALTOSTACK_STATE/run

    # Compute hosts on this machine (lib/hosts.sh): host 1 is the
    # all-in-one, hosts 2..N each a namespace with its own libvirtd and agent.
    ALTOSTACK_COMPUTE_HOSTS=${ALTOSTACK_COMPUTE_HOSTS:-1}
    ALTOSTACK_HOST_NAME_PREFIX=${ALTOSTACK_HOST_NAME_PREFIX:-host}
    ALTOSTACK_HOSTS_ID=${ALTOSTACK_HOSTS_ID:-stack}
    ALTOSTACK_HOSTS_SUBNET=${ALTOSTACK_HOSTS_SUBNET:-10.250.0}
    ALTOSTACK_HOSTS_DIR=$ALTOSTACK_STATE/hosts
    ALTOSTACK_HOSTS_PYTHON=$ALTOSTACK_VENV/bin/python
    ALTOSTACK_HOSTS_CONF=$ALTOSTACK_CONF
    ALTOSTACK_HOSTS_COMPUTE=$ALTOSTACK_VENV/bin/altostack-compute
    ALTOSTACK_HOSTS_CLEANUP=$ALTOSTACK_VENV/bin/altostack-network-cleanup
}

# Host N's name (N >= 2; host 1 keeps the machine's hostname).
altostack_host_name() {
    echo "$ALTOSTACK_HOST_NAME_PREFIX$1"
}

# Take down every extra host numbered above KEEP (0: all of them) and,
# with none left, the hosts bridge.
altostack_hosts_down_above() {
    local keep=$1 n
    for n in $(altostack_hosts_known | sort -rn); do
        [ "$n" -gt "$keep" ] || continue
        altostack_host_down "$n"
        altostack_log "host $n ($(altostack_host_name "$n")) is down"
    done
    if [ "$keep" -le 1 ]; then
        altostack_hosts_net_down
    fi
}

# The services, in start order, and the binary name each one reports in
# `altostack-manage service list` (the console proxies and the dashboard keep
# no service record: each is healthy when it answers /healthcheck).
ALTOSTACK_SERVICES=(api scheduler conductor compute volume image serialproxy novncproxy dashboard)
declare -gA ALTOSTACK_SERVICE_BINARY=(
    [api]=altostack-api [scheduler]=nova-scheduler [conductor]=nova-conductor
    [compute]=nova-compute
    [volume]=cinder-volume [image]=altostack-image [serialproxy]= [novncproxy]= [dashboard]=
)

# True while PID is a live process (a zombie counts as gone).
altostack_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -E 's/.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# altostack_stop_pid [-s SIG] [-w SECONDS] PID...
# Stop the PIDs and wait until they are gone (altostack_alive: a zombie is
# gone): SIG (TERM) to each, up to SECONDS (10) for all of them, then KILL
# for what is left and up to 5 s more. False when one still lives then
# (stuck in the kernel); PIDs already gone are fine.
altostack_stop_pid() {
    local sig=TERM secs=10 pid i
    while [ $# -gt 0 ]; do
        case $1 in
            -s) sig=$2; shift 2 ;;
            -w) secs=$2; shift 2 ;;
            *) break ;;
        esac
    done
    for pid in "$@"; do
        altostack_alive "$pid" && { kill -"$sig" "$pid" 2>/dev/null || true; }
    done
    for ((i = 0; i < secs * 10; i++)); do
        _altostack_any_alive "$@" || return 0
        sleep 0.1
    done
    for pid in "$@"; do
        altostack_alive "$pid" && { kill -KILL "$pid" 2>/dev/null || true; }
    done
    for ((i = 0; i < 50; i++)); do
        _altostack_any_alive "$@" || return 0
        sleep 0.1
    done
    ! _altostack_any_alive "$@"
}

_altostack_any_alive() {
    local pid
    for pid in "$@"; do
        altostack_alive "$pid" && return 0
    done
    return 1
}

altostack_pidfile() {
    echo "$ALTOSTACK_RUN/altostack-$1.pid"
}

# Print the pid of service NAME when it runs (per its pid file), else fail.
# The command line must still be ours: pids get reused.
altostack_service_pid() {
    local file pid
    file=$(altostack_pidfile "$1")
    [ -r "$file" ] || return 1
    pid=$(cat "$file" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    altostack_alive "$pid" || return 1
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "bin/altostack-$1 " || return 1
    echo "$pid"
}

# Start service NAME in the background, detached in its own session; the
# process writes its own pid file before it execs the service.
altostack_start_service() {
    local name=$1 pidfile bin
    pidfile=$(altostack_pidfile "$name")
    bin=$ALTOSTACK_VENV/bin/altostack-$name
    mkdir -p "$ALTOSTACK_LOGS" "$ALTOSTACK_RUN"
    rm -f "$pidfile"
    # shellcheck disable=SC2016  # $$ and $1 belong to the inner shell
    setsid bash -c 'echo $$ >"$1"; shift; exec nohup "$@"' _ "$pidfile" \
        "$bin" --config-file "$ALTOSTACK_CONF" --log-file "$ALTOSTACK_LOGS/altostack-$name.log" \
        </dev/null >>"$ALTOSTACK_LOGS/altostack-$name.out" 2>&1 &
    local _
    for _ in $(seq 1 50); do
        [ -s "$pidfile" ] && return 0
        sleep 0.1
    done
    altostack_die "altostack-$name did not start (no pid file; see $ALTOSTACK_LOGS/altostack-$name.out)"
    return 1
}

# Stop the named services together: SIGTERM to each, up to
# ALTOSTACK_STOP_WAIT (10) seconds for all, then SIGKILL for what is left and
# for the children they had (API workers). Pid files are removed.
altostack_stop_services() {
    local name pid c
    local -A pids=() kids=()
    for name in "$@"; do
        if pid=$(altostack_service_pid "$name"); then
            pids[$name]=$pid
            kids[$name]=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
            kill -TERM "$pid" 2>/dev/null || true
        else
            rm -f "$(altostack_pidfile "$name")"
        fi
    done
    local deadline=$((SECONDS + ${ALTOSTACK_STOP_WAIT:-10})) left
    while true; do
        left=0
        for name in "${!pids[@]}"; do
            altostack_alive "${pids[$name]}" && left=1
        done
        [ "$left" = 0 ] || [ "$SECONDS" -ge "$deadline" ] && break
        sleep 0.2
    done
    for name in "${!pids[@]}"; do
        pid=${pids[$name]}
        if altostack_alive "$pid"; then
            altostack_log "altostack-$name ($pid) ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        # Workers must not outlive their parent (they would keep the port).
        for c in ${kids[$name]}; do
            if tr '\0' ' ' 2>/dev/null <"/proc/$c/cmdline" | grep -q "bin/altostack-$name "; then
                kill -KILL "$c" 2>/dev/null || true
            fi
        done
        rm -f "$(altostack_pidfile "$name")"
        altostack_log "stopped altostack-$name ($pid)"
    done
}

altostack_manage() {
    "$ALTOSTACK_VENV/bin/altostack-manage" --config-file "$ALTOSTACK_CONF" "$@"
}
