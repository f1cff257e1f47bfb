"""Issue 15, test 3: a cloud on a 3-node RabbitMQ cluster of its own
(devstack/lib/rabbitmq_cluster.sh) with quorum queues, transient quorum
queues, stream fanout and the queue manager; then the node the compute
agent is connected to, and the leader of the scheduler's quorum queue, each
kill -9ed during a burst of boots and casts: nothing lost, no service
restarted, the heartbeats go on, the node rejoins. The failover figures are
printed (docs/deploy/rabbitmq.md). One cloud for the module.
"""

import collections
import contextlib
import datetime
import itertools
import json
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from tests.fixtures import bus_probe
from tests.fixtures.rabbit_cluster import RabbitCluster
from tests.fixtures.rabbit_cluster import connection_pid
from tests.fixtures.servers import wait_server
from tests.functional import cloud as cloud_mod
from tests.functional.cloud import LocalCloud


@pytest.fixture(scope='module')
def rmq():
    with RabbitCluster(3) as cluster:
        with LocalCloud(transport=cluster, report_interval=1, service_down_time=10) as cloud:
            cloud.upload_tiny_image()
            yield cloud, cluster


def test_cluster_layout(rmq):
    cloud, cluster = rmq
    assert cluster.alive() == [1, 2, 3]
    status = cluster.ctl(1, 'cluster_status', '--formatter', 'json')
    assert all('rmq-' in n for n in json.loads(status)['running_nodes'])
    assert 'pause_minority' in cluster.ctl(1, 'environment')
    queues = cluster.queues()
    # Work queues and reply queues are quorum queues, fanout is one stream
    # per topic, and reply queues carry the service's name (queue manager).
    assert queues['scheduler'][0] == 'quorum', queues
    assert queues['compute.%s' % cloud.host][0] == 'quorum', queues
    assert queues['scheduler_fanout'][0] == 'stream', queues
    replies = {q: t for q, (t, _) in queues.items() if q.startswith('reply_')}
    assert any(q.startswith('reply_%s:nova-compute:' % cloud.host) for q in replies), \
        sorted(queues)
    assert set(replies.values()) == {'quorum'}, replies
    assert 'classic' not in {t for t, _ in queues.values()}, queues


# -- failover: a node kill -9ed during a burst of boots and casts ----------

BOOTS = 4
CASTS = 300
# The services' RPC servers (the API's workers connect only when they send).
RPC_SERVICES = ('scheduler', 'conductor', 'compute', 'volume', 'image')


class HeartbeatWatch:
    """Polls the compute agent's service record in the cloud's database and
    notes when each new ``updated_at`` (a heartbeat the scheduler wrote)
    was first seen."""

    def __init__(self, cloud):
        self.path = cloud.db.url[len('sqlite:///'):]
        self.host = cloud.host
        self.seen = []  # [(monotonic time seen, wall time seen, updated_at)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        last = None
        while not self._stop.wait(0.2):
            try:
                with contextlib.closing(sqlite3.connect('file:%s?mode=ro' % self.path,
                                                        uri=True, timeout=5)) as db:
                    row = db.execute("SELECT updated_at FROM services WHERE "
                                     "binary = 'nova-compute' AND host = ?",
                                     (self.host,)).fetchone()
            except sqlite3.Error:
                continue
            if row and row[0] != last:
                last = row[0]
                self.seen.append((time.monotonic(), time.time(), row[0]))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def resumed_after(self, killed):
        """Seconds from ``killed`` (monotonic) to the first heartbeat seen
        after it, and the longest gap between heartbeats seen from 10 s
        before it."""
        after = [t for t, _, _ in self.seen if t > killed]
        window = [t for t, _, _ in self.seen if t > killed - 10]
        gaps = [b - a for a, b in itertools.pairwise(window)]
        return (after[0] - killed if after else None), max(gaps, default=None)


def _compute_heartbeat(cloud):
    """The compute agent's last heartbeat (naive UTC), from the database."""
    path = cloud.db.url[len('sqlite:///'):]
    with contextlib.closing(sqlite3.connect('file:%s?mode=ro' % path, uri=True,
                                            timeout=5)) as db:
        row = db.execute("SELECT updated_at FROM services WHERE binary = 'nova-compute' "
                         "AND host = ?", (cloud.host,)).fetchone()
    return datetime.datetime.fromisoformat(row[0]) if row and row[0] else None


def _probe_records(cloud, tag):
    path = cloud.db.url[len('sqlite:///'):]
    with contextlib.closing(sqlite3.connect('file:%s?mode=ro' % path, uri=True,
                                            timeout=5)) as db:
        rows = db.execute('SELECT host FROM services WHERE binary = ? AND host LIKE ?',
                          (bus_probe.PROBE_BINARY, 'busprobe-%s-%%' % tag)).fetchall()
    return [r[0] for r in rows]


