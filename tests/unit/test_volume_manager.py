"""The volume service's manager with a fake backend: every endpoint ends
its volume or snapshot in a settled status, on success and on failure."""

import datetime
import os
import uuid

import pytest
import sqlalchemy as sa

from blockstore import exception as volume_exc
from blockstore import manager as manager_mod
from blockstore import quota as volume_quota
from blockstore import rpcapi
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common.conf import CONF
from common.context import get_admin_context
from common.db import api as db_api
from common.db import volume_models as vm
from tests.fixtures.volume_backend import FakeBackend

CTX = get_admin_context()


@pytest.fixture
def new_volume(db):
    del db

    def make(size=1, **kw):
        return db_mod_create(size, **kw)
    return make


def db_mod_create(size, **kw):
    return volumes.create(dict(project_id='p1', user_id='u', size=size, **kw))


def test_create_success_and_failure(new_volume):
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend)
    vol = new_volume(2)
    mgr.create_volume(CTX, vol)
    got = volumes.get(vol['id'])
    assert (got['status'], got['host']) == ('available', CONF.host)
    assert backend.calls == [('create', vol['id'], 2)]
    bad = manager_mod.VolumeManager(backend=FakeBackend(fail={'create'}))
    vol2 = new_volume()
    bad.create_volume(CTX, vol2)
    assert volumes.get(vol2['id'])['status'] == 'error'


def test_create_from_snapshot_and_source(new_volume):
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend)
    snap_id = str(uuid.uuid4())
    vol = new_volume(snapshot_id=snap_id)
    mgr.create_volume(CTX, vol)
    src = new_volume(source_volid=vol['id'])
    mgr.create_volume(CTX, src)
    assert [c[0] for c in backend.calls] == ['create_from_snapshot', 'create_from_volume']


def test_create_from_image_failure_is_error(new_volume):
    class Images:
        def get_image_for_download(self, ctx, image_id):
            raise RuntimeError('image service away')
    mgr = manager_mod.VolumeManager(backend=FakeBackend(), image_api=Images())
    vol = new_volume(image_id=str(uuid.uuid4()))
    mgr.create_volume(CTX, vol)
    assert volumes.get(vol['id'])['status'] == 'error'


def test_create_from_image_downloads_and_hands_over(new_volume, monkeypatch):
    fetched = []
    monkeypatch.setattr(manager_mod.images, 'download',
                        lambda image, path, timeout: fetched.append(path))

    class Images:
        def get_image_for_download(self, ctx, image_id):
            return {'id': image_id, 'disk_format': 'qcow2', 'url': 'http://x'}
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend, image_api=Images())
    vol = new_volume(image_id=str(uuid.uuid4()))
    mgr.create_volume(CTX, vol)
    got = volumes.get(vol['id'])
    assert got['status'] == 'available' and got['bootable'] is True
    (path,) = fetched
    assert os.path.basename(path) == vol['image_id']
    # The backend is asked first whether it can clone the image in place (a
    # file backend cannot), then given the downloaded file.
    assert [c[0] for c in backend.calls] == ['clone_image', 'create_from_image']
    assert backend.calls[-1] == ('create_from_image', vol['id'], path, 1)


def test_delete_and_extend(new_volume):
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend)
    vol = new_volume()
    mgr.create_volume(CTX, vol)
    vol = volumes.begin_extend(vol['id'], 'p1', 3)
    mgr.extend_volume(CTX, vol, 3)
    assert (volumes.get(vol['id'])['size'], volumes.get(vol['id'])['status']) == (3, 'available')
    failing = manager_mod.VolumeManager(backend=FakeBackend(fail={'extend', 'delete'}))
    vol = volumes.begin_extend(vol['id'], 'p1', 4)
    failing.extend_volume(CTX, vol, 4)
    got = volumes.get(vol['id'])
    assert (got['size'], got['status']) == (3, 'error_extending')
    volumes.set_status(vol['id'], 'available')
    vol = volumes.begin_delete(vol['id'], 'p1')
    failing.delete_volume(CTX, vol)
    assert volumes.get(vol['id'])['status'] == 'error_deleting'
    vol = volumes.begin_delete(vol['id'], 'p1', force=True)
    mgr.delete_volume(CTX, vol)
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get(vol['id'])
    assert volume_quota.usage('p1')['gigabytes'] == 0


