"""The image API (Glance v2) through Flask's test client: discovery, the
image life cycle, data, JSON patch, lists, paging and errors."""

import hashlib
import re

import pytest

from tests.fixtures.images import OCTET
from tests.fixtures.images import PATCH_TYPE
from tests.fixtures.images import UUID_RE
from tests.fixtures.images import active_image
from tests.fixtures.images import create
from tests.fixtures.images import names
from tests.fixtures.images import patch
from tests.fixtures.images import upload

BASE_KEYS = {'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner',
             'disk_format', 'container_format', 'min_disk', 'min_ram', 'size', 'virtual_size',
             'checksum', 'os_hash_algo', 'os_hash_value', 'tags', 'created_at', 'updated_at',
             'self', 'file', 'schema'}


def text(r):
    return r.get_data(as_text=True)


def assert_html_error(r, code, fragment):
    assert r.status_code == code, text(r)
    assert r.headers['Content-Type'].startswith('text/html')
    assert '<h1>%d ' % code in text(r)
    assert fragment in text(r), text(r)
    assert 'Traceback' not in text(r)
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')


# --- discovery and auth ---------------------------------------------------------

def test_discovery_needs_no_token(image_client):
    r = image_client.get('/')
    assert r.status_code == 300
    versions = r.get_json()['versions']
    assert versions[0]['id'] == 'v2.17' and versions[0]['status'] == 'CURRENT'
    assert versions[0]['links'][0]['href'].endswith('/v2/')
    assert {v['id'] for v in versions} >= {'v2.0', 'v2.5', 'v2.16'}
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')
    r = image_client.get('/versions')
    assert r.status_code == 200 and r.get_json()['versions'][0]['id'] == 'v2.17'


def test_v2_needs_a_valid_token(image_client):
    assert_html_error(image_client.get('/v2/images'), 401, 'requires authentication')
    r = image_client.get('/v2/images', headers={'X-Auth-Token': 'garbage'})
    assert_html_error(r, 401, 'token')
    assert 'Keystone uri=' in r.headers['WWW-Authenticate']


def test_unknown_path_and_method(image_client, people):
    assert_html_error(image_client.get('/v3/images', headers=people.demo.h), 404,
                      'could not be found')
    r = image_client.post('/v2/images/x', headers=people.demo.h)
    assert_html_error(r, 405, 'not allowed')
    assert 'GET' in r.headers['Allow']


def test_unexpected_error_is_a_bare_500(image_client, people, monkeypatch):
    from imagestore import images

    def boom(*_a, **_k):
        raise RuntimeError('secret detail')
    monkeypatch.setattr(images, 'list_images', boom)
    r = image_client.get('/v2/images', headers=people.demo.h)
    assert_html_error(r, 500, 'unexpected error')
    assert 'secret detail' not in text(r)


# --- create, show ---------------------------------------------------------------

def test_create_returns_a_queued_glance_image(image_client, people):
    img = create(image_client, people.demo, name='cirros', min_disk=1, tags=['b', 'a', 'b'],
                 os_distro='cirros', **{'owner_specified.openstack.md5': ''})
    assert re.match(UUID_RE, img['id'])
    assert BASE_KEYS <= set(img)
    assert img['status'] == 'queued' and img['visibility'] == 'shared'
    assert img['owner'] == people.demo.project_id
    assert img['size'] is None and img['checksum'] is None and img['virtual_size'] is None
    assert img['min_disk'] == 1 and img['min_ram'] == 0 and img['protected'] is False
    assert img['tags'] == ['a', 'b']
    assert img['os_distro'] == 'cirros' and img['owner_specified.openstack.md5'] == ''
    assert img['self'] == '/v2/images/%s' % img['id']
    assert img['file'] == '/v2/images/%s/file' % img['id']
    assert img['schema'] == '/v2/schemas/image'
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', img['created_at'])
    r = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h)
    assert r.status_code == 200 and r.get_json() == img


def test_create_location_header_and_given_id(image_client, people):
    wanted = '2a0dbd5e-7a0b-4d3b-b5d5-9b1f4f7e0c11'
    r = image_client.post('/v2/images', json={'id': wanted, 'name': 'x'},
                          headers=people.demo.h)
    assert r.status_code == 201
    assert r.headers['Location'].endswith('/v2/images/' + wanted)
    r = image_client.post('/v2/images', json={'id': wanted}, headers=people.demo.h)
    assert_html_error(r, 409, 'already exists')


