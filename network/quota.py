"""Network quotas: per-project limits (defaults from [network] quota_*,
overrides in network_quotas) checked by counting inside the creating
transaction.

On SQLite the writer holds the database lock from BEGIN, so count-then-add
is exact; on MariaDB/PostgreSQL two racing creates may both pass the last
unit (Neutron's own quota engine has the same soft edge).
"""

import sqlalchemy as sa

from common import quota
from common.conf import CONF
from common.db import api as db_api
from common.db import network_models as nm
from network import exception as ne

RESOURCES = ('network', 'subnet', 'port', 'router', 'floatingip', 'security_group',
             'security_group_rule', 'rbac_policy', 'subnetpool')
# Resources without an option of their own: Neutron's defaults.
_FIXED = {'rbac_policy': 10, 'subnetpool': -1}

_MODELS = {
    'network': nm.Network, 'subnet': nm.Subnet, 'port': nm.Port,
    'floatingip': nm.FloatingIP, 'security_group': nm.SecurityGroup,
    'security_group_rule': nm.SecurityGroupRule, 'router': nm.Router,
}


def defaults():
    out = {}
    for r in RESOURCES:
        out[r] = _FIXED[r] if r in _FIXED else getattr(CONF.network, 'quota_' + r)
    return out


def limits(project_id, s=None):
    out = defaults()
    if s is None:
        with db_api.reader() as s2:
            return limits(project_id, s2)
    for row in s.scalars(sa.select(nm.NetworkQuota).where(
            nm.NetworkQuota.project_id == project_id)):
        if row.resource in out:
            out[row.resource] = row.hard_limit
    return out


def _count_query(resource, project_id):
    model = _MODELS[resource]
    q = sa.select(sa.func.count()).select_from(model).where(model.project_id == project_id)
    if resource == 'port':  # DHCP ports are the cloud's, not the project's
        q = q.where(model.device_owner != 'network:dhcp')
    return q


def usage(project_id):
    with db_api.reader() as s:
        used = {r: s.scalar(_count_query(r, project_id)) or 0 for r in _MODELS}
    return {r: used.get(r, 0) for r in RESOURCES}


def check(s, project_id, deltas):
    """Raise OverQuota unless ``project_id`` may add ``deltas`` ({resource: n})
    now; call inside the transaction that adds them."""
    lim = limits(project_id, s)
    over = []
    for resource, n in deltas.items():
        if not n or lim[resource] < 0:
            continue
        if (s.scalar(_count_query(resource, project_id)) or 0) + n > lim[resource]:
            over.append(resource)
    if over:
        raise ne.OverQuota(overs=str(sorted(over)))


def set_limits(project_id, values):
    quota.store_limits(nm.NetworkQuota, project_id, values)


def reset(project_id):
    with db_api.session() as s:
        s.execute(sa.delete(nm.NetworkQuota).where(nm.NetworkQuota.project_id == project_id))


def projects_with_limits():
    with db_api.reader() as s:
        return sorted(set(s.scalars(sa.select(nm.NetworkQuota.project_id))))
