# shellcheck shell=bash
# A 3-node MariaDB Galera cluster of our own on one machine, with an
# HAProxy front that sends every connection to one writer (the others are
# `backup`). Not Debian's service, and never the machine's MariaDB on 3306:
# each node has its own datadir, socket and free ports (SQL, gmcast, IST,
# SST) under DIR, and every name carries DIR's tag.
#
#   altostack_galera_up DIR [DB USER PASSWORD]
#       form the cluster (node 1 with --wsrep-new-cluster, 2 and 3 join by
#       rsync SST), make the cloud's database and login, start the front;
#       idempotent: what runs already is left alone
#   altostack_galera_url DIR          the cloud's SQLAlchemy URL (the front)
#   altostack_galera_writer DIR       the node (1..3) the front sends writes to
#   altostack_galera_kill DIR N       kill -9 node N
#   altostack_galera_start DIR N      (re)start node N; a node that was
#                                     killed rejoins by IST; waits until synced
#   altostack_galera_size DIR         wsrep_cluster_size as a live node sees it
#   altostack_galera_down DIR         stop the front and the nodes, remove DIR
#
# One node per machine instead (deploy/ansible: a node on each controller,
# the front on the load balancer), on the standard ports of ADDR (SQL 3306,
# gmcast 4567, IST 4568, SST 4444); the node's files are DIR/n1:
#   altostack_galera_host_node_up DIR ADDR "PEER..." [new]
#       start this machine's node: "new" bootstraps the cluster (the first
#       controller, once) unless a peer's node answers, otherwise it joins
#       a peer (rsync SST, or IST when its data is recent enough); waits
#       until synced; idempotent
#   altostack_galera_host_grant DIR DB USER PASSWORD
#       the cloud's database and login (from any address), and the front's
#       check login; on a synced node, once for the cluster
#   altostack_galera_front_write DIR ADDR PORT NAME=HOST:PORT...
#       DIR/haproxy.cfg and DIR/check.sh of a front on ADDR:PORT whose
#       first server is the writer, the others backup
#   altostack_galera_front_up DIR / altostack_haproxy_down DIR
#
# DIR/ports holds the ports chosen at the first `up`:
#   FRONT SQL1 SQL2 SQL3 GM1 GM2 GM3 IST1 IST2 IST3 SST1 SST2 SST3
# The front's health check (DIR/check.sh) asks each node for
# wsrep_local_state: only a Synced node (4) takes connections, so a dead,
# joining or donor node is out within about a second.

_ALTOSTACK_GALERA_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devstack/lib/haproxy.sh
source "$_ALTOSTACK_GALERA_LIB_DIR/haproxy.sh"

_galera_tag() { cat "$1/tag"; }

_galera_port() {
    # _galera_port DIR NAME: one of the ports chosen at the first `up`.
    local names=(FRONT SQL1 SQL2 SQL3 GM1 GM2 GM3 IST1 IST2 IST3 SST1 SST2 SST3) i
    read -r -a vals < "$1/ports"
    for i in "${!names[@]}"; do
        [ "${names[$i]}" = "$2" ] && { echo "${vals[$i]}"; return 0; }
    done
    return 1
}

_galera_pick_ports() {
    # 13 distinct free loopback ports, held open together while chosen.
    python3 - <<'PY'
import socket
socks = []
for _ in range(13):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    socks.append(s)
print(' '.join(str(s.getsockname()[1]) for s in socks))
PY
}

_galera_sql() {
    # _galera_sql DIR N SQL: run SQL on node N over its socket as root.
    mariadb --no-defaults -uroot -S "$1/n$2/sock" -N -B -e "$3"
}

_galera_pid() {
    local f=$1/n$2/pid p
    [ -s "$f" ] || return 1
    p=$(cat "$f")
    # Still a mariadbd: the pid file of a node killed (or of a machine
    # that rebooted) may name a process that reused the number.
    altostack_alive "$p" && grep -q mariadbd "/proc/$p/cmdline" 2>/dev/null && echo "$p"
}

