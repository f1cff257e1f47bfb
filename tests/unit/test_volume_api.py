"""The Cinder v3 volume API through the Flask test client, with the volume
service replaced by a recorder of the casts it would get."""

import uuid

import pytest

from api.compute import images
from blockstore import attachments
from blockstore import quota as volume_quota
from blockstore import snapshots as volume_snapshots
from blockstore import volumes

MV = {'OpenStack-API-Version': 'volume 3.71'}


class Casts(list):
    fail = False


@pytest.fixture(autouse=True)
def casts(monkeypatch):
    from api.volume import base
    sent = Casts()

    class FakeVolumeAPI:
        def __getattr__(self, name):
            def record(context, *args, **kwargs):
                if sent.fail:
                    raise OSError('broker away')
                sent.append((name, args, kwargs))
            return record

    monkeypatch.setattr(base.volume_rpcapi, 'VolumeAPI', FakeVolumeAPI)
    return sent


class Vol:
    def __init__(self, client, token, project_id):
        self.client, self.token, self.project_id = client, token, project_id

    def call(self, method, path, body=None, status=None, project=None, headers=None):
        url = '/volume/v3/%s%s' % (project or self.project_id, path)
        r = self.client.open(url, method=method, json=body,
                             headers=dict(MV, **{'X-Auth-Token': self.token},
                                          **(headers or {})))
        if status is not None:
            assert r.status_code == status, (method, path, r.status_code,
                                             r.get_data(as_text=True))
        return r

    def get(self, path, status=200, **kw):
        return self.call('GET', path, status=status, **kw).get_json()

    def post(self, path, body, status=202, **kw):
        return self.call('POST', path, body, status=status, **kw).get_json()

    def create(self, size=1, **kw):
        return self.post('/volumes', {'volume': dict(size=size, **kw)})['volume']

    def error(self, method, path, body=None, status=400):
        r = self.call(method, path, body, status=status)
        body = r.get_json()
        assert len(body) == 1
        return body


def _project_id(client, admin_token, name):
    r = client.get('/identity/v3/projects?name=%s' % name,
                   headers={'X-Auth-Token': admin_token})
    return r.get_json()['projects'][0]['id']


@pytest.fixture
def vtype(cloud_db):
    from api.volume import bootstrap
    return bootstrap.bootstrap()


@pytest.fixture
def admin(client, admin_token, vtype):
    return Vol(client, admin_token, _project_id(client, admin_token, 'admin'))


@pytest.fixture
def demo(client, demo_token, admin_token, vtype):
    return Vol(client, demo_token, _project_id(client, admin_token, 'demo'))


def available(vol_id, **values):
    return volumes.set_status(vol_id, 'available', **values)


# --- discovery and microversions ------------------------------------------------

def test_discovery_is_public_and_advertises_the_range(client):
    r = client.get('/volume/v3/')
    assert r.status_code == 200
    v = r.get_json()['versions'][0]
    assert v['min_version'] == '3.0' and v['version'] >= '3.64'


def test_a_newer_client_is_served_at_our_max(demo):
    r = demo.call('GET', '/volumes', status=200)
    assert r.headers['OpenStack-API-Version'] == 'volume 3.64'
    r = demo.call('GET', '/volumes', status=200,
                  headers={'OpenStack-API-Version': 'volume 3.10'})
    assert r.headers['OpenStack-API-Version'] == 'volume 3.10'
    demo.call('GET', '/volumes', status=406, headers={'OpenStack-API-Version': 'volume 2.9'})


# --- volumes --------------------------------------------------------------------

def test_create_shows_cinder_shape_and_casts(demo, casts, vtype):
    vol = demo.create(2, name='v1', description='d', metadata={'a': 'b'})
    assert vol['status'] == 'creating' and vol['size'] == 2
    assert vol['bootable'] == 'false' and vol['attachments'] == []
    assert vol['volume_type'] == '__DEFAULT__' and vol['volume_type_id'] == vtype['id']
    # as Cinder: the extension attributes are for show and list-detail only
    assert 'os-vol-tenant-attr:tenant_id' not in vol
    assert vol['availability_zone'] == 'nova' and vol['metadata'] == {'a': 'b'}
    for key in ('migration_status', 'replication_status', 'consistencygroup_id',
                'group_id', 'provider_id', 'cluster_name'):
        assert vol.get(key) is None
    assert vol['shared_targets'] is False and vol['encrypted'] is False
    assert vol['multiattach'] is False and 'os-vol-host-attr:host' not in vol
    assert vol['links'][0]['href'].endswith('/volume/v3/%s/volumes/%s'
                                            % (demo.project_id, vol['id']))
    assert casts[0][0] == 'create_volume' and casts[0][1][0]['id'] == vol['id']


