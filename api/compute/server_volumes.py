"""A server's volumes at its create and at its delete without its agent.

At create, block_device_mapping_v2 entries with destination_type 'volume'
ask for a root volume to boot from (made from an image, a snapshot or
blank, or an existing volume) and more volumes to attach.

parse() checks the request before anything exists; make() reserves the
existing volumes and records the new ones (quota taken, each with a
reservation for the server) so the build finds them; start() asks the
volume service to make the new ones once the server is recorded; undo()
gives everything back when the create fails.
"""

import json

from oslo_log import log as logging

from api.volume import volumes as volume_api
from blockstore import attachments
from blockstore import exception as volume_exc
from blockstore import rpcapi as volume_rpcapi
from blockstore import snapshots as volume_snapshots
from blockstore import types as volume_types
from blockstore import volumes
from common import exception

LOG = logging.getLogger(__name__)


def _bool(value):
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).lower() in ('true', '1', 'yes', 't', 'on')


def _size(value):
    if value in (None, ''):
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise exception.BadRequest('volume_size must be an integer greater than 0; got %s.'
                                   % value)
    return size


def parse(ctx, bdms):
    """The volume entries of a create request, checked: [{'source', 'uuid',
    'size', 'boot_index', 'delete_on_termination', 'image' (for an image
    source)}]."""
    plan = []
    for bdm in bdms:
        if bdm.get('destination_type') != 'volume':
            continue
        source = bdm.get('source_type')
        boot_index = bdm.get('boot_index')
        try:
            boot_index = None if boot_index in (None, '') else int(boot_index)
        except (TypeError, ValueError):
            raise exception.BadRequest('boot_index must be an integer.') from None
        entry = {'source': source, 'uuid': bdm.get('uuid'), 'boot_index': boot_index,
                 'size': _size(bdm.get('volume_size')),
                 'delete_on_termination': _bool(bdm.get('delete_on_termination'))}
        if source != 'blank' and not entry['uuid']:
            raise exception.BadRequest('A block device mapping with source_type %s needs a '
                                       'uuid.' % source)
        if source == 'volume':
            vol = volumes.get(entry['uuid'], ctx.project_id)
            if vol['status'] != volumes.AVAILABLE:
                raise exception.BadRequest('Invalid volume: volume %s status must be '
                                           "'available', not %s." % (vol['id'], vol['status']))
            entry['volume'] = vol
        elif source == 'image':
            img = volume_api.fetch_image(ctx, entry['uuid'])
            need = volume_api.image_min_gb(img)
            if entry['size'] is None:
                entry['size'] = need
            elif entry['size'] < need:
                raise exception.BadRequest('Volume size %dGB is smaller than the image %s '
                                           '(%dGB).' % (entry['size'], img['id'], need))
            entry['image'] = img
        elif source == 'snapshot':
            snap = volume_snapshots.get_snapshot(entry['uuid'], ctx.project_id)
            if snap['status'] != volumes.AVAILABLE:
                raise exception.BadRequest('Snapshot %s is not available.' % snap['id'])
            entry['size'] = max(entry['size'] or 0, snap['size'])
        elif source == 'blank':
            if entry['size'] is None:
                raise exception.BadRequest('A blank volume needs volume_size.')
        else:
            raise exception.BadRequest('source_type %s cannot go to a volume.' % source)
        plan.append(entry)
    if len([e for e in plan if e['boot_index'] == 0]) > 1:
        raise exception.BadRequest('Only one volume can have boot_index 0.')
    return plan


# Properties of a volume-backed snapshot image that are about its volumes,
# not about the guest (api/compute/snapshots.py writes them).
MAPPING_PROPERTIES = ('block_device_mapping', 'bdm_v2', 'root_device_name')