@pytest.mark.parametrize('body,code,fragment', [
    ({'status': 'active'}, 403, "Attribute 'status' is read-only"),
    ({'checksum': 'abc'}, 403, "'checksum' is read-only"),
    ({'size': 5}, 403, "'size' is read-only"),
    ({'os_glance_import_task': 'x'}, 403, 'reserved'),
    ({'id': 'not-a-uuid'}, 400, "Invalid value for attribute 'id'"),
    ({'min_disk': 'two'}, 400, "'min_disk'"),
    ({'min_ram': -1}, 400, "'min_ram'"),
    ({'protected': 'yes'}, 400, "'protected'"),
    ({'visibility': 'everyone'}, 400, "'visibility'"),
    ({'disk_format': 'exe'}, 400, "'disk_format'"),
    ({'container_format': 'zip'}, 400, "'container_format'"),
    ({'name': 'x' * 256}, 400, "'name'"),
    ({'tags': 'abc'}, 400, "'tags'"),
    ({'os_distro': 5}, 400, 'must be strings'),
    ({'k' * 256: 'v'}, 400, 'Property names'),
])
def test_create_refuses_bad_input(image_client, people, body, code, fragment):
    r = image_client.post('/v2/images', json=body, headers=people.demo.h)
    assert_html_error(r, code, fragment)


def test_create_refuses_malformed_json(image_client, people):
    r = image_client.post('/v2/images', data='{"name": ', headers={
        **people.demo.h, 'Content-Type': 'application/json'})
    assert_html_error(r, 400, 'not valid JSON')
    r = image_client.post('/v2/images', json=['a'], headers=people.demo.h)
    assert_html_error(r, 400, 'JSON object')
    r = image_client.post('/v2/images', headers=people.demo.h)
    assert_html_error(r, 400, 'empty')


def test_public_images_need_an_admin(image_client, people):
    r = image_client.post('/v2/images', json={'visibility': 'public'}, headers=people.demo.h)
    assert_html_error(r, 403, 'publicize_image')
    img = create(image_client, people.admin, visibility='public')
    assert img['visibility'] == 'public'
    # community is fine for the owner
    assert create(image_client, people.demo, visibility='community')['visibility'] == \
        'community'


def test_owner_on_create(image_client, people):
    r = image_client.post('/v2/images', json={'owner': people.other.project_id},
                          headers=people.demo.h)
    assert_html_error(r, 403, 'another project')
    img = create(image_client, people.admin, owner=people.other.project_id)
    assert img['owner'] == people.other.project_id
    assert image_client.get('/v2/images/' + img['id'],
                            headers=people.other.h).status_code == 200


def test_reader_cannot_create(image_client, people):
    r = image_client.post('/v2/images', json={'name': 'x'}, headers=people.reader.h)
    assert_html_error(r, 403, 'image:add_image')


def test_show_unknown_is_404_for_any_id(image_client, people):
    for ref in ('no-such-name', '00000000-0000-0000-0000-000000000000', 'a b'):
        r = image_client.get('/v2/images/%s' % ref, headers=people.demo.h)
        assert_html_error(r, 404, 'No image found with ID')


# --- data ------------------------------------------------------------------------

def test_upload_download_hashes_and_sizes(image_client, people, qcow2_bytes):
    img = create(image_client, people.demo)
    r = image_client.get('/v2/images/%s/file' % img['id'], headers=people.demo.h)
    assert r.status_code == 204  # no data yet
    r = upload(image_client, people.demo, img['id'], qcow2_bytes)
    assert r.data == b''
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['status'] == 'active'
    assert shown['size'] == len(qcow2_bytes)
    assert shown['virtual_size'] == 1024 * 1024
    assert shown['checksum'] == hashlib.md5(qcow2_bytes).hexdigest()
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(qcow2_bytes).hexdigest()
    r = image_client.get('/v2/images/%s/file' % img['id'], headers=people.demo.h)
    assert r.status_code == 200 and r.data == qcow2_bytes
    assert r.headers['Content-Type'] == 'application/octet-stream'
    assert r.headers['Content-MD5'] == shown['checksum']
    assert int(r.headers['Content-Length']) == len(qcow2_bytes)
    r = image_client.get('/v2/images/%s/file' % img['id'],
                         headers={**people.demo.h, 'Range': 'bytes=0-3'})
    assert r.status_code == 206 and r.data == qcow2_bytes[:4]