def test_create_as_the_cli_sends_it(demo):
    body = {'volume': {'name': 'cli', 'size': 1, 'description': None, 'volume_type': None,
                       'availability_zone': None, 'snapshot_id': None,
                       'source_volid': None, 'imageRef': None, 'backup_id': None,
                       'consistencygroup_id': None, 'metadata': None}}
    assert demo.post('/volumes', body)['volume']['name'] == 'cli'


@pytest.mark.parametrize('size', [0, -1, 'x', 1.5, None, True])
def test_create_refuses_a_bad_size(demo, size):
    demo.error('POST', '/volumes', {'volume': {'size': size}})


def test_create_refuses_unknown_type_and_zone(demo):
    err = demo.error('POST', '/volumes', {'volume': {'size': 1, 'volume_type': 'nope'}},
                     status=404)
    assert 'nope' in err['itemNotFound']['message']
    err = demo.error('POST', '/volumes', {'volume': {'size': 1, 'availability_zone': 'az9'}})
    assert "Availability zone 'az9' is invalid" in err['badRequest']['message']


def test_create_by_type_id(demo, vtype):
    assert demo.create(volume_type=vtype['id'])['volume_type'] == '__DEFAULT__'


def test_broker_failure_puts_the_volume_in_error(demo, casts):
    casts.fail = True
    vol = demo.create()
    assert vol['status'] == 'error'
    # never reached a service: delete removes it at once
    demo.call('DELETE', '/volumes/%s' % vol['id'], status=202)
    demo.call('GET', '/volumes/%s' % vol['id'], status=404)


def test_show_list_and_isolation(demo, admin):
    mine = demo.create(name='mine')
    theirs = admin.create(name='theirs')
    assert demo.get('/volumes/%s' % mine['id'])['volume']['name'] == 'mine'
    err = demo.error('GET', '/volumes/%s' % theirs['id'], status=404)
    assert err['itemNotFound']['message'] == 'Volume %s could not be found.' % theirs['id']
    demo.call('GET', '/volumes/not-a-uuid', status=404)
    names = [v['name'] for v in demo.get('/volumes/detail')['volumes']]
    assert names == ['mine']
    assert set(demo.get('/volumes')['volumes'][0]) == {'id', 'name', 'links'}
    assert [v['id'] for v in demo.get('/volumes/detail?name=mine')['volumes']] == [mine['id']]
    assert demo.get('/volumes/detail?name=other')['volumes'] == []
    # another project's URL
    demo.call('GET', '/volumes', project=admin.project_id, status=403)
    # admins see all with all_tenants, and the host attribute
    every = admin.get('/volumes/detail?all_tenants=True')['volumes']
    assert {v['name'] for v in every} == {'mine', 'theirs'}
    assert 'os-vol-host-attr:host' in every[0]
    assert admin.get('/volumes/%s' % mine['id'])['volume']['name'] == 'mine'


ADMIN_ONLY = ('os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat',
              'os-vol-mig-status-attr:name_id', 'cluster_name')


def test_a_member_sees_what_cinder_shows_a_project_reader(demo, admin):
    """Owner project on show and detail (a project reader's, by Cinder's
    policy); host, migration status and cluster for admins only."""
    vol = demo.create(name='m')
    put = demo.call('PUT', '/volumes/%s' % vol['id'], {'volume': {'name': 'm2'}},
                    status=200).get_json()['volume']
    shown = demo.get('/volumes/%s' % vol['id'])['volume']
    listed = demo.get('/volumes/detail')['volumes'][0]
    for doc in (vol, put, shown, listed):
        assert not [k for k in ADMIN_ONLY if k in doc], doc
    for doc in (shown, listed):
        assert doc['os-vol-tenant-attr:tenant_id'] == demo.project_id
    assert 'os-vol-tenant-attr:tenant_id' not in put
    as_admin = admin.get('/volumes/%s' % vol['id'])['volume']
    assert all(k in as_admin for k in ADMIN_ONLY)


