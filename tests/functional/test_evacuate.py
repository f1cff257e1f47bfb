"""Evacuation through the real openstack CLI with real guests on two hosts:
a server on host 2 with a network port and a volume it wrote a marker on;
refused while host 2 is up and for non-admins; host 2's agent stopped and
its service forced down, refused while no host in its zone can take it,
then `server evacuate` rebuilds it on host 1 (a fresh boot, the same
address, the volume's marker read by the new guest, the claims moved; the
test polls, since this openstackclient's `evacuate --wait` never returns);
host 2's agent back removes the leftover guest and folder and completes
the evacuation; altostack-host-evacuate empties host 2 of three servers:
one running, one stopped (it stays stopped), one whose image is gone (it
fails: ERROR with a fault, left on host 2); a destination whose agent
freezes as the evacuation is cast to it fails the evacuation once the
scheduler sees it down.

Host 2 reaches the volume over NBD: the volume service's exports listen on
the hosts' bridge (host 1's my_ip) here, not on loopback."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from tests.fixtures import bus
from tests.fixtures.hosts import domains
from tests.fixtures.netcheck import addresses
from tests.fixtures.netcheck import until
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('libvirtd'),
    reason='needs root, nsenter and libvirtd')

TIMINGS = {}
TOKEN = uuid.uuid4().hex[:8]
# First boot: waits for the volume, writes the marker. A later boot (the
# evacuated server has the volume from the start) reads it back.
SCRIPT = """#!/bin/sh
( while [ ! -b /dev/vdb ]; do sleep 0.2; done; sleep 0.5
  old=$(head -c 64 /dev/vdb | tr -dc 'A-Za-z0-9-')
  case "$old" in
    MARKER-*) echo "READ:$old" ;;
    *) printf 'MARKER-%s-END' > /dev/vdb && sync && echo "WROTE-$((40+2))" ;;
  esac ) &