def test_upload_to_an_active_image_is_a_conflict(image_client, people, qcow2_bytes):
    img = active_image(image_client, people.demo, qcow2_bytes)
    r = upload(image_client, people.demo, img['id'], qcow2_bytes, expect=409)
    assert_html_error(r, 409, 'is active')


def test_upload_needs_formats_and_octet_stream(image_client, people, raw_bytes):
    img = create(image_client, people.demo, disk_format=None, container_format=None)
    r = upload(image_client, people.demo, img['id'], raw_bytes, expect=400)
    assert_html_error(r, 400, 'disk_format, container_format must be set')
    img = create(image_client, people.demo, disk_format='raw')
    r = image_client.put('/v2/images/%s/file' % img['id'], data=raw_bytes,
                         headers={**people.demo.h, 'Content-Type': 'text/plain'})
    assert_html_error(r, 415, 'application/octet-stream')


def test_upload_by_another_project_is_forbidden(image_client, people, raw_bytes):
    img = create(image_client, people.admin, disk_format='raw', visibility='public')
    r = upload(image_client, people.demo, img['id'], raw_bytes, expect=403)
    assert_html_error(r, 403, 'upload_image')
    private = create(image_client, people.admin, disk_format='raw', visibility='private')
    upload(image_client, people.demo, private['id'], raw_bytes, expect=404)


def test_format_mismatch_is_refused_and_image_stays_queued(image_client, people, raw_bytes,
                                                          qcow2_bytes, image_conf):
    img = create(image_client, people.demo, disk_format='qcow2')
    r = upload(image_client, people.demo, img['id'], raw_bytes, expect=400)
    assert_html_error(r, 400, 'disk_format is qcow2 but the data is raw')
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['status'] == 'queued' and shown['checksum'] is None
    import os
    assert os.listdir(image_conf.image.store_path) == []  # nothing left behind
    # the right data can still go up
    upload(image_client, people.demo, img['id'], qcow2_bytes)
    # qcow2 data declared raw is refused too
    raw = create(image_client, people.demo, disk_format='raw')
    r = upload(image_client, people.demo, raw['id'], qcow2_bytes, expect=400)
    assert_html_error(r, 400, 'disk_format is raw but the data is a qcow2 image')


def test_upload_too_large_is_413(image_client, people, raw_bytes, image_conf):
    image_conf.set_override('max_image_size', 1000, 'image')
    try:
        img = create(image_client, people.demo, disk_format='raw')
        r = upload(image_client, people.demo, img['id'], raw_bytes, expect=413)
        assert_html_error(r, 413, 'larger than the 1000 bytes')
        shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h)
        assert shown.get_json()['status'] == 'queued'
    finally:
        image_conf.clear_override('max_image_size', 'image')


def test_announced_size_must_match(image_client, people, raw_bytes):
    img = create(image_client, people.demo, disk_format='raw')
    r = image_client.put('/v2/images/%s/file' % img['id'], data=raw_bytes, headers={
        **people.demo.h, **OCTET, 'X-OpenStack-Image-Size': str(len(raw_bytes) + 1)})
    assert_html_error(r, 400, 'announced')
    upload(image_client, people.demo, img['id'], raw_bytes)


def test_raw_accepts_any_bytes_and_iso_is_raw(image_client, people, raw_bytes):
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw')
    assert img['size'] == len(raw_bytes) and img['virtual_size'] == len(raw_bytes)
    iso = active_image(image_client, people.demo, raw_bytes, disk_format='iso')
    assert iso['status'] == 'active'


def test_deactivated_images_cannot_be_downloaded_by_users(image_client, people, raw_bytes):
    img = active_image(image_client, people.admin, raw_bytes, disk_format='raw',
                       visibility='public')
    r = image_client.post('/v2/images/%s/actions/deactivate' % img['id'],
                          headers=people.demo.h)
    assert_html_error(r, 403, 'image:deactivate')
    r = image_client.post('/v2/images/%s/actions/deactivate' % img['id'],
                          headers=people.admin.h)
    assert r.status_code == 204
    r = image_client.get('/v2/images/%s/file' % img['id'], headers=people.demo.h)
    assert_html_error(r, 403, 'deactivated')
    assert image_client.get('/v2/images/%s/file' % img['id'],
                            headers=people.admin.h).data == raw_bytes
    assert image_client.post('/v2/images/%s/actions/reactivate' % img['id'],
                             headers=people.admin.h).status_code == 204
    assert image_client.get('/v2/images/%s/file' % img['id'],
                            headers=people.demo.h).data == raw_bytes
    queued = create(image_client, people.admin)
    r = image_client.post('/v2/images/%s/actions/deactivate' % queued['id'],
                          headers=people.admin.h)
    assert_html_error(r, 409, 'only an active image can be deactivated')


