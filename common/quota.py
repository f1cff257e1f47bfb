"""Project quotas, checked and consumed atomically.

Usage lives in quota_usages and changes only through a conditional UPDATE
(in_use + n <= limit), inside the caller's transaction: two creates racing
for the last unit cannot both win, and a failed create consumes nothing.
"""

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common import exception
from common import unit_of_work
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm

RESOURCES = ('instances', 'cores', 'ram', 'key_pairs', 'server_groups',
             'server_group_members', 'metadata_items')
# Resources counted in quota_usages; the others are counted on demand.
TRACKED = ('instances', 'cores', 'ram')


class OverQuota(exception.OverQuota, exception.Forbidden):
    msg_fmt = ('Quota exceeded for %(resource)s: Requested %(requested)d, but already used '
               '%(used)d of %(limit)d %(resource)s')


def limits(project_id):
    out = {r: getattr(CONF.quota, r) for r in RESOURCES}
    with db_api.reader() as s:
        for row in s.scalars(sa.select(cm.QuotaLimit).where(cm.QuotaLimit.project_id ==
                                                             project_id)):
            out[row.resource] = row.hard_limit
    return out


def store_limits(model, project_id, values):
    """Write per-project hard limits into ``model`` (a table keyed by
    project_id and resource with a hard_limit column): compute's, the
    network's and the volume service's quota tables all take this."""
    with db_api.session() as s:
        for resource, limit in values.items():
            row = s.get(model, (project_id, resource))
            if row is None:
                s.add(model(project_id=project_id, resource=resource, hard_limit=limit))
            else:
                row.hard_limit = limit


def set_limits(project_id, values):
    store_limits(cm.QuotaLimit, project_id, values)


def usage(project_id):
    with db_api.reader() as s:
        rows = s.scalars(sa.select(cm.QuotaUsage).where(cm.QuotaUsage.project_id ==
                                                         project_id))
        used = {r.resource: r.in_use for r in rows}
    return {r: used.get(r, 0) for r in TRACKED}


def _ensure_rows(project_id):
    with db_api.reader() as s:
        have = set(s.scalars(sa.select(cm.QuotaUsage.resource).where(
            cm.QuotaUsage.project_id == project_id)))
    for resource in TRACKED:
        if resource in have:
            continue
        try:
            # Made only when missing: a unit that runs again finds it.
            with unit_of_work.repeatable(), db_api.session() as s:
                s.add(cm.QuotaUsage(project_id=project_id, resource=resource, in_use=0))
        except sa_exc.IntegrityError:
            pass  # made by a concurrent request


def prepare(project_id):
    """Call before the transaction that consumes (makes the usage rows)."""
    _ensure_rows(project_id)
    return limits(project_id)


def consume(s, project_id, deltas, project_limits):
    """Add ``deltas`` to usage in session ``s``, or raise OverQuota."""
    U = cm.QuotaUsage
    for resource, n in deltas.items():
        if not n:
            continue
        limit = project_limits[resource]
        cond = [U.project_id == project_id, U.resource == resource]
        if limit >= 0:
            cond.append(U.in_use + n <= limit)
        res = s.execute(sa.update(U).where(*cond).values(in_use=U.in_use + n))
        if res.rowcount != 1:
            used = s.scalar(sa.select(U.in_use).where(U.project_id == project_id,
                                                      U.resource == resource)) or 0
            raise OverQuota(resource=resource, requested=n, used=used, limit=limit)


def release(s, project_id, deltas):
    U = cm.QuotaUsage
    for resource, n in deltas.items():
        if n:
            s.execute(sa.update(U).where(U.project_id == project_id, U.resource == resource)
                      .values(in_use=sa.case((U.in_use >= n, U.in_use - n), else_=0)))


def instance_deltas(flavor, count=1):
    return {'instances': count, 'cores': flavor['vcpus'] * count,
            'ram': flavor['memory_mb'] * count}