""" % TOKEN


@pytest.fixture(scope='module')
def mcloud(request):
    c = cloud_mod.LocalCloud(extra_hosts=1)
    # Host 2 reaches the NBD exports on the hosts' bridge.
    c.extra_conf = '[volume]\nnbd_bind_host = %s.1\nnbd_port = %d\n' % (
        c.hosts_subnet, cloud_mod.free_port())
    failed = request.session.testsfailed
    c.__enter__()
    try:
        yield c
    finally:
        keep = request.session.testsfailed > failed  # the logs of a failure
        c.stop(keep=keep)
        if keep:
            print('evacuate logs kept in %s' % c.workdir)
    print('evacuate timings: %s' % {k: round(v, 1) for k, v in TIMINGS.items()})


@pytest.fixture(scope='module')
def mimage(mcloud):
    return mcloud.upload_tiny_image()


@pytest.fixture(scope='module')
def zones(mcloud):
    for n in (1, 2):
        mcloud.openstack('aggregate', 'create', '--zone', 'zone-h%d' % n, 'agg-h%d' % n)
        mcloud.openstack('aggregate', 'add', 'host', 'agg-h%d' % n, mcloud.host_name(n))
    return {1: 'zone-h1', 2: 'zone-h2'}


def refused(r, code):
    """The CLI failed with HTTP ``code`` (as the SDK or the client words it)."""
    return r.returncode != 0 and ('(HTTP %d)' % code in r.stderr or
                                  ': %d: ' % code in r.stderr)


def show(mcloud, sid):
    return mcloud.openstack('server', 'show', sid, json_out=True)


def host_of(mcloud, sid):
    return show(mcloud, sid)['OS-EXT-SRV-ATTR:host']


def vcpus_used(mcloud, n):
    for hyp in mcloud.sdk().compute.hypervisors(details=True):
        if (hyp.service_details or {}).get('host') == mcloud.host_name(n):
            return hyp.vcpus_used
    raise AssertionError('no hypervisor for host %d' % n)


def migrations(mcloud, sid):
    db = sqlite3.connect(mcloud.db.url.split('///', 1)[1])
    try:
        return db.execute('SELECT migration_type, status, source_compute, dest_compute '
                          'FROM migrations WHERE instance_uuid = ? ORDER BY id',
                          (sid,)).fetchall()
    finally:
        db.close()


def host1_in_zone(mcloud, n):
    """Host 1 joins zone-hN (leaving its other zone): servers made in zone-h2
    keep that zone, so they may only be evacuated into it."""
    other = 2 if n == 1 else 1
    mcloud.openstack('aggregate', 'remove', 'host', 'agg-h%d' % other, mcloud.host_name(1))
    mcloud.openstack('aggregate', 'add', 'host', 'agg-h%d' % n, mcloud.host_name(1))


def host2_down(mcloud):
    mcloud.stop_host_agent(2)
    mcloud.openstack('--os-compute-api-version', '2.11', 'compute', 'service', 'set',
                     '--down', mcloud.host_name(2), 'nova-compute')
    until(lambda: mcloud.compute_services().get(mcloud.host_name(2)) == 'down', 30,
          'host 2 down')


def host2_up(mcloud):
    mcloud.start_host_agent(2)
    mcloud.openstack('--os-compute-api-version', '2.11', 'compute', 'service', 'set',
                     '--up', mcloud.host_name(2), 'nova-compute')
    until(lambda: mcloud.compute_services().get(mcloud.host_name(2)) == 'up', 60,
          'host 2 up')


@pytest.fixture(scope='module')
def vm1(mcloud, mimage, zones, tmp_path_factory):
    """On host 2: a port on a network of its own, a volume with a marker."""
    mcloud.openstack('network', 'create', 'ev-net', cloud='demo')
    mcloud.openstack('subnet', 'create', '--network', 'ev-net', '--subnet-range',
                     '10.62.0.0/24', 'ev-sub', cloud='demo')
    script = tmp_path_factory.mktemp('ev') / 'vm1.sh'
    script.write_text(SCRIPT)
    t0 = time.monotonic()
    srv = mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--network', 'ev-net', '--availability-zone', zones[2],
                           '--user-data', str(script), '--wait', 'ev-vm1', cloud='demo',
                           json_out=True)
    vol = mcloud.openstack('volume', 'create', '--size', '1', 'ev-vol', cloud='demo',
                           json_out=True)
    until(lambda: mcloud.openstack('volume', 'show', vol['id'], cloud='demo',
                                   json_out=True)['status'] == 'available', 60, 'volume')
    mcloud.openstack('server', 'add', 'volume', srv['id'], vol['id'], cloud='demo')
    wait_console(mcloud, 'ev-vm1', 'WROTE-42', timeout=240)
    TIMINGS['vm1_boot_attach_write'] = time.monotonic() - t0
    assert host_of(mcloud, srv['id']) == mcloud.host_name(2)
    ip = addresses(mcloud, 'ev-vm1', 'demo')['ev-net'][0]
    return {'id': srv['id'], 'volume': vol['id'], 'ip': ip}


def test_refused_while_the_host_is_up_and_for_non_admins(mcloud, vm1):
    r = mcloud.openstack('server', 'evacuate', vm1['id'], check=False)
    assert refused(r, 400), r.stderr
    assert 'Compute service of %s is still in use' % mcloud.host_name(2) in r.stderr, r.stderr
    r = mcloud.openstack('server', 'evacuate', vm1['id'], cloud='demo', check=False)
    assert refused(r, 403), r.stderr
    r = mcloud.openstack('--os-compute-api-version', '2.29', 'server', 'evacuate', '--host',
                         'no-such-host', vm1['id'], check=False)
    assert refused(r, 404), r.stderr
    assert show(mcloud, vm1['id'])['status'] == 'ACTIVE'


def test_evacuate_rebuilds_on_host_1_with_its_volume_and_address(mcloud, vm1):
    sid = vm1['id']
    before = (vcpus_used(mcloud, 1), vcpus_used(mcloud, 2))
    host2_down(mcloud)
    # The server was made in zone-h2, which has no other host yet.
    r = mcloud.openstack('server', 'evacuate', sid, check=False)
    assert refused(r, 400), r.stderr
    assert 'No valid host was found' in r.stderr, r.stderr
    assert '%s is in zone zone-h1, not zone-h2' % mcloud.host_name(1) in r.stderr, r.stderr
    assert show(mcloud, sid)['status'] == 'ACTIVE'
    host1_in_zone(mcloud, 2)
    t0 = time.monotonic()
    # Not --wait: this openstackclient's evacuate --wait compares 'ACTIVE'
    # with a lower-cased status and never returns (a client bug).
    mcloud.openstack('server', 'evacuate', sid)
    assert show(mcloud, sid)['status'] in ('REBUILD', 'ACTIVE')
    until(lambda: show(mcloud, sid)['status'] != 'REBUILD', 180, 'the rebuild on host 1')
    TIMINGS['evacuate_to_active'] = time.monotonic() - t0
    srv = show(mcloud, sid)
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] == mcloud.host_name(1)
    dom = 'altostack-%s' % sid
    assert dom in domains(mcloud.host_uri(1))
    # A fresh boot on host 1: its own console log, which shows the marker
    # the first guest wrote, read from the volume, and the same address.
    out = wait_console(mcloud, 'ev-vm1', 'READ:MARKER-%s-END' % TOKEN, timeout=240)
    TIMINGS['evacuate_to_marker_read'] = time.monotonic() - t0
    assert 'WROTE-42' not in out, out[-1500:]
    assert addresses(mcloud, 'ev-vm1', 'demo')['ev-net'] == [vm1['ip']]
    until(lambda: ' %s/24 ' % vm1['ip'] in mcloud.openstack(
        'console', 'log', 'show', 'ev-vm1', cloud='demo'), 120, 'DHCP address on host 1')
    vol = mcloud.openstack('volume', 'show', vm1['volume'], json_out=True)
    assert vol['status'] == 'in-use' and vol['attachments'][0]['server_id'] == sid
    # Claims: host 1 holds it, host 2 no longer.
    assert (vcpus_used(mcloud, 1), vcpus_used(mcloud, 2)) == (before[0] + 1, before[1] - 1)
    assert migrations(mcloud, sid) == [('evacuation', 'done', mcloud.host_name(2),
                                        mcloud.host_name(1))]
    events = mcloud.openstack('server', 'event', 'list', sid, json_out=True)
    assert 'evacuate' in [e['Action'] for e in events], events


def test_host_2_back_removes_the_leftovers(mcloud, vm1):
    sid = vm1['id']
    dom = 'altostack-%s' % sid
    assert dom in domains(mcloud.host_uri(2))  # host 2's libvirt still runs it
    inst_dir = os.path.join(mcloud.workdir, 'hosts', 'host2', 'instances', sid)
    assert os.path.isdir(inst_dir)
    t0 = time.monotonic()
    host2_up(mcloud)
    until(lambda: dom not in domains(mcloud.host_uri(2)), 60, 'the leftover guest gone')
    until(lambda: not os.path.exists(inst_dir), 30, 'the leftover folder gone')
    until(lambda: migrations(mcloud, sid)[0][1] == 'completed', 30, 'completed')
    TIMINGS['source_cleanup'] = time.monotonic() - t0
    # Nothing of the server's was taken: still running on host 1, its
    # volume attached, its address kept.
    assert dom in domains(mcloud.host_uri(1))
    srv = show(mcloud, sid)
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] == mcloud.host_name(1)
    assert mcloud.openstack('volume', 'show', vm1['volume'], json_out=True)['status'] == \
        'in-use'
    assert addresses(mcloud, 'ev-vm1', 'demo')['ev-net'] == [vm1['ip']]


def test_host_evacuate_command_moves_every_server(mcloud, vm1, zones):
    """Three servers on host 2: one running, one stopped, and one whose
    image was deleted since, so its rebuild on host 1 fails."""
    mcloud.openstack('image', 'create', '--public', '--disk-format', 'qcow2',
                     '--container-format', 'bare', '--file',
                     os.path.join(cloud_mod.GUEST_IMAGE_DIR, 'altostack-tiny.qcow2'),
                     'ev-doomed')
    host1_in_zone(mcloud, 1)
    ids = {}
    for name, image in (('ev-vm2', 'altostack-tiny'), ('ev-vm3', 'altostack-tiny'),
                        ('ev-vm4', 'ev-doomed')):
        ids[name] = mcloud.openstack('server', 'create', '--image', image,
                                     '--flavor', 'm1.tiny', '--nic', 'none',
                                     '--availability-zone', zones[2], '--wait', name,
                                     cloud='demo', json_out=True)['id']
    mcloud.openstack('image', 'delete', 'ev-doomed')
    mcloud.openstack('server', 'stop', 'ev-vm3', cloud='demo')
    until(lambda: show(mcloud, ids['ev-vm3'])['status'] == 'SHUTOFF', 60, 'ev-vm3 off')
    before = (vcpus_used(mcloud, 1), vcpus_used(mcloud, 2))
    host2_down(mcloud)
    host1_in_zone(mcloud, 2)
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=mcloud.clouds_path,
               PYTHONPATH=cloud_mod.ROOT)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, '-m', 'cli.host_evacuate', '--os-cloud',
                        'altostack-admin', mcloud.host_name(2), '--wait'],
                       capture_output=True, text=True, env=env, timeout=600)
    TIMINGS['host_evacuate_three'] = time.monotonic() - t0
    assert r.returncode == 1, r.stdout + r.stderr  # one of them failed
    lines = r.stdout.splitlines()
    for name, sid in ids.items():
        assert '%s %s accepted' % (sid, name) in r.stdout, r.stdout
    assert '%s ev-vm2 ACTIVE on %s' % (ids['ev-vm2'], mcloud.host_name(1)) in lines, lines
    assert '%s ev-vm3 SHUTOFF on %s' % (ids['ev-vm3'], mcloud.host_name(1)) in lines, lines
    failed = [x for x in lines if x.startswith('%s ev-vm4 ERROR on %s Evacuation to %s failed'
                                               % (ids['ev-vm4'], mcloud.host_name(2),
                                                  mcloud.host_name(1)))]
    assert failed, lines
    assert 'altostack-%s' % ids['ev-vm2'] in domains(mcloud.host_uri(1))
    assert 'altostack-%s' % ids['ev-vm4'] not in domains(mcloud.host_uri(1))
    # Two moved; the failed one's claim stays on host 2, none left on host 1.
    assert (vcpus_used(mcloud, 1), vcpus_used(mcloud, 2)) == (before[0] + 2, before[1] - 2)
    assert migrations(mcloud, ids['ev-vm4'])[0][:2] == ('evacuation', 'failed')
    host2_up(mcloud)
    for name in ('ev-vm2', 'ev-vm3'):
        until(lambda s=ids[name]: 'altostack-%s' % s not in domains(mcloud.host_uri(2)), 60,
              'leftover of %s gone' % name)
    # The failed one was not evacuated: its guest on host 2 is kept.
    assert 'altostack-%s' % ids['ev-vm4'] in domains(mcloud.host_uri(2))
    r = subprocess.run([sys.executable, '-m', 'cli.host_evacuate', '--os-cloud',
                        'altostack-admin', mcloud.host_name(2)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and 'Compute service of %s is still in use' % mcloud.host_name(2) \
        in r.stdout, r.stdout + r.stderr
    mcloud.openstack('server', 'delete', '--wait', *ids.values(), cloud='demo')


def test_a_destination_that_dies_before_rebuilding_fails_the_evacuation(mcloud, vm1, zones):
    """Host 1's agent is frozen (SIGSTOP) as the evacuation is cast to it:
    once it counts as down, the scheduler fails the evacuation (ERROR with
    a fault, back on host 2, host 1's claim given back), and the agent,
    restarted, builds nothing from the cast it finds waiting."""
    import requests
    host1_in_zone(mcloud, 1)
    sid = mcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--nic', 'none', '--availability-zone', zones[2],
                           '--wait', 'ev-vm5', cloud='demo', json_out=True)['id']
    host2_down(mcloud)
    host1_in_zone(mcloud, 2)
    until(lambda: mcloud.compute_services().get(mcloud.host_name(1)) == 'up', 30, 'host 1 up')
    before = vcpus_used(mcloud, 1)
    token = mcloud.sdk().auth_token
    agent = mcloud.procs['compute']
    agent.send_signal(signal.SIGSTOP)
    try:
        r = requests.post('http://127.0.0.1:%d/compute/v2.1/servers/%s/action'
                          % (mcloud.api_port, sid), json={'evacuate': {}}, timeout=30,
                          headers={'X-Auth-Token': token,
                                   'OpenStack-API-Version': 'compute 2.61'})
        assert r.status_code == 200, r.text
        t0 = time.monotonic()
        until(lambda: show(mcloud, sid)['status'] == 'ERROR', 60, 'the evacuation failed')
        TIMINGS['dead_destination_noticed'] = time.monotonic() - t0
    finally:
        mcloud.kill_service('compute')  # SIGKILL, even while stopped
    srv = show(mcloud, sid)
    assert srv['OS-EXT-SRV-ATTR:host'] == mcloud.host_name(2)
    assert '%s went down during the evacuation' % mcloud.host_name(1) in \
        srv['fault']['message'], srv['fault']
    assert migrations(mcloud, sid)[0][:2] == ('evacuation', 'failed')
    mcloud.start_service('compute')
    until(lambda: mcloud.compute_services().get(mcloud.host_name(1)) == 'up', 60,
          'host 1 up again')
    # The waiting cast is taken and dropped: the records moved on.
    until(lambda: bus.logged(mcloud, 'compute', 'Evacuation of %s cancelled' % sid), 60,
          'the waiting evacuation cast dropped')
    assert 'altostack-%s' % sid not in domains(mcloud.host_uri(1))
    assert vcpus_used(mcloud, 1) == before
    assert show(mcloud, sid)['status'] == 'ERROR'
    host2_up(mcloud)
    mcloud.openstack('server', 'delete', '--wait', sid, cloud='demo')
