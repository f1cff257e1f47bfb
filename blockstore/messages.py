"""User messages (Cinder's /messages): a volume operation that failed
after the API answered 202 says why, to its project, for [volume]
message_ttl seconds. The volume service records them; the API lists,
shows and deletes them (expired ones are no longer shown)."""

import datetime
import errno
import uuid

import sqlalchemy as sa
from oslo_log import log as logging

from common import exception
from common.conf import CONF
from common.db import api as db_api
from common.db import volume_models as vm
from common.db.models import utcnow

LOG = logging.getLogger(__name__)

# event_id: <resource>_<action>_<detail>, stable, as Cinder's are.
ACTIONS = {'create': ('001', 'create volume'),
           'create_from_image': ('002', 'create volume from image'),
           'extend': ('003', 'extend volume'),
           'snapshot': ('004', 'create snapshot')}
DETAILS = {'unknown': ('001', 'an unexpected error occurred; the operator can tell more '
                              'from the request id.'),
           'no_space': ('002', 'not enough space left in the volume backend.'),
           'image': ('003', 'the image could not be copied into the volume.')}


class MessageNotFound(exception.NotFound):
    msg_fmt = 'Message %(id)s could not be found.'


def detail_of(error):
    """The detail key that says why ``error`` happened, as far as a user
    should know (no paths, no host names)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return 'no_space'
        if 'No space left on device' in str(error) or 'Disk quota exceeded' in str(error):
            return 'no_space'  # a command's stderr (qemu-img)
        error = error.__cause__ or error.__context__
    return 'unknown'


def record(context, project_id, resource_uuid, action, error, resource_type='VOLUME'):
    """Keep a message saying that ``action`` on the resource failed with
    ``error``; never raises (the failure it reports matters more)."""
    code, what = ACTIONS[action]
    detail = detail_of(error)
    if detail == 'unknown' and action == 'create_from_image':
        detail = 'image'
    dcode, why = DETAILS[detail]
    now = utcnow()
    try:
        with db_api.session() as s:
            s.add(vm.VolumeMessage(
                id=str(uuid.uuid4()), project_id=project_id,
                request_id=getattr(context, 'request_id', None),
                resource_type=resource_type, resource_uuid=resource_uuid,
                event_id='%s_%s_%s' % (resource_type, code, dcode), message_level='ERROR',
                user_message='%s: %s' % (what, why), created_at=now,
                expires_at=now + datetime.timedelta(seconds=CONF.volume.message_ttl)))
    except Exception:  # noqa: BLE001
        LOG.exception('Could not record the message for %s %s', resource_type, resource_uuid)


def _live(q, project_id):
    M = vm.VolumeMessage
    q = q.where(M.expires_at > utcnow())
    return q if project_id is None else q.where(M.project_id == project_id)


def list_messages(project_id, resource_uuid=None):
    """The messages of ``project_id`` (None: every project), newest first."""
    M = vm.VolumeMessage
    q = _live(sa.select(M), project_id)
    if resource_uuid:
        q = q.where(M.resource_uuid == resource_uuid)
    with db_api.reader() as s:
        return [to_dict(m) for m in s.scalars(q.order_by(M.created_at.desc(), M.id))]


def get(message_id, project_id):
    M = vm.VolumeMessage
    with db_api.reader() as s:
        m = s.scalars(_live(sa.select(M).where(M.id == message_id), project_id)).first()
        if m is None:
            raise MessageNotFound(id=message_id)
        return to_dict(m)


def delete(message_id, project_id):
    M = vm.VolumeMessage
    with db_api.session() as s:
        res = s.execute(_live(sa.delete(M).where(M.id == message_id), project_id))
        if res.rowcount != 1:
            raise MessageNotFound(id=message_id)


def to_dict(m):
    return {'id': m.id, 'project_id': m.project_id, 'request_id': m.request_id,
            'resource_type': m.resource_type, 'resource_uuid': m.resource_uuid,
            'event_id': m.event_id, 'message_level': m.message_level,
            'user_message': m.user_message, 'created_at': m.created_at,
            'expires_at': m.expires_at}