# _galera_cnf NODEDIR TAG PORT BIND GCOMM NAME GM IST SST: NODEDIR/my.cnf of
# one node (its datadir, socket and pid file in NODEDIR) listening for SQL
# on BIND:PORT, for group communication on GM, for IST on IST and for
# rsync SST on SST (each HOST:PORT), joining the nodes in GCOMM.
_galera_cnf() {
    local d=$1 tag=$2 port=$3 bind=$4 gcomm=$5 name=$6 gm=$7 ist=$8 sst=$9
    mkdir -p "$d/data"
    # The node runs as mysql (rsync SST's daemon will not write as root).
    chown mysql:mysql "$d" "$d/data"
    cat > "$d/my.cnf" <<EOF
[mariadbd]
user=mysql
datadir=$d/data
socket=$d/sock
pid-file=$d/pid
port=$port
bind-address=$bind
log-error=$d/err.log
skip-name-resolve
innodb_buffer_pool_size=48M
innodb_log_file_size=16M
performance_schema=OFF
max_connections=400
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_flush_log_at_trx_commit=2
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=$tag
wsrep_cluster_address=gcomm://$gcomm
wsrep_node_name=$name
wsrep_node_address=$gm
wsrep_provider_options="gmcast.listen_addr=tcp://$gm;ist.recv_addr=$ist;gcache.size=32M;evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S;evs.install_timeout=PT3S"
wsrep_sst_method=rsync
wsrep_sst_receive_address=$sst
EOF
}

_galera_write_cnf() {
    local dir=$1 i=$2 tag addr
    tag=$(_galera_tag "$dir")
    addr="127.0.0.1:$(_galera_port "$dir" GM1),127.0.0.1:$(_galera_port "$dir" GM2),127.0.0.1:$(_galera_port "$dir" GM3)"
    _galera_cnf "$dir/n$i" "$tag" "$(_galera_port "$dir" "SQL$i")" 127.0.0.1 "$addr" \
        "$tag-n$i" "127.0.0.1:$(_galera_port "$dir" "GM$i")" \
        "127.0.0.1:$(_galera_port "$dir" "IST$i")" "127.0.0.1:$(_galera_port "$dir" "SST$i")"
}

_galera_wait_synced() {
    # _galera_wait_synced DIR N [SECONDS]
    local dir=$1 i=$2 t=${3:-120} state _
    for _ in $(seq 1 $((t * 4))); do
        state=$(_galera_sql "$dir" "$i" "SHOW STATUS LIKE 'wsrep_local_state'" 2>/dev/null \
                | awk '{print $2}')
        [ "$state" = 4 ] && return 0
        if ! kill -0 "$(cat "$dir/n$i/started" 2>/dev/null || echo 0)" 2>/dev/null; then
            echo "[galera] node $i died; see $dir/n$i/err.log" >&2
            tail -n 20 "$dir/n$i/err.log" >&2
            return 1
        fi
        sleep 0.25
    done
    echo "[galera] node $i not synced after ${t}s; see $dir/n$i/err.log" >&2
    return 1
}

altostack_galera_start() {
    # altostack_galera_start DIR N [--wsrep-new-cluster]
    local dir=$1 i=$2 extra=${3:-}
    _galera_pid "$dir" "$i" >/dev/null && { _galera_wait_synced "$dir" "$i"; return; }
    if [ -s "$dir/host" ]; then _galera_write_host_cnf "$dir"; else _galera_write_cnf "$dir" "$i"; fi
    rm -f "$dir/n$i/pid"
    touch "$dir/n$i/err.log"
    chown mysql:mysql "$dir/n$i/err.log"
    # setsid: the node outlives the shell that started it, in a group of
    # its own (the caller's kill of its own group does not reach it).
    setsid /usr/sbin/mariadbd --defaults-file="$dir/n$i/my.cnf" $extra \
        >> "$dir/n$i/err.log" 2>&1 < /dev/null &
    echo $! > "$dir/n$i/started"
    for _ in $(seq 1 100); do
        [ -s "$dir/n$i/pid" ] && break
        sleep 0.1
    done
    _galera_wait_synced "$dir" "$i"
}

