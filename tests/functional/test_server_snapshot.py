"""Server snapshots (createImage) through the real openstack CLI on real
TCG guests: the snapshot is an active image that boots a server holding
what the first one wrote; a failed snapshot leaves no image and a server
at rest; an agent restart never leaves a server in an image_* task state.

Where the marker lives: the tiny guest's root filesystem is an initramfs,
rebuilt at every boot, so a file written there does not survive. What
persists is its disk, /dev/vda: a small FAT boot partition, then unused
space up to the flavor's 1 GiB. The first server's user-data writes the
marker as raw bytes at sector MARK_SECTOR (512 MiB, far past the boot
partition) and flushes the disk (conv=fsync: sync(2) alone writes a raw
block device back but does not flush the disk's write cache); the server
booted from the snapshot reads those bytes back in its own user-data and
prints them on its console. The flush matters for a server booted from a
volume: its snapshot is a copy of the volume's file while QEMU holds it,
crash-consistent like a Cinder snapshot of an in-use volume, so it has
what the guest flushed (QEMU keeps new qcow2 clusters' metadata until a
flush).
"""

import json
import os
import signal
import time
import uuid

from tests.fixtures.servers import domstate
from tests.fixtures.servers import read_script
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server
from tests.fixtures.servers import write_script


def boot(cloud, name, image, user_data):
    return cloud.openstack('server', 'create', '--image', image, '--flavor', 'm1.tiny',
                           '--nic', 'none', '--user-data', user_data, '--wait', name,
                           cloud='demo', json_out=True)


def server(cloud, name):
    return cloud.openstack('server', 'show', name, cloud='demo', json_out=True)


