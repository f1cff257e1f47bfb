"""Server snapshots (createImage) without a bus: the compute API with the
image service and the agent replaced by recorders, the agent's flow with
the fake driver, a fake scheduler and a real HTTP server taking the
upload, the image service's discard endpoint, the RPC clients and the
libvirt block copy against a mock domain."""

import http.server
import threading
import types
import uuid
from unittest import mock

import pytest
import sqlalchemy as sa

from api.compute import snapshots
from common import context as ctx_mod
from common import exception
from common import instance_states as st
from common.db import api as db_api
from common.db import compute_models as cm
from compute import coldmig
from compute import guests
from compute import manager as compute_manager
from compute import reconcile
from compute import rpcapi as compute_rpcapi
from compute import snapshot
from compute import state_reports
from compute.virt import exception as virt_exception
from compute.virt import fake
from compute.virt import power_state
from imagestore import manager as image_manager
from imagestore import rpcapi as image_rpcapi
from tests.fixtures.identity import DEMO_PW
from tests.fixtures.identity import issue as issue_token

BASE = '11111111-2222-4333-8444-555555555555'


def make_instance(project_id, vm_state=st.ACTIVE, task_state=None, host='h1',
                  image_ref=BASE, root_gb=1):
    inst_id = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=inst_id, display_name='vm', hostname='vm',
                          project_id=project_id, user_id='u1', flavor={'root_gb': root_gb},
                          vcpus=1, memory_mb=64, root_gb=root_gb, vm_state=vm_state,
                          task_state=task_state, host=host, image_ref=image_ref,
                          request_spec={'image_properties': {
                              'hw_disk_bus': 'virtio', 'instance_uuid': 'not-this',
                              'os_glance_x': 'no'}}))
    return inst_id


def get_instance(inst_id):
    with db_api.reader() as s:
        return s.get(cm.Instance, inst_id)


def actions(inst_id):
    with db_api.reader() as s:
        return list(s.scalars(sa.select(cm.InstanceAction.action).where(
            cm.InstanceAction.instance_uuid == inst_id)))


# -- the compute API ----------------------------------------------------------------

class FakeImageAPI:
    def __init__(self):
        self.calls = []
        self.fail_create = None
        self.on_create = None

    def get_image_for_download(self, ctx, image_id):
        self.calls.append(('get_image_for_download', image_id))
        return {'id': image_id, 'min_disk': 0, 'min_ram': 128, 'status': 'active'}

    def create_snapshot_image(self, ctx, name, owner, properties, empty=False):
        self.calls.append(('create_snapshot_image', name, owner, properties))
        if self.fail_create is not None:
            raise self.fail_create
        if self.on_create is not None:
            self.on_create()
        image_id = str(uuid.uuid4())
        return {'id': image_id, 'status': 'queued', 'name': name, 'owner': owner,
                'upload_url': 'http://img:9292/internal/images/%s/file?sig=x' % image_id}

    def discard_snapshot_images(self, ctx, instance_uuid, image_id=None):
        self.calls.append(('discard_snapshot_images', instance_uuid, image_id))
        return [image_id]


@pytest.fixture
def nova(client, monkeypatch):
    token, body = issue_token(client, 'demo', DEMO_PW, 'demo')
    images = FakeImageAPI()
    casts = []
    monkeypatch.setattr(snapshots.image_rpcapi, 'ImageAPI', lambda: images)

    def snapshot_instance(self, ctx, host, instance, image_id, upload_url):
        casts.append((host, instance, image_id, upload_url))
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'snapshot_instance', snapshot_instance)

    def call(inst_id, action_body, version='2.45'):
        return client.post('/compute/v2.1/servers/%s/action' % inst_id,
                           json=action_body,
                           headers={'X-Auth-Token': token,
                                    'OpenStack-API-Version': 'compute %s' % version})
    return types.SimpleNamespace(call=call, images=images, casts=casts,
                                 project=body['token']['project']['id'],
                                 user=body['token']['user']['id'])


def _creates(images):
    return [c for c in images.calls if c[0] == 'create_snapshot_image']


