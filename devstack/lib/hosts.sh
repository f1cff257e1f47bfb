# shellcheck shell=bash
# Extra compute hosts on this machine (../shared/RECIPES.md item 6).
#
# Host 1 is the all-in-one itself, in the root namespaces. Host N (N >= 2) is
#   * a network namespace $ALTOSTACK_HOSTS_ID-hostN ("altostack-" in front),
#     joined to the root namespace by a veth pair whose root end is enslaved
#     to the hosts bridge; the bridge has $ALTOSTACK_HOSTS_SUBNET.1/24 (host
#     1's my_ip), host N has $ALTOSTACK_HOSTS_SUBNET.N/24;
#   * its own libvirtd in that network namespace plus its own mount and UTS
#     namespaces: hostname = the host's name, its own host_uuid, its own
#     /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt,
#     /etc/libvirt, /etc/hosts (its name resolves) and /run/netns (so the namespaces the agent makes,
#     qdhcp-* and qrouter-*, do not meet host 1's of the same name);
#   * a second veth pair, the external wire: its root end on the bridge
#     ahx-$ALTOSTACK_HOSTS_ID, its other end extwire0 in the namespace, which
#     the agent puts on its external network's bridge ([network]
#     external_interface); host 1's external bridge is on the same wire
#     through the veth ahe-$ALTOSTACK_HOSTS_ID and alone holds the external
#     gateway, so floating IPs of every host's guests are reached from
#     the machine as in a flat provider network;
#   * a loopback forwarder (devstack/tools/loopback_forward.py): the
#     broker, API and image ports on 127.0.0.1 inside the namespace reach
#     127.0.0.1 of the machine;
#   * its own compute agent, run inside libvirtd's namespaces with the
#     cloud's config file plus hostN.conf (host, my_ip, state_path,
#     instances_path, libvirt_uri, console_host, [vnc] server_listen and
#     server_proxyclient_address, external_interface,
#     external_gateway) and, when present, hostN/extra.conf (its own further
#     settings, e.g. its cephx key); its bridges, taps, VXLAN devices,
#     dnsmasqs and nft tables are that namespace's.
#
# Settings (set before calling; stack.sh and tests/functional/cloud.py do):
#   ALTOSTACK_HOSTS_ID      short tag in every name (<= 6 characters)
#   ALTOSTACK_HOSTS_DIR     files of every host: $ALTOSTACK_HOSTS_DIR/hostN/
#   ALTOSTACK_HOSTS_SUBNET  first three octets of the hosts' /24 (10.250.0)
#   ALTOSTACK_HOSTS_PYTHON  python that runs the forwarder
#   ALTOSTACK_HOSTS_CONF    the cloud's altostack.conf
#   ALTOSTACK_HOSTS_COMPUTE the altostack-compute command (words)
#   ALTOSTACK_HOSTS_CLEANUP the altostack-network-cleanup command (words)
#   ALTOSTACK_HOSTS_FORWARD ports to forward (words: broker, API, image)
#   ALTOSTACK_HOSTS_GATEWAY_FORWARD ports of the machine's loopback that
#                           answer on host 1's address on the hosts bridge
#                           too (words: broker, image), for private hosts
#   ALTOSTACK_HOSTS_HIDE    folders a private host must not see (words;
#                           an empty tmpfs covers each in its namespace)
#
# A private host (altostack_host_up N NAME private) shares nothing with
# host 1 but the network: its namespaces get their own /etc/altostack,
# /var/lib/altostack and /run (with /run/libvirt and /run/netns inside)
# bind-mounted from $ALTOSTACK_HOSTS_DIR/hostN/root, and ALTOSTACK_HOSTS_HIDE
# covered, so none of host 1's configuration is visible there. It has no
# loopback forwarder, no host.conf and no agent of ours: it reaches host 1
# at $ALTOSTACK_HOSTS_SUBNET.1 (ALTOSTACK_HOSTS_GATEWAY_FORWARD), and
# `altostack-node join TOKEN`, run inside it (altostack_host_exec), writes
# its /etc/altostack/altostack.conf and starts its agent, whose pid file is
# /var/lib/altostack/compute.pid there.
#
# A private host can also be a machine an operator reaches by ssh (the
# namespace test cloud of deploy/ansible): altostack_host_sshd_up N KEYS
# starts Debian's sshd inside its namespaces, listening on its address
# port 22, root login by the public keys in file KEYS only; its host key
# and config live in the host's private /run (/run/altostack-sshd there).

