"""The same cloud on MariaDB and PostgreSQL (SQLite is every other test's):
identity, the services and the image service, one cloud per database
shared by its tests.

Each runs when its server answers on loopback; CI machines have both.
"""

import hashlib
import subprocess
import uuid

import pytest
import requests

from tests.functional import cloud as cloud_mod


@pytest.fixture(scope='module', params=['mysql', 'postgresql'])
def dbcloud(request):
    cloud_mod.skip_unless_db_server(request.param)
    with cloud_mod.LocalCloud(db=request.param) as cloud:
        yield cloud


def test_identity_and_services(dbcloud):
    cloud = dbcloud
    name = 'p-%s' % uuid.uuid4().hex[:6]
    assert cloud.openstack('token', 'issue', json_out=True)['user_id']
    cloud.openstack('project', 'create', name)
    cloud.openstack('user', 'create', '--password', 'pw', '--project', name, 'u-' + name)
    cloud.openstack('role', 'add', '--project', name, '--user', 'u-' + name, 'member')
    rows = cloud.openstack('role', 'assignment', 'list', '--project', name, '--names',
                           json_out=True)
    assert [r['Role'] for r in rows] == ['member']
    r = cloud.openstack('project', 'create', name, check=False)
    assert r.returncode == 1 and '409' in r.stderr
    states = {s['Binary']: s['State'] for s in
              cloud.openstack('compute', 'service', 'list', json_out=True)}
    assert set(states.values()) == {'up'} and set(states) == set(cloud_mod.BINARIES.values())


def test_images(dbcloud, tmp_path):
    cloud = dbcloud
    disk = tmp_path / 'disk.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(disk), '8M'], check=True)
    data = disk.read_bytes()
    name = 'img-%s' % uuid.uuid4().hex[:6]
    img = cloud.openstack('image', 'create', '--file', str(disk), '--disk-format',
                          'qcow2', '--container-format', 'bare', '--shared',
                          '--property', 'os_distro=tiny', name, json_out=True)
    assert img['status'] == 'active' and img['size'] == len(data)
    assert img['checksum'] == hashlib.md5(data).hexdigest()
    assert img['virtual_size'] == 8 * 1024 * 1024
    cloud.openstack('image', 'set', '--property', 'k=v', name)
    cloud.openstack('image', 'add', 'project', name, 'demo')
    cloud.openstack('image', 'set', '--accept', img['id'], cloud='demo')
    demo = {i['Name'] for i in cloud.openstack('image', 'list', cloud='demo',
                                                json_out=True)}
    assert name in demo
    # paging and sorting through the API (keyset paging on this database)
    tok = cloud.openstack('token', 'issue', json_out=True)['id']
    base = 'http://127.0.0.1:%d/v2/images' % cloud.image_port
    h = {'X-Auth-Token': tok}
    for n in ('b', 'a', 'c', None):
        assert requests.post(base, json={'name': n}, headers=h,
                             timeout=30).status_code == 201
    seen, url = [], '/v2/images?sort=name:asc&limit=2&visibility=shared'
    while url:
        body = requests.get('http://127.0.0.1:%d%s' % (cloud.image_port, url), headers=h,
                            timeout=30).json()
        seen += [i['name'] for i in body['images']]
        url = body.get('next')
    assert seen == [None, 'a', 'b', 'c', name]
    r = requests.get(base + '?os_distro=tiny&k=v', headers=h, timeout=30).json()
    assert [i['id'] for i in r['images']] == [img['id']]
    cloud.openstack('image', 'delete', name)
    r = cloud.openstack('image', 'show', img['id'], check=False)
    assert r.returncode == 1