def test_create_image_at_2_45_answers_the_image_id(nova):
    inst = make_instance(nova.project)
    r = nova.call(inst, {'createImage': {'name': 'snap1', 'metadata': {'purpose': 'test'}}})
    assert r.status_code == 202, r.get_data(as_text=True)
    image_id = r.get_json()['image_id']
    assert 'Location' not in r.headers
    (_c, name, owner, props), = _creates(nova.images)
    assert (name, owner) == ('snap1', nova.project)
    assert props == {'hw_disk_bus': 'virtio', 'purpose': 'test', 'image_type': 'snapshot',
                     'instance_uuid': inst, 'base_image_ref': BASE, 'user_id': nova.user,
                     'disk_format': 'qcow2', 'container_format': 'bare',
                     'visibility': 'private', 'min_disk': 1, 'min_ram': 128}
    (host, sent, cast_image, url), = nova.casts
    assert (host, sent['uuid'], cast_image) == ('h1', inst, image_id)
    assert sent['task_state'] == st.IMAGE_SNAPSHOT and image_id in url
    row = get_instance(inst)
    assert (row.vm_state, row.task_state) == (st.ACTIVE, st.IMAGE_SNAPSHOT)
    assert st.status(row.vm_state, row.task_state) == 'ACTIVE'
    assert 'createImage' in actions(inst)
    # a second snapshot while the first runs: 409, and no image made for it
    r = nova.call(inst, {'createImage': {'name': 'snap2'}})
    assert r.status_code == 409 and 'image_snapshot' in \
        r.get_json()['conflictingRequest']['message']
    assert len(_creates(nova.images)) == 1


def test_create_image_before_2_45_answers_a_location(nova, conf):
    inst = make_instance(nova.project, vm_state=st.STOPPED)
    r = nova.call(inst, {'createImage': {'name': 'snap-old'}}, version='2.1')
    assert r.status_code == 202 and not r.get_data()
    (_h, _i, image_id, _u), = nova.casts
    assert r.headers['Location'] == 'http://127.0.0.1:%d/images/%s' % (
        conf.image.bind_port, image_id)
    assert get_instance(inst).task_state == st.IMAGE_SNAPSHOT
    r = nova.call(inst, {'createImage': {'name': 'snap-44'}}, version='2.44')
    assert r.status_code == 409


@pytest.mark.parametrize('vm_state,task_state', [
    (st.ERROR, None), (st.BUILDING, st.SPAWNING), (st.ACTIVE, st.POWERING_OFF),
    (st.ACTIVE, st.IMAGE_UPLOADING), (st.ACTIVE, st.DELETING)])
def test_other_states_are_409_and_make_no_image(nova, vm_state, task_state):
    inst = make_instance(nova.project, vm_state=vm_state, task_state=task_state)
    r = nova.call(inst, {'createImage': {'name': 's'}})
    assert r.status_code == 409
    assert nova.images.calls == [] and nova.casts == []


def test_server_with_neither_image_nor_root_volume_is_400(nova):
    # (servers booted from volumes: tests/unit/test_volume_backed_snapshot.py)
    inst = make_instance(nova.project, image_ref=None)
    r = nova.call(inst, {'createImage': {'name': 's'}})
    assert r.status_code == 400
    assert r.get_json()['badRequest']['message'] == (
        'Server %s has neither an image nor a root volume.' % inst)
    assert nova.images.calls == [] and get_instance(inst).task_state is None


@pytest.mark.parametrize('body', [
    {'createImage': {}}, {'createImage': {'name': ''}}, {'createImage': {'name': '  '}},
    {'createImage': {'name': 's', 'metadata': {'a': 1}}},
    {'createImage': {'name': 's', 'metadata': {'visibility': 'public'}}},
    {'createImage': {'name': 's', 'metadata': {'os_glance_import': 'x'}}},
    {'createImage': {'name': 's', 'colour': 'red'}}, {'createImage': None}])
def test_bad_bodies_are_400(nova, body):
    inst = make_instance(nova.project)
    assert nova.call(inst, body).status_code == 400
    assert nova.casts == [] and get_instance(inst).task_state is None


def test_other_projects_server_is_404(nova):
    assert nova.call(make_instance('someone-else'),
                     {'createImage': {'name': 's'}}).status_code == 404


def test_image_service_refusal_is_400_and_changes_nothing(nova):
    nova.images.fail_create = exception.AltostackError('too many properties')
    nova.images.fail_create.code = 413
    inst = make_instance(nova.project)
    r = nova.call(inst, {'createImage': {'name': 's'}})
    assert r.status_code == 400 and 'too many properties' in r.get_data(as_text=True)
    assert get_instance(inst).task_state is None and nova.casts == []