def wait_rest(cloud, name, timeout=60):
    """The server once its task_state is None (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        srv = server(cloud, name)
        if srv['OS-EXT-STS:task_state'] is None:
            return srv
        if time.monotonic() > deadline:
            raise AssertionError('%s stuck in task_state %s' % (
                name, srv['OS-EXT-STS:task_state']))
        time.sleep(0.5)


def image_status(cloud, image_id):
    r = cloud.openstack('image', 'show', image_id, cloud='demo', json_out=True, check=False)
    if not isinstance(r, dict):
        return 'gone' if r.returncode else r.stdout
    return r['status']


def snapshot_events(cloud, name, sid):
    events = cloud.openstack('server', 'event', 'list', name, cloud='demo', json_out=True)
    req = next(e['Request ID'] for e in events if e['Action'] == 'createImage')
    detail = cloud.openstack('server', 'event', 'show', sid, req, json_out=True)
    return {e['event']: e['result'] for e in detail['events']}


def test_snapshot_boots_a_server_holding_the_data(cloud, image, tmp_path):
    marker = 'SNAPMARK-%s' % uuid.uuid4().hex[:12]
    vm1 = boot(cloud, 'snapvm1', image['name'], write_script(tmp_path / 'w.sh', marker))
    sid = vm1['id']
    wait_console(cloud, 'snapvm1', 'marker-written-42')

    t0 = time.monotonic()
    snap = cloud.openstack('server', 'image', 'create', '--name', 'snap1', '--wait',
                           'snapvm1', cloud='demo', json_out=True)
    took = time.monotonic() - t0
    assert snap['status'] == 'active', snap
    shown = cloud.openstack('image', 'show', 'snap1', cloud='demo', json_out=True)
    props = shown['properties']
    assert props['image_type'] == 'snapshot' and props['instance_uuid'] == sid
    assert props['base_image_ref'] == image['id']
    demo = cloud.openstack('project', 'show', 'demo', json_out=True)['id']
    assert shown['owner'] == demo and shown['visibility'] == 'private'
    assert shown['disk_format'] == 'qcow2' and shown['min_disk'] == 1
    srv = wait_rest(cloud, 'snapvm1')
    assert srv['status'] == 'ACTIVE' and domstate(sid) == 'running'
    assert snapshot_events(cloud, 'snapvm1', sid) == {'compute_snapshot_instance': 'Success'}
    print('snapshot of a running tiny guest, CLI to active: %.1fs' % took)

    vm2 = boot(cloud, 'snapvm2', 'snap1', read_script(tmp_path / 'r.sh', len(marker)))
    assert vm2['status'] == 'ACTIVE'
    wait_console(cloud, 'snapvm2', 'found=' + marker)

    # A stopped server: its disk as it lies; it stays SHUTOFF.
    cloud.openstack('server', 'stop', 'snapvm1', cloud='demo')
    wait_server(cloud.sdk('demo'), sid, {'SHUTOFF'})
    snap_off = cloud.openstack('server', 'image', 'create', '--name', 'snap-off', '--wait',
                               'snapvm1', cloud='demo', json_out=True)
    assert snap_off['status'] == 'active'
    srv = wait_rest(cloud, 'snapvm1')
    assert srv['status'] == 'SHUTOFF' and domstate(sid) == 'shut off'

    for name in ('snapvm1', 'snapvm2'):
        cloud.openstack('server', 'delete', '--wait', name, cloud='demo')
    for name in ('snap1', 'snap-off'):
        cloud.openstack('image', 'delete', name, cloud='demo')


def test_snapshot_of_a_server_booted_from_a_volume(cloud, image, tmp_path):
    """Nova's volume-backed snapshot: volume snapshots, and an image of no
    data naming them, which boots a server from new volumes made of them."""
    marker = 'BFVMARK-%s' % uuid.uuid4().hex[:12]
    vm1 = cloud.openstack('server', 'create', '--image', image['id'], '--boot-from-volume',
                          '1', '--delete-on-termination', '--flavor', 'm1.tiny', '--nic',
                          'none', '--user-data', write_script(tmp_path / 'w.sh', marker),
                          '--wait', 'bfvsnap1', cloud='demo', json_out=True)
    wait_console(cloud, 'bfvsnap1', 'marker-written-42')
    root = cloud.openstack('server', 'volume', 'list', 'bfvsnap1', cloud='demo',
                           json_out=True)[0]['Volume ID']

    snap = cloud.openstack('server', 'image', 'create', '--name', 'bfv-image', '--wait',
                           'bfvsnap1', cloud='demo', json_out=True)
    assert snap['status'] == 'active', snap
    shown = cloud.openstack('image', 'show', 'bfv-image', cloud='demo', json_out=True)
    assert shown['size'] == 0 and shown['disk_format'] == 'raw'
    props = shown['properties']
    assert props['bdm_v2'] == 'True' and props['root_device_name'] == '/dev/vda'
    assert props['instance_uuid'] == vm1['id']
    mapping, = json.loads(props['block_device_mapping'])
    assert (mapping['source_type'], mapping['destination_type'], mapping['boot_index'],
            mapping['volume_size']) == ('snapshot', 'volume', 0, 1)
    vsnap = cloud.openstack('volume', 'snapshot', 'show', mapping['snapshot_id'],
                            cloud='demo', json_out=True)
    assert vsnap['status'] == 'available' and vsnap['volume_id'] == root
    srv = wait_rest(cloud, 'bfvsnap1')
    assert srv['status'] == 'ACTIVE' and domstate(vm1['id']) == 'running'

    vm2 = boot(cloud, 'bfvsnap2', 'bfv-image', read_script(tmp_path / 'r.sh', len(marker)))
    assert vm2['status'] == 'ACTIVE'
    wait_console(cloud, 'bfvsnap2', 'found=' + marker)
    vols = cloud.openstack('server', 'volume', 'list', 'bfvsnap2', cloud='demo',
                           json_out=True)
    assert [v['Device'] for v in vols] == ['/dev/vda'] and vols[0]['Volume ID'] != root
    made = cloud.openstack('volume', 'show', vols[0]['Volume ID'], cloud='demo',
                           json_out=True)
    assert made['snapshot_id'] == mapping['snapshot_id']

    # The image goes at once; the volume snapshot stays (as in Nova) until
    # deleted, after the volumes (delete_on_termination) went with the servers.
    cloud.openstack('image', 'delete', 'bfv-image', cloud='demo')
    for name in ('bfvsnap1', 'bfvsnap2'):
        cloud.openstack('server', 'delete', '--wait', name, cloud='demo')
    cloud.openstack('volume', 'snapshot', 'delete', mapping['snapshot_id'], cloud='demo')


def test_failed_snapshot_leaves_no_image_and_a_resting_server(cloud, image, tmp_path):
    vm = boot(cloud, 'snapfail', image['name'], write_script(tmp_path / 'w.sh', 'X'))
    # The agent's snapshot folder cannot be made: every snapshot fails there.
    work = os.path.join(cloud.workdir, 'instances', 'snapshots')
    if os.path.isdir(work):
        os.rmdir(work)
    with open(work, 'w') as f:
        f.write('in the way\n')
    try:
        r = cloud.openstack('server', 'image', 'create', '--name', 'snapbad', '--wait',
                            'snapfail', cloud='demo', check=False)
        assert r.returncode != 0, r.stdout
    finally:
        os.unlink(work)
    srv = wait_rest(cloud, 'snapfail')
    assert srv['status'] == 'ACTIVE' and domstate(vm['id']) == 'running'
    names = [i['Name'] for i in cloud.openstack('image', 'list', cloud='demo',
                                                json_out=True)]
    assert 'snapbad' not in names
    assert snapshot_events(cloud, 'snapfail', vm['id']) == \
        {'compute_snapshot_instance': 'Error'}
    cloud.openstack('server', 'delete', '--wait', 'snapfail', cloud='demo')


def test_agent_restart_never_leaves_a_snapshot_task(cloud, image, tmp_path):
    vm = boot(cloud, 'snaprestart', image['name'], write_script(tmp_path / 'w.sh', 'X'))
    cloud.kill_service('compute', signal.SIGKILL)
    try:
        out = cloud.openstack('server', 'image', 'create', '--name', 'snapcut',
                              'snaprestart', cloud='demo', json_out=True)
        assert server(cloud, 'snaprestart')['OS-EXT-STS:task_state'] == 'image_snapshot'
        assert image_status(cloud, out['id']) == 'queued'
    finally:
        cloud.start_service('compute')
    srv = wait_rest(cloud, 'snaprestart', timeout=120)
    assert srv['status'] == 'ACTIVE' and domstate(vm['id']) == 'running'
    # Either the queued request ran after the restart (active), or the
    # restart settled it first (the image is gone): never queued for ever.
    deadline = time.monotonic() + 30
    while image_status(cloud, out['id']) not in ('active', 'gone'):
        assert time.monotonic() < deadline, image_status(cloud, out['id'])
        time.sleep(0.5)
    print('after the restart the snapshot image is %s' % image_status(cloud, out['id']))
    cloud.openstack('server', 'delete', '--wait', 'snaprestart', cloud='demo')
    if image_status(cloud, out['id']) == 'active':
        cloud.openstack('image', 'delete', out['id'], cloud='demo')