@pytest.mark.parametrize('version,present,absent', [
    ('3.0', (), ('group_id', 'provider_id', 'service_uuid', 'shared_targets',
                 'volume_type_id', 'encryption_key_id')),
    ('3.13', ('group_id',), ('provider_id', 'service_uuid')),
    ('3.21', ('group_id', 'provider_id'), ('service_uuid', 'shared_targets')),
    ('3.48', ('service_uuid', 'shared_targets'), ('volume_type_id',)),
    ('3.64', ('volume_type_id', 'encryption_key_id'), ('consumes_quota',)),
    ('3.71', ('encryption_key_id',), ('consumes_quota',)),
])
def test_volume_fields_follow_the_microversion(demo, version, present, absent):
    vol = demo.create()
    doc = demo.get('/volumes/%s' % vol['id'],
                   headers={'OpenStack-API-Version': 'volume ' + version})['volume']
    assert all(k in doc for k in present) and not [k for k in absent if k in doc], doc


def test_count_needs_3_45(demo):
    demo.create()
    old = {'OpenStack-API-Version': 'volume 3.44'}
    assert 'count' not in demo.get('/volumes/detail?with_count=true', headers=old)
    assert 'count' not in demo.get('/snapshots?with_count=true', headers=old)
    assert demo.get('/volumes/detail?with_count=true')['count'] == 1
    assert demo.get('/snapshots?with_count=true')['count'] == 0


def test_list_filters_sort_and_paging(demo):
    a = demo.create(name='a', size=1)
    b = demo.create(name='b', size=3)
    c = demo.create(name='c', size=2)
    available(b['id'])
    ids = [v['id'] for v in demo.get('/volumes/detail?sort=created_at:desc')['volumes']]
    assert ids == [c['id'], b['id'], a['id']]
    ids = [v['id'] for v in demo.get('/volumes/detail?sort_key=size&sort_dir=asc')['volumes']]
    assert ids == [a['id'], c['id'], b['id']]
    assert [v['id'] for v in demo.get('/volumes/detail?status=available')['volumes']] == \
        [b['id']]
    page = demo.get('/volumes/detail?sort=name:asc&limit=2')
    assert [v['name'] for v in page['volumes']] == ['a', 'b']
    assert 'volumes_links' in page
    rest = demo.get('/volumes/detail?sort=name:asc&limit=2&marker=%s' % b['id'])
    assert [v['name'] for v in rest['volumes']] == ['c']
    assert demo.get('/volumes/detail?with_count=true')['count'] == 3
    demo.call('PUT', '/volumes/%s' % a['id'],
                            {'volume': {'metadata': {'k': 'v'}}}, status=200)
    got = demo.get('/volumes/detail?metadata={"k": "v"}')['volumes']
    assert [v['id'] for v in got] == [a['id']]


def test_update_and_metadata(demo):
    vol = demo.create(name='x')
    r = demo.call('PUT', '/volumes/%s' % vol['id'],
                  {'volume': {'name': 'y', 'description': 'z'}}, status=200)
    assert r.get_json()['volume']['name'] == 'y'
    demo.post('/volumes/%s/metadata' % vol['id'], {'metadata': {'a': '1'}}, status=200)
    assert demo.get('/volumes/%s/metadata' % vol['id'])['metadata'] == {'a': '1'}
    demo.call('DELETE', '/volumes/%s/metadata/a' % vol['id'], status=200)
    assert demo.get('/volumes/%s' % vol['id'])['volume']['metadata'] == {}


def test_delete_rules(demo, casts):
    vol = demo.create()
    available(vol['id'], host='h1')
    snap = demo.post('/snapshots', {'snapshot': {'volume_id': vol['id']}})['snapshot']
    volume_snapshots.snapshot_set_status(snap['id'], 'available')
    err = demo.error('DELETE', '/volumes/%s?cascade=False&force=False' % vol['id'])
    assert 'Invalid volume' in err['badRequest']['message']
    demo.call('DELETE', '/volumes/%s?cascade=True' % vol['id'], status=202)
    assert [c[0] for c in casts[-2:]] == ['delete_snapshot', 'delete_volume']
    assert demo.get('/volumes/%s' % vol['id'])['volume']['status'] == 'deleting'
    volumes.finish_delete(vol['id'])
    volumes.finish_delete(vol['id'])  # idempotent
    demo.call('GET', '/volumes/%s' % vol['id'], status=404)