# --- delete ----------------------------------------------------------------------

def test_delete_removes_record_and_data(image_client, people, raw_bytes, image_conf):
    import os
    img = active_image(image_client, people.demo, raw_bytes, disk_format='raw')
    path = os.path.join(image_conf.image.store_path, img['id'])
    assert os.path.exists(path)
    r = image_client.delete('/v2/images/%s' % img['id'], headers=people.demo.h)
    assert r.status_code == 204 and r.data == b''
    assert not os.path.exists(path)
    assert image_client.get('/v2/images/%s' % img['id'],
                            headers=people.demo.h).status_code == 404
    assert image_client.delete('/v2/images/%s' % img['id'],
                               headers=people.demo.h).status_code == 404
    # a deleted image's id cannot come back
    r = image_client.post('/v2/images', json={'id': img['id']}, headers=people.demo.h)
    assert r.status_code == 409


def test_protected_image_cannot_be_deleted(image_client, people):
    img = create(image_client, people.demo, protected=True)
    r = image_client.delete('/v2/images/%s' % img['id'], headers=people.demo.h)
    assert_html_error(r, 403, 'is protected and cannot be deleted')
    patch(image_client, people.demo, img['id'],
          [{'op': 'replace', 'path': '/protected', 'value': False}])
    assert image_client.delete('/v2/images/%s' % img['id'],
                               headers=people.demo.h).status_code == 204


def test_only_owner_or_admin_deletes(image_client, people):
    img = create(image_client, people.admin, visibility='public')
    r = image_client.delete('/v2/images/%s' % img['id'], headers=people.demo.h)
    assert_html_error(r, 403, 'image:delete_image')
    mine = create(image_client, people.demo)
    assert image_client.delete('/v2/images/%s' % mine['id'],
                               headers=people.admin.h).status_code == 204


# --- JSON patch ---------------------------------------------------------------------

def test_patch_add_replace_remove(image_client, people):
    img = create(image_client, people.demo, name='old', os_distro='debian')
    out = patch(image_client, people.demo, img['id'], [
        {'op': 'add', 'path': '/name', 'value': 'new'},
        {'op': 'add', 'path': '/hw_disk_bus', 'value': 'virtio'},
        {'op': 'replace', 'path': '/os_distro', 'value': 'ubuntu'},
        {'op': 'add', 'path': '/min_ram', 'value': 512},
        {'op': 'replace', 'path': '/tags', 'value': ['x', 'y']},
        {'op': 'add', 'path': '/a~1b', 'value': 'slash'},
        {'op': 'add', 'path': '/visibility', 'value': 'private'},
    ])
    assert out['name'] == 'new' and out['hw_disk_bus'] == 'virtio'
    assert out['os_distro'] == 'ubuntu' and out['min_ram'] == 512
    assert out['tags'] == ['x', 'y'] and out['a/b'] == 'slash'
    assert out['visibility'] == 'private'
    out = patch(image_client, people.demo, img['id'], [
        {'op': 'remove', 'path': '/hw_disk_bus'}, {'op': 'remove', 'path': '/a~1b'}])
    assert 'hw_disk_bus' not in out and 'a/b' not in out
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown == out


