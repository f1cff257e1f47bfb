"""GET /os-migrations (admin): the moves of servers (resizes, cold
migrations) from the migrations table, in Nova's shape; and
GET /servers/{id}/migrations, which in Nova lists a server's live
migrations in progress (none here yet: live migration is not in this
tree).

Fields by microversion: migration_type from 2.23, uuid (and limit/marker
paging by it) from 2.59.
"""

import flask
import sqlalchemy as sa

from api import http
from api import microversion
from api.compute import paging
from api.compute import servers
from common import policy
from common.db import api as db_api
from common.db import compute_models as cm

M = cm.Migration
_T = '%Y-%m-%dT%H:%M:%S.%f'
_FILTERS = ('instance_uuid', 'status', 'migration_type', 'source_compute')


def _view(m, flavor_ids, host_ips):
    out = {'id': m.id, 'instance_uuid': m.instance_uuid, 'status': m.status,
           'source_compute': m.source_compute, 'dest_compute': m.dest_compute,
           'source_node': m.source_node, 'dest_node': m.dest_node,
           'dest_host': host_ips.get(m.dest_compute),
           'old_instance_type_id': flavor_ids.get((m.old_flavor or {}).get('flavorid')),
           'new_instance_type_id': flavor_ids.get((m.new_flavor or {}).get('flavorid')),
           'created_at': m.created_at.strftime(_T),
           'updated_at': m.updated_at.strftime(_T) if m.updated_at else None}
    if microversion.at_least('2.23'):
        out['migration_type'] = m.migration_type
    if microversion.at_least('2.59'):
        out['uuid'] = m.uuid
    return out


def _rows(**filters):
    q = sa.select(M)
    for key, value in filters.items():
        if value is not None:
            q = q.where(getattr(M, key) == value)
    with db_api.reader() as s:
        rows = list(s.scalars(q.order_by(M.created_at.desc(), M.id.desc())))
        flavor_ids = {f.flavorid: f.id for f in s.scalars(sa.select(cm.Flavor))}
        host_ips = {n.host: n.host_ip for n in s.scalars(sa.select(cm.ComputeNode))}
    return rows, flavor_ids, host_ips


def list_migrations():
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-migrations:index', {})
    args = flask.request.args
    rows, flavor_ids, host_ips = _rows(**{k: args.get(k) for k in _FILTERS})
    host = args.get('host')
    if host:
        rows = [m for m in rows if host in (m.source_compute, m.dest_compute)]
    if microversion.at_least('2.59'):
        rows = paging.page(rows, key=lambda m: m.uuid)
    return http.reply({'migrations': [_view(m, flavor_ids, host_ips) for m in rows]})


def server_migrations(server_id):
    ctx = http.context()
    inst = servers.get_instance(ctx, server_id)
    policy.authorize(ctx, 'os_compute_api:servers:migrations:index',
                     {'project_id': inst.project_id})
    return http.reply({'migrations': []})  # live migrations in progress: none yet


ROUTES = [
    ('/v2.1/os-migrations', {'GET': list_migrations}),
    ('/v2.1/servers/<server_id>/migrations', {'GET': server_migrations}),
]
