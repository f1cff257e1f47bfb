# shellcheck shell=bash
# A one-machine Ceph 16.2 cluster of our own (../shared/RECIPES.md item 9):
# one mon, one mgr, one BlueStore OSD on a sparse file, pools of size 1,
# for the rbd backends of volumes and images (docs/deploy/ceph.md).
#
# Everything lives under one directory DIR and binds one address ADDR:
#   DIR/ceph.conf            the cluster's config (its own fsid and cluster
#                            name; never /etc/ceph/ceph.conf of the machine)
#   DIR/keys/<name>.keyring  one keyring per cephx entity (mon., client.admin,
#                            mgr.x, osd.0, the clients below)
#   DIR/mon DIR/mgr DIR/osd  the daemons' data (the OSD's block is a sparse file)
#   DIR/run DIR/log          pid files, admin sockets, logs
#
# Settings (set before calling):
#   ALTOSTACK_CEPH_DIR      DIR
#   ALTOSTACK_CEPH_ADDR     address the daemons bind and clients reach
#   ALTOSTACK_CEPH_PORTS    "V2 V1": the mon's two ports (free ones)
#   ALTOSTACK_CEPH_OSD_PORTS "MIN MAX": ports the mgr and OSD may bind
#   ALTOSTACK_CEPH_TAG      short tag: the cluster name is altostack<TAG>
#   ALTOSTACK_CEPH_OSD_GB   size of the OSD's sparse file (default 10)
#
# Functions (each idempotent):
#   altostack_ceph_up                 conf, mon, mgr, OSD; waits for the OSD
#   altostack_ceph_mon_up             conf, mon, mgr only: the OSDs are on
#                                     storage machines (altostack_ceph_osd_node_up)
#   altostack_ceph_pools POOL...      replicated pools, initialised for rbd
#                                     (once an OSD takes writes)
#   altostack_ceph_bootstrap_osd_key  client.bootstrap-osd: makes OSDs only
#   altostack_ceph_osd_node_up CONF KEYRING
#                                     on a storage machine: one OSD under DIR
#                                     on ADDR, in the cluster of the client
#                                     CONF, made with the bootstrap-osd KEYRING
#   altostack_ceph_key NAME CAPS...   client.NAME with CAPS, its keyring file
#   altostack_ceph_volume_key NAME    caps of the volume service
#   altostack_ceph_image_key NAME     caps of the image service
#   altostack_ceph_compute_key NAME   caps of one compute node
#   altostack_ceph_client_conf KEYDIR the ceph.conf a client on another machine
#                                     uses (printed): the cluster's fsid, mons and
#                                     auth, keyrings KEYDIR/<name>.keyring
#   altostack_ceph_down               stop every daemon, remove DIR

_ceph_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=devstack/lib/altostack.sh
source "$_ceph_lib/altostack.sh"

_ceph_log() {
    echo "[ceph] $*" >&2
}

_ceph_vars() {
    CEPH_DIR=${ALTOSTACK_CEPH_DIR:?}
    CEPH_ADDR=${ALTOSTACK_CEPH_ADDR:-127.0.0.1}
    CEPH_CLUSTER=altostack${ALTOSTACK_CEPH_TAG:-}
    CEPH_CONF=$CEPH_DIR/ceph.conf
    CEPH_KEYS=$CEPH_DIR/keys
    CEPH_VOLUMES_POOL=${ALTOSTACK_CEPH_VOLUMES_POOL:-volumes}
    CEPH_IMAGES_POOL=${ALTOSTACK_CEPH_IMAGES_POOL:-images}
}

# The admin's CLI on our cluster.
altostack_ceph() {
    _ceph_vars
    ceph --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -n client.admin \
        --keyring "$CEPH_KEYS/client.admin.keyring" --connect-timeout 20 "$@"
}

_ceph_pid_alive() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && altostack_alive "$pid" && echo "$pid"
}

