"""The createImage server action: a snapshot of the server's root disk.

    POST /servers/{id}/action {"createImage": {"name": N, "metadata": {...}}}

The image is made at once (queued) by the image service over RPC
(create_snapshot_image): owned by the server's project, private,
image_type=snapshot, with the server's and its base image's facts. Then
the task_state becomes image_snapshot (a compare-and-set from the state
table: another action meanwhile is a 409 and the image goes again) and the
server's agent is cast snapshot_instance with the image's signed upload
URL; it copies the disk, uploads it and clears the task_state
(compute/snapshot.py). The status stays ACTIVE or SHUTOFF throughout.

From 2.45 the answer is 202 {"image_id": ...}; before, 202 with an empty
body and a Location header naming the image in the image service.

A server booted from a volume has no disk of its own to copy: as Nova
does, each of its volumes gets a volume snapshot (in-use is fine), and the
image holds no data (size 0, raw, active at once) but names the snapshots
in its block_device_mapping property (bdm_v2 'True', root_device_name
/dev/vda). A server created from that image boots from new volumes made
from the snapshots (server_volumes.image_mappings). The API waits for the
snapshots (at most [volume] rpc_timeout seconds) so that an active image
is always bootable; the task_state is image_snapshot meanwhile.
"""

import contextlib
import json

import oslo_messaging as messaging
from oslo_log import log as logging

from api import http
from api import microversion
from api.compute import schema_types as types
from blockstore import attachments
from blockstore import rpcapi as volume_rpcapi
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common import exception
from common import instance_states as st
from common.conf import CONF
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import rpcapi as conductor_rpcapi
from conductor import snapshots as conductor_snapshots
from imagestore import rpcapi as image_rpcapi

LOG = logging.getLogger(__name__)

ACTION = 'createImage'

SCHEMA = {
    'type': 'object', 'required': ['name'], 'additionalProperties': False,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'metadata': types.METADATA,
    },
}

# Image attributes that are not additional properties: metadata may not
# name them (nor the image service's reserved os_glance* prefix).
_IMAGE_ATTRIBUTES = frozenset((
    'id', 'name', 'status', 'visibility', 'owner', 'disk_format', 'container_format',
    'size', 'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'min_disk',
    'min_ram', 'protected', 'os_hidden', 'tags', 'created_at', 'updated_at', 'deleted',
    'deleted_at', 'locations', 'direct_url', 'self', 'file', 'schema', 'stores'))
_RESERVED_PREFIX = 'os_glance'
# Properties that describe one snapshot: set here, never inherited from the base.
_SNAPSHOT_PROPERTIES = frozenset(('image_type', 'instance_uuid', 'base_image_ref',
                                  'user_id', 'image_location', 'image_state', 'owner_id'))


def _check_metadata(metadata):
    for key in metadata:
        if key in _IMAGE_ATTRIBUTES or key.startswith(_RESERVED_PREFIX):
            raise exception.BadRequest(
                "Invalid image metadata key '%s': it is an image attribute or reserved, "
                'not a property.' % key)


def _base_image(ctx, image_ref):
    """The base image's min_disk and min_ram, when the image service still
    has it and the caller may see it; zeros otherwise."""
    try:
        img = image_rpcapi.ImageAPI().get_image_for_download(ctx, image_ref)
        return {'min_disk': img.get('min_disk') or 0, 'min_ram': img.get('min_ram') or 0}
    except (exception.AltostackError, messaging.MessagingException) as e:
        LOG.info('Base image %s of a snapshot is not available (%s); min_disk and '
                 'min_ram come from the server alone', image_ref, e)
        return {'min_disk': 0, 'min_ram': 0}


def image_properties(ctx, inst, metadata):
    """What create_snapshot_image is given for a snapshot of ``inst``."""
    inherited = (inst.request_spec or {}).get('image_properties') or {}
    props = {k: str(v) for k, v in inherited.items()
             if v is not None and k not in _SNAPSHOT_PROPERTIES and k not in _IMAGE_ATTRIBUTES
             and not k.startswith(_RESERVED_PREFIX)}
    props.update(metadata)
    base = _base_image(ctx, inst.image_ref) if inst.image_ref else {'min_disk': 0,
                                                                      'min_ram': 0}
    props.update({
        'image_type': 'snapshot', 'instance_uuid': inst.uuid,
        'base_image_ref': inst.image_ref, 'user_id': ctx.user_id,
        'disk_format': 'qcow2', 'container_format': 'bare', 'visibility': 'private',
        # The copy's virtual size is the server's root disk.
        'min_disk': max(int(base['min_disk']), int(inst.root_gb or 0)),
        'min_ram': int(base['min_ram']),
    })
    return props


def _image_location(image_id):
    return 'http://%s:%d/images/%s' % (CONF.api.public_host, CONF.image.bind_port, image_id)


def _discard(ctx, inst, image_id):
    try:
        image_rpcapi.ImageAPI().discard_snapshot_images(ctx, inst.uuid, image_id)
    except Exception:  # noqa: BLE001 - the caller's error is the news
        LOG.exception('Could not discard snapshot image %s of %s', image_id, inst.uuid)