@pytest.mark.parametrize('ops,code,fragment', [
    ({'op': 'add'}, 400, 'JSON array'),
    ([{'op': 'move', 'path': '/name', 'from': '/x'}], 400, "Invalid operation 'move'"),
    ([{'op': 'add', 'path': '/name'}], 400, 'needs a value'),
    ([{'op': 'add', 'value': 'x'}], 400, 'has no path'),
    ([{'op': 'add', 'path': 'name', 'value': 'x'}], 400, 'JSON pointer'),
    ([{'op': 'add', 'path': '/a/b', 'value': 'x'}], 400, 'top-level'),
    ([{'op': 'replace', 'path': '/status', 'value': 'active'}], 403, 'read-only'),
    ([{'op': 'replace', 'path': '/id', 'value': 'x'}], 403, 'read-only'),
    ([{'op': 'replace', 'path': '/checksum', 'value': 'x'}], 403, 'read-only'),
    ([{'op': 'remove', 'path': '/name'}], 403, 'may not be removed'),
    ([{'op': 'remove', 'path': '/nope'}], 409, 'does not exist'),
    ([{'op': 'replace', 'path': '/nope', 'value': 'x'}], 409, 'does not exist'),
    ([{'op': 'add', 'path': '/min_disk', 'value': 'big'}], 400, "'min_disk'"),
    ([{'op': 'add', 'path': '/visibility', 'value': 'world'}], 400, "'visibility'"),
    ([{'op': 'add', 'path': '/prop', 'value': 1}], 400, 'must be strings'),
    ([{'op': 'add', 'path': '/visibility', 'value': 'public'}], 403, 'publicize_image'),
    ([{'op': 'add', 'path': '/owner', 'value': 'someone'}], 403, 'Only an admin'),
    ([{'op': 'add', 'path': '/locations/-', 'value': {}}], 403, 'not supported'),
    ([{'op': 'add', 'path': '/os_glance_x', 'value': 'x'}], 403, 'reserved'),
])
def test_patch_refuses_bad_changes(image_client, people, ops, code, fragment):
    img = create(image_client, people.demo, name='keep')
    r = patch(image_client, people.demo, img['id'], ops, expect=code)
    assert_html_error(r, code, fragment)
    # nothing of a refused patch is applied
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['name'] == 'keep' and shown['visibility'] == 'shared'


def test_patch_is_atomic(image_client, people):
    img = create(image_client, people.demo, name='keep')
    patch(image_client, people.demo, img['id'], [
        {'op': 'replace', 'path': '/name', 'value': 'changed'},
        {'op': 'replace', 'path': '/status', 'value': 'active'}], expect=403)
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['name'] == 'keep'


def test_patch_needs_the_patch_media_type(image_client, people):
    img = create(image_client, people.demo)
    r = image_client.patch('/v2/images/%s' % img['id'], json=[], headers=people.demo.h)
    assert_html_error(r, 415, PATCH_TYPE)
    # as Glance: the 415 says which patch types it takes
    assert r.headers['Accept-Patch'] == ('application/openstack-images-v2.0-json-patch, '
                                         'application/openstack-images-v2.1-json-patch')


V2_0 = 'application/openstack-images-v2.0-json-patch'


def patch_v2_0(client, who, image_id, ops, expect=200):
    r = client.patch('/v2/images/%s' % image_id, json=ops,
                     headers={**who.h, 'Content-Type': V2_0 + '; charset=UTF-8'})
    assert r.status_code == expect, text(r)
    return r.get_json() if expect == 200 else r


def test_patch_in_the_v2_0_format(image_client, people):
    """Glance's older patch media type: the op is the member's name, and
    "add" of an attribute the image already has is a conflict."""
    img = create(image_client, people.demo, name='old', os_distro='debian')
    out = patch_v2_0(image_client, people.demo, img['id'], [
        {'replace': '/name', 'value': 'new'},
        {'add': '/hw_disk_bus', 'value': 'virtio'},
        {'replace': '/os_distro', 'value': 'ubuntu'},
        {'add': '/a~1b', 'value': 'slash'},
    ])
    assert out['name'] == 'new' and out['hw_disk_bus'] == 'virtio'
    assert out['os_distro'] == 'ubuntu' and out['a/b'] == 'slash'
    out = patch_v2_0(image_client, people.demo, img['id'], [{'remove': '/hw_disk_bus'}])
    assert 'hw_disk_bus' not in out
    for ops, code, fragment in (
            ([{'add': '/os_distro', 'value': 'x'}], 409, 'already present'),
            ([{'add': '/name', 'value': 'x'}], 409, 'already present'),
            ([{'replace': '/nope', 'value': 'x'}], 409, 'does not exist'),
            ([{'add': '/status', 'value': 'active'}], 403, 'read-only'),
            ([{'op': 'add', 'path': '/x', 'value': 'y'}], 400, 'exactly one member'),
            ([{'add': '/x', 'remove': '/y', 'value': 'y'}], 400, 'exactly one member'),
            ([{'add': '/x'}], 400, 'needs a value')):
        r = patch_v2_0(image_client, people.demo, img['id'], ops, expect=code)
        assert_html_error(r, code, fragment)
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['name'] == 'new' and shown['os_distro'] == 'ubuntu'


