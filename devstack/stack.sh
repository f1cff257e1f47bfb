#!/usr/bin/env bash
# Altostack all-in-one: install what is missing and bring the cloud up.
#
#   devstack/stack.sh          (as root, from anywhere; idempotent)
#   devstack/unstack.sh        stops the services again
#
# Settings (environment, with defaults):
#   ALTOSTACK_STATE=/var/lib/altostack   state: database, logs, pid files, keys
#   ALTOSTACK_ETC=/etc/altostack         altostack.conf
#   ALTOSTACK_VENV=/opt/altostack/venv   Altostack + python-openstackclient
#   ADMIN_PASSWORD=altostack-admin  DEMO_PASSWORD=altostack-demo
#   HOST_IP=127.0.0.1  API_PORT=8080  IMAGE_PORT=9292  SERIALPROXY_PORT=6083
#   NOVNCPROXY_PORT=6080
#   DASHBOARD_PORT=8000                  the web dashboard (altostack-dashboard)
#   TRANSPORT_URL=rabbit://guest:guest@127.0.0.1:5672/altostack
#   DATABASE_URL=sqlite:///$ALTOSTACK_STATE/altostack.sqlite
#   ALTOSTACK_BIN_DIR=/usr/local/bin     where openstack and altostack-* are linked
#   ALTOSTACK_CLOUDS_YAML=/etc/openstack/clouds.yaml
#   ALTOSTACK_WAIT=60                    seconds to wait for healthy services
#   ALTOSTACK_RESTART=1                  restart services that already run
#   ALTOSTACK_SKIP_GUEST_IMAGE=1         do not build the tiny guest image
#   ALTOSTACK_SKIP_VENV=1                use ALTOSTACK_VENV as it is (a shared venv;
#                                        export PYTHONPATH to run another checkout)
#   ALTOSTACK_COMPUTE_HOSTS=1            compute hosts on this machine: host 1 is the
#                                        all-in-one, hosts 2..N are namespaces with their
#                                        own libvirtd and agent (lib/hosts.sh)
#   ALTOSTACK_HOST_NAME_PREFIX=host      host N is called hostN
#   ALTOSTACK_HOSTS_SUBNET=10.250.0      the hosts' network: host N is 10.250.0.N/24
#   ALTOSTACK_HOSTS_ID=stack             tag in the hosts' names (netns altostack-stack-hostN)
set -euo pipefail

DEVSTACK_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TOP_DIR=$(dirname "$DEVSTACK_DIR")
# shellcheck source=devstack/lib/prereqs.sh
source "$DEVSTACK_DIR/lib/prereqs.sh"
# shellcheck source=devstack/lib/guest-image.sh
source "$DEVSTACK_DIR/lib/guest-image.sh"
# shellcheck source=devstack/lib/altostack.sh
source "$DEVSTACK_DIR/lib/altostack.sh"
# shellcheck source=devstack/lib/hosts.sh
source "$DEVSTACK_DIR/lib/hosts.sh"
# shellcheck source=devstack/lib/rabbitmq_cluster.sh
source "$DEVSTACK_DIR/lib/rabbitmq_cluster.sh"
ALTOSTACK_LOG_PREFIX=stack
altostack_settings

# ------------------------------------------------------------- the bus --