def test_state_changing_meanwhile_discards_the_image(nova):
    inst = make_instance(nova.project)

    def stop_meanwhile():
        with db_api.session() as s:
            s.execute(sa.update(cm.Instance).where(cm.Instance.uuid == inst)
                      .values(task_state=st.POWERING_OFF))
    nova.images.on_create = stop_meanwhile
    r = nova.call(inst, {'createImage': {'name': 's'}})
    assert r.status_code == 409
    assert nova.images.calls[-1][:2] == ('discard_snapshot_images', inst)
    assert nova.casts == [] and 'createImage' not in actions(inst)


def test_cast_failure_discards_the_image_and_rests_the_server(nova, monkeypatch):
    def too_old(self, *a, **kw):
        raise exception.ServiceUnavailable(reason='the compute agents are too old')
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, 'snapshot_instance', too_old)
    inst = make_instance(nova.project)
    r = nova.call(inst, {'createImage': {'name': 's'}})
    assert r.status_code == 503
    assert nova.images.calls[-1][:2] == ('discard_snapshot_images', inst)
    assert get_instance(inst).task_state is None


@pytest.mark.parametrize('action,vm,task,ok', [
    ('image_snapshot', st.ACTIVE, None, True), ('image_snapshot', st.STOPPED, None, True),
    ('image_snapshot', st.ERROR, None, False), ('image_snapshot', st.BUILDING, None, False),
    ('image_snapshot', st.ACTIVE, st.IMAGE_SNAPSHOT, False),
    ('stop', st.ACTIVE, st.IMAGE_PENDING_UPLOAD, False),
    ('delete', st.ACTIVE, st.IMAGE_UPLOADING, True),
    ('delete', st.STOPPED, st.IMAGE_SNAPSHOT, True)])
def test_state_table(action, vm, task, ok):
    assert st.allowed(action, vm, task) is ok


# -- RPC clients -------------------------------------------------------------------

def test_compute_rpcapi_casts_snapshot_at_1_6():
    api = compute_rpcapi.ComputeAPI.__new__(compute_rpcapi.ComputeAPI)
    api.client = mock.Mock()
    api.client.can_send_version.return_value = True
    api.snapshot_instance('ctx', 'h1', {'uuid': 'u'}, 'img', 'http://x')
    api.client.prepare.assert_called_once_with(server='h1', version='1.6')
    api.client.prepare.return_value.cast.assert_called_once_with(
        'ctx', 'snapshot_instance', instance={'uuid': 'u'}, image_id='img',
        upload_url='http://x')
    api.client.can_send_version.return_value = False
    with pytest.raises(exception.ServiceUnavailable, match='too old'):
        api.snapshot_instance('ctx', 'h1', {'uuid': 'u'}, 'img', 'http://x')
    # snapshot_instance came with 1.6; later versions keep it.
    version = compute_rpcapi.ComputeAPI.VERSION
    assert compute_manager.ComputeManager.target.version == version
    assert tuple(int(p) for p in version.split('.')) >= (1, 6)


def test_image_rpcapi_discards_at_1_2(monkeypatch):
    client = mock.Mock()
    client.can_send_version.return_value = True
    monkeypatch.setattr(image_rpcapi.rpc, 'get_client', lambda topic, version: client)
    image_rpcapi.ImageAPI().discard_snapshot_images('ctx', 'inst', 'img')
    client.prepare.assert_called_once_with(version='1.2')
    client.prepare.return_value.call.assert_called_once_with(
        'ctx', 'discard_snapshot_images', instance_uuid='inst', image_id='img')
    client.can_send_version.return_value = False
    with pytest.raises(exception.ServiceUnavailable):
        image_rpcapi.ImageAPI().discard_snapshot_images('ctx', 'inst')
    assert image_manager.ImageManager.target.version == image_rpcapi.ImageAPI.VERSION


# -- the image service's discard -------------------------------------------------

