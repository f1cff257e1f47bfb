"""The attach flow without a bus: os-volume_attachments and boot from a
volume in the compute API (the agent and the volume service replaced by
recorders), the agent's BlockDevices with a fake driver, and the records."""

import pytest

from blockstore import attachments
from blockstore import exception as volume_exc
from blockstore import volumes
from common.context import get_admin_context
from common.db import instances
from compute import blockdev
from tests.fixtures.volume_api import IMAGE

pytestmark = pytest.mark.usefixtures('casts')

V = {'OpenStack-API-Version': 'compute 2.61'}
CTX = get_admin_context()


@pytest.fixture
def nova(volume_nova):
    """The compute API with its volume side recorded."""
    return volume_nova


def _server(nova, name='vm', host='h1', **extra):
    body = {'server': dict(name=name, imageRef=IMAGE['id'], flavorRef='1', networks='none',
                           **extra)}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    if host:
        instances.update(sid, {'host': host, 'vm_state': 'active', 'task_state': None})
    return sid


def _volume(project_id, size=1, status=volumes.AVAILABLE):
    vol = volumes.create({'project_id': project_id, 'user_id': 'u', 'size': size})
    return volumes.set_status(vol['id'], status, host='vh')


def test_attach_reserves_and_casts_then_detach(nova, demo):
    sid = _server(nova)
    vol = _volume(demo.project_id)
    path = '/servers/%s/os-volume_attachments' % sid
    out = nova('POST', path, {'volumeAttachment': {'volumeId': vol['id']}}, 200).get_json()
    assert out['volumeAttachment'] == {'id': vol['id'], 'volumeId': vol['id'],
                                       'serverId': sid, 'device': '/dev/vdb'}
    name, args, _kw = nova.sent[-1]
    assert name == 'attach_volume' and args[0] == 'h1' and args[-1] == 'vdb'
    assert volumes.get(vol['id'])['status'] == volumes.ATTACHING
    # the agent's report
    attachments.attach_complete(args[3], 'h1', 'vdb')
    listed = nova('GET', path, status=200).get_json()['volumeAttachments']
    assert [a['device'] for a in listed] == ['/dev/vdb']
    nova('GET', '%s/%s' % (path, vol['id']), status=200)
    srv = nova('GET', '/servers/' + sid, status=200).get_json()['server']
    assert srv['os-extended-volumes:volumes_attached'] == [
        {'id': vol['id'], 'delete_on_termination': False}]
    # in use: a second server gets a 409, and a second attach here too
    sid2 = _server(nova, 'vm2')
    r = nova('POST', '/servers/%s/os-volume_attachments' % sid2,
             {'volumeAttachment': {'volumeId': vol['id']}}, 409)
    assert 'in-use' in r.get_data(as_text=True)
    nova('DELETE', '%s/%s' % (path, vol['id']), status=202)
    assert nova.sent[-1][0] == 'detach_volume'
    assert volumes.get(vol['id'])['status'] == volumes.DETACHING
    # a second detach while it is detaching: refused, nothing changes
    nova('DELETE', '%s/%s' % (path, vol['id']), status=400)


def test_attach_refusals(nova, demo, other):
    sid = _server(nova)
    path = '/servers/%s/os-volume_attachments' % sid
    theirs = _volume(other.project_id)
    r = nova('POST', path, {'volumeAttachment': {'volumeId': theirs['id']}}, 404)
    assert 'could not be found' in r.get_data(as_text=True)
    nova('POST', path, {'volumeAttachment': {}}, 400)
    nova('DELETE', '%s/%s' % (path, theirs['id']), status=404)
    mine = _volume(demo.project_id)
    nova('POST', path, {'volumeAttachment': {'volumeId': mine['id'], 'device': 'sdb'}}, 400)
    # the server's host is down: 409, the volume untouched
    down = _server(nova, 'vm-down', host='h9')
    nova('POST', '/servers/%s/os-volume_attachments' % down,
         {'volumeAttachment': {'volumeId': mine['id']}}, 409)
    # not placed yet
    unplaced = _server(nova, 'vm-new', host=None)
    nova('POST', '/servers/%s/os-volume_attachments' % unplaced,
         {'volumeAttachment': {'volumeId': mine['id']}}, 409)
    assert volumes.get(mine['id'])['status'] == volumes.AVAILABLE


