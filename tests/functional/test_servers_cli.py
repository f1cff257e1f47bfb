"""Real TCG guests booted through the real openstack CLI, checked against
libvirt's own view and the guest's serial console."""

import base64
import concurrent.futures
import time
import uuid

from tests.fixtures.servers import api
from tests.fixtures.servers import domstate
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server


def test_image_and_flavors_are_listed(cloud, image):
    names = [i['Name'] for i in cloud.openstack('image', 'list', cloud='demo', json_out=True)]
    assert 'altostack-tiny' in names
    flavors = [f['Name'] for f in cloud.openstack('flavor', 'list', cloud='demo',
                                                  json_out=True)]
    assert {'m1.nano', 'm1.tiny', 'm1.small', 'm1.medium'} <= set(flavors)


def test_server_life_cycle(cloud, image, tmp_path):
    script = tmp_path / 'ud.sh'
    script.write_text('#!/bin/sh\necho user-data-ran-$((6*7))\n')
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.tiny', '--nic', 'none', '--user-data', str(script), '--wait',
                          'vm1', cloud='demo', json_out=True)
    sid = srv['id']
    assert srv['status'] == 'ACTIVE'
    assert domstate(sid) == 'running'
    out = wait_console(cloud, 'vm1', 'ALTOSTACK-READY')
    assert 'ALTOSTACK-CONFIGDRIVE dev=' in out and 'hostname=vm1' in out
    assert 'user-data-ran-42' in out

    cloud.openstack('server', 'stop', 'vm1', cloud='demo')
    conn = cloud.sdk('demo')
    wait_server(conn, sid, {'SHUTOFF'})
    assert domstate(sid) == 'shut off'
    r = api(cloud, 'POST', '/servers/%s/action' % sid, json={'os-stop': None})
    assert r.status_code == 409 and 'conflictingRequest' in r.json()

    cloud.openstack('server', 'start', 'vm1', cloud='demo')
    wait_server(conn, sid, {'ACTIVE'})
    assert domstate(sid) == 'running'

    cloud.openstack('server', 'reboot', '--hard', '--wait', 'vm1', cloud='demo')
    assert domstate(sid) == 'running'
    cloud.openstack('server', 'reboot', '--wait', 'vm1', cloud='demo')
    assert domstate(sid) == 'running'

    events = cloud.openstack('server', 'event', 'list', 'vm1', cloud='demo', json_out=True)
    actions = [e['Action'] for e in events]
    for action in ('create', 'stop', 'start', 'reboot'):
        assert action in actions, actions
    create = next(e for e in events if e['Action'] == 'create')
    detail = cloud.openstack('server', 'event', 'show', sid, create['Request ID'],
                             cloud='admin', json_out=True)
    names = [e['event'] for e in detail['events']]
    assert 'schedule' in names and 'compute_build_and_run_instance' in names
    assert all(e['finish_time'] and e['result'] == 'Success' for e in detail['events'])

    cloud.openstack('server', 'delete', '--wait', 'vm1', cloud='demo')
    assert domstate(sid) is None
    assert cloud.openstack('server', 'list', cloud='demo', json_out=True) == []


def test_unknown_image_or_flavor_is_400(cloud, image):
    img = cloud.openstack('image', 'show', 'altostack-tiny', json_out=True)['id']
    body = {'server': {'name': 'x', 'imageRef': str(uuid.uuid4()), 'flavorRef': '1',
                       'networks': 'none'}}
    r = api(cloud, 'POST', '/servers', json=body)
    assert r.status_code == 400 and 'image' in r.json()['badRequest']['message']
    body['server'].update(imageRef=img, flavorRef='no-such-flavor')
    r = api(cloud, 'POST', '/servers', json=body)
    assert r.status_code == 400 and 'Flavor' in r.json()['badRequest']['message']
    body['server'].update(flavorRef='1', user_data='not base64!')
    r = api(cloud, 'POST', '/servers', json=body)
    assert r.status_code == 400
    body['server'].update(user_data=base64.b64encode(b'x').decode(), colour='red')
    r = api(cloud, 'POST', '/servers', json=body)
    assert r.status_code == 400 and 'colour' in r.json()['badRequest']['message']