def _new_image(ctx, name, project_id, props, empty=False):
    try:
        return image_rpcapi.ImageAPI().create_snapshot_image(ctx, name, project_id, props,
                                                             empty=empty)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the image service did not answer'
                                           ) from None
    except exception.AltostackError as e:
        if e.code >= 500 or isinstance(e, exception.Forbidden):
            raise
        raise exception.BadRequest('The snapshot image cannot be created: %s' % e.message
                                   ) from None


def create_image(ctx, inst, body):
    name = body['name']
    if not name.strip():
        raise exception.BadRequest('The image name may not be blank.')
    metadata = body.get('metadata') or {}
    _check_metadata(metadata)
    if not st.allowed('image_snapshot', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState(ACTION, inst.uuid, inst.vm_state,
                                             inst.task_state)
    if not inst.image_ref:
        return _create_volume_backed(ctx, inst, name, metadata)
    image = _new_image(ctx, name, inst.project_id, image_properties(ctx, inst, metadata))
    try:
        inst = instances.begin_action(ctx, inst.uuid, 'image_snapshot', record_as=ACTION)
    except Exception:
        _discard(ctx, inst, image['id'])
        raise
    try:
        compute_rpcapi.ComputeAPI().snapshot_instance(ctx, inst.host, instances.to_dict(inst),
                                                      image['id'], image['upload_url'])
    except Exception:
        LOG.exception('Could not ask %s for the snapshot of %s', inst.host, inst.uuid)
        _discard(ctx, inst, image['id'])
        with contextlib.suppress(instances.InstanceNotFound, instances.InstanceInvalidState):
            instances.update(inst.uuid, {'task_state': None}, task_states=[st.IMAGE_SNAPSHOT])
        raise
    return _answer(image['id'])


def _answer(image_id):
    if microversion.at_least('2.45'):
        return http.reply({'image_id': image_id}, status=202)
    return http.reply(status=202, headers={'Location': _image_location(image_id)})


# -- servers booted from volumes ----------------------------------------------------


def _snapshot_volumes(ctx, devices, name):
    """A volume snapshot of each of ``devices`` (the server's volumes),
    asked of the volume service: [(block device, snapshot)] (else the
    ones made are deleted again and the error raised)."""
    api = volume_rpcapi.VolumeAPI()
    made = []
    try:
        for bd in devices:
            vol = bd['volume']
            snap = volume_snapshots.create_snapshot(
                {'project_id': vol['project_id'], 'user_id': ctx.user_id,
                 'volume_id': vol['id'], 'name': 'snapshot for %s' % name,
                 'description': vol.get('description')}, force=True)
            made.append((bd, snap))
            api.create_snapshot(ctx, snap, vol)
        return made
    except Exception:
        for _bd, snap in made:
            conductor_snapshots.drop_snapshot(ctx, snap)
        raise


def block_device_mapping(done):
    """The image's block_device_mapping: one snapshot entry per volume."""
    return [{'source_type': 'snapshot', 'destination_type': 'volume',
             'snapshot_id': snap['id'], 'volume_id': None, 'volume_size': snap['size'],
             'boot_index': bd['boot_index'], 'device_name': '/dev/%s' % bd['device']
             if bd.get('device') else None,
             'delete_on_termination': bool(bd['delete_on_termination']),
             'disk_bus': 'virtio', 'device_type': 'disk', 'guest_format': None,
             'volume_type': None, 'tag': None, 'no_device': None}
            for bd, snap in done]


def _create_volume_backed(ctx, inst, name, metadata):
    devices = sorted(attachments.instance_block_devices(inst.uuid),
                     key=lambda bd: bd['boot_index'] != 0)
    if not any(bd['boot_index'] == 0 for bd in devices):
        raise exception.BadRequest('Server %s has neither an image nor a root volume.'
                                   % inst.uuid)
    inst = instances.begin_action(ctx, inst.uuid, 'image_snapshot', record_as=ACTION)
    made, image = [], None
    try:
        made = _snapshot_volumes(ctx, devices, name)
        props = image_properties(ctx, inst, metadata)
        root_gb = next(snap['size'] for bd, snap in made if bd['boot_index'] == 0)
        props.update({'min_disk': max(props['min_disk'], root_gb), 'disk_format': 'raw',
                      'bdm_v2': 'True', 'root_device_name': '/dev/%s' % volumes.ROOT_DEVICE,
                      'block_device_mapping': json.dumps(block_device_mapping(made))})
        props.pop('base_image_ref', None)
        image = _new_image(ctx, name, inst.project_id, props)
        # The conductor waits for the snapshots and activates the image.
        conductor_rpcapi.ConductorAPI().snapshot_volume_backed(
            ctx, inst.uuid, image['id'], image['upload_url'], [s['id'] for _bd, s in made])
    except Exception:
        for _bd, snap in made:
            conductor_snapshots.drop_snapshot(ctx, snap)
        if image is not None:
            _discard(ctx, inst, image['id'])
        with contextlib.suppress(instances.InstanceNotFound, instances.InstanceInvalidState):
            instances.update(inst.uuid, {'task_state': None}, task_states=[st.IMAGE_SNAPSHOT])
        raise
    LOG.info('Image %s of volume-backed server %s names snapshots %s', image['id'],
             inst.uuid, ', '.join(snap['id'] for _bd, snap in made))
    return _answer(image['id'])