# This machine's daemons: where they bind, their files, the OSD's store.
_ceph_daemon_conf() {
    local min=$1 max=$2
    cat <<EOF
public_addr = $CEPH_ADDR
cluster_addr = $CEPH_ADDR
ms_bind_port_min = $min
ms_bind_port_max = $max
run_dir = $CEPH_DIR/run
pid_file = $CEPH_DIR/run/\$name.pid
admin_socket = $CEPH_DIR/run/\$name.asok
log_file = $CEPH_DIR/log/\$name.log
crash_dir = $CEPH_DIR/crash
keyring = $CEPH_KEYS/\$name.keyring
osd_data = $CEPH_DIR/osd/\$id
osd_objectstore = bluestore
bluestore_block_size = $(( ${ALTOSTACK_CEPH_OSD_GB:-10} * 1073741824 ))
osd_memory_target = 1073741824
EOF
}

_ceph_conf() {
    local v2 v1 fsid min max
    read -r v2 v1 <<<"${ALTOSTACK_CEPH_PORTS:?}"
    read -r min max <<<"${ALTOSTACK_CEPH_OSD_PORTS:-6800 7300}"
    fsid=$(uuidgen)
    mkdir -p "$CEPH_DIR"/{mon,mgr,osd,run,log} "$CEPH_KEYS"
    cat >"$CEPH_CONF.tmp" <<EOF
# Written by devstack/lib/ceph.sh: cluster $CEPH_CLUSTER, one machine.
[global]
fsid = $fsid
mon_host = [v2:$CEPH_ADDR:$v2,v1:$CEPH_ADDR:$v1]
public_network = $CEPH_ADDR/32
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
EOF
    _ceph_daemon_conf "$min" "$max" >>"$CEPH_CONF.tmp"
    cat >>"$CEPH_CONF.tmp" <<EOF
mon_data = $CEPH_DIR/mon/\$id
mgr_data = $CEPH_DIR/mgr/\$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_allow_pool_delete = true
mon_data_avail_warn = 5
osd_crush_chooseleaf_type = 0
[client]
# Glance's and Cinder's way: clones of a protected snapshot.
rbd_default_clone_format = 1
log_file = /dev/null
# many short-lived CLIs of one user would fight over one socket
admin_socket =
EOF
    mv "$CEPH_CONF.tmp" "$CEPH_CONF"
}

_ceph_mon_up() {
    local fsid v2 v1
    if _ceph_pid_alive "$CEPH_DIR/run/mon.a.pid" >/dev/null; then
        return 0
    fi
    if [ ! -e "$CEPH_DIR/mon/a/store.db" ]; then
        read -r v2 v1 <<<"${ALTOSTACK_CEPH_PORTS:?}"
        fsid=$(sed -n 's/^fsid = //p' "$CEPH_CONF")
        ceph-authtool --create-keyring "$CEPH_KEYS/mon..keyring" --gen-key -n mon. \
            --cap mon 'allow *' >/dev/null
        ceph-authtool --create-keyring "$CEPH_KEYS/client.admin.keyring" --gen-key \
            -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' \
            --cap mgr 'allow *' >/dev/null
        ceph-authtool "$CEPH_KEYS/mon..keyring" --import-keyring \
            "$CEPH_KEYS/client.admin.keyring" >/dev/null
        cp "$CEPH_KEYS/mon..keyring" "$CEPH_KEYS/mon.a.keyring"
        monmaptool --create --addv a "[v2:$CEPH_ADDR:$v2,v1:$CEPH_ADDR:$v1]" \
            --fsid "$fsid" "$CEPH_DIR/monmap" >/dev/null
        ceph-mon --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" --mkfs -i a \
            --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_KEYS/mon.a.keyring"
    fi
    ceph-mon --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i a
    altostack_ceph -s >/dev/null
}

_ceph_mgr_up() {
    if _ceph_pid_alive "$CEPH_DIR/run/mgr.x.pid" >/dev/null; then
        return 0
    fi
    mkdir -p "$CEPH_DIR/mgr/x"
    altostack_ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' \
        mds 'allow *' -o "$CEPH_KEYS/mgr.x.keyring"
    ceph-mgr --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i x
}