def test_delete_of_an_attached_volume_is_refused(demo):
    vol = demo.create()
    available(vol['id'], host='h1')
    att = attachments.reserve(vol['id'], demo.project_id, str(uuid.uuid4()))
    attachments.attach_complete(att['id'], 'h1', '/dev/vdb')
    shown = demo.get('/volumes/%s' % vol['id'])['volume']
    assert shown['status'] == 'in-use'
    a = shown['attachments'][0]
    assert a['attachment_id'] == att['id'] and a['device'] == '/dev/vdb'
    assert a['host_name'] == 'h1' and a['server_id'] == att['instance_uuid']
    assert a['id'] == vol['id'] and a['attached_at']
    err = demo.error('DELETE', '/volumes/%s' % vol['id'])
    assert err['badRequest']['message'].startswith('Invalid volume: Volume status must be')


def test_extend(demo, casts):
    vol = demo.create(2)
    demo.post('/volumes/%s/action' % vol['id'], {'os-extend': {'new_size': 3}}, status=400)
    available(vol['id'], host='h1')
    err = demo.error('POST', '/volumes/%s/action' % vol['id'], {'os-extend': {'new_size': 2}})
    assert 'must be greater than current size' in err['badRequest']['message']
    demo.call('POST', '/volumes/%s/action' % vol['id'], {'os-extend': {'new_size': 4}},
              status=202)
    assert casts[-1][0] == 'extend_volume' and casts[-1][1][1] == 4
    assert demo.get('/volumes/%s' % vol['id'])['volume']['status'] == 'extending'
    volumes.finish_extend(vol['id'], 4)
    got = demo.get('/volumes/%s' % vol['id'])['volume']
    assert (got['status'], got['size']) == ('available', 4)


def test_set_bootable_readonly_and_reset_status(demo, admin):
    vol = demo.create()
    demo.call('POST', '/volumes/%s/action' % vol['id'],
              {'os-set_bootable': {'bootable': True}}, status=202)
    assert demo.get('/volumes/%s' % vol['id'])['volume']['bootable'] == 'true'
    demo.call('POST', '/volumes/%s/action' % vol['id'],
              {'os-set_bootable': {'bootable': 'false'}}, status=202)
    assert demo.get('/volumes/%s' % vol['id'])['volume']['bootable'] == 'false'
    demo.call('POST', '/volumes/%s/action' % vol['id'],
              {'os-update_readonly_flag': {'readonly': True}}, status=202)
    demo.call('POST', '/volumes/%s/action' % vol['id'],
              {'os-reset_status': {'status': 'available'}}, status=403)
    admin.call('POST', '/volumes/%s/action' % vol['id'],
               {'os-reset_status': {'status': 'error'}}, status=202, project=demo.project_id)
    assert demo.get('/volumes/%s' % vol['id'])['volume']['status'] == 'error'
    demo.call('POST', '/volumes/%s/action' % vol['id'], {'os-bogus': {}}, status=400)
    volumes.set_status(vol['id'], 'available')
    att = attachments.reserve(vol['id'], demo.project_id, str(uuid.uuid4()))
    attachments.attach_complete(att['id'], 'h1', '/dev/vdb')
    admin.call('POST', '/volumes/%s/action' % vol['id'],
               {'os-reset_status': {'status': 'available', 'attach_status': 'detached'}},
               status=202, project=demo.project_id)
    got = demo.get('/volumes/%s' % vol['id'])['volume']
    assert (got['status'], got['attachments']) == ('available', [])


def test_quota_over_limit_is_413(demo):
    volume_quota.set_limits(demo.project_id, {'gigabytes': 6, 'volumes': 2})
    demo.create(4)
    err = demo.error('POST', '/volumes', {'volume': {'size': 3}}, status=413)
    assert err['overLimit']['message'].startswith(
        'Requested volume or snapshot exceeds allowed gigabytes quota.')
    demo.create(1)
    err = demo.error('POST', '/volumes', {'volume': {'size': 1}}, status=413)
    assert 'Maximum number of volumes allowed (2)' in err['overLimit']['message']


def test_create_from_snapshot_and_volume(demo):
    src = demo.create(2)
    available(src['id'], host='h1')
    snap = demo.post('/snapshots', {'snapshot': {'volume_id': src['id']}})['snapshot']
    volume_snapshots.snapshot_set_status(snap['id'], 'available')
    vol = demo.create(None, snapshot_id=snap['id'])
    assert vol['size'] == 2 and vol['snapshot_id'] == snap['id']
    demo.error('POST', '/volumes', {'volume': {'size': 1, 'snapshot_id': snap['id']}})
    clone = demo.create(3, source_volid=src['id'])
    assert clone['source_volid'] == src['id']
    demo.error('POST', '/volumes', {'volume': {'size': 1, 'source_volid': src['id']}})


