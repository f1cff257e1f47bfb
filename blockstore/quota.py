"""Volume quotas: volumes, gigabytes, snapshots (defaults from [volume]
quota_*, overrides in volume_quotas), and the usage they are checked
against.

``check`` counts inside the transaction that adds: on SQLite the writer
holds the lock from BEGIN, so count-then-add is exact; deleted rows stop
counting, which is how quota is given back. gigabytes counts volumes and
snapshots, as Cinder does.
"""

import sqlalchemy as sa

from blockstore import exception
from common import quota as common_quota
from common.conf import CONF
from common.db import api as db_api
from common.db import volume_models as vm

QUOTA_RESOURCES = ('volumes', 'gigabytes', 'snapshots', 'per_volume_gigabytes',
                   'backups', 'backup_gigabytes', 'groups')
# Resources without an option of their own: fixed (we have no backups or groups).
_FIXED = {'backups': 0, 'backup_gigabytes': 0, 'groups': 10}


def quota_defaults():
    v = CONF.volume
    out = {'volumes': v.quota_volumes, 'gigabytes': v.quota_gigabytes,
           'snapshots': v.quota_snapshots, 'per_volume_gigabytes': v.per_volume_gigabytes}
    out.update(_FIXED)
    return out


def limits(project_id, s=None):
    """{resource: limit} of ``project_id`` (-1: unlimited)."""
    if s is None:
        with db_api.reader() as s2:
            return limits(project_id, s2)
    out = quota_defaults()
    for row in s.scalars(sa.select(vm.VolumeQuota).where(
            vm.VolumeQuota.project_id == project_id)):
        out[row.resource] = row.hard_limit
    return out


def _usage(s, project_id):
    V, S = vm.Volume, vm.VolumeSnapshot
    nvol, vgb = s.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(V.size), 0))
                          .where(V.project_id == project_id, V.deleted.is_(False))).one()
    nsnap, sgb = s.execute(sa.select(sa.func.count(),
                                     sa.func.coalesce(sa.func.sum(S.size), 0))
                           .where(S.project_id == project_id, S.deleted.is_(False))).one()
    return {'volumes': int(nvol), 'gigabytes': int(vgb) + int(sgb), 'snapshots': int(nsnap),
            'backups': 0, 'backup_gigabytes': 0, 'groups': 0}


def usage(project_id):
    """{'volumes', 'gigabytes', 'snapshots', ...: in use} of ``project_id``."""
    with db_api.reader() as s:
        return _usage(s, project_id)


def check(s, project_id, volumes=0, gigabytes=0, snapshots=0, size=None):
    """Raise the 413 QuotaError that adding ``volumes``, ``gigabytes`` and
    ``snapshots`` (a volume of ``size``) to ``project_id`` would cause;
    ``s`` is the session of the transaction that adds."""
    lim = limits(project_id, s)
    if size is not None and lim['per_volume_gigabytes'] >= 0 and \
            size > lim['per_volume_gigabytes']:
        raise exception.VolumeSizeExceedsLimit(size=size, limit=lim['per_volume_gigabytes'])
    used = _usage(s, project_id)
    if gigabytes and lim['gigabytes'] >= 0 and used['gigabytes'] + gigabytes > lim['gigabytes']:
        raise exception.VolumeSizeExceedsAvailableQuota(name='gigabytes', requested=gigabytes,
                                                        quota=lim['gigabytes'],
                                                        consumed=used['gigabytes'])
    if volumes and lim['volumes'] >= 0 and used['volumes'] + volumes > lim['volumes']:
        raise exception.VolumeLimitExceeded(allowed=lim['volumes'], name='volumes')
    if snapshots and lim['snapshots'] >= 0 and used['snapshots'] + snapshots > lim['snapshots']:
        raise exception.SnapshotLimitExceeded(allowed=lim['snapshots'])


def set_limits(project_id, values):
    common_quota.store_limits(vm.VolumeQuota, project_id, values)


def reset_limits(project_id):
    with db_api.session() as s:
        s.execute(sa.delete(vm.VolumeQuota).where(vm.VolumeQuota.project_id == project_id))
