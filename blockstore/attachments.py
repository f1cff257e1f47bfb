"""The attach flow (called by the compute API and the volume service) and
the reads of who holds which volume.

A volume moves through reserve() -> attach_complete() and
begin_detaching() -> detach_complete() (or unreserve()/roll_detaching()),
each step a compare-and-set on the status it expects.
"""

import datetime
import uuid

import sqlalchemy as sa

from blockstore import exception
from blockstore import views
from blockstore import volumes
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import volume_models as vm
from common.db.models import utcnow


def reserve(volume_id, project_id, instance_uuid, delete_on_termination=False, device=None):
    """available -> attaching with a 'reserved' attachment (at ``device``,
    'vda' for a root volume); the attachment dict. In use or busy:
    VolumeInUse (409); another project's: 404."""
    with db_api.session() as s:
        row = views.volume_row(s, volume_id, project_id)
        res = s.execute(sa.update(vm.Volume).where(
            vm.Volume.id == row.id, vm.Volume.status == volumes.AVAILABLE,
            vm.Volume.deleted.is_(False)).values(status=volumes.ATTACHING, updated_at=utcnow()))
        if res.rowcount != 1:
            s.refresh(row)
            raise exception.VolumeInUse(volume_id=row.id, status=row.status)
        att = vm.VolumeAttachment(id=str(uuid.uuid4()), volume_id=row.id,
                                  instance_uuid=instance_uuid, status='reserved',
                                  device=device, delete_on_termination=bool(delete_on_termination),
                                  created_at=utcnow())
        s.add(att)
        s.flush()
        return views.attachment_to_dict(att)


def _attachment(s, attachment_id):
    att = s.get(vm.VolumeAttachment, attachment_id)
    if att is None:
        raise exception.AttachmentNotFound(filter='id=%s' % attachment_id)
    return att


def attach_complete(attachment_id, host_name, device):
    """attaching -> in-use; the attachment is 'attached'. The volume dict."""
    with db_api.session() as s:
        att = _attachment(s, attachment_id)
        now = utcnow()
        att.status, att.host_name, att.device, att.attached_at = 'attached', host_name, \
            device, now
        s.execute(sa.update(vm.Volume).where(vm.Volume.id == att.volume_id)
                  .values(status=volumes.IN_USE, updated_at=now))
        s.flush()
        return views.full(s, s.get(vm.Volume, att.volume_id))


def unreserve(attachment_id):
    """Undo reserve(): attaching -> available, the attachment removed."""
    return _drop_attachment(attachment_id,
                            vm.Volume.status.in_([volumes.ATTACHING, volumes.RESERVED]))


def begin_detaching(volume_id, instance_uuid):
    """in-use -> detaching; the attachment dict of ``instance_uuid``.
    Not attached to it: AttachmentNotFound (404); not in-use: InvalidVolume."""
    with db_api.session() as s:
        row = views.volume_row(s, volume_id)
        att = s.scalars(sa.select(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == row.id,
            vm.VolumeAttachment.instance_uuid == instance_uuid)).first()
        if att is None:
            raise exception.AttachmentNotFound(filter='volume_id=%s, instance_uuid=%s'
                                               % (volume_id, instance_uuid))
        res = s.execute(sa.update(vm.Volume).where(vm.Volume.id == row.id,
                                                   vm.Volume.status == volumes.IN_USE)
                        .values(status=volumes.DETACHING, updated_at=utcnow()))
        if res.rowcount != 1:
            raise exception.InvalidVolume(reason='Unable to detach volume. Volume status '
                                          "must be 'in-use' and attach_status must be "
                                          "'attached' to detach.")
        att.status = 'detaching'
        return views.attachment_to_dict(att)


def roll_detaching(volume_id):
    """Undo begin_detaching(): detaching -> in-use."""
    with db_api.session() as s:
        s.execute(sa.update(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == volume_id,
            vm.VolumeAttachment.status == 'detaching').values(status='attached'))
    return volumes.set_status(volume_id, volumes.IN_USE, expected=[volumes.DETACHING])


def detach_complete(attachment_id):
    """The attachment removed; the volume available (in-use if others remain)."""
    return _drop_attachment(attachment_id, vm.Volume.deleted.is_(False))


