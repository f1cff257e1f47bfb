"""createImage of a server booted from a volume, and servers booted from
the image it makes, without a bus: the compute API with the volume and
image services replaced by recorders (the volume service's recorder
finishes or fails snapshots as the real one would), the conductor's flow
that waits for the snapshots run in process when the test says, and the
image service's zero-byte snapshot image."""

import json
import uuid

import pytest

from api.compute import images
from api.compute import snapshots
from blockstore import attachments
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common import context as ctx_mod
from common import instance_states as st
from common.db import instances
from conductor import manager as conductor_manager
from conductor import snapshots as conductor_snapshots
from imagestore import manager as image_manager
from tests.fixtures.volume_api import IMAGE

pytestmark = pytest.mark.usefixtures('casts')


@pytest.fixture
def nova(volume_nova):
    """The compute API with its volume side recorded."""
    return volume_nova


class Volumes:
    """The volume service: snapshots become available (or error)."""

    def __init__(self, outcome=volumes.AVAILABLE):
        self.outcome = outcome  # None: the snapshots stay 'creating'
        self.calls = []

    def __call__(self):
        return self

    def __getattr__(self, name):
        def record(ctx, *args, **kw):
            self.calls.append((name, args))
            if name == 'create_snapshot' and self.outcome:
                volume_snapshots.snapshot_set_status(args[0]['id'], self.outcome,
                                                     expected=[volumes.CREATING])
        return record


class Images:
    def __init__(self):
        self.made = []
        self.discarded = []

    def __call__(self):
        return self

    def create_snapshot_image(self, ctx, name, owner, properties, empty=False):
        image = {'id': str(uuid.uuid4()), 'name': name, 'owner': owner,
                 'status': 'active' if empty else 'queued', 'properties': properties,
                 'empty': empty, 'upload_url': 'http://images/%s' % len(self.made)}
        self.made.append(image)
        return image

    def put_no_data(self, url, timeout):
        image, = [i for i in self.made if i['upload_url'] == url]
        image['status'] = 'active'

    def discard_snapshot_images(self, ctx, instance_uuid, image_id=None):
        self.discarded.append(image_id)
        self.made = [i for i in self.made if i['id'] != image_id]


class Conductor:
    """The conductor's casts, run when the test says (run())."""

    def __init__(self):
        self.casts = []

    def __call__(self):
        return self

    def snapshot_volume_backed(self, ctx, *args):
        self.casts.append((ctx, args))

    def run(self):
        while self.casts:
            ctx, args = self.casts.pop(0)
            conductor_manager.ConductorManager().snapshot_volume_backed(ctx, *args)