def test_create_from_image(demo, monkeypatch):
    img_id = str(uuid.uuid4())
    monkeypatch.setattr(images, 'get', lambda ctx, i: {
        'id': i, 'size': 3 * 1024 ** 3 + 1, 'disk_format': 'qcow2', 'min_disk': 0,
        'status': 'active'})
    err = demo.error('POST', '/volumes', {'volume': {'size': 1, 'imageRef': img_id}})
    assert 'larger than volume size' in err['badRequest']['message']
    vol = demo.create(4, imageRef=img_id)
    assert vol['status'] == 'creating' and 'volume_image_metadata' not in vol
    shown = demo.get('/volumes/%s' % vol['id'])['volume']
    assert shown['volume_image_metadata']['image_id'] == img_id
    assert demo.create(None, imageRef=img_id)['size'] == 4


# --- snapshots ------------------------------------------------------------------

def test_snapshots(demo, admin, casts):
    vol = demo.create(2)
    demo.error('POST', '/snapshots', {'snapshot': {'volume_id': vol['id']}})  # creating
    available(vol['id'], host='h1')
    snap = demo.post('/snapshots', {'snapshot': {'volume_id': vol['id'], 'name': 's1',
                                                 'description': None,
                                                 'metadata': None}})['snapshot']
    assert snap['status'] == 'creating' and snap['size'] == 2
    assert not [k for k in snap if k.startswith('os-extended-snapshot-attributes')]
    assert casts[-1][0] == 'create_snapshot'
    volume_snapshots.snapshot_set_status(snap['id'], 'available')
    got = demo.get('/snapshots/%s' % snap['id'])['snapshot']
    assert got['os-extended-snapshot-attributes:progress'] == '100%'
    assert got['os-extended-snapshot-attributes:project_id'] == demo.project_id
    listed = demo.get('/snapshots/detail')['snapshots'][0]
    assert listed['os-extended-snapshot-attributes:project_id'] == demo.project_id
    assert 'os-extended-snapshot-attributes:progress' not in \
        demo.get('/snapshots')['snapshots'][0]
    renamed = demo.call('PUT', '/snapshots/%s' % snap['id'],
                        {'snapshot': {'name': 's1'}}, status=200).get_json()['snapshot']
    assert 'os-extended-snapshot-attributes:project_id' not in renamed
    assert [s['id'] for s in demo.get('/snapshots/detail?name=s1')['snapshots']] == \
        [snap['id']]
    assert demo.get('/snapshots/detail?volume_id=%s' % uuid.uuid4())['snapshots'] == []
    demo.call('PUT', '/snapshots/%s' % snap['id'], {'snapshot': {'name': 's2'}}, status=200)
    assert admin.get('/snapshots/detail')['snapshots'] == []
    admin.call('GET', '/snapshots/%s' % snap['id'], status=200)
    demo.call('GET', '/snapshots/%s' % uuid.uuid4(), status=404)
    # in-use needs force
    att = attachments.reserve(vol['id'], demo.project_id, str(uuid.uuid4()))
    attachments.attach_complete(att['id'], 'h1', '/dev/vdb')
    demo.error('POST', '/snapshots', {'snapshot': {'volume_id': vol['id']}})
    demo.post('/snapshots', {'snapshot': {'volume_id': vol['id'], 'force': True}})
    demo.call('DELETE', '/snapshots/%s' % snap['id'], status=202)
    assert casts[-1][0] == 'delete_snapshot'
    assert demo.get('/snapshots/%s' % snap['id'])['snapshot']['status'] == 'deleting'
    volume_snapshots.snapshot_finish_delete(snap['id'])
    demo.call('GET', '/snapshots/%s' % snap['id'], status=404)


# --- types, limits, quotas, zones, services ---------------------------------------

def test_types(demo, admin, vtype):
    types = demo.call('GET', '/types?is_public=none', status=200,
                      headers={'OpenStack-API-Version': ''}).get_json()['volume_types']
    assert [t['name'] for t in types] == ['__DEFAULT__']
    assert types[0]['description'] == 'Default Volume Type' and types[0]['is_public']
    assert demo.get('/types/default')['volume_type']['id'] == vtype['id']
    assert demo.get('/types/%s' % vtype['id'])['volume_type']['name'] == '__DEFAULT__'
    demo.call('GET', '/types/%s' % uuid.uuid4(), status=404)
    demo.call('POST', '/types', {'volume_type': {'name': 'fast'}}, status=403)
    fast = admin.post('/types', {'volume_type': {'name': 'fast'}}, status=200)['volume_type']
    assert demo.create(volume_type='fast')['volume_type'] == 'fast'
    admin.call('DELETE', '/types/%s' % fast['id'], status=400)  # in use