def image_mappings(image):
    """The block_device_mapping_v2 entries an image carries (a snapshot of a
    server booted from a volume: its volumes' snapshots), [] for an image
    with bits of its own."""
    props = (image or {}).get('properties') or {}
    if not _bool(props.get('bdm_v2')) or not props.get('block_device_mapping'):
        return []
    try:
        mappings = json.loads(props['block_device_mapping'])
    except (TypeError, ValueError):
        raise exception.BadRequest('Image %s has a block_device_mapping that is not JSON.'
                                   % image.get('id')) from None
    out = []
    for m in mappings if isinstance(mappings, list) else []:
        if not isinstance(m, dict) or m.get('no_device'):
            continue
        uuid = m.get('snapshot_id') or m.get('volume_id') or m.get('image_id')
        out.append({'source_type': m.get('source_type'), 'uuid': uuid,
                    'destination_type': m.get('destination_type'),
                    'volume_size': m.get('volume_size'), 'boot_index': m.get('boot_index'),
                    'delete_on_termination': m.get('delete_on_termination')})
    return out


def root(plan):
    """The boot volume's entry, or None (the server boots from an image)."""
    return next((e for e in plan if e['boot_index'] == 0), None)


def image_properties(plan):
    """What the scheduler's image filters see for a server booted from
    ``plan``'s root volume."""
    entry = root(plan)
    if entry is None:
        return {}
    if entry.get('image'):
        return entry['image'].get('properties') or {}
    return {}


def _default_type():
    try:
        return volume_types.default_type()['id']
    except volume_exc.VolumeTypeNotFound:
        return None


def make(ctx, plan, instance_uuid, project_id):
    """Reserve and record the volumes for the server; [{'entry',
    'attachment_id', 'volume', 'new'}] for start() and undo()."""
    made = []
    try:
        for entry in plan:
            device = volumes.ROOT_DEVICE if entry['boot_index'] == 0 else None
            if entry['source'] == 'volume':
                att = attachments.reserve(entry['uuid'], project_id, instance_uuid,
                                          entry['delete_on_termination'], device=device)
                made.append({'attachment_id': att['id'], 'volume': entry['volume'],
                             'new': False})
                continue
            values = {'project_id': project_id, 'user_id': ctx.user_id,
                      'size': entry['size'], 'name': '', 'volume_type_id': _default_type()}
            if entry['source'] == 'image':
                values['image_id'] = entry['image']['id']
                values['image_metadata'] = volume_api.image_metadata(entry['image'])
            elif entry['source'] == 'snapshot':
                values['snapshot_id'] = entry['uuid']
            vol = volumes.create(values, reserve_for=instance_uuid,
                                 delete_on_termination=entry['delete_on_termination'],
                                 device=device)
            made.append({'attachment_id': vol['attachments'][0]['id'], 'volume': vol,
                         'new': True})
    except Exception:
        undo(made)
        raise
    return made


def start(ctx, made):
    """Ask the volume service to make the new volumes (a failed cast marks
    the volume error; the build then fails with a reason)."""
    api = volume_rpcapi.VolumeAPI()
    for m in made:
        if not m['new']:
            continue
        try:
            api.create_volume(ctx, m['volume'])
        except Exception as e:  # noqa: BLE001 - the broker is away
            LOG.error('Could not ask to create volume %s: %s', m['volume']['id'], e)
            volumes.set_status(m['volume']['id'], volumes.ERROR, expected=[volumes.CREATING])


def undo(made):
    for m in made:
        if m['new']:
            volumes.finish_delete(m['volume']['id'])
        else:
            attachments.unreserve(m['attachment_id'])


def release_for_deleted_server(ctx, instance_uuid):
    """A server deleted without its agent (never placed, or its host is
    down): its volumes are available again, or deleted when they were to
    be deleted on termination. (An NBD export a dead host held stays until
    the volume is deleted.)"""
    for bd in attachments.instance_block_devices(instance_uuid):
        vol = attachments.detach_complete(bd['attachment_id'])
        if vol is None or not bd['delete_on_termination']:
            continue
        vol = volumes.set_status(vol['id'], volumes.DELETING, expected=[volumes.AVAILABLE])
        if vol is not None:
            try:
                volume_rpcapi.VolumeAPI().delete_volume(ctx, vol)
            except Exception as e:  # noqa: BLE001 - the service's reconcile retries it
                LOG.error('Could not ask to delete volume %s: %s', vol['id'], e)
