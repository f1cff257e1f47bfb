"""Volumes through the real openstack CLI and the real volume service:
create (blank, from a snapshot, from an image), extend, snapshots, delete
rules, quotas and limits, and projects kept apart."""

import time

from tests.fixtures.volumes import SNAP
from tests.fixtures.volumes import VOL
from tests.fixtures.volumes import wait_status


def used(cloud, project='demo'):
    rows = cloud.openstack('limits', 'show', '--absolute', cloud=project, json_out=True)
    return {row['Name']: row['Value'] for row in rows}


def test_volume_life_cycle(cloud):
    before = used(cloud)
    types = cloud.openstack('volume', 'type', 'list', cloud='demo', json_out=True)
    assert [t['Name'] for t in types] == ['__DEFAULT__']
    vol = cloud.openstack('volume', 'create', '--size', '1', 'fv1', cloud='demo',
                          json_out=True)
    assert vol['status'] == 'creating' and vol['type'] == '__DEFAULT__'
    wait_status(cloud, VOL, 'fv1', 'available')
    cloud.openstack('volume', 'set', '--size', '2', 'fv1', cloud='demo')
    wait_status(cloud, VOL, 'fv1', 'available')
    assert cloud.openstack('volume', 'show', 'fv1', cloud='demo', json_out=True)['size'] == 2
    cloud.openstack('volume', 'snapshot', 'create', '--volume', 'fv1', 'fs1', cloud='demo')
    wait_status(cloud, SNAP, 'fs1', 'available')
    cloud.openstack('volume', 'create', '--snapshot', 'fs1', 'fv2', cloud='demo')
    wait_status(cloud, VOL, 'fv2', 'available')
    # the admin project does not see demo's volumes
    assert 'fv1' not in cloud.openstack('volume', 'list', cloud='admin')
    r = cloud.openstack('volume', 'delete', 'fv1', cloud='demo', check=False)
    assert r.returncode == 1 and 'Invalid volume' in r.stderr
    now = used(cloud)
    # two volumes of 2G and a 2G snapshot
    assert (now['total_volumes_used'] - before['total_volumes_used'],
            now['total_gigabytes_used'] - before['total_gigabytes_used']) == (2, 6)
    cloud.openstack('volume', 'delete', 'fv2', cloud='demo')
    cloud.openstack('volume', 'snapshot', 'delete', 'fs1', cloud='demo')
    deadline = time.monotonic() + 30
    while 'fs1' in cloud.openstack('volume', 'snapshot', 'list', cloud='demo'):
        assert time.monotonic() < deadline, 'snapshot fs1 not deleted'
        time.sleep(1)
    cloud.openstack('volume', 'delete', 'fv1', cloud='demo')
    deadline = time.monotonic() + 30
    while 'fv1' in cloud.openstack('volume', 'list', cloud='demo'):
        assert time.monotonic() < deadline, 'volume fv1 not deleted'
        time.sleep(1)


def test_volume_from_image_is_bootable(cloud, image):
    cloud.openstack('volume', 'create', '--size', '1', '--image', image['id'], '--bootable',
                    'fvimg', cloud='demo')
    wait_status(cloud, VOL, 'fvimg', 'available', timeout=120)
    vol = cloud.openstack('volume', 'show', 'fvimg', cloud='demo', json_out=True)
    assert str(vol['bootable']).lower() == 'true'
    cloud.openstack('volume', 'delete', 'fvimg', cloud='demo')


def test_quota_is_enforced(cloud):
    pid = cloud.openstack('project', 'show', 'demo', '-f', 'value', '-c', 'id').strip()
    cloud.openstack('quota', 'set', '--gigabytes',
                    str(used(cloud)['total_gigabytes_used'] + 3), pid)
    try:
        r = cloud.openstack('volume', 'create', '--size', '4', 'fvbig', cloud='demo',
                            check=False)
        assert r.returncode == 1 and 'exceeds allowed gigabytes quota' in r.stderr
    finally:
        cloud.openstack('quota', 'set', '--gigabytes', '1000', pid)


def test_quota_show_and_limits_cover_compute_volume_and_network(cloud):
    rows = cloud.openstack('quota', 'show', 'demo', cloud='admin', json_out=True)
    quota = rows if isinstance(rows, dict) else {r['Resource']: r['Limit'] for r in rows}
    for key in ('instances', 'cores', 'ram', 'volumes', 'gigabytes', 'snapshots',
                'networks', 'ports'):
        assert key in quota, (key, quota)
    assert 'floating_ips' in quota or 'floating-ips' in quota, quota
    cloud.openstack('quota', 'set', '--volumes', '7', 'demo', cloud='admin')
    rows = cloud.openstack('quota', 'show', 'demo', cloud='admin', json_out=True)
    quota = rows if isinstance(rows, dict) else {r['Resource']: r['Limit'] for r in rows}
    assert quota['volumes'] == 7
    limits = cloud.openstack('limits', 'show', '--absolute', cloud='demo', json_out=True)
    names = {row['Name'] for row in limits}
    assert {'max_total_volumes', 'max_total_volume_gigabytes', 'instances'} <= names, names
    cloud.openstack('quota', 'set', '--volumes', '10', 'demo', cloud='admin')