def test_discard_deletes_only_unfinished_snapshots_of_the_instance(image_client, people,
                                                                     qcow2_bytes):
    from tests.fixtures.images import local
    mgr = image_manager.ImageManager()
    admin = ctx_mod.get_admin_context()

    def snap(inst, name):
        return mgr.create_snapshot_image(admin, name, people.demo.project_id,
                                         {'image_type': 'snapshot', 'instance_uuid': inst})
    queued, done, other = snap('i-1', 'q'), snap('i-1', 'done'), snap('i-2', 'other')
    plain = mgr.create_snapshot_image(admin, 'plain', people.demo.project_id,
                                      {'instance_uuid': 'i-1'})
    r = image_client.put(local(done['upload_url']), data=qcow2_bytes,
                         headers={'Content-Type': 'application/octet-stream'})
    assert r.status_code == 204
    assert mgr.discard_snapshot_images(admin, 'i-1', other['id']) == []
    assert mgr.discard_snapshot_images(admin, 'i-1') == [queued['id']]

    def status(image):
        r = image_client.get('/v2/images/%s' % image['id'], headers=people.demo.h)
        return r.get_json()['status'] if r.status_code == 200 else r.status_code
    assert [status(i) for i in (queued, done, other, plain)] == [404, 'active', 'queued',
                                                                 'queued']
    assert mgr.discard_snapshot_images(admin, 'i-2', other['id']) == [other['id']]
    assert status(other) == 404


# -- the agent ----------------------------------------------------------------------

class FakeScheduler:
    """The records of one instance: compare-and-set updates, events."""

    def __init__(self, inst):
        self.inst = dict(inst)
        self.updates, self.events = [], []
        self.deleted = False

    def instance_update(self, ctx, uuid, values, expected_task_states=None):
        self.updates.append(dict(values))
        if self.deleted or (expected_task_states is not None and
                            self.inst['task_state'] not in expected_task_states):
            return None
        self.inst.update(values)
        return dict(self.inst)

    def instance_event(self, ctx, uuid, event, phase, result=None, details=None, host=None):
        self.events.append((event, phase, result))


class FakeImages:
    def __init__(self):
        self.discarded = []

    def discard_snapshot_images(self, ctx, instance_uuid, image_id=None):
        self.discarded.append((instance_uuid, image_id))
        return []


class UploadServer:
    """Takes PUTs like the image service's internal upload."""

    def __init__(self, status=204):
        self.bodies, self.headers, self.status = [], [], status
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                length = int(self.headers['Content-Length'])
                outer.bodies.append(self.rfile.read(length))
                outer.headers.append(dict(self.headers))
                self.send_response(outer.status)
                body = b'' if outer.status == 204 else b'{"message": "bad data"}'
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, image_id):
        return 'http://127.0.0.1:%d/internal/images/%s/file?expires=1&sig=s' % (
            self.httpd.server_address[1], image_id)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def agent(conf, tmp_path):
    conf.set_override('instances_path', str(tmp_path / 'instances'), 'compute')
    inst = {'uuid': str(uuid.uuid4()), 'name': 'vm', 'hostname': 'vm', 'project_id': 'p',
            'user_id': 'u', 'image_ref': BASE, 'metadata': {}, 'vm_state': st.ACTIVE,
            'task_state': st.IMAGE_SNAPSHOT, 'power_state': power_state.RUNNING,
            'flavor': {'name': 'f', 'vcpus': 1, 'memory_mb': 64, 'root_gb': 1,
                       'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}}}
    mgr = compute_manager.ComputeManager.__new__(compute_manager.ComputeManager)
    mgr.host = 'h1'
    mgr.driver = fake.FakeDriver()
    mgr.driver.spawn(None, inst, {}, '/base', [])
    mgr.scheduler = mgr.conductor = FakeScheduler(inst)
    mgr.images = FakeImages()
    mgr.block = mock.Mock()
    mgr.guests = guests.Guests(mgr)
    mgr.reports = state_reports.StateReports(mgr)
    mgr.reconciler = reconcile.Reconcile(mgr)
    mgr.snapshots = snapshot.Snapshots(mgr)
    mgr.moves = coldmig.ColdMoves(mgr)
    server = UploadServer()
    yield types.SimpleNamespace(mgr=mgr, inst=inst, conductor_fake=mgr.scheduler, server=server,
                                tmp=tmp_path)
    server.close()
    conf.clear_override('instances_path', 'compute')


def _task_states(conductor_fake):
    return [u['task_state'] for u in conductor_fake.updates if 'task_state' in u]


def _leftovers(a):
    d = a.tmp / 'instances' / snapshot.SUBDIR
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_agent_snapshot_copies_uploads_and_rests(agent):
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, agent.inst, image_id, agent.server.url(image_id))
    assert _task_states(agent.conductor_fake) == [st.IMAGE_PENDING_UPLOAD, st.IMAGE_UPLOADING, None]
    assert agent.conductor_fake.inst['task_state'] is None
    assert agent.conductor_fake.inst['vm_state'] == st.ACTIVE
    assert agent.conductor_fake.events == [(snapshot.EVENT, 'start', None),
                                  (snapshot.EVENT, 'finish', None)]
    (body,) = agent.server.bodies
    assert body == fake.fake_qcow2(1024 * 1024, agent.inst['uuid'].encode())
    headers = agent.server.headers[0]
    assert headers['Content-Type'] == 'application/octet-stream'
    assert headers['X-OpenStack-Image-Size'] == str(len(body))
    assert agent.mgr.images.discarded == [] and _leftovers(agent) == []
    assert ('snapshot', agent.inst['uuid']) in agent.mgr.driver.calls


def test_agent_driver_failure_discards_the_image(agent):
    agent.mgr.driver.fail_next_snapshot = virt_exception.VirtError(reason='disk on fire')
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, agent.inst, image_id, agent.server.url(image_id))
    assert agent.mgr.images.discarded == [(agent.inst['uuid'], image_id)]
    assert agent.conductor_fake.inst['task_state'] is None
    assert agent.conductor_fake.inst['vm_state'] == st.ACTIVE
    assert agent.conductor_fake.events[-1] == (snapshot.EVENT, 'finish', 'Error')
    assert agent.server.bodies == [] and _leftovers(agent) == []