def _drop_attachment(attachment_id, volume_condition):
    """Remove an attachment; the volume (where ``volume_condition`` holds)
    becomes in-use if other attachments remain, else available. The volume's
    dict, or None when the attachment is already gone."""
    with db_api.session() as s:
        att = s.get(vm.VolumeAttachment, attachment_id)
        if att is None:
            return None
        vol_id = att.volume_id
        s.delete(att)
        s.flush()
        left = s.scalar(sa.select(sa.func.count()).select_from(vm.VolumeAttachment)
                        .where(vm.VolumeAttachment.volume_id == vol_id))
        s.execute(sa.update(vm.Volume).where(vm.Volume.id == vol_id, volume_condition)
                  .values(status=volumes.IN_USE if left else volumes.AVAILABLE,
                          updated_at=utcnow()))
        return views.full(s, s.get(vm.Volume, vol_id))


def clear_attachments(volume_id):
    """Forget every attachment of the volume (an admin's reset to 'detached')."""
    with db_api.session() as s:
        s.execute(sa.delete(vm.VolumeAttachment).where(
            vm.VolumeAttachment.volume_id == volume_id))


def attachments_of_instance(instance_uuid):
    """[{attachment_id, volume_id, device, host_name, delete_on_termination,
    status}] of a server, oldest first."""
    A = vm.VolumeAttachment
    with db_api.reader() as s:
        rows = s.scalars(sa.select(A).where(A.instance_uuid == instance_uuid)
                         .order_by(A.created_at))
        return [{'attachment_id': a.id, 'volume_id': a.volume_id, 'device': a.device,
                 'host_name': a.host_name, 'delete_on_termination': a.delete_on_termination,
                 'status': a.status} for a in rows]


def instance_block_devices(instance_uuid):
    """The volumes of a server as its compute agent needs them: [{'attachment_id',
    'instance_uuid', 'volume' (the volume dict), 'device', 'boot_index' (0 for
    the root volume, at vda, else None), 'delete_on_termination', 'status'}],
    oldest first."""
    return block_devices_of([instance_uuid])[instance_uuid]


def orphan_attachments(older_than_seconds):
    """Attachments, older than ``older_than_seconds``, whose server is
    deleted or was never recorded (its agent could not release them):
    [instance_block_devices()-shaped dicts, with 'instance_uuid']."""
    A, Inst = vm.VolumeAttachment, cm.Instance
    before = utcnow() - datetime.timedelta(seconds=older_than_seconds)
    live = sa.select(Inst.uuid).where(Inst.deleted.is_(False))
    with db_api.reader() as s:
        rows = list(s.scalars(sa.select(A).where(A.created_at < before,
                                                 A.instance_uuid.not_in(live))))
        return [_block_device(s, a) for a in rows]


def volumes_attached(instance_uuids):
    """{instance uuid: [{'id': volume id, 'delete_on_termination'}]} (the
    server view's os-extended-volumes:volumes_attached), in one query."""
    A = vm.VolumeAttachment
    out = {u: [] for u in instance_uuids}
    if not out:
        return out
    with db_api.reader() as s:
        for uuid_, vid, dot in s.execute(
                sa.select(A.instance_uuid, A.volume_id, A.delete_on_termination)
                .where(A.instance_uuid.in_(list(out))).order_by(A.created_at)):
            out[uuid_].append({'id': vid, 'delete_on_termination': bool(dot)})
    return out


def block_devices_of(instance_uuids):
    """{instance uuid: instance_block_devices(uuid)} in one query."""
    A = vm.VolumeAttachment
    out = {u: [] for u in instance_uuids}
    if not out:
        return out
    with db_api.reader() as s:
        for a in s.scalars(sa.select(A).where(A.instance_uuid.in_(list(out)))
                           .order_by(A.created_at)):
            out[a.instance_uuid].append(_block_device(s, a))
    return out


def _block_device(s, a):
    """An attachment row as the compute agent and the reconcile see it."""
    return {'attachment_id': a.id, 'instance_uuid': a.instance_uuid,
            'volume': views.full(s, s.get(vm.Volume, a.volume_id)), 'device': a.device,
            'boot_index': 0 if a.device == volumes.ROOT_DEVICE else None,
            'delete_on_termination': a.delete_on_termination, 'status': a.status}
