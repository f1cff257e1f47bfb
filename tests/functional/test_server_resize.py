"""Resize of a real TCG guest on its own host through the real openstack
CLI: VERIFY_RESIZE with the new vCPUs and memory seen by the guest and by
libvirt, confirm and revert, the host's records holding both flavors only
while the resize waits, and a smaller disk refused."""

import json
import os
import re
import subprocess
import time

from tests.fixtures.servers import VIRSH
from tests.fixtures.servers import api
from tests.fixtures.servers import assert_guest_has
from tests.fixtures.servers import wait_server

# user_data runs at every boot: each boot prints what the guest has.
PROBE = ('#!/bin/sh\n'
         'echo "SIZE-PROBE cpus=$(grep -c ^processor /proc/cpuinfo) '
         'memkb=$(grep MemTotal /proc/meminfo | tr -s \' \' | cut -d\' \' -f2)"\n')
PROBE_RE = re.compile(r'SIZE-PROBE cpus=(\d+) memkb=(\d+)')


def probes(cloud, name):
    out = cloud.openstack('console', 'log', 'show', name, cloud='demo')
    return [(int(c), int(m)) for c, m in PROBE_RE.findall(out)]


def wait_probe(cloud, name, count, timeout=180):
    """The guest's report of its ``count``-th boot: (cpus, MemTotal kB)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        seen = probes(cloud, name)
        if len(seen) >= count:
            return seen[count - 1]
        time.sleep(1)
    raise AssertionError('boot %d of %s never reported its size (seen: %s)'
                         % (count, name, seen))


def dominfo(sid):
    out = subprocess.run(VIRSH + ['dominfo', 'altostack-%s' % sid], capture_output=True,
                         text=True, check=True).stdout
    info = dict(line.split(':', 1) for line in out.splitlines() if ':' in line)
    return (int(info['CPU(s)'].strip()), int(info['Max memory'].split()[0]),
            info['State'].strip())


def usage(cloud):
    """(vcpus_used, memory_mb_used, local_gb_used) of the one hypervisor."""
    r = api(cloud, 'GET', '/os-hypervisors/detail', cloud_name='admin')
    assert r.status_code == 200, r.text
    h, = r.json()['hypervisors']
    return h['vcpus_used'], h['memory_mb_used'], h['local_gb_used']


def minus(a, b):
    return tuple(x - y for x, y in zip(a, b, strict=True))


def disk_gib(cloud, sid):
    path = os.path.join(cloud.workdir, 'instances', sid, 'disk')
    out = subprocess.run(['qemu-img', 'info', '-U', '--output=json', path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)['virtual-size'] / 1024 ** 3


def flavor_name(cloud, sid):
    flavor = cloud.openstack('server', 'show', sid, cloud='demo', json_out=True)['flavor']
    return flavor['name'] if isinstance(flavor, dict) else flavor.split(' ')[0]


def event_results(cloud, sid, action):
    events = cloud.openstack('server', 'event', 'list', sid, cloud='demo', json_out=True)
    req = next(e['Request ID'] for e in events if e['Action'] == action)
    detail = cloud.openstack('server', 'event', 'show', sid, req, cloud='admin',
                             json_out=True)
    return {e['event']: e['result'] for e in detail['events']}


def test_resize_confirm_revert_and_no_disk_shrink(cloud, image, tmp_path):
    cloud.openstack('flavor', 'create', '--vcpus', '2', '--ram', '1024', '--disk', '20',
                    'rs.2cpu')
    cloud.openstack('flavor', 'create', '--vcpus', '1', '--ram', '512', '--disk', '1',
                    'rs.smalldisk')
    script = tmp_path / 'probe.sh'
    script.write_text(PROBE)
    base = usage(cloud)
    srv = cloud.openstack('server', 'create', '--image', image['id'], '--flavor', 'm1.tiny',
                          '--nic', 'none', '--user-data', str(script), '--wait', 'rs',
                          cloud='demo', json_out=True)
    sid = srv['id']
    conn = cloud.sdk('demo')
    assert_guest_has(wait_probe(cloud, 'rs', 1), 1, 512)
    assert minus(usage(cloud), base) == (1, 512, 1)

    # Resize to m1.small: VERIFY_RESIZE, the guest sees 2 GB, the disk grew
    # to 20 GiB, and the host holds both flavors until confirmed.
    cloud.openstack('server', 'resize', '--flavor', 'm1.small', '--wait', 'rs', cloud='demo')
    srv = wait_server(conn, sid, {'VERIFY_RESIZE'}, timeout=10)
    assert flavor_name(cloud, sid) == 'm1.small'
    assert_guest_has(wait_probe(cloud, 'rs', 2), 1, 2048)
    assert dominfo(sid) == (1, 2048 * 1024, 'running')
    assert disk_gib(cloud, sid) == 20
    assert minus(usage(cloud), base) == (2, 512 + 2048, 21)
    assert event_results(cloud, sid, 'resize') == {'compute_prep_resize': 'Success',
                                                   'compute_resize_instance': 'Success'}

    cloud.openstack('server', 'resize', 'confirm', 'rs', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'}, timeout=60)
    assert minus(usage(cloud), base) == (1, 2048, 20)
    assert dominfo(sid) == (1, 2048 * 1024, 'running')
    assert event_results(cloud, sid, 'confirmResize') == {'compute_confirm_resize':
                                                          'Success'}

    # A second resize, to 2 vCPUs and 1 GB, then reverted: m1.small again.
    cloud.openstack('server', 'resize', '--flavor', 'rs.2cpu', '--wait', 'rs', cloud='demo')
    wait_server(conn, sid, {'VERIFY_RESIZE'}, timeout=10)
    assert_guest_has(wait_probe(cloud, 'rs', 3), 2, 1024)
    assert dominfo(sid) == (2, 1024 * 1024, 'running')
    assert minus(usage(cloud), base) == (3, 2048 + 1024, 40)
    cloud.openstack('server', 'resize', 'revert', 'rs', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'}, timeout=120)
    assert flavor_name(cloud, sid) == 'm1.small'
    assert_guest_has(wait_probe(cloud, 'rs', 4), 1, 2048)
    assert dominfo(sid) == (1, 2048 * 1024, 'running')
    assert minus(usage(cloud), base) == (1, 2048, 20)
    assert disk_gib(cloud, sid) == 20  # a grown disk stays grown

    # The disk never shrinks: 400, from the CLI too, and nothing changes.
    r = api(cloud, 'POST', '/servers/%s/action' % sid,
            json={'resize': {'flavorRef': cloud.openstack(
                'flavor', 'show', 'rs.smalldisk', json_out=True)['id']}})
    assert r.status_code == 400, r.text
    assert r.json()['badRequest']['message'] == 'Resize error: Unable to resize disk down.'
    r = cloud.openstack('server', 'resize', '--flavor', 'rs.smalldisk', 'rs', cloud='demo',
                        check=False)
    assert r.returncode != 0 and 'Unable to resize disk down' in r.stderr
    r = api(cloud, 'POST', '/servers/%s/action' % sid, json={'resize': {'flavorRef': '2'}})
    assert r.status_code == 400 and 'same flavor' in r.text
    assert conn.compute.get_server(sid).status == 'ACTIVE'

    # A host without room for both flavors: still ACTIVE, the event says why.
    held = usage(cloud)
    cloud.openstack('flavor', 'create', '--vcpus', '1', '--ram', '40000', '--disk', '20',
                    'rs.huge')
    cloud.openstack('server', 'resize', '--flavor', 'rs.huge', '--wait', 'rs', cloud='demo')
    srv = conn.compute.get_server(sid)
    assert (srv.status, srv.task_state) == ('ACTIVE', None)
    events = cloud.openstack('server', 'event', 'list', sid, cloud='demo', json_out=True)
    req = events[0]['Request ID']
    assert events[0]['Action'] == 'resize'
    detail = cloud.openstack('server', 'event', 'show', sid, req, cloud='admin',
                             json_out=True)
    ev, = detail['events']
    assert ev['result'] == 'Error' and ev['event'] == 'compute_prep_resize'
    assert 'No valid host was found' in ev['traceback']  # details come with 2.84
    assert usage(cloud) == held
    assert dominfo(sid) == (1, 2048 * 1024, 'running')

    actions = [e['Action'] for e in cloud.openstack('server', 'event', 'list', 'rs',
                                                    cloud='demo', json_out=True)]
    for a in ('resize', 'confirmResize', 'revertResize'):
        assert a in actions, actions

    cloud.openstack('server', 'delete', '--wait', 'rs', cloud='demo')
    assert usage(cloud) == base


def test_resize_of_a_stopped_server_stays_off(cloud, image):
    base = usage(cloud)
    sid = cloud.openstack('server', 'create', '--image', image['id'], '--flavor', 'm1.nano',
                          '--nic', 'none', '--wait', 'rs-off', cloud='demo',
                          json_out=True)['id']
    conn = cloud.sdk('demo')
    cloud.openstack('server', 'stop', 'rs-off', cloud='demo')
    wait_server(conn, sid, {'SHUTOFF'})
    cloud.openstack('server', 'resize', '--flavor', 'm1.tiny', '--wait', 'rs-off',
                    cloud='demo')
    wait_server(conn, sid, {'VERIFY_RESIZE'}, timeout=10)
    assert dominfo(sid) == (1, 512 * 1024, 'shut off')
    cloud.openstack('server', 'resize', 'revert', 'rs-off', cloud='demo')
    wait_server(conn, sid, {'SHUTOFF'}, timeout=60)
    assert dominfo(sid) == (1, 128 * 1024, 'shut off')
    assert minus(usage(cloud), base) == (1, 128, 1)
    cloud.openstack('server', 'delete', '--wait', 'rs-off', cloud='demo')
    assert usage(cloud) == base