def test_flavor_smaller_than_min_disk_is_400(cloud, image, tmp_path):
    big = cloud.openstack('image', 'create', '--disk-format', 'qcow2', '--container-format',
                          'bare', '--min-disk', '5', '--file',
                          '/var/cache/altostack/guest-image/altostack-tiny.qcow2',
                          'needs-5g', json_out=True)
    r = api(cloud, 'POST', '/servers', cloud_name='admin', json={'server': {
        'name': 'x', 'imageRef': big['id'], 'flavorRef': '1', 'networks': 'none'}})
    assert r.status_code == 400 and 'too small' in r.json()['badRequest']['message']
    cloud.openstack('image', 'delete', big['id'])


def test_over_quota_is_403(cloud, image):
    demo = cloud.openstack('project', 'show', 'demo', json_out=True)['id']
    cloud.openstack('quota', 'set', '--instances', '0', demo)
    try:
        r = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                            'm1.nano', '--nic', 'none', 'over', cloud='demo', check=False)
        assert r.returncode == 1 and '403' in r.stderr and 'Quota exceeded for instances' \
            in r.stderr
        assert cloud.openstack('server', 'list', cloud='demo', json_out=True) == []
    finally:
        cloud.openstack('quota', 'set', '--instances', '10', demo)


def test_nothing_fits_goes_to_error_with_explanation(cloud, image):
    cloud.openstack('flavor', 'create', '--ram', '40000', '--vcpus', '1', '--disk', '1',
                    'm1.huge')
    srv = cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                          'm1.huge', '--nic', 'none', 'huge', json_out=True)
    conn = cloud.sdk('admin')
    found = wait_server(conn, srv['id'], {'ERROR'}, timeout=60)
    assert 'No valid host was found' in found.fault['message']
    assert 'RamFilter removed 1 of 1 host: %s has' % cloud.host in found.fault['message']
    cloud.openstack('server', 'delete', '--wait', srv['id'])
    cloud.openstack('flavor', 'delete', 'm1.huge')


def test_parallel_creates_never_overcommit(cloud, image):
    (hv_row,) = cloud.openstack('hypervisor', 'list', json_out=True)
    hv = cloud.openstack('hypervisor', 'show', hv_row['ID'], json_out=True)
    free = int(hv['memory_mb']) - 512 - int(hv['memory_mb_used'])
    ram = free // 2 - 1  # exactly two fit
    cloud.openstack('flavor', 'create', '--ram', str(ram), '--vcpus', '1', '--disk', '1',
                    'm1.half')
    names = ['race-%d' % i for i in range(4)]

    def create(name):
        return cloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                               'm1.half', '--nic', 'none', name, json_out=True)['id']
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, names))
    conn = cloud.sdk('admin')
    final = [wait_server(conn, i, {'ACTIVE', 'ERROR'}) for i in ids]
    states = sorted(s.status for s in final)
    assert states == ['ACTIVE', 'ACTIVE', 'ERROR', 'ERROR'], states
    for s in final:
        if s.status == 'ERROR':
            assert 'RamFilter' in s.fault['message'] or 'took their room' in \
                s.fault['message']
    hv = cloud.openstack('hypervisor', 'show', hv_row['ID'], json_out=True)
    assert int(hv['memory_mb_used']) <= int(hv['memory_mb']) - 512
    for i in ids:
        cloud.openstack('server', 'delete', i)
    for i in ids:
        deadline = time.monotonic() + 60
        while conn.compute.find_server(i) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert domstate(i) is None
    cloud.openstack('flavor', 'delete', 'm1.half')