_ceph_osd_up() {
    local id uuid _
    if _ceph_pid_alive "$CEPH_DIR/run/osd.0.pid" >/dev/null; then
        return 0
    fi
    id=0
    if [ ! -e "$CEPH_DIR/osd/0/fsid" ]; then
        uuid=$(uuidgen)
        id=$(altostack_ceph osd new "$uuid")
        mkdir -p "$CEPH_DIR/osd/$id"
        altostack_ceph auth get-or-create "osd.$id" mon 'allow profile osd' \
            mgr 'allow profile osd' osd 'allow *' -o "$CEPH_KEYS/osd.$id.keyring"
        ceph-osd --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i "$id" --mkfs \
            --osd-uuid "$uuid" >>"$CEPH_DIR/log/osd-mkfs.out" 2>&1
    fi
    ceph-osd --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i "$id"
    for _ in $(seq 1 120); do
        if [ "$(_ceph_up_osds)" = 1 ]; then
            return 0
        fi
        sleep 0.5
    done
    _ceph_log "the OSD did not come up; see $CEPH_DIR/log"
    return 1
}

altostack_ceph_up() {
    local t0=$SECONDS
    altostack_ceph_mon_up
    _ceph_osd_up
    _ceph_log "cluster $CEPH_CLUSTER up on $CEPH_ADDR in $((SECONDS - t0)) s"
}

altostack_ceph_mon_up() {
    _ceph_vars
    [ -f "$CEPH_CONF" ] || _ceph_conf
    _ceph_mon_up
    _ceph_mgr_up
}

_ceph_up_osds() {
    altostack_ceph osd stat -f json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["num_up_osds"])' 2>/dev/null
}

altostack_ceph_bootstrap_osd_key() {
    _ceph_vars
    altostack_ceph_key bootstrap-osd mon 'allow profile bootstrap-osd'
}

# A storage machine's OSD. The conf under DIR is the client CONF's cluster
# part (fsid, mons, auth) and this machine's own settings; the OSD's id and
# cephx key come from the mons through the bootstrap-osd key (ceph-volume's
# way: "osd new" with the key the OSD will use), kept in DIR/osd/id.
altostack_ceph_osd_node_up() {
    local client_conf=$1 bootstrap=$2 min max id uuid secret _
    _ceph_vars
    read -r min max <<<"${ALTOSTACK_CEPH_OSD_PORTS:-6800 7300}"
    mkdir -p "$CEPH_DIR"/{osd,run,log} "$CEPH_KEYS"
    {
        echo "# Written by devstack/lib/ceph.sh: an OSD of cluster $CEPH_CLUSTER."
        echo "[global]"
        grep -E '^(fsid|mon_host|auth_[a-z_]+) = ' "$client_conf"
        _ceph_daemon_conf "$min" "$max"
    } >"$CEPH_CONF.tmp"
    mv "$CEPH_CONF.tmp" "$CEPH_CONF"
    cp "$bootstrap" "$CEPH_KEYS/client.bootstrap-osd.keyring"
    chmod 0600 "$CEPH_KEYS/client.bootstrap-osd.keyring"
    if [ ! -s "$CEPH_DIR/osd/id" ]; then
        uuid=$(uuidgen)
        secret=$(ceph-authtool --gen-print-key)
        id=$(printf '{"cephx_secret": "%s"}' "$secret" |
            ceph --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -n client.bootstrap-osd \
                --keyring "$CEPH_KEYS/client.bootstrap-osd.keyring" --connect-timeout 20 \
                -i - osd new "$uuid") || return 1
        mkdir -p "$CEPH_DIR/osd/$id"
        ceph-authtool --create-keyring "$CEPH_KEYS/osd.$id.keyring" -n "osd.$id" \
            --add-key "$secret" >/dev/null
        chmod 0600 "$CEPH_KEYS/osd.$id.keyring"
        ceph-osd --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i "$id" --mkfs \
            --osd-uuid "$uuid" >>"$CEPH_DIR/log/osd-mkfs.out" 2>&1 || return 1
        echo "$id" >"$CEPH_DIR/osd/id"
    fi
    id=$(cat "$CEPH_DIR/osd/id")
    _ceph_pid_alive "$CEPH_DIR/run/osd.$id.pid" >/dev/null ||
        ceph-osd --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -i "$id" || return 1
    for _ in $(seq 1 120); do
        if ceph --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -n "osd.$id" \
                --keyring "$CEPH_KEYS/osd.$id.keyring" --connect-timeout 20 osd dump \
                -f json 2>/dev/null | python3 -c '
import json, sys
up = [o["up"] for o in json.load(sys.stdin)["osds"] if o["osd"] == int(sys.argv[1])]
sys.exit(0 if up == [1] else 1)' "$id"; then
            _ceph_log "osd.$id up on $CEPH_ADDR"
            return 0
        fi
        sleep 0.5
    done
    _ceph_log "osd.$id did not come up; see $CEPH_DIR/log"
    return 1
}