def test_formats_are_write_once(image_client, people, raw_bytes):
    img = create(image_client, people.demo, disk_format='raw')
    out = patch(image_client, people.demo, img['id'],
                [{'op': 'replace', 'path': '/container_format', 'value': 'ovf'}])
    assert out['container_format'] == 'ovf'
    upload(image_client, people.demo, img['id'], raw_bytes)
    r = patch(image_client, people.demo, img['id'],
              [{'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'}], expect=403)
    assert_html_error(r, 403, 'queued image')


def test_patch_by_others(image_client, people):
    img = create(image_client, people.admin, visibility='public')
    r = patch(image_client, people.demo, img['id'],
              [{'op': 'add', 'path': '/name', 'value': 'x'}], expect=403)
    assert_html_error(r, 403, 'image:modify_image')
    private = create(image_client, people.admin, visibility='private')
    patch(image_client, people.demo, private['id'],
          [{'op': 'add', 'path': '/name', 'value': 'x'}], expect=404)
    out = patch(image_client, people.admin, img['id'],
                [{'op': 'add', 'path': '/owner', 'value': people.demo.project_id}])
    assert out['owner'] == people.demo.project_id


def test_property_and_tag_quotas(image_client, people, image_conf):
    image_conf.set_override('image_property_quota', 2, 'image')
    image_conf.set_override('image_tag_quota', 1, 'image')
    try:
        r = image_client.post('/v2/images', json={'a': '1', 'b': '2', 'c': '3'},
                              headers=people.demo.h)
        assert_html_error(r, 413, 'at most 2 additional properties')
        img = create(image_client, people.demo, a='1', b='2', tags=['t'])
        r = patch(image_client, people.demo, img['id'],
                  [{'op': 'add', 'path': '/c', 'value': '3'}], expect=413)
        r = image_client.put('/v2/images/%s/tags/u' % img['id'], headers=people.demo.h)
        assert_html_error(r, 413, 'at most 1 tags')
    finally:
        image_conf.clear_override('image_property_quota', 'image')
        image_conf.clear_override('image_tag_quota', 'image')


def test_tags_api(image_client, people):
    img = create(image_client, people.demo)
    assert image_client.put('/v2/images/%s/tags/blue' % img['id'],
                            headers=people.demo.h).status_code == 204
    assert image_client.put('/v2/images/%s/tags/blue' % img['id'],
                            headers=people.demo.h).status_code == 204
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['tags'] == ['blue']
    assert names(image_client, people.demo, '?tag=blue') == {img['name']}
    assert image_client.delete('/v2/images/%s/tags/blue' % img['id'],
                               headers=people.demo.h).status_code == 204
    r = image_client.delete('/v2/images/%s/tags/blue' % img['id'], headers=people.demo.h)
    assert_html_error(r, 404, 'Tag blue')


# --- lists ------------------------------------------------------------------------------

def _ids(r):
    return [i['id'] for i in r.get_json()['images']]


def test_list_shape_and_filters(image_client, people, raw_bytes):
    a = active_image(image_client, people.demo, raw_bytes, name='alpha', disk_format='raw',
                     os_distro='debian')
    b = create(image_client, people.demo, name='beta', protected=True)
    c = create(image_client, people.demo, name='gamma, delta', os_hidden=True)
    r = image_client.get('/v2/images', headers=people.demo.h)
    body = r.get_json()
    assert body['first'] == '/v2/images' and body['schema'] == '/v2/schemas/images'
    assert 'next' not in body
    assert set(_ids(r)) == {a['id'], b['id']}  # hidden images are not listed by default
    q = image_client.get

    def ids(query):
        return set(_ids(q('/v2/images' + query, headers=people.demo.h)))
    assert ids('?name=alpha') == {a['id']}
    assert ids('?name=in:alpha,beta') == {a['id'], b['id']}
    assert ids('?os_hidden=True&name=in:"gamma, delta",alpha') == {c['id']}
    assert ids('?id=in:%s,%s' % (a['id'], c['id'])) == {a['id']}
    assert ids('?status=active') == {a['id']}
    assert ids('?status=in:queued,saving') == {b['id']}
    assert ids('?protected=true') == {b['id']}
    assert ids('?protected=false') == {a['id']}
    assert ids('?os_distro=debian') == {a['id']}
    assert ids('?disk_format=raw') == {a['id']}
    assert ids('?size_min=1&size_max=%d' % len(raw_bytes)) == {a['id']}
    assert ids('?size_max=1') == set()
    assert ids('?owner=%s&visibility=shared' % people.demo.project_id) == {a['id'], b['id']}
    assert ids('?created_at=gte:2000-01-01T00:00:00Z') == {a['id'], b['id']}
    assert ids('?created_at=lt:2000-01-01T00:00:00Z') == set()
    assert ids('?checksum=%s' % hashlib.md5(raw_bytes).hexdigest()) == {a['id']}


