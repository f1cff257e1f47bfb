"""User messages (Cinder's /messages, 3.3): a volume create that fails in
the volume service (a full disk among others) leaves its volume in error
and a message to its project that says why; the API lists, shows and
deletes them, per project."""

import errno
import os

from blockstore import exception as volume_exc
from blockstore import manager as manager_mod
from blockstore import messages
from blockstore import volumes
from common.context import get_admin_context
from tests.fixtures.volume_backend import FakeBackend

CTX = get_admin_context()


class FullBackend(FakeBackend):
    """qemu-img ran out of space, as the file backend reports it."""

    def create(self, volume_id, size_gb):
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as e:
            raise volume_exc.BackendError(reason='qemu-img: error while writing: '
                                                 'No space left on device') from e


def test_a_create_that_fails_for_space_says_so(db):
    vol = volumes.create(dict(project_id='p1', user_id='u', size=1))
    manager_mod.VolumeManager(backend=FullBackend()).create_volume(CTX, vol)
    assert volumes.get(vol['id'])['status'] == 'error'
    [msg] = messages.list_messages('p1')
    assert msg['resource_uuid'] == vol['id'] and msg['resource_type'] == 'VOLUME'
    assert msg['user_message'] == 'create volume: not enough space left in the volume backend.'
    assert msg['event_id'] == 'VOLUME_001_002' and msg['message_level'] == 'ERROR'
    assert messages.list_messages('p2') == []


def test_any_other_failure_says_little(db):
    vol = volumes.create(dict(project_id='p1', user_id='u', size=1))
    manager_mod.VolumeManager(backend=FakeBackend(fail={'create'})).create_volume(CTX, vol)
    [msg] = messages.list_messages('p1', resource_uuid=vol['id'])
    assert msg['user_message'].startswith('create volume: an unexpected error occurred')


def test_a_success_leaves_no_message(db):
    vol = volumes.create(dict(project_id='p1', user_id='u', size=1))
    manager_mod.VolumeManager(backend=FakeBackend()).create_volume(CTX, vol)
    assert messages.list_messages(None) == []


def _project_id(client, admin_token, name):
    r = client.get('/identity/v3/projects?name=%s' % name,
                   headers={'X-Auth-Token': admin_token})
    return r.get_json()['projects'][0]['id']


class Caller:
    def __init__(self, client, token, project_id):
        self.client, self.token, self.project_id = client, token, project_id

    def call(self, method, path, status, version='3.3'):
        r = self.client.open('/volume/v3/%s%s' % (self.project_id, path), method=method,
                             headers={'X-Auth-Token': self.token,
                                      'OpenStack-API-Version': 'volume %s' % version})
        assert r.status_code == status, (method, path, r.get_data(as_text=True))
        return r

    def get(self, path):
        return self.call('GET', path, 200).get_json()


def test_messages_api(client, admin_token, demo_token, cloud_db):
    demo = Caller(client, demo_token, _project_id(client, admin_token, 'demo'))
    admin = Caller(client, admin_token, _project_id(client, admin_token, 'admin'))
    vol = volumes.create(dict(project_id=demo.project_id, user_id='u', size=1))
    messages.record(CTX, demo.project_id, vol['id'], 'create',
                    OSError(errno.ENOSPC, 'No space left on device'))
    # below 3.3 there is no such resource
    demo.call('GET', '/messages', 404, version='3.0')
    [msg] = demo.get('/messages')['messages']
    assert msg['resource_uuid'] == vol['id']
    assert set(msg) == {'id', 'request_id', 'event_id', 'resource_type', 'resource_uuid',
                        'message_level', 'user_message', 'created_at', 'guaranteed_until',
                        'links'}
    assert demo.get('/messages/%s' % msg['id'])['message'] == msg
    assert demo.get('/messages?resource_uuid=%s' % vol['id'])['messages'] == [msg]
    # another project sees nothing of it; its admin does with all_tenants
    assert admin.get('/messages')['messages'] == []
    admin.call('GET', '/messages/%s' % msg['id'], 404)
    assert [m['id'] for m in admin.get('/messages?all_tenants=1')['messages']] == [msg['id']]
    demo.call('DELETE', '/messages/%s' % msg['id'], 204)
    demo.call('GET', '/messages/%s' % msg['id'], 404)
    assert demo.get('/messages')['messages'] == []