def test_type_encryption_is_empty_for_admins(demo, admin, vtype):
    # openstacksdk's get_type_encryption (Ansible's volume_type_info) asks
    # it of every type; Cinder answers {} for an unencrypted one.
    assert admin.get('/types/%s/encryption' % vtype['id']) == {}
    admin.call('GET', '/types/%s/encryption' % uuid.uuid4(), status=404)
    demo.call('GET', '/types/%s/encryption' % vtype['id'], status=403)


def test_limits_and_quota_sets(demo, admin):
    demo.create(3)
    lim = demo.get('/limits')['limits']
    assert lim['rate'] == []
    a = lim['absolute']
    assert (a['maxTotalVolumes'], a['maxTotalVolumeGigabytes'], a['maxTotalSnapshots']) == \
        (10, 1000, 10)
    assert (a['totalVolumesUsed'], a['totalGigabytesUsed'], a['totalSnapshotsUsed']) == \
        (1, 3, 0)
    assert a['maxTotalBackups'] == 0 and a['totalBackupGigabytesUsed'] == 0
    qs = demo.get('/os-quota-sets/%s?usage=False' % demo.project_id)['quota_set']
    assert qs['id'] == demo.project_id and qs['volumes'] == 10 and qs['gigabytes'] == 1000
    assert qs['volumes___DEFAULT__'] == -1 and qs['per_volume_gigabytes'] == -1
    used = demo.get('/os-quota-sets/%s?usage=True' % demo.project_id)['quota_set']
    # As Cinder's default quota driver: no 'allocated'.
    assert used['gigabytes'] == {'limit': 1000, 'in_use': 3, 'reserved': 0}
    demo.call('GET', '/os-quota-sets/%s' % admin.project_id, status=403)
    demo.call('PUT', '/os-quota-sets/%s' % demo.project_id,
              {'quota_set': {'volumes': 5}}, status=403)
    out = admin.call('PUT', '/os-quota-sets/%s' % demo.project_id,
                     {'quota_set': {'volumes': 5, 'per_volume_gigabytes': 2}},
                     status=200).get_json()['quota_set']
    assert out['volumes'] == 5
    admin.call('PUT', '/os-quota-sets/%s' % demo.project_id,
               {'quota_set': {'bogus': 5}}, status=400)
    admin.call('PUT', '/os-quota-sets/%s' % demo.project_id,
               {'quota_set': {'volumes': 0}}, status=400)  # below usage
    err = demo.error('POST', '/volumes', {'volume': {'size': 3}}, status=413)
    assert 'larger than maximum allowed limit 2G' in err['overLimit']['message']
    assert demo.get('/os-quota-sets/%s/defaults' % demo.project_id)['quota_set'][
        'volumes'] == 10
    admin.call('DELETE', '/os-quota-sets/%s' % demo.project_id, status=200)
    assert volume_quota.limits(demo.project_id)['volumes'] == 10


def test_zones_and_services(demo, admin):
    assert demo.get('/os-availability-zone') == {'availabilityZoneInfo': [
        {'zoneName': 'nova', 'zoneState': {'available': True}}]}
    demo.call('GET', '/os-services', status=403)
    from common import servicegroup
    servicegroup.report('h1', 'cinder-volume', topic='volume')
    svcs = admin.get('/os-services')['services']
    assert [(s['binary'], s['host'], s['state']) for s in svcs] == [('cinder-volume', 'h1',
                                                                    'up')]
    assert svcs[0]['cluster'] is None and svcs[0]['backend_state'] == 'up'
    # cluster is a 3.7 field, backend_state a 3.49 one
    old = admin.get('/os-services', headers={'OpenStack-API-Version': 'volume 3.0'})
    assert 'cluster' not in old['services'][0] and 'backend_state' not in old['services'][0]
    mid = admin.get('/os-services', headers={'OpenStack-API-Version': 'volume 3.7'})
    assert 'cluster' in mid['services'][0] and 'backend_state' not in mid['services'][0]


def test_unauthenticated_is_401(client, vtype):
    r = client.get('/volume/v3/%s/volumes' % uuid.uuid4())
    assert r.status_code == 401