@pytest.mark.parametrize('query,fragment', [
    ('?limit=abc', "Invalid value 'abc' for query parameter limit"),
    ('?limit=-1', 'at least 0'),
    ('?marker=00000000-0000-0000-0000-000000000000', 'marker'),
    ('?visibility=everyone', "Invalid visibility 'everyone'"),
    ('?member_status=maybe', "Invalid member_status 'maybe'"),
    ('?status=sleeping', "Invalid status value 'sleeping'"),
    ('?protected=maybe', 'expected true or false'),
    ('?os_hidden=2', 'expected true or false'),
    ('?size_min=big', 'size_min'),
    ('?created_at=yesterday', 'ISO 8601'),
    ('?sort_key=colour', "Invalid sort key 'colour'"),
    ('?sort_key=name&sort_dir=up', "Invalid sort direction 'up'"),
    ('?sort=name:sideways', 'Invalid sort direction'),
    ('?name=in:"open', 'quote is not closed'),
])
def test_list_refuses_bad_queries(image_client, people, query, fragment):
    r = image_client.get('/v2/images' + query, headers=people.demo.h)
    assert_html_error(r, 400, fragment)


def test_paging_with_marker_limit_and_next(image_client, people, image_conf):
    made = [create(image_client, people.demo, name='p%02d' % i)['id'] for i in range(7)]
    # default order: newest first
    r = image_client.get('/v2/images?limit=3', headers=people.demo.h)
    body = r.get_json()
    assert _ids(r) == made[::-1][:3]
    assert body['next'] == '/v2/images?limit=3&marker=%s' % made[-3]
    seen = []
    url = '/v2/images?limit=3'
    while url:
        body = image_client.get(url, headers=people.demo.h).get_json()
        seen += [i['id'] for i in body['images']]
        url = body.get('next')
    assert seen == made[::-1]
    # the configured default page size applies without a limit, the max caps a limit
    image_conf.set_override('limit_param_default', 2, 'image')
    image_conf.set_override('api_limit_max', 4, 'image')
    try:
        assert len(_ids(image_client.get('/v2/images', headers=people.demo.h))) == 2
        assert len(_ids(image_client.get('/v2/images?limit=100',
                                         headers=people.demo.h))) == 4
    finally:
        image_conf.clear_override('limit_param_default', 'image')
        image_conf.clear_override('api_limit_max', 'image')
    assert _ids(image_client.get('/v2/images?limit=0', headers=people.demo.h)) == []


def test_sorting_and_paging_by_name(image_client, people):
    for n in ('c', 'a', 'b', 'a'):
        create(image_client, people.demo, name=n)
    create(image_client, people.demo, name=None)
    r = image_client.get('/v2/images?sort_key=name&sort_dir=asc', headers=people.demo.h)
    assert [i['name'] for i in r.get_json()['images']] == [None, 'a', 'a', 'b', 'c']
    seen, url = [], '/v2/images?sort=name:desc&limit=2'
    while url:
        body = image_client.get(url, headers=people.demo.h).get_json()
        seen += [i['name'] for i in body['images']]
        url = body.get('next')
    assert seen == ['c', 'b', 'a', 'a', None]


def test_schemas_and_import_info(image_client, people):
    s = image_client.get('/v2/schemas/image', headers=people.demo.h).get_json()
    assert s['name'] == 'image' and s['properties']['status']['readOnly'] is True
    assert 'qcow2' in s['properties']['disk_format']['enum']
    assert image_client.get('/v2/schemas/images', headers=people.demo.h).status_code == 200
    assert image_client.get('/v2/schemas/member',
                            headers=people.demo.h).get_json()['name'] == 'member'
    assert image_client.get('/v2/schemas/members', headers=people.demo.h).status_code == 200
    info = image_client.get('/v2/info/import', headers=people.demo.h).get_json()
    assert info['import-methods']['value'] == []
