"""Volume, snapshot and volume type documents, as Cinder draws them."""

from api import microversion
from api.volume import base


def device_path(device):
    """'/dev/vdb' for the 'vdb' the records keep (None stays None)."""
    if not device or device.startswith('/'):
        return device or None
    return '/dev/%s' % device


def _attachments(vol):
    return [{'server_id': a['instance_uuid'], 'attachment_id': a['id'],
             'volume_id': vol['id'], 'device': device_path(a['device']),
             'host_name': a['host_name'],
             'attached_at': base.fmt(a['attached_at']), 'id': vol['id']}
            for a in vol['attachments'] if a['status'] in ('attached', 'detaching')]


def volume_summary(vol):
    return {'id': vol['id'], 'name': vol['name'], 'links': base.link('volumes', vol['id'])}


def volume(vol, extended=True):
    """A volume as Cinder draws it. ``extended`` adds what Cinder's API
    extensions add to show and list-detail answers only (not to create or
    update): the owner project (volume_extension:volume_tenant_attribute, a
    project reader's), the image metadata (volume_image_metadata:show, the
    same), and for an admin only the host and migration status.
    """
    admin = base.is_admin()
    out = {
        'id': vol['id'], 'name': vol['name'], 'description': vol['description'],
        'size': vol['size'], 'status': vol['status'],
        'availability_zone': vol['availability_zone'],
        'attachments': _attachments(vol),
        'bootable': 'true' if vol['bootable'] else 'false',
        'encrypted': False, 'multiattach': False,
        'volume_type': vol['volume_type_name'],
        'snapshot_id': vol['snapshot_id'], 'source_volid': vol['source_volid'],
        'metadata': vol['metadata'], 'user_id': vol['user_id'],
        'migration_status': None, 'replication_status': None,
        'consistencygroup_id': None,
        'created_at': base.fmt(vol['created_at']), 'updated_at': base.fmt(vol['updated_at']),
        'links': base.link('volumes', vol['id']),
    }
    if extended:
        out['os-vol-tenant-attr:tenant_id'] = vol['project_id']
        if admin:
            out['os-vol-host-attr:host'] = vol['host']
            out['os-vol-mig-status-attr:migstat'] = None
            out['os-vol-mig-status-attr:name_id'] = None
        if vol['image_metadata']:
            out['volume_image_metadata'] = vol['image_metadata']
    if microversion.at_least('3.13'):
        out['group_id'] = None
    if microversion.at_least('3.21'):
        out['provider_id'] = None
    if microversion.at_least('3.48'):
        out['service_uuid'] = None
        out['shared_targets'] = False
    if microversion.at_least('3.61') and admin:
        out['cluster_name'] = None
    if microversion.at_least('3.63'):
        out['volume_type_id'] = vol['volume_type_id']
    if microversion.at_least('3.64'):
        out['encryption_key_id'] = None
    return out


def snapshot(snap, extended=True):
    """A snapshot as Cinder draws it; ``extended`` (show and list-detail
    only, as Cinder's extended_snapshot_attributes extension) adds its
    project and progress."""
    out = {'id': snap['id'], 'name': snap['name'], 'description': snap['description'],
           'volume_id': snap['volume_id'], 'size': snap['size'], 'status': snap['status'],
           'metadata': snap['metadata'],
           'created_at': base.fmt(snap['created_at']),
           'updated_at': base.fmt(snap['updated_at'])}
    if extended:
        out['os-extended-snapshot-attributes:project_id'] = snap['project_id']
        out['os-extended-snapshot-attributes:progress'] = \
            '100%' if snap['status'] == 'available' else '0%'
    if microversion.at_least('3.14'):
        out['group_snapshot_id'] = None
    if microversion.at_least('3.41'):
        out['user_id'] = snap['user_id']
    return out


def volume_type(vt):
    return {'id': vt['id'], 'name': vt['name'], 'description': vt['description'],
            'is_public': vt['is_public'], 'os-volume-type-access:is_public': vt['is_public'],
            'extra_specs': vt['extra_specs'], 'qos_specs_id': None}
