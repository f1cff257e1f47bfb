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
A server booted from a volume is refused with 400 (Nova snapshots its
volume instead; not built yet).
"""

import contextlib

import oslo_messaging as messaging
from oslo_log import log as logging

from api import http
from api import microversion
from common import exception
from common import instance_states as st
from common.conf import CONF
from common.db import instances
from compute import rpcapi as compute_rpcapi
from imagestore import rpcapi as image_rpcapi

LOG = logging.getLogger(__name__)

ACTION = 'createImage'

SCHEMA = {
    'type': 'object', 'required': ['name'], 'additionalProperties': False,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'metadata': {'type': 'object',
                     'patternProperties': {'^[^\\x00]{1,255}$': {'type': 'string',
                                                                 'maxLength': 255}},
                     'additionalProperties': False},
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
    base = _base_image(ctx, inst.image_ref)
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
        raise exception.BadRequest('Snapshots of servers booted from volumes are not '
                                   'supported yet.')
    try:
        image = image_rpcapi.ImageAPI().create_snapshot_image(
            ctx, name, inst.project_id, image_properties(ctx, inst, metadata))
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the image service did not answer'
                                           ) from None
    except exception.AltostackError as e:
        if e.code >= 500 or isinstance(e, exception.Forbidden):
            raise
        raise exception.BadRequest('The snapshot image cannot be created: %s' % e.message
                                   ) from None
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
    if microversion.at_least('2.45'):
        return http.reply({'image_id': image['id']}, status=202)
    return http.reply(status=202, headers={'Location': _image_location(image['id'])})
