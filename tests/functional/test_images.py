"""Images through the real openstack CLI (and the bus), against the running
services: create with data, list, show, save, set, members, delete,
protected images, format checks, paging, and the signed URLs compute hosts
use."""

import hashlib
import json
import subprocess
import urllib.request
import uuid

import pytest
import requests
from oslo_messaging import opts as messaging_opts

from common import context as ctx_mod
from common import rpc
from common.conf import CONF
from imagestore import rpcapi
from tests.functional.cloud import RABBIT

QCOW2_VIRTUAL = 16 * 1024 * 1024


def _name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


@pytest.fixture(scope='module')
def qcow2(tmp_path_factory):
    """A small qcow2 holding 1 MiB of random data in a 16 MiB disk."""
    d = tmp_path_factory.mktemp('images')
    raw = d / 'data.raw'
    raw.write_bytes(uuid.uuid4().bytes * 65536)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', str(d / 'disk.raw'), '16M'],
                   check=True)
    subprocess.run(['dd', 'if=%s' % raw, 'of=%s' % (d / 'disk.raw'), 'conv=notrunc',
                    'status=none'], check=True)
    path = d / 'disk.qcow2'
    subprocess.run(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2',
                    str(d / 'disk.raw'), str(path)], check=True)
    return path


@pytest.fixture(scope='module')
def raw_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('raw') / 'random.raw'
    path.write_bytes(uuid.uuid4().bytes * 4096)
    return path


def create(cloud, path, name, *extra, who='admin'):
    return cloud.openstack('image', 'create', '--file', str(path), '--disk-format', 'qcow2',
                           '--container-format', 'bare', *extra, name, cloud=who,
                           json_out=True)


def listed(cloud, *args, who='admin'):
    return {i['Name'] for i in cloud.openstack('image', 'list', *args, cloud=who,
                                               json_out=True)}


def token(cloud, who='admin'):
    return cloud.openstack('token', 'issue', cloud=who, json_out=True)


def test_create_show_save_set_delete(cloud, qcow2, tmp_path):
    name = _name('img')
    data = qcow2.read_bytes()
    img = create(cloud, qcow2, name, '--property', 'os_distro=tiny', '--min-disk', '1')
    assert img['status'] == 'active' and img['name'] == name
    assert img['size'] == len(data)
    assert img['checksum'] == hashlib.md5(data).hexdigest()
    assert img['virtual_size'] == QCOW2_VIRTUAL
    assert img['min_disk'] == 1 and img['visibility'] == 'shared'
    assert img['properties']['os_distro'] == 'tiny'
    assert img['properties']['os_hash_algo'] == 'sha512'
    assert img['properties']['os_hash_value'] == hashlib.sha512(data).hexdigest()
    shown = cloud.openstack('image', 'show', name, json_out=True)
    assert shown['id'] == img['id'] and shown['checksum'] == img['checksum']
    assert shown['size'] == len(data) and shown['virtual_size'] == QCOW2_VIRTUAL
    out = tmp_path / 'saved.qcow2'
    cloud.openstack('image', 'save', '--file', str(out), name)
    assert out.read_bytes() == data
    rows = cloud.openstack('image', 'list', '--long', json_out=True)
    row = next(r for r in rows if r['ID'] == img['id'])
    assert row['Checksum'] == img['checksum'] and row['Size'] == len(data)
    new = _name('renamed')
    cloud.openstack('image', 'set', '--name', new, '--property', 'hw_disk_bus=virtio',
                    '--min-ram', '64', name)
    shown = cloud.openstack('image', 'show', new, json_out=True)
    assert shown['properties']['hw_disk_bus'] == 'virtio' and shown['min_ram'] == 64
    cloud.openstack('image', 'unset', '--property', 'hw_disk_bus', new)
    assert 'hw_disk_bus' not in cloud.openstack('image', 'show', new,
                                                json_out=True)['properties']
    assert new in listed(cloud, '--property', 'os_distro=tiny')
    cloud.openstack('image', 'delete', new)
    r = cloud.openstack('image', 'show', new, check=False)
    assert r.returncode == 1 and 'No Image found for %s' % new in r.stderr


def test_devstack_public_image_and_who_may_publish(cloud, qcow2):
    name = _name('altostack-tiny')
    # the exact command the all-in-one uses for its guest image
    cloud.openstack('image', 'create', '--public', '--disk-format', 'qcow2',
                    '--container-format', 'bare', '--file', str(qcow2), name)
    assert name in listed(cloud, who='demo')
    assert name in listed(cloud, '--public', who='demo')
    shown = cloud.openstack('image', 'show', name, cloud='demo', json_out=True)
    assert shown['visibility'] == 'public' and shown['status'] == 'active'
    r = cloud.openstack('image', 'create', '--public', '--disk-format', 'qcow2',
                        '--container-format', 'bare', '--file', str(qcow2), _name('nope'),
                        cloud='demo', check=False)
    assert r.returncode == 1 and '403' in r.stderr and 'publicize_image' in r.stderr
    r = cloud.openstack('image', 'set', '--name', 'x', name, cloud='demo', check=False)
    assert r.returncode == 1 and '403' in r.stderr