_galera_write_front() {
    local dir=$1 i servers=()
    for i in 1 2 3; do
        servers+=("n$i=127.0.0.1:$(_galera_port "$dir" "SQL$i")")
    done
    altostack_galera_front_write "$dir" 127.0.0.1 "$(_galera_port "$dir" FRONT)" "${servers[@]}"
}

altostack_galera_front_write() {
    local dir=$1 addr=$2 port=$3 tag first=1 s
    shift 3
    mkdir -p "$dir"
    [ -s "$dir/tag" ] || echo "front" >"$dir/tag"
    tag=$(_galera_tag "$dir")
    cat > "$dir/check.sh" <<'EOF'
#!/bin/sh
# HAProxy external check: $3 address, $4 port. Up only when Synced (4).
state=$(mariadb --no-defaults --connect-timeout=1 -h "$3" -P "$4" -u altostack_hacheck \
    -N -B -e "SHOW STATUS LIKE 'wsrep_local_state'" 2>/dev/null | cut -f2)
[ "$state" = 4 ]
EOF
    chmod 755 "$dir/check.sh"
    {
        cat <<EOF
# Galera front $tag: one writer, the others backup (written by galera.sh)
global
    maxconn 2000
    stats socket $dir/haproxy.sock mode 600 level admin
    external-check
    insecure-fork-wanted
defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 2s
    retries 2
listen galera-$tag
    bind $addr:$port
    option tcpka
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $dir/check.sh
    # Once moved to a backup the writer stays there when the first node
    # comes back: one writer at a time, no certification conflicts.
    stick-table type integer size 1 nopurge
    stick on int(1)
    default-server inter 500ms fastinter 250ms downinter 1s rise 2 fall 2 on-marked-down shutdown-sessions
EOF
        for s in "$@"; do
            echo "    server ${s%%=*} ${s#*=} check$([ "$first" = 1 ] || echo ' backup')"
            first=0
        done
    } > "$dir/haproxy.cfg"
}

altostack_galera_front_up() {
    altostack_haproxy_up "$1"
}

# -- one node per machine ---------------------------------------------------
_galera_write_host_cnf() {
    local dir=$1 addr peers tag p gcomm=
    read -r addr peers < "$dir/host"
    tag=$(_galera_tag "$dir")
    for p in $peers; do gcomm="$gcomm${gcomm:+,}$p:4567"; done
    _galera_cnf "$dir/n1" "$tag" 3306 "$addr" "$gcomm" "$tag-$addr" "$addr:4567" \
        "$addr:4568" "$addr:4444"
}

_galera_peer_answers() {
    # _galera_peer_answers ADDR PEER...: true when a peer other than ADDR
    # accepts a connection on its group communication port.
    local addr=$1 p
    shift
    for p in "$@"; do
        [ "$p" = "$addr" ] && continue
        timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/4567"' "$p" 2>/dev/null && return 0
    done
    return 1
}

altostack_galera_host_node_up() {
    local dir=$1 addr=$2 peers=$3 new=${4:-}
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ -s "$dir/tag" ] || echo "${ALTOSTACK_GALERA_CLUSTER:-altostack}" > "$dir/tag"
    echo "$addr $peers" > "$dir/host"
    # A cluster that runs already is joined, never bootstrapped a second
    # time: "new" on a machine whose node was lost with its data (a
    # re-run of the playbook for it) would make a cluster of its own.
    # shellcheck disable=SC2086  # a list of addresses
    if [ "$new" = new ] && _galera_peer_answers "$addr" $peers; then
        echo "[galera] a peer's node answers: $addr joins its cluster" >&2
        new=
    fi
    if [ "$new" = new ] && [ ! -d "$dir/n1/data/mysql" ]; then
        mkdir -p "$dir/n1/data"
        chown mysql:mysql "$dir/n1" "$dir/n1/data"
        mariadb-install-db --no-defaults --user=mysql --datadir="$dir/n1/data" \
            --auth-root-authentication-method=socket --skip-test-db \
            > "$dir/n1/install.log" 2>&1 || { cat "$dir/n1/install.log" >&2; return 1; }
        altostack_galera_start "$dir" 1 --wsrep-new-cluster
    else
        altostack_galera_start "$dir" 1
    fi
}

