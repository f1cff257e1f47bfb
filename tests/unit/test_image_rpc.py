"""RPC endpoints for compute hosts: image facts with a signed download URL,
snapshot images with a signed upload URL, and the versioned client."""

import hashlib
import time
import urllib.parse

import pytest

from common import auth
from common import context as ctx_mod
from common import exception
from imagestore import exception as img_exc
from imagestore import manager
from imagestore import rpcapi
from imagestore import states
from tests.fixtures.images import OCTET
from tests.fixtures.images import active_image
from tests.fixtures.images import create
from tests.fixtures.images import local

DOWNLOAD_KEYS = {'id', 'disk_format', 'size', 'checksum', 'os_hash_algo', 'os_hash_value',
                 'min_disk', 'min_ram', 'properties', 'status', 'url'}


def ctx(person):
    return auth.validate(person.token).to_context('req-test')


def test_get_image_for_download(image_client, people, raw_bytes, image_conf):
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw', min_ram=64,
                       os_type='linux')
    got = manager.ImageManager().get_image_for_download(ctx(people.demo), img['id'])
    assert DOWNLOAD_KEYS <= set(got)
    assert got['id'] == img['id'] and got['status'] == 'active'
    assert got['disk_format'] == 'raw' and got['size'] == len(raw_bytes)
    assert got['checksum'] == hashlib.md5(raw_bytes).hexdigest()
    assert got['os_hash_algo'] == 'sha512'
    assert got['os_hash_value'] == hashlib.sha512(raw_bytes).hexdigest()
    assert got['min_ram'] == 64 and got['properties'] == {'os_type': 'linux'}
    assert got['url'].startswith('http://%s:%d/internal/images/%s/file?expires='
                                 % (image_conf.image.public_host, image_conf.image.bind_port,
                                    img['id']))
    # the URL serves the bytes without a token ...
    r = image_client.get(local(got['url']))
    assert r.status_code == 200 and r.data == raw_bytes
    assert r.headers['Content-MD5'] == got['checksum']
    # ... but not with a wrong signature, for another image, or for an upload
    path, query = local(got['url']).split('?')
    assert image_client.get(path + '?' + query.replace('sig=', 'sig=0')).status_code == 403
    assert image_client.get(path).status_code == 403
    other = active_image(image_client, people.demo, raw_bytes, disk_format='raw')
    assert image_client.get(local(got['url']).replace(img['id'], other['id'])
                            ).status_code == 403
    r = image_client.put(local(got['url']), data=raw_bytes, headers=OCTET)
    assert r.status_code == 403


def test_download_url_expires(image_client, people, raw_bytes, image_conf):
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw')
    image_conf.set_override('signed_url_ttl', 10, 'image')
    try:
        got = manager.ImageManager().get_image_for_download(ctx(people.demo), img['id'])
    finally:
        image_conf.clear_override('signed_url_ttl', 'image')
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(got['url']).query)
    assert 0 < int(q['expires'][0]) - time.time() <= 10
    old = local(got['url']).replace('expires=%s' % q['expires'][0], 'expires=1000')
    r = image_client.get(old)
    assert r.status_code == 403


def test_get_image_for_download_follows_visibility(image_client, people, raw_bytes):
    mgr = manager.ImageManager()
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw',
                       visibility='private')
    with pytest.raises(img_exc.ImageNotFound):
        mgr.get_image_for_download(ctx(people.other), img['id'])
    # admins and the services' own contexts see everything
    assert mgr.get_image_for_download(ctx(people.admin), img['id'])['id'] == img['id']
    admin = ctx_mod.get_admin_context()
    assert mgr.get_image_for_download(admin, img['id'])['id'] == img['id']
    queued = create(image_client, people.demo)
    with pytest.raises(states.InvalidImageStatus):
        mgr.get_image_for_download(ctx(people.demo), queued['id'])
    with pytest.raises(img_exc.ImageNotFound):
        mgr.get_image_for_download(admin, '00000000-0000-0000-0000-000000000000')


