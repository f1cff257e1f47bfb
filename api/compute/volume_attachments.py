"""os-volume_attachments: a server's volumes, and hot-plugging more.

Attach reserves the volume in the records (available -> attaching, 409 when
it is not available) and casts to the server's compute agent, which
connects it, plugs a virtio disk whose serial is the volume id, and tells
the volume service (in-use) or gives the reservation back (available).
Detach marks it detaching and casts; the agent unplugs, waiting (bounded)
for the guest to let go, and reports. An agent that died in the middle
settles both when it starts again (compute.blockdev.BlockDevices.settle).
"""

import copy

from oslo_log import log as logging

from api import http
from api.compute import schema_types as types
from api.compute import servers
from api.volume import views as volume_views
from blockstore import attachments
from blockstore import volumes
from common import exception
from common.db import instances
from compute import rpcapi as compute_rpcapi

LOG = logging.getLogger(__name__)

# As Nova's: the tag comes with 2.49 (delete_on_termination with 2.79,
# beyond our max).
_create_v21 = {
    'type': 'object', 'required': ['volumeAttachment'], 'additionalProperties': False,
    'properties': {'volumeAttachment': {
        'type': 'object', 'required': ['volumeId'], 'additionalProperties': False,
        'properties': {
            'volumeId': {'type': 'string', 'minLength': 1},
            'device': {'type': ['string', 'null'],
                       'pattern': '^(/dev/)?[a-z]{2,4}[a-z]$'}}}},
}
_create_v249 = copy.deepcopy(_create_v21)
_create_v249['properties']['volumeAttachment']['properties']['tag'] = {
    'type': 'string', 'maxLength': 60}
_CREATE_SCHEMAS = [('2.1', _create_v21), ('2.49', _create_v249)]


def _view(inst_uuid, att):
    return {'id': att['volume_id'], 'volumeId': att['volume_id'], 'serverId': inst_uuid,
            'device': volume_views.device_path(att.get('device'))}


def _instance(ctx, server_id, rule):
    return servers.get_instance(ctx, server_id, 'os-volumes-attachments:' + rule)


def list_attachments(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'index')
    return http.reply({'volumeAttachments': [
        _view(inst.uuid, a) for a in attachments.attachments_of_instance(inst.uuid)]})


def _attachment(inst, volume_id):
    for att in attachments.attachments_of_instance(inst.uuid):
        if att['volume_id'] == volume_id:
            return att
    raise exception.NotFound('Volume %s is not attached to server %s.'
                             % (volume_id, inst.uuid))


def show_attachment(server_id, volume_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'show')
    return http.reply({'volumeAttachment': _view(inst.uuid, _attachment(inst, volume_id))})


def _begin(ctx, inst, action):
    """The server must be placed with its host's agent up, resting in a
    state that allows ``action``, and not locked (but for admins); the
    action is recorded."""
    if not inst.host:
        raise exception.Conflict("Cannot '%s' instance %s while it is not on a host yet."
                                 % (action, inst.uuid))
    if not servers.host_up(inst.host):
        raise exception.Conflict('Compute host %s of server %s is down; try again when it '
                                 'is up.' % (inst.host, inst.uuid))
    return instances.begin_action(ctx, inst.uuid, action)


def _device(inst, wanted):
    """The disk name to ask for: ``wanted`` when free, else the next one
    after the server's known devices (the agent has the last word)."""
    used = {volumes.ROOT_DEVICE} | {a['device'] for a in
                                    attachments.attachments_of_instance(inst.uuid)
                                    if a['device']}
    if wanted:
        dev = wanted.rsplit('/', 1)[-1]
        if not dev.startswith('vd'):
            raise exception.BadRequest('Device %s is not a virtio disk name (/dev/vdX).'
                                       % wanted)
        if dev in used:
            raise exception.BadRequest('The supplied device path (%s) is in use.' % wanted)
        return dev
    for c in 'bcdefghijklmnopqrstuvwxyz':
        if 'vd' + c not in used:
            return 'vd' + c
    raise exception.BadRequest('No free disk device name for server %s.' % inst.uuid)


def create_attachment(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'create')
    req = http.json_body(types.for_version(_CREATE_SCHEMAS))['volumeAttachment']
    volumes.get(req['volumeId'], inst.project_id)  # 404 for another project's
    device = _device(inst, req.get('device'))
    inst = _begin(ctx, inst, 'attach_volume')
    att = attachments.reserve(req['volumeId'], inst.project_id, inst.uuid,
                              delete_on_termination=req.get('delete_on_termination', False))
    vol = volumes.get(req['volumeId'])
    try:
        compute_rpcapi.ComputeAPI().attach_volume(ctx, inst.host, instances.to_dict(inst),
                                                  vol, att['id'], device)
    except Exception as e:  # noqa: BLE001 - the broker is away: give the volume back
        LOG.error('Could not ask %s to attach volume %s: %s', inst.host, vol['id'], e)
        attachments.unreserve(att['id'])
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % inst.host) from None
    return http.reply({'volumeAttachment': _view(inst.uuid, dict(att, device=device))})


def delete_attachment(server_id, volume_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'delete')
    att = _attachment(inst, volume_id)
    if att['device'] == volumes.ROOT_DEVICE:
        raise exception.BadRequest("Can't detach root device volume")
    inst = _begin(ctx, inst, 'detach_volume')
    attachments.begin_detaching(volume_id, inst.uuid)
    vol = volumes.get(volume_id)
    try:
        compute_rpcapi.ComputeAPI().detach_volume(ctx, inst.host, instances.to_dict(inst),
                                                  vol, att['attachment_id'])
    except Exception as e:  # noqa: BLE001 - the broker is away: still attached
        LOG.error('Could not ask %s to detach volume %s: %s', inst.host, volume_id, e)
        attachments.roll_detaching(volume_id)
        raise exception.ServiceUnavailable(reason='the compute host %s could not be reached'
                                           % inst.host) from None
    return http.reply(status=202)


ROUTES = [
    ('/v2.1/servers/<server_id>/os-volume_attachments', {'GET': list_attachments,
                                                         'POST': create_attachment}),
    ('/v2.1/servers/<server_id>/os-volume_attachments/<volume_id>', {
        'GET': show_attachment, 'DELETE': delete_attachment}),
]