@pytest.fixture
def bfv(nova, monkeypatch):
    """A server booted from a volume, ACTIVE on h1, its root volume in-use,
    and a data volume attached at vdb."""
    bdm = [{'uuid': IMAGE['id'], 'boot_index': 0, 'source_type': 'image',
            'destination_type': 'volume', 'volume_size': 2, 'delete_on_termination': True}]
    body = {'server': {'name': 'bfv', 'imageRef': '', 'flavorRef': '1', 'networks': 'none',
                       'block_device_mapping_v2': bdm}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    instances.update(sid, {'host': 'h1', 'vm_state': st.ACTIVE, 'task_state': None})
    root, = attachments.instance_block_devices(sid)
    volumes.finish_create(root['volume']['id'])
    attachments.attach_complete(root['attachment_id'], 'h1', 'vda')
    data = volumes.set_status(volumes.create({'project_id': root['volume']['project_id'],
                                    'user_id': 'u', 'size': 1})['id'], volumes.AVAILABLE,
                         host='vh')
    att = attachments.reserve(data['id'], data['project_id'], sid)
    attachments.attach_complete(att['id'], 'h1', 'vdb')
    vols, imgs, conductor = Volumes(), Images(), Conductor()
    monkeypatch.setattr(snapshots.volume_rpcapi, 'VolumeAPI', vols)
    monkeypatch.setattr(snapshots.image_rpcapi, 'ImageAPI', imgs)
    monkeypatch.setattr(snapshots.conductor_rpcapi, 'ConductorAPI', conductor)
    monkeypatch.setattr(conductor_snapshots, 'put_no_data', imgs.put_no_data)
    monkeypatch.setattr(conductor_snapshots, 'SNAPSHOT_POLL', 0.01)
    imgs.conductor = conductor
    return sid, root['volume'], data, vols, imgs


def test_snapshot_of_a_volume_backed_server(nova, bfv):
    sid, root, data, vols, imgs = bfv
    r = nova('POST', '/servers/%s/action' % sid, {'createImage': {'name': 'snap',
                                                                  'metadata': {'k': 'v'}}})
    assert r.status_code == 202, r.get_data(as_text=True)
    image, = imgs.made
    assert r.get_json()['image_id'] == image['id']
    assert image['status'] == 'queued'
    imgs.conductor.run()
    assert image['status'] == 'active'
    props = image['properties']
    assert props['disk_format'] == 'raw'
    assert props['bdm_v2'] == 'True' and props['k'] == 'v'
    assert props['root_device_name'] == '/dev/vda' and props['image_type'] == 'snapshot'
    assert props['instance_uuid'] == sid and props['min_disk'] == 2
    assert 'base_image_ref' not in props
    mapping = json.loads(props['block_device_mapping'])
    assert [(m['source_type'], m['destination_type'], m['boot_index'], m['volume_size'],
             m['device_name'], m['delete_on_termination']) for m in mapping] == [
        ('snapshot', 'volume', 0, 2, '/dev/vda', True),
        ('snapshot', 'volume', None, 1, '/dev/vdb', False)]
    snaps = [volume_snapshots.get_snapshot(m['snapshot_id']) for m in mapping]
    assert [(s['volume_id'], s['status']) for s in snaps] == [
        (root['id'], volumes.AVAILABLE), (data['id'], volumes.AVAILABLE)]
    assert [c[0] for c in vols.calls] == ['create_snapshot', 'create_snapshot']
    inst = instances.get(sid)
    assert (inst.vm_state, inst.task_state) == (st.ACTIVE, None)
    # the volumes stay in use by the server
    assert volumes.get(root['id'])['status'] == volumes.IN_USE


def test_the_api_answers_before_the_snapshots_are_done(nova, bfv):
    """The request does not wait: the image stays queued and the server in
    image_snapshot until the conductor sees the snapshots available."""
    sid, _root, _data, vols, imgs = bfv
    vols.outcome = None
    r = nova('POST', '/servers/%s/action' % sid, {'createImage': {'name': 'snap'}}, 202)
    image, = imgs.made
    assert r.get_json()['image_id'] == image['id'] and image['status'] == 'queued'
    assert instances.get(sid).task_state == st.IMAGE_SNAPSHOT
    (_ctx, args), = imgs.conductor.casts
    assert args[:2] == (sid, image['id'])
    for snap_id in args[3]:
        volume_snapshots.snapshot_set_status(snap_id, volumes.AVAILABLE,
                                             expected=[volumes.CREATING])
    imgs.conductor.run()
    assert image['status'] == 'active' and instances.get(sid).task_state is None


def test_failed_volume_snapshot_makes_no_image(nova, bfv):
    sid, root, _data, vols, imgs = bfv
    vols.outcome = volumes.ERROR
    r = nova('POST', '/servers/%s/action' % sid, {'createImage': {'name': 'snap'}})
    assert r.status_code == 202, r.get_data(as_text=True)
    image_id = r.get_json()['image_id']
    imgs.conductor.run()
    assert imgs.made == [] and imgs.discarded == [image_id]
    # the snapshots made are deleted again
    assert [c[0] for c in vols.calls].count('delete_snapshot') == 2
    assert all(s['status'] == volumes.DELETING for s in volume_snapshots.list_snapshots())
    assert instances.get(sid).task_state is None


def test_server_from_a_volume_backed_image_boots_from_its_snapshots(nova, bfv,
                                                                     monkeypatch):
    sid, root, _data, _vols, imgs = bfv
    nova('POST', '/servers/%s/action' % sid, {'createImage': {'name': 'snap'}}, 202)
    imgs.conductor.run()
    image = dict(imgs.made[0], size=0, min_disk=2, min_ram=0)
    image['properties'] = {k: str(v) for k, v in image['properties'].items()}
    monkeypatch.setattr(images, 'get', lambda ctx, ref: dict(image, id=ref))
    body = {'server': {'name': 'again', 'imageRef': image['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    new = nova('POST', '/servers', body, 202).get_json()['server']['id']
    inst = instances.get(new)
    assert inst.image_ref is None and inst.root_gb == 0
    props = inst.request_spec['image_properties']
    assert 'block_device_mapping' not in props and props['hw_x'] == '1'
    mapping = json.loads(image['properties']['block_device_mapping'])
    devs = attachments.instance_block_devices(new)
    assert [(d['device'], d['boot_index'], d['volume']['snapshot_id'], d['volume']['size'],
             d['delete_on_termination']) for d in devs] == [
        ('vda', 0, mapping[0]['snapshot_id'], 2, True),
        (None, None, mapping[1]['snapshot_id'], 1, False)]
    assert all(d['volume']['status'] == volumes.CREATING for d in devs)
    # an image whose mapping is not JSON is a 400
    image['properties']['block_device_mapping'] = '[{'
    nova('POST', '/servers', body, 400)


def test_image_service_activates_an_empty_snapshot_image(image_client, people):
    mgr = image_manager.ImageManager()
    snap = mgr.create_snapshot_image(ctx_mod.get_admin_context(), 'bfv-snap',
                                     people.demo.project_id,
                                     {'bdm_v2': 'True', 'disk_format': 'qcow2',
                                      'block_device_mapping': '[]', 'image_type': 'snapshot'},
                                     empty=True)
    assert snap['status'] == 'active' and snap['size'] == 0
    assert snap['disk_format'] == 'raw' and snap['container_format'] == 'bare'
    assert snap['properties'] == {'bdm_v2': 'True', 'block_device_mapping': '[]',
                                  'image_type': 'snapshot'}
    assert snap['checksum'] == 'd41d8cd98f00b204e9800998ecf8427e'
    # and it can be deleted like any image
    r = image_client.delete('/v2/images/%s' % snap['id'], headers=people.demo.h)
    assert r.status_code == 204