def test_snapshot_image_upload(image_client, people, qcow2_bytes):
    mgr = manager.ImageManager()
    snap = mgr.create_snapshot_image(ctx_mod.get_admin_context(), 'snap-1',
                                     people.demo.project_id,
                                     {'instance_uuid': 'abc', 'image_type': 'snapshot',
                                      'min_disk': 1, 'base_image_ref': None})
    assert snap['status'] == 'queued' and snap['owner'] == people.demo.project_id
    assert snap['visibility'] == 'private' and snap['disk_format'] == 'qcow2'
    assert snap['container_format'] == 'bare' and snap['min_disk'] == 1
    assert snap['properties'] == {'instance_uuid': 'abc', 'image_type': 'snapshot'}
    assert '/internal/images/%s/file?' % snap['id'] in snap['upload_url']
    # the owner sees it at once (server image create --wait polls it)
    r = image_client.get('/v2/images/%s' % snap['id'], headers=people.demo.h)
    assert r.status_code == 200 and r.get_json()['status'] == 'queued'
    # a wrong content type and a download with the upload URL are refused
    r = image_client.put(local(snap['upload_url']), data=qcow2_bytes,
                         headers={'Content-Type': 'text/plain'})
    assert r.status_code == 415
    assert image_client.get(local(snap['upload_url'])).status_code == 403
    r = image_client.put(local(snap['upload_url']), data=qcow2_bytes, headers=OCTET)
    assert r.status_code == 204, r.get_data(as_text=True)
    shown = image_client.get('/v2/images/%s' % snap['id'], headers=people.demo.h).get_json()
    assert shown['status'] == 'active' and shown['size'] == len(qcow2_bytes)
    assert shown['checksum'] == hashlib.md5(qcow2_bytes).hexdigest()
    assert shown['virtual_size'] == 1024 * 1024
    assert image_client.get('/v2/images/%s' % snap['id'],
                            headers=people.other.h).status_code == 404
    # the URL uploads once
    r = image_client.put(local(snap['upload_url']), data=qcow2_bytes, headers=OCTET)
    assert r.status_code == 409


def test_snapshot_upload_checks_the_format(image_client, people, raw_bytes):
    snap = manager.ImageManager().create_snapshot_image(ctx(people.demo), 'snap-2',
                                                        people.demo.project_id, {})
    r = image_client.put(local(snap['upload_url']), data=raw_bytes, headers=OCTET)
    assert r.status_code == 400 and b'disk_format is qcow2' in r.data
    shown = image_client.get('/v2/images/%s' % snap['id'], headers=people.demo.h).get_json()
    assert shown['status'] == 'queued'


def test_snapshot_of_a_reader_is_refused(image_client, people):
    with pytest.raises(exception.Forbidden):
        manager.ImageManager().create_snapshot_image(ctx(people.reader), 's',
                                                     people.reader.project_id, {})


class FakeClient:
    def __init__(self, cap):
        self.cap = cap
        self.calls = []

    def can_send_version(self, version):
        return tuple(map(int, version.split('.'))) <= tuple(map(int, self.cap.split('.')))

    def prepare(self, version):
        client = self

        class Prepared:
            def call(self, context, method, **kwargs):
                client.calls.append((version, method, kwargs))
                return {'ok': method}
        return Prepared()


def test_rpc_client_versions(monkeypatch):
    fake = FakeClient('1.1')
    monkeypatch.setattr(rpcapi.rpc, 'get_client', lambda topic, version: fake)
    api = rpcapi.ImageAPI()
    ctx_ = ctx_mod.get_admin_context()
    assert api.get_image_for_download(ctx_, 'i1') == {'ok': 'get_image_for_download'}
    api.create_snapshot_image(ctx_, 'n', 'p', {'a': 'b'})
    api.ping(ctx_)
    assert fake.calls == [
        ('1.1', 'get_image_for_download', {'image_id': 'i1'}),
        ('1.1', 'create_snapshot_image', {'name': 'n', 'owner': 'p', 'properties': {'a': 'b'}}),
        ('1.0', 'ping', {})]
    fake.cap = '1.0'  # an image service that is not upgraded yet
    with pytest.raises(exception.ServiceUnavailable):
        api.get_image_for_download(ctx_, 'i1')
    assert manager.ImageManager.target.version == rpcapi.ImageAPI.VERSION