def test_private_image_is_invisible_to_other_projects(cloud, qcow2):
    name = _name('private')
    img = create(cloud, qcow2, name, '--private')
    assert name in listed(cloud, '--private')
    assert name not in listed(cloud, who='demo')
    r = cloud.openstack('image', 'show', img['id'], cloud='demo', check=False)
    assert r.returncode == 1 and 'No Image found' in r.stderr
    r = cloud.openstack('image', 'save', '--file', '/dev/null', img['id'], cloud='demo',
                        check=False)
    assert r.returncode == 1
    cloud.openstack('image', 'set', '--public', name)  # an admin may publish it
    assert cloud.openstack('image', 'show', img['id'], cloud='demo',
                           json_out=True)['visibility'] == 'public'
    cloud.openstack('image', 'delete', img['id'])


def test_member_sharing_accept_flow(cloud, qcow2, tmp_path):
    name = _name('shared')
    img = create(cloud, qcow2, name, '--shared')
    demo_project = token(cloud, 'demo')['project_id']
    cloud.openstack('image', 'add', 'project', name, 'demo')
    rows = cloud.openstack('image', 'member', 'list', img['id'], cloud='demo', json_out=True)
    assert [(r['Member ID'], r['Status']) for r in rows] == [(demo_project, 'pending')]
    assert name not in listed(cloud, who='demo')  # pending: not in the default list
    cloud.openstack('image', 'set', '--accept', img['id'], cloud='demo')
    assert name in listed(cloud, who='demo')
    assert name in listed(cloud, '--shared', who='demo')
    out = tmp_path / 'shared.qcow2'
    cloud.openstack('image', 'save', '--file', str(out), img['id'], cloud='demo')
    assert out.read_bytes() == qcow2.read_bytes()
    rows = cloud.openstack('image', 'member', 'list', name, json_out=True)
    assert [r['Status'] for r in rows] == ['accepted']
    cloud.openstack('image', 'set', '--reject', img['id'], cloud='demo')
    assert name not in listed(cloud, who='demo')
    cloud.openstack('image', 'remove', 'project', name, 'demo')
    r = cloud.openstack('image', 'show', img['id'], cloud='demo', check=False)
    assert r.returncode == 1
    cloud.openstack('image', 'delete', name)


def test_community_images_are_found_but_not_listed(cloud, qcow2):
    name = _name('community')
    img = create(cloud, qcow2, name, '--community')
    assert name not in listed(cloud, who='demo')
    assert name in listed(cloud, '--community', who='demo')
    assert cloud.openstack('image', 'show', img['id'], cloud='demo',
                           json_out=True)['visibility'] == 'community'
    cloud.openstack('image', 'delete', img['id'])


def test_protected_image_cannot_be_deleted(cloud, qcow2):
    name = _name('protected')
    create(cloud, qcow2, name, '--protected')
    r = cloud.openstack('image', 'delete', name, check=False)
    assert r.returncode == 1 and '403' in r.stderr and 'protected' in r.stderr
    assert cloud.openstack('image', 'show', name, json_out=True)['protected'] is True
    cloud.openstack('image', 'set', '--unprotected', name)
    cloud.openstack('image', 'delete', name)
    assert name not in listed(cloud)


def test_format_mismatch_is_refused(cloud, raw_file):
    name = _name('liar')
    r = cloud.openstack('image', 'create', '--file', str(raw_file), '--disk-format', 'qcow2',
                        '--container-format', 'bare', name, check=False)
    assert r.returncode == 1 and '400' in r.stderr
    assert 'disk_format is qcow2 but the data is raw' in r.stderr
    assert name not in listed(cloud)  # the client deleted the refused image


def test_raw_image_and_upload_to_active_is_conflict(cloud, raw_file):
    name = _name('raw')
    img = cloud.openstack('image', 'create', '--file', str(raw_file), '--disk-format', 'raw',
                          '--container-format', 'bare', name, json_out=True)
    assert img['status'] == 'active' and img['virtual_size'] == raw_file.stat().st_size
    tok = token(cloud)['id']
    url = 'http://127.0.0.1:%d/v2/images/%s/file' % (cloud.image_port, img['id'])
    r = requests.put(url, data=b'x', headers={'X-Auth-Token': tok,
                                              'Content-Type': 'application/octet-stream'},
                     timeout=30)
    assert r.status_code == 409 and 'is active' in r.text
    assert r.headers['Content-Type'].startswith('text/html')
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')
    cloud.openstack('image', 'delete', img['id'])


