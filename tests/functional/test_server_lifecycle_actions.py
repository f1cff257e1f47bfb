"""Pause, suspend, lock and rebuild of a real TCG guest through the real
openstack CLI, checked against libvirt's view and the guest's console."""

import os
import re
import subprocess
import time

from tests.fixtures.servers import VIRSH
from tests.fixtures.servers import api
from tests.fixtures.servers import domstate
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server
from tests.functional import cloud as cloud_mod

# Prints a counter every second from a process that outlives the script: a
# guest that was only frozen or saved counts on, a rebooted one starts anew.
TICKER = '#!/bin/sh\n(i=0; while true; do i=$((i+1)); echo "TICK-$i"; sleep 1; done) &\n'


def domstate_reason(server_id):
    r = subprocess.run(VIRSH + ['domstate', '--reason', 'altostack-%s' % server_id],
                       capture_output=True, text=True)
    return r.stdout.strip()


def console(cloud, name):
    return cloud.openstack('console', 'log', 'show', name, cloud='demo')


def last_tick(out):
    ticks = re.findall(r'TICK-(\d+)', out)
    return int(ticks[-1]) if ticks else 0


def wait_tick_after(cloud, name, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = console(cloud, name)
        if last_tick(out) > n:
            return out
        time.sleep(1)
    raise AssertionError('the console of %s stopped at TICK-%d' % (name, n))


def action(cloud, sid, body, cloud_name='demo'):
    return api(cloud, 'POST', '/servers/%s/action' % sid, cloud_name=cloud_name, json=body)


def test_pause_suspend_lock_rebuild(cloud, image, tmp_path):
    script = tmp_path / 'ticker.sh'
    script.write_text(TICKER)
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.tiny', '--nic', 'none', '--user-data', str(script), '--wait',
                          'life', cloud='demo', json_out=True)
    sid = srv['id']
    conn = cloud.sdk('demo')
    wait_console(cloud, 'life', 'ALTOSTACK-READY')
    wait_tick_after(cloud, 'life', 1)

    # pause: the vCPUs stop, the memory stays; unpause: the ticks go on
    cloud.openstack('server', 'pause', 'life', cloud='demo')
    wait_server(conn, sid, {'PAUSED'})
    assert domstate(sid) == 'paused'
    frozen = last_tick(console(cloud, 'life'))
    cloud.openstack('server', 'unpause', 'life', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'})
    assert domstate(sid) == 'running'
    wait_tick_after(cloud, 'life', frozen)

    # suspend: libvirt's managed save; resume carries on from the saved memory
    cloud.openstack('server', 'suspend', 'life', cloud='demo')
    found = wait_server(conn, sid, {'SUSPENDED'})
    assert found.power_state == 7
    assert domstate_reason(sid) == 'shut off (saved)'
    saved = last_tick(console(cloud, 'life'))
    r = action(cloud, sid, {'pause': None})
    assert r.status_code == 409
    assert "Cannot 'pause' instance %s while it is in vm_state suspended" % sid in \
        r.json()['conflictingRequest']['message']
    cloud.openstack('server', 'resume', 'life', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'})
    assert domstate(sid) == 'running'
    out = wait_tick_after(cloud, 'life', saved)
    assert out.count('ALTOSTACK-GUEST-BOOTED') == 1  # resumed, not rebooted

    # lock: the admin's lock holds the owner off until the admin unlocks
    cloud.openstack('server', 'lock', sid, cloud='admin')
    assert api(cloud, 'GET', '/servers/' + sid).json()['server']['locked'] is True
    r = action(cloud, sid, {'os-stop': None})
    assert r.status_code == 409
    assert r.json()['conflictingRequest']['message'] == 'Instance %s is locked' % sid
    r = cloud.openstack('server', 'stop', 'life', cloud='demo', check=False)
    assert r.returncode != 0 and 'is locked' in r.stderr
    assert action(cloud, sid, {'unlock': None}).status_code == 403
    cloud.openstack('server', 'unlock', sid, cloud='admin')
    assert api(cloud, 'GET', '/servers/' + sid).json()['server']['locked'] is False
    # the owner's own lock is the owner's to lift
    cloud.openstack('server', 'lock', 'life', cloud='demo')
    assert action(cloud, sid, {'pause': None}).status_code == 409
    cloud.openstack('server', 'unlock', 'life', cloud='demo')

    # a stopped server cannot be paused
    cloud.openstack('server', 'stop', 'life', cloud='demo')
    wait_server(conn, sid, {'SHUTOFF'})
    r = cloud.openstack('server', 'pause', 'life', cloud='demo', check=False)
    assert r.returncode != 0
    assert "Cannot 'pause' instance %s while it is in vm_state stopped" % sid in r.stderr
    cloud.openstack('server', 'start', 'life', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'})
    wait_console(cloud, 'life', 'ALTOSTACK-READY')
    boots = console(cloud, 'life').count('ALTOSTACK-GUEST-BOOTED')

    # rebuild onto another image: a fresh root disk and a fresh boot
    other = cloud.openstack('image', 'create', '--public', '--disk-format', 'qcow2',
                            '--container-format', 'bare', '--file',
                            os.path.join(cloud_mod.GUEST_IMAGE_DIR, 'altostack-tiny.qcow2'),
                            'altostack-tiny-2', json_out=True)
    disk = os.path.join(cloud.workdir, 'instances', sid, 'disk')
    inode = os.stat(disk).st_ino
    cloud.openstack('server', 'rebuild', '--image', 'altostack-tiny-2', '--wait', 'life',
                    cloud='demo')
    found = wait_server(conn, sid, {'ACTIVE'})
    assert found.image['id'] == other['id']
    assert domstate(sid) == 'running'
    assert os.stat(disk).st_ino != inode
    deadline = time.monotonic() + 120
    while console(cloud, 'life').count('ALTOSTACK-GUEST-BOOTED') <= boots:
        assert time.monotonic() < deadline, 'no fresh boot after the rebuild'
        time.sleep(1)
    wait_console(cloud, 'life', 'ALTOSTACK-READY')

    events = cloud.openstack('server', 'event', 'list', 'life', cloud='demo', json_out=True)
    actions = [e['Action'] for e in events]
    for name in ('pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'rebuild'):
        assert name in actions, actions
    rebuild = next(e for e in events if e['Action'] == 'rebuild')
    detail = cloud.openstack('server', 'event', 'show', sid, rebuild['Request ID'],
                             cloud='admin', json_out=True)
    assert [(e['event'], e['result']) for e in detail['events']] == \
        [('compute_rebuild_instance', 'Success')]

    # a stopped server is rebuilt and stays off
    cloud.openstack('server', 'stop', 'life', cloud='demo')
    wait_server(conn, sid, {'SHUTOFF'})
    cloud.openstack('server', 'rebuild', '--image', 'altostack-tiny', '--wait', 'life',
                    cloud='demo')
    found = wait_server(conn, sid, {'SHUTOFF'})
    assert found.image['id'] == image['id'] and found.task_state is None
    assert domstate(sid) == 'shut off'

    # an admin's `server set --state` (os-resetState); the owner may not
    r = cloud.openstack('server', 'set', '--auto-approve', '--state', 'error', sid,
                        cloud='demo', check=False)
    assert r.returncode != 0 and '403' in r.stderr, r.stderr
    cloud.openstack('server', 'set', '--auto-approve', '--state', 'error', sid)
    assert wait_server(conn, sid, {'ERROR'}).task_state is None
    cloud.openstack('server', 'delete', '--wait', 'life', cloud='demo')
    assert domstate(sid) is None
    cloud.openstack('image', 'delete', other['id'])
