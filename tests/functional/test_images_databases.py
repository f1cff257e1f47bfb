"""The image service on MariaDB and PostgreSQL (SQLite is test_images.py's).

Each runs when its server answers on loopback, with a cloud of its own.
"""

import hashlib
import subprocess
import uuid

import pytest
import requests

from tests.functional import cloud as cloud_mod


@pytest.mark.parametrize('kind', ['mysql', 'postgresql'])
def test_images_on(kind, tmp_path):
    cloud_mod.skip_unless_db_server(kind)
    disk = tmp_path / 'disk.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(disk), '8M'], check=True)
    data = disk.read_bytes()
    with cloud_mod.LocalCloud(db=kind) as cloud:
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