ALTOSTACK_HOSTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devstack/lib/altostack.sh
source "$ALTOSTACK_HOSTS_LIB_DIR/altostack.sh"

_ah_log() {
    echo "[hosts] $*" >&2
}

# Names and paths of host N, in HOST_* variables.
# shellcheck disable=SC2034  # used by the callers
altostack_host_vars() {
    local n=$1 id=${ALTOSTACK_HOSTS_ID:?}
    HOST_NETNS=altostack-$id-host$n
    HOST_BRIDGE=ahb-$id
    HOST_VETH=ahv-$id-$n
    HOST_WIRE=ahx-$id          # the external wire's bridge (root namespace)
    HOST_WIRE_VETH=ahx-$id-$n  # host N's end on it; extwire0 in its namespace
    HOST_WIRE_HOST1=ahe-$id    # host 1's external_interface
    HOST_DIR=${ALTOSTACK_HOSTS_DIR:?}/host$n
    HOST_LIBVIRT=$HOST_DIR/libvirt
    HOST_ADDR=${ALTOSTACK_HOSTS_SUBNET:?}.$n
    HOST_GW=$ALTOSTACK_HOSTS_SUBNET.1
    HOST_HOST_CONF=$HOST_DIR/host.conf
    HOST_URI="qemu+unix:///system?socket=$HOST_LIBVIRT/run/libvirt-sock"
    HOST_LIBVIRTD_PID=$HOST_LIBVIRT/run/libvirtd.pid
    HOST_AGENT_PID=$HOST_DIR/compute.pid
    HOST_FORWARD_PID=$HOST_DIR/forward.pid
    HOST_ROOT=$HOST_DIR/root   # a private host's /etc/altostack, /var/lib/altostack, /run
    HOST_PRIVATE=
    if [ -e "$HOST_DIR/private" ]; then
        HOST_PRIVATE=1
        HOST_AGENT_PID=$HOST_ROOT/var/lib/altostack/compute.pid
    fi
    HOST_GATEWAY_FORWARD_PID=$ALTOSTACK_HOSTS_DIR/gateway-forward.pid
}