# Split TRANSPORT_URL (rabbit://user:pass@host:port[,...]/vhost) into
# RABBIT_USER, RABBIT_HOST, RABBIT_PORT and RABBIT_VHOST (first host only).
parse_transport_url() {
    local rest=${TRANSPORT_URL#*://} hosts first vhost=""
    hosts=${rest%%/*}
    if [[ $rest == */* ]]; then
        vhost=${rest#*/}
        vhost=${vhost%%\?*}
    fi
    first=${hosts%%,*}
    RABBIT_USER=guest
    if [[ $first == *@* ]]; then
        RABBIT_USER=${first%%@*}
        RABBIT_USER=${RABBIT_USER%%:*}
        first=${first#*@}
    fi
    RABBIT_HOST=${first%%:*}
    RABBIT_PORT=5672
    if [[ $first == *:* ]]; then
        RABBIT_PORT=${first##*:}
    fi
    vhost=${vhost//%2F//}
    vhost=${vhost//%2f//}
    RABBIT_VHOST=${vhost:-/}
}

setup_bus() {
    case "$TRANSPORT_URL" in
        rabbit://*) ;;
        *)
            altostack_log "transport $TRANSPORT_URL is not rabbit://; not managing a broker"
            return 0
            ;;
    esac
    parse_transport_url
    altostack_ensure_rabbitmq "$RABBIT_HOST" "$RABBIT_PORT"
    if [ "$RABBIT_VHOST" != / ] && _altostack_is_local_host "$RABBIT_HOST"; then
        altostack_ensure_vhost "$RABBIT_VHOST" "$RABBIT_USER"
    fi
}

# ------------------------------------------------------------ commands --

link_commands() {
    mkdir -p "$ALTOSTACK_BIN_DIR"
    local b
    for b in "$ALTOSTACK_VENV/bin/openstack" "$ALTOSTACK_VENV"/bin/altostack-*; do
        [ -x "$b" ] || continue
        ln -sfn "$b" "$ALTOSTACK_BIN_DIR/$(basename "$b")"
    done
}

# -------------------------------------------------------------- config --

render_config() {
    # With several hosts, host 1's my_ip is its address on the hosts'
    # network, where the other hosts' VXLAN devices reach it, and the
    # volumes' NBD exports listen there (the other hosts' guests connect
    # to it; with one host they stay on loopback).
    # The image URLs stay on HOST_IP (the hosts reach a loopback HOST_IP
    # through their forwarders).
    # Host 1's external bridge is on the hosts' external wire
    # (devstack/lib/hosts.sh), which carries the other hosts' floating IPs.
    local my_ip=$HOST_IP image_host= nbd_host=127.0.0.1 network=
    if [ "$ALTOSTACK_COMPUTE_HOSTS" -gt 1 ]; then
        my_ip=$ALTOSTACK_HOSTS_SUBNET.1
        nbd_host=$my_ip
        image_host=$'\npublic_host = '"$HOST_IP"
        network=$'\n[network]\nexternal_interface = ahe-'"$ALTOSTACK_HOSTS_ID"$'\n'
    fi
    cat <<EOF
# Written by devstack/stack.sh from its settings; edits are overwritten.
[DEFAULT]
host = $(hostname)
state_path = $ALTOSTACK_STATE
my_ip = $my_ip
transport_url = $TRANSPORT_URL
report_interval = 5
service_down_time = 20

[database]
connection = $DATABASE_URL

[api]
bind_host = 0.0.0.0
bind_port = $API_PORT
public_host = $HOST_IP

[image]
bind_port = $IMAGE_PORT$image_host

[serial_console]
serialproxy_host = 0.0.0.0
serialproxy_port = $SERIALPROXY_PORT
base_url = ws://$HOST_IP:$SERIALPROXY_PORT/

[vnc]
novncproxy_host = 0.0.0.0
novncproxy_port = $NOVNCPROXY_PORT
novncproxy_base_url = http://$HOST_IP:$NOVNCPROXY_PORT/vnc_lite.html

[volume]
nbd_bind_host = $nbd_host

[dashboard]
bind_host = 0.0.0.0
bind_port = $DASHBOARD_PORT
auth_url = http://$HOST_IP:$API_PORT/identity/v3
state_path = $ALTOSTACK_STATE/dashboard
$network
EOF
    # A broker cluster (several nodes in the URL): quorum queues and the rest.
    case $TRANSPORT_URL in
        *,*) echo; altostack_rabbit_client_options ;;
    esac
}

# Write altostack.conf; CONFIG_CHANGED=yes when its content changed.
write_config() {
    mkdir -p "$ALTOSTACK_ETC" "$ALTOSTACK_STATE" "$ALTOSTACK_LOGS" "$ALTOSTACK_RUN"
    local tmp
    tmp=$(mktemp "$ALTOSTACK_CONF.XXXXXX")
    render_config >"$tmp"
    chmod 640 "$tmp"
    CONFIG_CHANGED=no
    if [ -f "$ALTOSTACK_CONF" ] && cmp -s "$tmp" "$ALTOSTACK_CONF"; then
        rm -f "$tmp"
        return 0
    fi
    [ -f "$ALTOSTACK_CONF" ] && CONFIG_CHANGED=yes
    mv "$tmp" "$ALTOSTACK_CONF"
    altostack_log "wrote $ALTOSTACK_CONF"
}

# -------------------------------------------------------------- database --

# The database needs `db sync` and `bootstrap` again when the settings or
# passwords changed, or any Python file of the project changed (a new
# migration, new bootstrap data) since they last succeeded.
db_fingerprint() {
    { render_config; echo "$ADMIN_PASSWORD"; echo "$DEMO_PASSWORD"; } | sha256sum | cut -d' ' -f1
}

db_up_to_date() {
    local stamp=$ALTOSTACK_STATE/.db-stamp
    [ "${ALTOSTACK_FORCE_DB:-0}" != 1 ] || return 1
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(db_fingerprint)" ] || return 1
    case "$DATABASE_URL" in
        sqlite:///*) [ -s "${DATABASE_URL#sqlite:///}" ] || return 1 ;;
    esac
    [ -z "$(find "$TOP_DIR" -mindepth 1 -name '.*' -prune -o -name '*.py' -newer "$stamp" -print -quit)" ]
}

setup_database() {
    if db_up_to_date; then
        return 0
    fi
    local out began=$ALTOSTACK_STATE/.db-stamp.new t_start
    rm -f "$ALTOSTACK_STATE/.db-stamp"
    t_start=$(date +%s)
    if ! out=$(altostack_manage db sync 2>&1); then
        echo "$out" >&2
        altostack_die "altostack-manage db sync failed"
        return 1
    fi
    if ! out=$(altostack_manage bootstrap --admin-password "$ADMIN_PASSWORD" \
        --demo-password "$DEMO_PASSWORD" 2>&1); then
        echo "$out" >&2
        altostack_die "altostack-manage bootstrap failed"
        return 1
    fi
    # The stamp's time is when the sync began: edits made since count.
    db_fingerprint >"$began"
    touch -d "@$((t_start - 1))" "$began"
    mv "$began" "$ALTOSTACK_STATE/.db-stamp"
}

# -------------------------------------------------------------- services --

start_services() {
    local s
    if [ "${ALTOSTACK_RESTART:-0}" = 1 ] || [ "$CONFIG_CHANGED" = yes ]; then
        altostack_log "restarting the services (configuration changed or ALTOSTACK_RESTART=1)"
        altostack_stop_services "${ALTOSTACK_SERVICES[@]}"
    fi
    local started=()
    for s in "${ALTOSTACK_SERVICES[@]}"; do
        if altostack_service_pid "$s" >/dev/null; then
            continue
        fi
        altostack_start_service "$s"
        started+=("altostack-$s")
    done
    if [ "${#started[@]}" -gt 0 ]; then
        altostack_log "started ${started[*]}"
    else
        altostack_log "all services already running"
    fi
}

show_failure() {
    local s=$1 why=$2 f
    echo "[stack] ERROR: altostack-$s is not healthy: $why" >&2
    for f in "$ALTOSTACK_LOGS/altostack-$s.log" "$ALTOSTACK_LOGS/altostack-$s.out"; do
        if [ -s "$f" ]; then
            echo "----- tail of $f -----" >&2
            tail -n 30 "$f" >&2
        fi
    done
    echo "[stack] the other services are left running; stop them with $DEVSTACK_DIR/unstack.sh" >&2
    exit 1
}

# Print the first service that is not healthy yet (and why), or nothing.
first_unhealthy() {
    local s
    for s in "${ALTOSTACK_SERVICES[@]}"; do
        if ! altostack_service_pid "$s" >/dev/null; then
            echo "$s exited"
            return 0
        fi
    done
    if ! curl -sf -m 5 -o /dev/null "http://$HOST_IP:$API_PORT/identity/v3"; then
        echo "api no answer on http://$HOST_IP:$API_PORT/identity/v3"
        return 0
    fi
    local code
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$HOST_IP:$IMAGE_PORT/" || true)
    if [ "$code" != 300 ]; then
        echo "image GET http://$HOST_IP:$IMAGE_PORT/ gives ${code:-nothing}, not 300"
        return 0
    fi
    if ! curl -sf -m 5 -o /dev/null "http://$HOST_IP:$SERIALPROXY_PORT/healthcheck"; then
        echo "serialproxy no answer on http://$HOST_IP:$SERIALPROXY_PORT/healthcheck"
        return 0
    fi
    if ! curl -sf -m 5 -o /dev/null "http://$HOST_IP:$NOVNCPROXY_PORT/healthcheck"; then
        echo "novncproxy no answer on http://$HOST_IP:$NOVNCPROXY_PORT/healthcheck"
        return 0
    fi
    if ! curl -sf -m 5 -o /dev/null "http://$HOST_IP:$DASHBOARD_PORT/healthcheck"; then
        echo "dashboard no answer on http://$HOST_IP:$DASHBOARD_PORT/healthcheck"
        return 0
    fi
    local list host
    host=$(hostname)
    if ! list=$(altostack_manage service list 2>&1); then
        echo "api altostack-manage service list failed: $(tail -n 1 <<<"$list")"
        return 0
    fi
    for s in "${ALTOSTACK_SERVICES[@]}"; do
        local bin=${ALTOSTACK_SERVICE_BINARY[$s]}
        [ -n "$bin" ] || continue
        if ! awk -v b="$bin" -v h="$host" '$1 == b && $2 == h && $3 == "up" {f = 1} END {exit !f}' <<<"$list"; then
            echo "$s $bin is not up in 'altostack-manage service list'"
            return 0
        fi
    done
    if ! altostack_manage node list 2>/dev/null | awk -v h="$host" '$1 == h {f = 1} END {exit !f}'; then
        echo "compute has not reported its hypervisor to the scheduler yet"
        return 0
    fi
}

wait_healthy() {
    altostack_log "waiting (up to ${ALTOSTACK_WAIT}s) for the services to be healthy..."
    local deadline=$((SECONDS + ALTOSTACK_WAIT)) bad
    while true; do
        bad=$(first_unhealthy)
        if [ -z "$bad" ]; then
            return 0
        fi
        if [[ $bad == *" exited" ]] || [ "$SECONDS" -ge "$deadline" ]; then
            show_failure "${bad%% *}" "${bad#* }"
        fi
        sleep 0.5
    done
}

# ------------------------------------------------------- compute hosts --

# Hosts 2..ALTOSTACK_COMPUTE_HOSTS up (each: namespace, libvirtd, loopback
# forwarder for the broker, API and image ports, compute agent), hosts
# above it down; then wait until every host's agent is up and its node known.
start_hosts() {
    local n hosts=$ALTOSTACK_COMPUTE_HOSTS
    if ! [[ $hosts =~ ^[0-9]+$ ]] || [ "$hosts" -lt 1 ] || [ "$hosts" -gt 200 ]; then
        altostack_die "ALTOSTACK_COMPUTE_HOSTS=$hosts is not a number from 1 to 200"
        exit 1
    fi
    altostack_hosts_down_above "$hosts"
    [ "$hosts" -gt 1 ] || return 0
    parse_transport_url
    ALTOSTACK_HOSTS_FORWARD="$API_PORT $IMAGE_PORT"
    if _altostack_is_local_host "$RABBIT_HOST"; then
        ALTOSTACK_HOSTS_FORWARD="$RABBIT_PORT $ALTOSTACK_HOSTS_FORWARD"
    fi
    altostack_hosts_net_up
    for n in $(seq 2 "$hosts"); do
        if [ "${ALTOSTACK_RESTART:-0}" = 1 ] || [ "$CONFIG_CHANGED" = yes ]; then
            altostack_host_agent_stop "$n"
        fi
        local t0=$SECONDS
        altostack_host_up "$n" "$(altostack_host_name "$n")"
        altostack_log "host $n ($(altostack_host_name "$n"), $ALTOSTACK_HOSTS_SUBNET.$n," \
            "netns altostack-$ALTOSTACK_HOSTS_ID-host$n) is up in $((SECONDS - t0)) s"
    done
    local deadline=$((SECONDS + ALTOSTACK_WAIT)) list nodes missing name
    while true; do
        missing=
        list=$(altostack_manage service list 2>/dev/null || true)
        nodes=$(altostack_manage node list 2>/dev/null || true)
        for n in $(seq 2 "$hosts"); do
            name=$(altostack_host_name "$n")
            if ! awk -v h="$name" '$1 == "nova-compute" && $2 == h && $3 == "up" {f = 1}
                                   END {exit !f}' <<<"$list" ||
                ! awk -v h="$name" '$1 == h {f = 1} END {exit !f}' <<<"$nodes"; then
                missing=$n
                break
            fi
        done
        [ -n "$missing" ] || return 0
        if ! altostack_host_agent_running "$missing" || [ "$SECONDS" -ge "$deadline" ]; then
            altostack_host_vars "$missing"
            echo "[stack] ERROR: the compute agent of host $missing is not up" >&2
            tail -n 30 "$HOST_DIR/compute.log" "$HOST_DIR/compute.out" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.5
    done
}

# --------------------------------------------------------- clouds.yaml --

write_clouds_yaml() {
    mkdir -p "$(dirname "$ALTOSTACK_CLOUDS_YAML")"
    CLOUDS_YAML=$ALTOSTACK_CLOUDS_YAML AUTH_URL="http://$HOST_IP:$API_PORT/identity/v3" \
        ADMIN_PASSWORD=$ADMIN_PASSWORD DEMO_PASSWORD=$DEMO_PASSWORD \
        "$ALTOSTACK_VENV/bin/python" - <<'PY'
import os
import tempfile

import yaml

path = os.environ['CLOUDS_YAML']
data = {}
if os.path.exists(path):
    with open(path) as f:
        data = yaml.safe_load(f) or {}
clouds = data.setdefault('clouds', {})


def cloud(user, password):
    return {
        'auth': {'auth_url': os.environ['AUTH_URL'], 'username': user,
                 'password': password, 'project_name': user,
                 'user_domain_name': 'Default', 'project_domain_name': 'Default'},
        'region_name': 'RegionOne', 'interface': 'public', 'identity_api_version': 3,
    }


clouds['altostack-admin'] = cloud('admin', os.environ['ADMIN_PASSWORD'])
clouds['altostack-demo'] = cloud('demo', os.environ['DEMO_PASSWORD'])
mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o600
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.clouds.')
with os.fdopen(fd, 'w') as f:
    yaml.safe_dump(data, f, default_flow_style=False, sort_keys=False)
os.chmod(tmp, mode)
os.replace(tmp, path)
PY
}

# --------------------------------------------------------- guest image --

# Upload the tiny guest image, public, as admin with the real CLI; again
# (replacing the old one) when the local image was rebuilt.
upload_guest_image() {
    local os=("$ALTOSTACK_VENV/bin/openstack" --os-cloud altostack-admin)
    local file=$ALTOSTACK_GUEST_IMAGE_DIR/$ALTOSTACK_GUEST_IMAGE_NAME have want
    export OS_CLIENT_CONFIG_FILE=$ALTOSTACK_CLOUDS_YAML
    want=$(md5sum "$file" | cut -d' ' -f1)
    have=$("${os[@]}" image show altostack-tiny -f value -c checksum 2>/dev/null || true)
    if [ "$have" = "$want" ]; then
        return 0
    fi
    if [ -n "$have" ]; then
        altostack_log "the guest image changed: replacing altostack-tiny"
        "${os[@]}" image delete altostack-tiny
    fi
    altostack_log "uploading the guest image as altostack-tiny"
    "${os[@]}" image create --public --disk-format qcow2 --container-format bare \
        --file "$file" altostack-tiny >/dev/null
}

# ---------------------------------------------------------------- main --

next_steps() {
    cat <<EOF

Altostack is up ($(hostname), $HOST_IP). Try:
    openstack --os-cloud altostack-admin token issue
    openstack --os-cloud altostack-admin catalog list
    openstack --os-cloud altostack-admin compute service list
    openstack --os-cloud altostack-admin hypervisor list
    openstack --os-cloud altostack-demo token issue
Web:     http://$HOST_IP:$DASHBOARD_PORT/  (the dashboard: sign in as demo / $DEMO_PASSWORD or admin)
Config:  $ALTOSTACK_CONF
Clouds:  $ALTOSTACK_CLOUDS_YAML (altostack-admin, altostack-demo)
Logs:    $ALTOSTACK_LOGS/altostack-{api,scheduler,conductor,compute,volume,image,serialproxy,novncproxy,dashboard}.log
Boot:    openstack --os-cloud altostack-demo server create --image altostack-tiny --flavor m1.tiny --nic none --wait vm1
         openstack --os-cloud altostack-demo console log show vm1
         openstack --os-cloud altostack-demo console url show --novnc vm1   (open it in a browser)
Stop:    $DEVSTACK_DIR/unstack.sh$([ "$ALTOSTACK_STATE" = /var/lib/altostack ] || echo "  (with ALTOSTACK_STATE=$ALTOSTACK_STATE)")
EOF
}

# Run a step and note how long it took (for the closing timing line).
TIMINGS=()
step() {
    local name=$1 t0
    shift
    t0=$(date +%s%N)
    "$@"
    TIMINGS+=("$name $((($(date +%s%N) - t0) / 1000000))ms")
}

main() {
    local t0=$SECONDS
    if [ "$(id -u)" -ne 0 ]; then
        altostack_die "run stack.sh as root (it installs packages and drives qemu:///system)"
        exit 1
    fi
    step debs altostack_install_debs
    step bus setup_bus
    step libvirt altostack_start_libvirtd
    if [ "${ALTOSTACK_SKIP_VENV:-0}" != 1 ]; then
        step venv altostack_make_venv "$ALTOSTACK_VENV" "$TOP_DIR"
    fi
    step links link_commands
    if [ "${ALTOSTACK_SKIP_GUEST_IMAGE:-0}" != 1 ]; then
        step image altostack_build_guest_image "$ALTOSTACK_GUEST_IMAGE_DIR"
    fi
    step config write_config
    step database setup_database
    step start start_services
    step wait wait_healthy
    step hosts start_hosts
    step clouds write_clouds_yaml
    if [ "${ALTOSTACK_SKIP_GUEST_IMAGE:-0}" != 1 ]; then
        step upload upload_guest_image
    fi
    altostack_log "all services are up on $ALTOSTACK_COMPUTE_HOSTS compute host(s) (stack.sh took $((SECONDS - t0)) s: ${TIMINGS[*]})"
    next_steps
}

main "$@"