altostack_galera_host_grant() {
    local dir=$1 db=$2 user=$3 password=$4
    _galera_sql "$dir" 1 "
CREATE DATABASE IF NOT EXISTS \`$db\`;
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'%';
CREATE USER IF NOT EXISTS 'altostack_hacheck'@'%';"
}

altostack_galera_up() {
    local dir=$1 db=${2:-altostack} user=${3:-altostack} password=${4:-altostack} i
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ -s "$dir/tag" ] || echo "alto-gal-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$dir/tag"
    [ -s "$dir/ports" ] || _galera_pick_ports > "$dir/ports"
    echo "$db $user $password" > "$dir/login"
    if [ ! -d "$dir/n1/data/mysql" ]; then
        mkdir -p "$dir/n1/data"
        chown mysql:mysql "$dir/n1" "$dir/n1/data"
        mariadb-install-db --no-defaults --user=mysql --datadir="$dir/n1/data" \
            --auth-root-authentication-method=socket --skip-test-db \
            > "$dir/n1/install.log" 2>&1 || { cat "$dir/n1/install.log" >&2; return 1; }
        altostack_galera_start "$dir" 1 --wsrep-new-cluster || return 1
    else
        # A cluster stopped whole: the node that stopped last bootstraps.
        _galera_pid "$dir" 1 >/dev/null || _galera_pid "$dir" 2 >/dev/null \
            || _galera_pid "$dir" 3 >/dev/null \
            || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$dir/n1/data/grastate.dat"
        altostack_galera_start "$dir" 1 --wsrep-new-cluster || return 1
    fi
    for i in 2 3; do
        altostack_galera_start "$dir" "$i" || return 1
    done
    _galera_sql "$dir" 1 "
CREATE DATABASE IF NOT EXISTS \`$db\`;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'altostack_hacheck'@'127.0.0.1';" || return 1
    _galera_write_front "$dir"
    altostack_haproxy_up "$dir" || return 1
    # The front answers once a check has passed twice (rise 2).
    for _ in $(seq 1 40); do
        altostack_galera_writer "$dir" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    echo "[galera] the front on port $(_galera_port "$dir" FRONT) does not answer" >&2
    return 1
}

altostack_galera_url() {
    local db user password
    read -r db user password < "$1/login"
    echo "mysql+pymysql://$user:$password@127.0.0.1:$(_galera_port "$1" FRONT)/$db"
}

altostack_galera_writer() {
    local db user password name
    read -r db user password < "$1/login"
    name=$(mariadb --no-defaults --connect-timeout=2 -h 127.0.0.1 \
        -P "$(_galera_port "$1" FRONT)" -u "$user" -p"$password" -N -B \
        -e 'SELECT @@wsrep_node_name') || return 1
    echo "${name##*-n}"
}

altostack_galera_kill() {
    local pid
    pid=$(_galera_pid "$1" "$2") || return 0
    altostack_stop_pid -s KILL "$pid"
}

altostack_galera_size() {
    local i
    for i in 1 2 3; do
        _galera_pid "$1" "$i" >/dev/null || continue
        _galera_sql "$1" "$i" "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null \
            | awk '{print $2}' && return 0
    done
    return 1
}

altostack_galera_down() {
    local dir=$1 i pid
    [ -d "$dir" ] || return 0
    altostack_haproxy_down "$dir"
    for i in 3 2 1; do
        pid=$(_galera_pid "$dir" "$i") || continue
        altostack_stop_pid "$pid" || echo "[galera] n$i ($pid) would not die" >&2
    done
    # An rsync SST daemon left behind by a killed joiner would hold a port.
    for pid in $(cat "$dir"/n*/data/rsync_sst.pid 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