def test_snapshots(new_volume):
    mgr = manager_mod.VolumeManager(backend=FakeBackend())
    vol = new_volume()
    mgr.create_volume(CTX, vol)
    snap = volume_snapshots.create_snapshot({'project_id': 'p1', 'user_id': 'u',
                                             'volume_id': vol['id']})
    mgr.create_snapshot(CTX, snap)
    assert volume_snapshots.get_snapshot(snap['id'])['status'] == 'available'
    snap = volume_snapshots.begin_delete_snapshot(snap['id'], 'p1')
    mgr.delete_snapshot(CTX, snap)
    with pytest.raises(volume_exc.SnapshotNotFound):
        volume_snapshots.get_snapshot(snap['id'])
    bad = manager_mod.VolumeManager(backend=FakeBackend(fail={'create_snapshot',
                                                              'delete_snapshot'}))
    snap = volume_snapshots.create_snapshot({'project_id': 'p1', 'user_id': 'u',
                                             'volume_id': vol['id']})
    bad.create_snapshot(CTX, snap)
    assert volume_snapshots.get_snapshot(snap['id'])['status'] == 'error'
    snap = volume_snapshots.begin_delete_snapshot(snap['id'], 'p1')
    bad.delete_snapshot(CTX, snap)
    assert volume_snapshots.get_snapshot(snap['id'])['status'] == 'error_deleting'


def test_connections_go_to_the_backend(new_volume):
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend)
    vol = new_volume()
    info = mgr.initialize_connection(CTX, vol, {'host': 'c1'})
    assert info['driver_volume_type'] == 'file'
    mgr.terminate_connection(CTX, vol, {'host': 'c1'})
    assert [c[0] for c in backend.calls] == ['initialize_connection', 'terminate_connection']


def test_init_host_and_reconcile_settle_what_was_in_transit(new_volume):
    backend = FakeBackend()
    mgr = manager_mod.VolumeManager(backend=backend)
    creating = new_volume()
    volumes.set_status(creating['id'], 'creating', host=CONF.host)
    deleting = new_volume()
    volumes.set_status(deleting['id'], 'deleting', host=CONF.host)
    extending = new_volume()
    volumes.set_status(extending['id'], 'extending', host=CONF.host)
    elsewhere = new_volume()
    volumes.set_status(elsewhere['id'], 'creating', host='other-host')
    mgr.init_host()
    assert backend.started
    assert volumes.get(creating['id'])['status'] == 'error'
    assert volumes.get(extending['id'])['status'] == 'error_extending'
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get(deleting['id'])
    assert volumes.get(elsewhere['id'])['status'] == 'creating'
    # reconcile: only past the timeout
    stuck = new_volume()
    mgr.reconcile()
    assert volumes.get(stuck['id'])['status'] == 'creating'
    with db_api.session() as s:
        s.execute(sa.update(vm.Volume).where(vm.Volume.id == stuck['id'])
                  .values(updated_at=datetime.datetime(2020, 1, 1)))
    mgr.reconcile()
    assert volumes.get(stuck['id'])['status'] == 'error'


def test_rpcapi_casts_are_bounded(monkeypatch):
    sent = []

    class Prepared:
        def __init__(self, **kw):
            self.kw = kw

        def cast(self, ctx, method, **kwargs):
            sent.append(('cast', method, self.kw))

        def call(self, ctx, method, **kwargs):
            sent.append(('call', method, self.kw))
            return {'ok': 1}

    class Client:
        def prepare(self, **kw):
            return Prepared(**kw)

    monkeypatch.setattr(rpcapi.rpc, 'get_client', lambda topic, version: Client())
    api = rpcapi.VolumeAPI()
    api.create_volume(CTX, {'id': 'v'})
    api.delete_volume(CTX, {'id': 'v', 'host': 'h1'})
    assert api.initialize_connection(CTX, {'id': 'v', 'host': 'h1'}, {}) == {'ok': 1}
    assert sent[0][2]['retry'] == 1 and 'server' not in sent[0][2]
    assert sent[1][2]['server'] == 'h1'
    assert sent[2][2]['timeout'] == CONF.volume.rpc_timeout