def test_boot_from_image_volume_and_existing_volume(nova, demo):
    bdm = [{'uuid': IMAGE['id'], 'boot_index': 0, 'source_type': 'image',
            'destination_type': 'volume', 'volume_size': 2, 'delete_on_termination': None}]
    body = {'server': {'name': 'bfv', 'imageRef': '', 'flavorRef': '1', 'networks': 'none',
                       'block_device_mapping_v2': bdm}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    inst = instances.get(sid)
    assert inst.image_ref is None and inst.root_gb == 0
    assert inst.request_spec['image_properties'] == {'hw_x': '1'}
    devs = attachments.instance_block_devices(sid)
    assert [(d['device'], d['boot_index'], d['status']) for d in devs] == [('vda', 0,
                                                                           'reserved')]
    vol = devs[0]['volume']
    assert vol['size'] == 2 and vol['image_id'] == IMAGE['id'] and vol['status'] == 'creating'
    assert ('create_volume', (vol,), {}) in [(n, a, k) for n, a, k in nova.sent]
    # made: attaching, not available (the server holds it)
    assert volumes.finish_create(vol['id'])['status'] == volumes.ATTACHING
    srv = nova('GET', '/servers/' + sid, status=200).get_json()['server']
    assert srv['image'] == ''
    # an existing volume, and one in use
    mine = _volume(demo.project_id)
    bdm = [{'uuid': mine['id'], 'boot_index': '0', 'source_type': 'volume',
            'destination_type': 'volume'}]
    body['server'].update(name='bfv2', block_device_mapping_v2=bdm)
    nova('POST', '/servers', body, 202)
    assert volumes.get(mine['id'])['status'] == volumes.ATTACHING
    r = nova('POST', '/servers', body, 400)
    assert 'must be' in r.get_data(as_text=True)
    # nothing half made: the failed request left no server and no volume
    names = [s['name'] for s in nova('GET', '/servers', status=200).get_json()['servers']]
    assert sorted(names) == ['bfv', 'bfv2']


@pytest.fixture
def small_quota():
    from common.conf import CONF
    CONF.set_override('quota_gigabytes', 1, group='volume')
    yield
    CONF.clear_override('quota_gigabytes', group='volume')


def test_boot_volume_over_quota_leaves_nothing(nova, demo, small_quota):
    bdm = [{'uuid': IMAGE['id'], 'boot_index': 0, 'source_type': 'image',
            'destination_type': 'volume', 'volume_size': 5}]
    body = {'server': {'name': 'big', 'flavorRef': '1', 'networks': 'none',
                       'block_device_mapping_v2': bdm}}
    r = nova('POST', '/servers', body)
    assert r.status_code == 413, r.get_data(as_text=True)
    assert nova('GET', '/servers', status=200).get_json()['servers'] == []
    assert volumes.list_volumes(demo.project_id) == []


def test_delete_without_agent_releases_volumes(nova, demo):
    sid = _server(nova, host='h9')  # its host is down
    keep, drop = _volume(demo.project_id), _volume(demo.project_id)
    for vol, dot in ((keep, False), (drop, True)):
        att = attachments.reserve(vol['id'], demo.project_id, sid, delete_on_termination=dot)
        attachments.attach_complete(att['id'], 'h9', 'vdb')
    nova('DELETE', '/servers/' + sid, status=204)
    assert volumes.get(keep['id'])['status'] == volumes.AVAILABLE
    assert volumes.get(drop['id'])['status'] == volumes.DELETING
    assert 'delete_volume' in [n for n, _a, _k in nova.sent]


# --- the agent's side -------------------------------------------------------

class FakeDriver:
    def __init__(self, fail=()):
        self.fail, self.disks = set(fail), {}

    def attach_volume(self, ctx, instance, conn, volume_id, device=None):
        if 'attach' in self.fail:
            raise RuntimeError('no hot-plug')
        self.disks[volume_id] = device or 'vdb'
        return self.disks[volume_id]

    def detach_volume(self, ctx, instance, volume_id):
        if 'detach' in self.fail:
            raise RuntimeError('guest holds it')
        self.disks.pop(volume_id, None)

    def list_volume_attachments(self, instance):
        return [{'volume_id': v, 'device': d} for v, d in self.disks.items()]


class FakeVolumes:
    def __init__(self, complete=True):
        self.calls, self.complete = [], complete

    def __getattr__(self, name):
        def call(ctx, *args, **kw):
            self.calls.append(name)
            if name == 'initialize_connection':
                return {'driver_volume_type': 'file', 'data': {'path': '/v'}}
            if name == 'attach_complete':
                return {'status': 'in-use'} if self.complete else None
            if name == 'get_volume':
                return {'id': args[0], 'status': 'attaching'}
            return None
        return call


INST = {'uuid': 'i-1'}
VOL = {'id': 'v-1', 'status': 'attaching', 'host': 'vh'}


def test_agent_attach_reports_or_gives_back():
    drv, vols = FakeDriver(), FakeVolumes()
    bd = blockdev.BlockDevices(lambda: drv, vols)
    assert bd.attach(CTX, INST, VOL, 'a1', 'vdc') == 'vdc'
    assert vols.calls == ['initialize_connection', 'attach_complete']
    # the plug fails: the reservation goes back
    drv, vols = FakeDriver(fail={'attach'}), FakeVolumes()
    with pytest.raises(RuntimeError):
        blockdev.BlockDevices(lambda: drv, vols).attach(CTX, INST, VOL, 'a1')
    assert vols.calls[-1] == 'release_attachment'
    # the attachment was cancelled meanwhile (a restart settled it): unplug
    drv, vols = FakeDriver(), FakeVolumes(complete=False)
    with pytest.raises(RuntimeError):
        blockdev.BlockDevices(lambda: drv, vols).attach(CTX, INST, VOL, 'a1')
    assert drv.disks == {} and vols.calls[-1] == 'release_attachment'


def test_agent_detach_rolls_back_on_failure():
    drv, vols = FakeDriver(fail={'detach'}), FakeVolumes()
    with pytest.raises(RuntimeError):
        blockdev.BlockDevices(lambda: drv, vols).detach(CTX, INST, VOL, 'a1')
    assert vols.calls == ['roll_detaching']
    drv, vols = FakeDriver(), FakeVolumes()
    blockdev.BlockDevices(lambda: drv, vols).detach(CTX, INST, VOL, 'a1')
    assert vols.calls == ['release_attachment']


def test_agent_settles_what_a_restart_cut_short():
    drv, vols = FakeDriver(), FakeVolumes()
    drv.disks = {'v-in': 'vdb', 'v-det': 'vdc'}
    inst = dict(INST, block_devices=[
        {'attachment_id': 'a', 'volume': {'id': 'v-in'}, 'status': 'reserved'},
        {'attachment_id': 'b', 'volume': {'id': 'v-out'}, 'status': 'reserved'},
        {'attachment_id': 'c', 'volume': {'id': 'v-det'}, 'status': 'detaching'},
        {'attachment_id': 'd', 'volume': {'id': 'v-ok'}, 'status': 'attached'}])
    blockdev.BlockDevices(lambda: drv, vols).settle(CTX, inst)
    assert sorted(vols.calls) == ['attach_complete', 'release_attachment',
                                  'release_attachment']
    assert drv.disks == {'v-in': 'vdb'}


def test_agent_build_waits_for_made_volumes(monkeypatch):
    monkeypatch.setattr(blockdev, '_POLL', 0)
    drv, vols = FakeDriver(), FakeVolumes()
    bds = [{'attachment_id': 'a', 'volume': dict(VOL, status='creating'), 'device': 'vda',
            'boot_index': 0}]
    info = blockdev.BlockDevices(lambda: drv, vols).connect_for_build(CTX, bds)
    assert info['mapping'][0]['boot_index'] == 0 and vols.calls == ['get_volume',
                                                                   'initialize_connection']
    bad = [{'attachment_id': 'a', 'volume': dict(VOL, status='error')}]
    with pytest.raises(blockdev.VolumeNotReady):
        blockdev.BlockDevices(lambda: drv, vols).connect_for_build(CTX, bad)


@pytest.mark.usefixtures('db')
def test_release_attachment_deletes_on_termination():
    from blockstore import manager as manager_mod
    from tests.fixtures.volume_backend import FakeBackend
    mgr = manager_mod.VolumeManager(backend=FakeBackend())
    vol = _volume('p1')
    att = db_reserve(vol, 'srv', True)
    mgr.release_attachment(CTX, vol, att['id'], {'host': 'h1'}, delete_volume=True)
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get(vol['id'])
    vol = _volume('p1')
    att = db_reserve(vol, 'srv', False)
    assert mgr.attach_complete(CTX, vol, att['id'], 'h1', 'vdb')['status'] == volumes.IN_USE
    assert mgr.attach_complete(CTX, vol, 'gone', 'h1', 'vdb') is None
    assert mgr.release_attachment(CTX, vol, att['id'], {'host': 'h1'})['status'] == \
        volumes.AVAILABLE
    assert attachments.volumes_attached(['srv']) == {'srv': []}


def db_reserve(vol, server, dot):
    return attachments.reserve(vol['id'], vol['project_id'], server, delete_on_termination=dot)


@pytest.mark.usefixtures('db')
def test_reconcile_releases_volumes_of_deleted_servers(monkeypatch):
    import datetime

    import sqlalchemy as sa

    from blockstore import manager as manager_mod
    from common.db import api as db_api
    from common.db import volume_models as vm
    from tests.fixtures.volume_backend import FakeBackend
    vol = _volume('p1')
    att = db_reserve(vol, 'gone-server', False)
    attachments.attach_complete(att['id'], 'h1', 'vdb')
    assert attachments.orphan_attachments(60) == []  # too young: a create may be under way
    with db_api.session() as s:
        s.execute(sa.update(vm.VolumeAttachment).values(
            created_at=datetime.datetime(2020, 1, 1)))
    assert [o['attachment_id'] for o in attachments.orphan_attachments(60)] == [att['id']]
    manager_mod.VolumeManager(backend=FakeBackend()).reconcile()
    assert volumes.get(vol['id'])['status'] == volumes.AVAILABLE