def test_chunked_upload_streams(cloud, qcow2):
    """A body without Content-Length (chunked) is streamed and hashed too."""
    tok = token(cloud)['id']
    base = 'http://127.0.0.1:%d/v2/images' % cloud.image_port
    h = {'X-Auth-Token': tok}
    r = requests.post(base, json={'name': _name('chunked'), 'disk_format': 'qcow2',
                                  'container_format': 'bare'}, headers=h, timeout=30)
    assert r.status_code == 201
    image_id = r.json()['id']
    data = qcow2.read_bytes()

    def chunks():
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]
    r = requests.put('%s/%s/file' % (base, image_id), data=chunks(),
                     headers={**h, 'Content-Type': 'application/octet-stream'}, timeout=60)
    assert r.status_code == 204, r.text
    shown = requests.get('%s/%s' % (base, image_id), headers=h, timeout=30).json()
    assert shown['status'] == 'active' and shown['size'] == len(data)
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert requests.delete('%s/%s' % (base, image_id), headers=h,
                           timeout=30).status_code == 204


def test_list_follows_pages(cloud):
    """More images than one page (25): the CLI follows the next links."""
    tok = token(cloud, 'demo')['id']
    prefix = _name('page')
    base = 'http://127.0.0.1:%d/v2/images' % cloud.image_port
    ids = []
    for i in range(27):
        r = requests.post(base, json={'name': '%s-%02d' % (prefix, i)},
                          headers={'X-Auth-Token': tok}, timeout=30)
        assert r.status_code == 201
        ids.append(r.json()['id'])
    page = requests.get(base, headers={'X-Auth-Token': tok}, timeout=30).json()
    assert len(page['images']) == 25 and page['next'].startswith('/v2/images?marker=')
    names = {n for n in listed(cloud, who='demo') if n.startswith(prefix)}
    assert len(names) == 27
    # One page at a time: the server pages newest first (the CLI then sorts the
    # rows it got by name), so the last of a page is the oldest, the lowest name.
    two = cloud.openstack('image', 'list', '--limit', '2', cloud='demo', json_out=True)
    assert {r['Name'] for r in two} == {'%s-26' % prefix, '%s-25' % prefix}
    last = min(two, key=lambda r: r['Name'])
    after = cloud.openstack('image', 'list', '--limit', '2', '--marker', last['ID'],
                            cloud='demo', json_out=True)
    assert {r['Name'] for r in after} == {'%s-24' % prefix, '%s-23' % prefix}
    for image_id in ids:
        requests.delete('%s/%s' % (base, image_id), headers={'X-Auth-Token': tok},
                        timeout=30)


def test_rpc_signed_download_and_snapshot_upload(cloud, qcow2, tmp_path):
    """What a compute host does over the bus: fetch an image by signed URL,
    and upload a snapshot's data to a signed URL."""
    name = _name('for-compute')
    img = create(cloud, qcow2, name, '--property', 'hw_disk_bus=virtio')
    demo_project = token(cloud, 'demo')['project_id']
    for group, opts in messaging_opts.list_opts():
        if group is None:
            CONF.register_opts(opts)  # transport_url, before any transport exists
    CONF.set_override('transport_url', 'rabbit://%s/%s' % (RABBIT, cloud.vhost))
    try:
        api = rpcapi.ImageAPI()
        ctx = ctx_mod.get_admin_context()
        got = api.get_image_for_download(ctx, img['id'])
        assert got['checksum'] == img['checksum'] and got['disk_format'] == 'qcow2'
        assert got['properties']['hw_disk_bus'] == 'virtio'
        with urllib.request.urlopen(got['url'], timeout=30) as resp:
            assert resp.read() == qcow2.read_bytes()
        snap = api.create_snapshot_image(ctx, _name('snap'), demo_project,
                                         {'image_type': 'snapshot'})
        assert snap['status'] == 'queued' and snap['owner'] == demo_project
        req = urllib.request.Request(snap['upload_url'], data=qcow2.read_bytes(),
                                     method='PUT',
                                     headers={'Content-Type': 'application/octet-stream'})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 204
    finally:
        rpc.cleanup()
        CONF.clear_override('transport_url')
    shown = cloud.openstack('image', 'show', snap['id'], cloud='demo', json_out=True)
    assert shown['status'] == 'active' and shown['visibility'] == 'private'
    assert shown['checksum'] == img['checksum']
    assert shown['properties']['image_type'] == 'snapshot'
    cloud.openstack('image', 'delete', snap['id'], cloud='demo')
    cloud.openstack('image', 'delete', name)
    assert json.dumps(got)  # plain JSON over the bus