def test_agent_upload_refused_discards_the_image(agent):
    agent.server.status = 400
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, agent.inst, image_id, agent.server.url(image_id))
    assert agent.mgr.images.discarded == [(agent.inst['uuid'], image_id)]
    fake = agent.conductor_fake
    assert _task_states(fake)[-1] is None and fake.inst['task_state'] is None
    assert agent.conductor_fake.events[-1] == (snapshot.EVENT, 'finish', 'Error')
    assert _leftovers(agent) == []


def test_agent_upload_to_nowhere_fails_cleanly(agent):
    image_id = str(uuid.uuid4())
    url = agent.server.url(image_id)
    agent.server.close()
    agent.server = UploadServer()  # for the fixture's teardown
    agent.mgr.snapshot_instance(None, agent.inst, image_id, url)
    assert agent.mgr.images.discarded == [(agent.inst['uuid'], image_id)]
    assert agent.conductor_fake.inst['task_state'] is None


def test_agent_snapshot_of_a_stopped_server_keeps_it_stopped(agent):
    agent.mgr.driver.power_off(agent.inst)
    agent.conductor_fake.inst.update(vm_state=st.STOPPED, power_state=power_state.SHUTDOWN)
    inst = dict(agent.inst, vm_state=st.STOPPED, power_state=power_state.SHUTDOWN)
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, inst, image_id, agent.server.url(image_id))
    assert agent.conductor_fake.inst['vm_state'] == st.STOPPED
    assert agent.conductor_fake.inst['task_state'] is None and len(agent.server.bodies) == 1
    # and a failure leaves it stopped too
    agent.conductor_fake.inst['task_state'] = st.IMAGE_SNAPSHOT
    agent.mgr.driver.fail_next_snapshot = virt_exception.VirtError(reason='no')
    agent.mgr.snapshot_instance(None, inst, image_id, agent.server.url(image_id))
    fake = agent.conductor_fake
    assert (fake.inst['vm_state'], fake.inst['task_state']) == (st.STOPPED, None)


def test_agent_stops_when_the_server_is_deleted_meanwhile(agent):
    agent.conductor_fake.deleted = True
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, agent.inst, image_id, agent.server.url(image_id))
    assert agent.server.bodies == []
    assert agent.mgr.images.discarded == [(agent.inst['uuid'], image_id)]
    assert agent.conductor_fake.events[-1] == (snapshot.EVENT, 'finish', 'Error')


def test_agent_without_snapshot_support_fails_cleanly(agent, monkeypatch):
    monkeypatch.setattr(agent.mgr.driver, 'capabilities',
                        dict(agent.mgr.driver.capabilities, supports_snapshot=False))
    image_id = str(uuid.uuid4())
    agent.mgr.snapshot_instance(None, agent.inst, image_id, agent.server.url(image_id))
    assert agent.mgr.images.discarded == [(agent.inst['uuid'], image_id)]
    assert agent.conductor_fake.inst['task_state'] is None