_ah_pid() {
    local pid
    [ -r "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && altostack_alive "$pid" || return 1
    echo "$pid"
}

# Stop the pid in FILE (altostack_stop_pid: TERM, up to 10 s, KILL); remove FILE.
_ah_stop_pid() {
    local pid
    if pid=$(_ah_pid "$1"); then
        altostack_stop_pid "$pid" || _ah_log "$pid (of $1) would not die"
    fi
    rm -f "$1"
}

# The root side: the hosts bridge with host 1's address.
altostack_hosts_net_up() {
    altostack_host_vars 1
    if [ ! -d "/sys/class/net/$HOST_BRIDGE" ]; then
        ip link add "$HOST_BRIDGE" type bridge stp_state 0 forward_delay 0
    fi
    ip addr replace "$HOST_GW/24" dev "$HOST_BRIDGE"
    ip link set "$HOST_BRIDGE" up
    # The external wire: no address; host 1's agent enslaves ahe-<id> to
    # its external bridge, which holds the gateway.
    if [ ! -d "/sys/class/net/$HOST_WIRE" ]; then
        ip link add "$HOST_WIRE" type bridge stp_state 0 forward_delay 0
    fi
    ip link set "$HOST_WIRE" addrgenmode none 2>/dev/null || true
    if [ ! -d "/sys/class/net/$HOST_WIRE_HOST1" ]; then
        ip link add "$HOST_WIRE_HOST1" type veth peer name "$HOST_WIRE_VETH"
    fi
    ip link set "$HOST_WIRE_VETH" master "$HOST_WIRE" up
    ip link set "$HOST_WIRE_HOST1" up
    ip link set "$HOST_WIRE" up
    _ah_gateway_forward_up
}

# Host 1's loopback ports (ALTOSTACK_HOSTS_GATEWAY_FORWARD) on its address
# on the hosts bridge, where private hosts reach them.
_ah_gateway_forward_up() {
    [ -n "${ALTOSTACK_HOSTS_GATEWAY_FORWARD:-}" ] || return 0
    mkdir -p "$ALTOSTACK_HOSTS_DIR"
    # shellcheck disable=SC2086  # a list of ports
    _ah_forwarder_start "$HOST_GATEWAY_FORWARD_PID" "$ALTOSTACK_HOSTS_DIR/gateway-forward.out" \
        "the gateway forwarder" --listen "$HOST_GW" $ALTOSTACK_HOSTS_GATEWAY_FORWARD
}

# _ah_forwarder_start PIDFILE OUT WHAT ARGS...: start the loopback forwarder
# (devstack/tools/loopback_forward.py --pid-file PIDFILE ARGS, its output to
# OUT) unless it runs, and wait for its pid file; WHAT names it in an error.
_ah_forwarder_start() {
    local pidfile=$1 out=$2 what=$3 _
    shift 3
    _ah_pid "$pidfile" >/dev/null && return 0
    rm -f "$pidfile"
    setsid "${ALTOSTACK_HOSTS_PYTHON:-python3}" "$ALTOSTACK_HOSTS_LIB_DIR/../tools/loopback_forward.py" \
        --pid-file "$pidfile" "$@" </dev/null >>"$out" 2>&1 &
    for _ in $(seq 1 50); do
        [ -s "$pidfile" ] && return 0
        sleep 0.1
    done
    _ah_log "$what did not start; see $out"
    return 1
}

altostack_hosts_net_down() {
    altostack_host_vars 1
    _ah_stop_pid "$HOST_GATEWAY_FORWARD_PID"
    ip link del "$HOST_BRIDGE" 2>/dev/null || true
    ip link del "$HOST_WIRE_HOST1" 2>/dev/null || true
    ip link del "$HOST_WIRE" 2>/dev/null || true
}

_ah_netns_up() {
    if [ ! -e "/run/netns/$HOST_NETNS" ]; then
        ip netns add "$HOST_NETNS"
    fi
    ip -n "$HOST_NETNS" link set lo up
    if [ ! -d "/sys/class/net/$HOST_VETH" ]; then
        ip link add "$HOST_VETH" type veth peer name uplink0 netns "$HOST_NETNS"
    fi
    ip link set "$HOST_VETH" master "$HOST_BRIDGE" up
    ip -n "$HOST_NETNS" addr replace "$HOST_ADDR/24" dev uplink0
    ip -n "$HOST_NETNS" link set uplink0 up
    ip -n "$HOST_NETNS" route replace default via "$HOST_GW" dev uplink0
    if [ ! -d "/sys/class/net/$HOST_WIRE_VETH" ]; then
        ip link add "$HOST_WIRE_VETH" type veth peer name extwire0 netns "$HOST_NETNS"
    fi
    ip link set "$HOST_WIRE_VETH" master "$HOST_WIRE" up
    ip -n "$HOST_NETNS" link set extwire0 up
}

_ah_libvirtd_conf() {
    local name=$1 L=$HOST_LIBVIRT
    mkdir -p "$L"/{run,lib,cache,log,etc} "$HOST_DIR/netns"
    if [ ! -f "$L/etc/.copied" ]; then
        cp -a /etc/libvirt/. "$L/etc/"
        rm -rf "$L"/etc/qemu/*.xml "$L/etc/qemu/autostart" "$L/etc/qemu/networks"
        touch "$L/etc/.copied"
    fi
    [ -s "$HOST_DIR/host_uuid" ] || cat /proc/sys/kernel/random/uuid >"$HOST_DIR/host_uuid"
    cat >"$L/etc/libvirtd.conf" <<EOF
# Written by devstack/lib/hosts.sh for $name.
listen_tls = 0
listen_tcp = 1
listen_addr = "$HOST_ADDR"
auth_tcp = "none"
unix_sock_group = "root"
host_uuid = "$(cat "$HOST_DIR/host_uuid")"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    # The host's own name resolves (libvirtd asks at start: 10 s of DNS
    # timeouts from a namespace otherwise).
    { grep -v "[[:space:]]$name\$" /etc/hosts || true; echo "$HOST_ADDR $name"; } >"$HOST_DIR/hosts"
    # No cgroups (both daemons number their domains from 1), no virtlogd.
    grep -q '^# altostack-host' "$L/etc/qemu.conf" 2>/dev/null || cat >>"$L/etc/qemu.conf" <<EOF
# altostack-host
cgroup_controllers = [ ]
stdio_handler = "file"
migration_address = "$HOST_ADDR"
EOF
}

_ah_libvirtd_up() {
    local name=$1 L=$HOST_LIBVIRT _
    if _ah_pid "$HOST_LIBVIRTD_PID" >/dev/null; then
        return 0
    fi
    rm -f "$HOST_LIBVIRTD_PID"
    local private='' hide='' p
    if [ -n "$HOST_PRIVATE" ]; then
        # Mount points for the private folders (empty; /run exists).
        mkdir -p /etc/altostack /var/lib/altostack "$HOST_ROOT/etc/altostack" \
            "$HOST_ROOT/var/lib/altostack" "$HOST_ROOT/run/libvirt" "$HOST_ROOT/run/netns"
        private="
        mount --bind '$HOST_ROOT/run' /run
        mount --bind '$HOST_ROOT/etc/altostack' /etc/altostack
        mount --bind '$HOST_ROOT/var/lib/altostack' /var/lib/altostack"
        for p in ${ALTOSTACK_HOSTS_HIDE:-}; do
            hide="$hide
        mount -t tmpfs -o size=1m,mode=0700 none '$p'"
        done
    fi
    ip netns exec "$HOST_NETNS" unshare --mount --uts --propagation private sh -ec "
        hostname '$name'$private
        mount --bind '$L/run' /run/libvirt
        mount --bind '$L/lib' /var/lib/libvirt
        mount --bind '$L/cache' /var/cache/libvirt
        mount --bind '$L/log' /var/log/libvirt
        mount --bind '$L/etc' /etc/libvirt
        mount --bind '$HOST_DIR/hosts' /etc/hosts
        mkdir -p /run/netns
        mount --bind '$HOST_DIR/netns' /run/netns$hide
        exec libvirtd -d --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid"
    for _ in $(seq 1 100); do
        if _ah_pid "$HOST_LIBVIRTD_PID" >/dev/null &&
            virsh -q -c "$HOST_URI" hostname >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    _ah_log "libvirtd of $name did not answer on $HOST_URI; see $L/log/libvirtd.log"
    return 1
}

_ah_forward_up() {
    [ -n "${ALTOSTACK_HOSTS_FORWARD:-}" ] && [ -z "$HOST_PRIVATE" ] || return 0
    # shellcheck disable=SC2086  # a list of ports
    _ah_forwarder_start "$HOST_FORWARD_PID" "$HOST_DIR/forward.out" \
        "the loopback forwarder of $HOST_NETNS" --netns "$HOST_NETNS" $ALTOSTACK_HOSTS_FORWARD
}

_ah_host_conf() {
    local name=$1
    cat >"$HOST_HOST_CONF" <<EOF
# Written by devstack/lib/hosts.sh: what makes $name differ from host 1.
[DEFAULT]
host = $name
my_ip = $HOST_ADDR
state_path = $HOST_DIR/state
[compute]
instances_path = $HOST_DIR/instances
libvirt_uri = $HOST_URI
# The guests' serial sockets listen here: the serial proxy, in host 1's
# namespaces, reaches them over the hosts bridge.
console_host = $HOST_ADDR
[vnc]
# The guests' VNC displays too, for the noVNC proxy in host 1's namespaces.
server_listen = $HOST_ADDR
server_proxyclient_address = $HOST_ADDR
[network]
state_dir = $HOST_DIR/state/network
# On the external wire to host 1, whose external bridge holds the gateway.
external_interface = extwire0
external_gateway = false
EOF
}

# Run a command inside host N's namespaces (net, mount, UTS of its libvirtd).
altostack_host_exec() {
    altostack_host_vars "$1"
    shift
    local pid
    pid=$(_ah_pid "$HOST_LIBVIRTD_PID") || {
        _ah_log "$HOST_NETNS has no libvirtd"
        return 1
    }
    nsenter -t "$pid" -m -u -n -- "$@"
}

altostack_host_agent_running() {
    altostack_host_vars "$1"
    _ah_pid "$HOST_AGENT_PID" >/dev/null
}

altostack_host_agent_start() {
    local n=$1 pid
    altostack_host_vars "$n"
    if [ -n "$HOST_PRIVATE" ]; then
        _ah_log "host $n is private: its agent is started by altostack-node join inside it"
        return 1
    fi
    if _ah_pid "$HOST_AGENT_PID" >/dev/null; then
        return 0
    fi
    pid=$(_ah_pid "$HOST_LIBVIRTD_PID") || return 1
    rm -f "$HOST_AGENT_PID"
    # The host's own settings beyond host.conf (e.g. its cephx user, secret
    # and keyring: devstack/lib/ceph.sh), when someone wrote them.
    local extra=()
    [ -f "$HOST_DIR/extra.conf" ] && extra=(--config-file "$HOST_DIR/extra.conf")
    # shellcheck disable=SC2016,SC2086  # $$ is the inner shell's; a command in words
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$HOST_AGENT_PID" \
        nsenter -t "$pid" -m -u -n -- ${ALTOSTACK_HOSTS_COMPUTE:?} \
        --config-file "${ALTOSTACK_HOSTS_CONF:?}" --config-file "$HOST_HOST_CONF" \
        "${extra[@]}" --log-file "$HOST_DIR/compute.log" </dev/null >>"$HOST_DIR/compute.out" 2>&1 &
    local _
    for _ in $(seq 1 50); do
        [ -s "$HOST_AGENT_PID" ] && return 0
        sleep 0.1
    done
    _ah_log "the compute agent of host $n did not start; see $HOST_DIR/compute.out"
    return 1
}

altostack_host_agent_stop() {
    altostack_host_vars "$1"
    _ah_stop_pid "$HOST_AGENT_PID"
}

# Bring host N up under NAME (idempotent): namespace, libvirtd, forwarder,
# host.conf and the compute agent; with a third argument "private", a
# private host (see the top): namespace and libvirtd only, the agent is
# `altostack-node join`'s.
altostack_host_up() {
    local n=$1 name=$2 mode=${3:-}
    altostack_host_vars "$n"
    mkdir -p "$HOST_DIR"
    echo "$name" >"$HOST_DIR/name"
    if [ "$mode" = private ]; then
        touch "$HOST_DIR/private"
        altostack_host_vars "$n"
    fi
    _ah_netns_up
    _ah_libvirtd_conf "$name"
    _ah_libvirtd_up "$name"
    [ -z "$HOST_PRIVATE" ] || return 0
    mkdir -p "$HOST_DIR/state" "$HOST_DIR/instances"
    _ah_forward_up
    _ah_host_conf "$name"
    altostack_host_agent_start "$n"
}

# Take host N away and leave nothing: its agent, its guests, the data plane
# the agent made (in its namespaces), libvirtd, the forwarder, whatever
# still runs in the namespace, the namespace and the veth. Files are kept.
altostack_host_down() {
    local n=$1 d p
    altostack_host_vars "$n"
    _ah_stop_pid "$HOST_AGENT_PID"
    if _ah_pid "$HOST_LIBVIRTD_PID" >/dev/null; then
        for d in $(timeout 20 virsh -q -c "$HOST_URI" list --all --name 2>/dev/null); do
            timeout 20 virsh -q -c "$HOST_URI" destroy "$d" >/dev/null 2>&1 || true
            timeout 20 virsh -q -c "$HOST_URI" undefine --nvram "$d" >/dev/null 2>&1 ||
                timeout 20 virsh -q -c "$HOST_URI" undefine "$d" >/dev/null 2>&1 || true
        done
        if [ -n "$HOST_PRIVATE" ] && [ -f "$HOST_ROOT/etc/altostack/altostack.conf" ] &&
            [ -n "${ALTOSTACK_HOSTS_CLEANUP:-}" ]; then
            # shellcheck disable=SC2086  # a command in words
            altostack_host_exec "$n" ${ALTOSTACK_HOSTS_CLEANUP} \
                --config-file /etc/altostack/altostack.conf >>"$HOST_DIR/cleanup.out" 2>&1 ||
                _ah_log "network cleanup of host $n failed; see $HOST_DIR/cleanup.out"
        elif [ -z "$HOST_PRIVATE" ] && [ -f "$HOST_HOST_CONF" ] && [ -n "${ALTOSTACK_HOSTS_CLEANUP:-}" ]; then
            # shellcheck disable=SC2086  # a command in words
            altostack_host_exec "$n" ${ALTOSTACK_HOSTS_CLEANUP} --config-file "${ALTOSTACK_HOSTS_CONF:?}" \
                --config-file "$HOST_HOST_CONF" >>"$HOST_DIR/cleanup.out" 2>&1 ||
                _ah_log "network cleanup of host $n failed; see $HOST_DIR/cleanup.out"
        fi
        altostack_host_vars "$n"
    fi
    _ah_stop_pid "$HOST_LIBVIRTD_PID"
    _ah_stop_pid "$HOST_FORWARD_PID"
    if [ -e "/run/netns/$HOST_NETNS" ]; then
        for p in $(ip netns pids "$HOST_NETNS" 2>/dev/null); do
            _ah_log "still in $HOST_NETNS: $(ps -o pid=,args= -p "$p" 2>/dev/null); killing it"
            kill -KILL "$p" 2>/dev/null || true
        done
        ip netns del "$HOST_NETNS" 2>/dev/null || true
    fi
    ip link del "$HOST_VETH" 2>/dev/null || true
    ip link del "$HOST_WIRE_VETH" 2>/dev/null || true
}

altostack_host_sshd_up() {
    local n=$1 keys=$2 d _
    altostack_host_vars "$n"
    [ -n "$HOST_PRIVATE" ] || { _ah_log "host $n is not private"; return 1; }
    d=$HOST_ROOT/run/altostack-sshd
    mkdir -p "$d" "$HOST_ROOT/run/sshd"
    chmod 700 "$d"
    chmod 755 "$HOST_ROOT/run/sshd"
    [ -f "$d/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$(cat "$HOST_DIR/name")" -f "$d/host_key"
    install -m 600 "$keys" "$d/authorized_keys"
    cat >"$d/sshd_config" <<EOF
# Written by devstack/lib/hosts.sh for host $n.
ListenAddress $HOST_ADDR
Port 22
HostKey /run/altostack-sshd/host_key
PidFile /run/altostack-sshd/sshd.pid
AuthorizedKeysFile /run/altostack-sshd/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxSessions 50
MaxStartups 50:30:100
Subsystem sftp internal-sftp
EOF
    _ah_pid "$d/sshd.pid" >/dev/null && return 0
    altostack_host_exec "$n" /usr/sbin/sshd -f /run/altostack-sshd/sshd_config || return 1
    for _ in $(seq 1 50); do
        _ah_pid "$d/sshd.pid" >/dev/null && return 0
        sleep 0.1
    done
    _ah_log "sshd of host $n did not start"
    return 1
}

# The hosts that have a directory under ALTOSTACK_HOSTS_DIR, as numbers.
altostack_hosts_known() {
    local d
    for d in "${ALTOSTACK_HOSTS_DIR:?}"/host*; do
        [ -d "$d" ] || continue
        echo "${d##*/host}"
    done | sort -n
}