altostack_ceph_pools() {
    local pool
    _ceph_vars
    for pool in "$@"; do
        if ! altostack_ceph osd pool ls | grep -qx "$pool"; then
            altostack_ceph osd pool create "$pool" 8 8 replicated >/dev/null 2>&1
            altostack_ceph osd pool set "$pool" size 1 --yes-i-really-mean-it >/dev/null 2>&1
            altostack_ceph osd pool application enable "$pool" rbd >/dev/null
            # No OSD yet (they are on storage machines still to come): the
            # pool is for rbd already; librbd sets up the rest at first use.
            [ "$(_ceph_up_osds)" != 0 ] || continue
            # waits until the pool's placement groups take writes
            rbd --cluster "$CEPH_CLUSTER" -c "$CEPH_CONF" -n client.admin \
                --keyring "$CEPH_KEYS/client.admin.keyring" pool init "$pool"
        fi
    done
}

# client.NAME with the given caps (pairs: service caps); keyring file
# DIR/keys/client.NAME.keyring. Caps of an existing key are set again.
altostack_ceph_key() {
    local name=$1
    shift
    _ceph_vars
    altostack_ceph auth get-or-create "client.$name" "$@" >/dev/null
    altostack_ceph auth caps "client.$name" "$@" >/dev/null
    altostack_ceph auth get "client.$name" -o "$CEPH_KEYS/client.$name.keyring" 2>/dev/null
    chmod 0640 "$CEPH_KEYS/client.$name.keyring"
}

# The volume service: its pool, and reading images to clone them.
altostack_ceph_volume_key() {
    _ceph_vars
    altostack_ceph_key "$1" mon 'profile rbd' \
        osd "profile rbd pool=$CEPH_VOLUMES_POOL, profile rbd-read-only pool=$CEPH_IMAGES_POOL"
}

# The image service: its pool only.
altostack_ceph_image_key() {
    _ceph_vars
    altostack_ceph_key "$1" mon 'profile rbd' osd "profile rbd pool=$CEPH_IMAGES_POOL"
}

# One compute node: the volumes its guests use, images read-only.
altostack_ceph_compute_key() {
    _ceph_vars
    altostack_ceph_key "$1" mon 'profile rbd' \
        osd "profile rbd pool=$CEPH_VOLUMES_POOL, profile rbd-read-only pool=$CEPH_IMAGES_POOL"
}

# The key of client.NAME (for a libvirt secret).
altostack_ceph_key_secret() {
    _ceph_vars
    sed -n 's/^[[:space:]]*key = //p' "$CEPH_KEYS/client.$1.keyring"
}

altostack_ceph_client_conf() {
    _ceph_vars
    echo "# Written by devstack/lib/ceph.sh: a client of cluster $CEPH_CLUSTER."
    echo "[global]"
    grep -E '^(fsid|mon_host|auth_[a-z_]+) = ' "$CEPH_CONF"
    echo "keyring = $1/\$name.keyring"
    sed -n '/^\[client\]/,$p' "$CEPH_CONF"
}

altostack_ceph_down() {
    local name pid left
    _ceph_vars
    [ -d "$CEPH_DIR" ] || return 0
    for name in "$CEPH_DIR"/run/*.pid; do
        pid=$(_ceph_pid_alive "$name") || continue
        altostack_stop_pid "$pid" || echo "[ceph] $name ($pid) would not die" >&2
    done
    # a daemon whose pid file was lost still names our conf on its command line
    left=$(pgrep -f -- "-c $CEPH_CONF" || true)
    for pid in $left; do
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$CEPH_DIR"
}