@pytest.mark.parametrize('task', st.IMAGE_TASK_STATES)
def test_agent_restart_settles_an_interrupted_snapshot(agent, task):
    agent.conductor_fake.inst['task_state'] = task
    inst = dict(agent.inst, task_state=task)
    work = agent.tmp / 'instances' / snapshot.SUBDIR
    work.mkdir(parents=True)
    (work / 'left-over.qcow2').write_bytes(b'x')
    snapshot.clean_work_dir()
    assert _leftovers(agent) == []
    agent.mgr.reconciler.settle(None, inst, True)
    assert ('abort_snapshot', inst['uuid']) in agent.mgr.driver.calls
    assert agent.mgr.images.discarded == [(inst['uuid'], None)]
    assert agent.conductor_fake.inst['task_state'] is None
    assert agent.conductor_fake.inst['vm_state'] == st.ACTIVE


def test_agent_restart_with_the_guest_gone(agent):
    agent.conductor_fake.inst['task_state'] = st.IMAGE_UPLOADING
    inst = dict(agent.inst, task_state=st.IMAGE_UPLOADING)
    agent.mgr.reconciler.settle(None, inst, False)
    assert agent.mgr.images.discarded == [(inst['uuid'], None)]
    assert ('abort_snapshot', inst['uuid']) not in agent.mgr.driver.calls
    fake = agent.conductor_fake
    assert (fake.inst['vm_state'], fake.inst['task_state']) == (st.ERROR, None)


def test_resting_values():
    assert snapshot.resting_values(power_state.RUNNING, st.STOPPED)['vm_state'] == st.ACTIVE
    assert snapshot.resting_values(power_state.SHUTDOWN, st.ACTIVE)['vm_state'] == st.STOPPED
    assert snapshot.resting_values(power_state.PAUSED, st.ACTIVE)['vm_state'] == st.ACTIVE
    assert 'vm_state' not in snapshot.resting_values(power_state.NOSTATE, st.ERROR)


def test_check_file_refuses_what_is_not_standalone_qcow2(tmp_path):
    good = tmp_path / 'good'
    good.write_bytes(fake.fake_qcow2(4096))
    assert snapshot.check_file('u', str(good)) == good.stat().st_size
    raw = tmp_path / 'raw'
    raw.write_bytes(b'\0' * 4096)
    with pytest.raises(virt_exception.SnapshotFailed, match='not a qcow2'):
        snapshot.check_file('u', str(raw))


# -- the libvirt block copy ---------------------------------------------------------

def test_guest_copy_disk_finishes_once_caught_up():
    libvirt = pytest.importorskip('libvirt')
    from compute.virt.libvirt import guest as guest_mod
    dom = mock.Mock()
    dom.blockJobInfo.side_effect = [{'cur': 1, 'end': 10}, {'cur': 10, 'end': 10}]
    guest_mod.Guest(dom).copy_disk('vda', '/tmp/x&y.qcow2', timeout=5, poll_interval=0)
    target, xml, params, flags = dom.blockCopy.call_args[0]
    assert target == 'vda' and "file=\"/tmp/x&amp;y.qcow2\"" in xml and 'qcow2' in xml
    assert flags == libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB
    dom.blockJobAbort.assert_called_once_with('vda', 0)


def test_guest_copy_disk_cancels_when_it_does_not_catch_up():
    pytest.importorskip('libvirt')
    from compute.virt.libvirt import guest as guest_mod
    dom = mock.Mock()
    dom.blockJobInfo.return_value = {'cur': 1, 'end': 10}
    with pytest.raises(TimeoutError):
        guest_mod.Guest(dom).copy_disk('vda', '/tmp/x.qcow2', timeout=0, poll_interval=0)
    dom.blockJobAbort.assert_called_once_with('vda', 0)


def test_agent_refuses_an_image_id_that_is_not_a_file_name(agent):
    agent.mgr.snapshot_instance(None, agent.inst, '../../etc/x', agent.server.url('x'))
    assert agent.conductor_fake.inst['task_state'] is None and agent.server.bodies == []
    assert ('snapshot', agent.inst['uuid']) not in agent.mgr.driver.calls
    assert agent.conductor_fake.events[-1] == (snapshot.EVENT, 'finish', 'Error')