def _connected_nodes(cluster, pid):
    """Counter {node index: connections} of process ``pid``."""
    return collections.Counter(n for n, name in cluster.connections()
                               if connection_pid(name) == pid)


def _online_members(cluster, queue):
    rows = json.loads(cluster.ctl(cluster.alive()[0], 'list_queues', '-p', cluster.vhost,
                                  'name', 'online', '--formatter', 'json') or '[]')
    return next((r['online'] for r in rows if r['name'] == queue), [])


def _start_probe(cloud, tag):
    proc = subprocess.Popen(
        [sys.executable, '-m', 'tests.fixtures.bus_probe', '--config-file', cloud.conf_path,
         '--tag', tag, '--casts', str(CASTS), '--cast-interval', '0.05',
         '--compute-host', cloud.host],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=cloud_mod.ROOT, env=cloud_mod._checkout_env())
    out = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    return proc, out, reader


def _failover(cloud, cluster, pick_victim, what, after_kill=None):
    """kill -9 the node ``pick_victim()`` names during a burst of boots and
    casts; assert nothing lost, every service reconnected in place and the
    heartbeats going; start the node again. Returns the figures."""
    conn = cloud.sdk('demo')
    image = cloud.openstack('image', 'show', 'altostack-tiny', json_out=True)['id']
    flavor = cloud.openstack('flavor', 'show', 'm1.tiny', json_out=True)['id']
    headers = {'X-Auth-Token': conn.auth_token, 'OpenStack-API-Version': 'compute 2.61'}
    tag = uuid.uuid4().hex[:6]
    pids = {name: cloud.procs[name].pid for name in cloud.procs}
    posted = []

    def boots():
        for i in range(BOOTS):
            r = requests.post('http://127.0.0.1:%d/compute/v2.1/servers' % cloud.api_port,
                              headers=headers, timeout=120, json={'server': {
                                  'name': 'rmq-%s-%d' % (tag, i), 'imageRef': image,
                                  'flavorRef': flavor, 'networks': 'none'}})
            assert r.status_code == 202, r.text
            posted.append(r.json()['server']['id'])

    probe, out, reader = _start_probe(cloud, tag)
    try:
        with HeartbeatWatch(cloud) as beats:
            # Warm: the probe's calls answered before anything is killed.
            cloud.wait_for(lambda: sum('"ok": true' in line for line in out) >= 3, 60,
                           'the probe answered')
            victim = pick_victim()
            booter = threading.Thread(target=boots)
            booter.start()
            cloud.wait_for(lambda: len(posted) >= 1, 120, 'the first boot accepted')
            probe.stdin.write('casts\n')
            probe.stdin.flush()
            cloud.wait_for(lambda: sum('"cast"' in line for line in out) >= 30, 120,
                           'the casts under way')
            # What the kill cuts: each service's connections to that node.
            # (one listing: each rabbitmqctl takes a second or two)
            listed = collections.Counter((n, connection_pid(name))
                                         for n, name in cluster.connections())
            cut = {name: listed[victim, pids[name]] for name in RPC_SERVICES}
            cut['probe'] = listed[victim, probe.pid]
            cluster.kill(victim)
            killed, killed_wall = time.monotonic(), time.time()
            if after_kill:
                after_kill()
            booter.join(timeout=180)
            assert len(posted) == BOOTS, posted
            # Every cast sent (a cast waits for the bus), then every ping answered again.
            cloud.wait_for(lambda: sum('"cast"' in line for line in out) >= CASTS, 120,
                           'every cast sent')
            cloud.wait_for(lambda: all(
                bus_probe.first_answer_after(p, killed_wall) is not None
                for p in bus_probe.parse_events(''.join(out))['pings'].values())
                and len(bus_probe.parse_events(''.join(out))['pings']) == 3, 120,
                'every service answering the probe after the kill')
            # Heartbeats go on past an AMQP heartbeat timeout (10 s) after the kill.
            cloud.wait_for(lambda: beats.seen and beats.seen[-1][0] > killed + 15, 60,
                           'a compute heartbeat 15 s after the kill')
            for sid in posted:
                wait_server(conn, sid, {'ACTIVE'}, timeout=300)
    finally:
        probe.stdin.close()
        probe.wait(timeout=60)
        reader.join(timeout=10)
    assert probe.returncode == 0, probe.stderr.read()[-3000:]
    events = bus_probe.parse_events(''.join(out))

    # 0 casts lost: each one left its service record.
    expected = {bus_probe.probe_host(tag, i) for i in range(CASTS)}
    cloud.wait_for(lambda: set(_probe_records(cloud, tag)) >= expected, 60,
                   'a service record for every cast')
    records = _probe_records(cloud, tag)
    assert len(records) == CASTS and set(records) == expected
    # No service restarted; each one with an RPC server is connected again
    # (to the nodes left) and answers in the same process.
    for name, proc in cloud.procs.items():
        assert proc.poll() is None, (name, cloud.log_tail(name))
        assert proc.pid == pids[name]
    for name in RPC_SERVICES:
        nodes = _connected_nodes(cluster, pids[name])
        assert nodes and victim not in nodes, (name, nodes)
    # Every service up, and the compute agent's heartbeat newer than the kill.
    rows = cloud.openstack('compute', 'service', 'list', json_out=True)
    real = [r for r in rows if r['Binary'] != bus_probe.PROBE_BINARY]
    assert real and all(r['State'] == 'up' for r in real), real
    compute = [r for r in real if r['Binary'] == 'nova-compute' and r['Host'] == cloud.host]
    updated = datetime.datetime.fromisoformat(compute[0]['Updated At'].replace('Z', '')
                                              ).replace(tzinfo=datetime.timezone.utc)
    assert updated.timestamp() > killed_wall + 10, (compute, killed_wall)

    resumed, gap = beats.resumed_after(killed)
    figures = {'what': what, 'node': victim, 'connections_cut': cut,
               'rpc': {who: round(bus_probe.first_answer_after(p, killed_wall), 2)
                       for who, p in events['pings'].items()},
               'failed_pings': {who: sum(not ok for ok, t0, _ in p if t0 >= killed_wall - 3)
                                for who, p in events['pings'].items()},
               'heartbeat_resumed': round(resumed, 2), 'longest_heartbeat_gap': round(gap, 2),
               'casts_after_kill': sum(t > killed_wall for _, t in events['casts']),
               # A cast waits while its connection fails over (0.05 s apart otherwise).
               'longest_cast_wait': round(max(b - a for a, b in itertools.pairwise(
                   sorted(t for _, t in events['casts']))), 2)}
    assert gap < cloud.service_down_time, figures
    # The casts went on across the kill.
    assert figures['casts_after_kill'] >= 100, figures

    # The node comes back and rejoins: three running nodes again.
    started = time.monotonic()
    cluster.start(victim)
    cloud.wait_for(lambda: len(json.loads(cluster.ctl(victim, 'cluster_status', '--formatter',
                                                      'json'))['running_nodes']) == 3,
                   60, 'the node rejoined')
    figures['rejoin'] = round(time.monotonic() - started, 1)
    # ... and is a member of the work queues again, online.
    node_name = 'rmq-%s-%d@localhost' % (cluster.tag(), victim)
    cloud.wait_for(lambda: node_name in _online_members(cluster, 'scheduler'), 60,
                   'the node back in the scheduler queue')
    # The heartbeats go on across the node's return too (no wedge after a
    # broker restart).
    back = datetime.datetime.utcnow()
    cloud.wait_for(lambda: (_compute_heartbeat(cloud) or back) > back + datetime.timedelta(
        seconds=3), 30, 'a compute heartbeat after the node came back')
    print('rabbit failover: %s' % json.dumps(figures))
    for sid in posted:
        conn.compute.delete_server(sid)
    return figures


def test_node_of_a_service_killed(rmq):
    """(a) kill -9 the node the compute agent is connected to."""
    cloud, cluster = rmq

    def victim():
        nodes = _connected_nodes(cluster, cloud.procs['compute'].pid)
        assert nodes, cluster.connections()
        return nodes.most_common(1)[0][0]

    figures = _failover(cloud, cluster, victim, 'the node the compute agent is connected to')
    assert figures['connections_cut']['compute'] >= 1, figures


def test_quorum_leader_of_scheduler_queue_killed(rmq):
    """(b) kill -9 the leader of the scheduler's work queue."""
    cloud, cluster = rmq
    leaders = []

    def victim():
        leaders.append(cluster.leader('scheduler'))
        return leaders[0]

    def moved():
        # While the node is down: another member leads now.
        def new_leader():
            try:
                leader = cluster.leader('scheduler')
            except RuntimeError:  # none elected yet
                return False
            leaders.append(leader)
            return leader != leaders[0]
        cloud.wait_for(new_leader, 60, 'a new leader of the scheduler queue')

    figures = _failover(cloud, cluster, victim, 'the leader of the scheduler quorum queue',
                        after_kill=moved)
    assert leaders[-1] != leaders[0] and figures['node'] == leaders[0], leaders
