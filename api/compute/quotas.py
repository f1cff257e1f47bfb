"""Limits, quota sets, server groups and usage: what a project may use and uses."""

import datetime
import uuid as uuid_mod

import flask
import sqlalchemy as sa
from oslo_utils import timeutils

from api import http
from api import microversion
from api.compute import schema_types as types
from common import exception
from common import policy
from common import quota
from common.db import api as db_api
from common.db import compute_models as cm

SHOWN = ('instances', 'cores', 'ram', 'key_pairs', 'server_groups', 'server_group_members',
         'metadata_items')
# Quotas Nova still shows before 2.57: file injection (Nova's defaults; a
# project's own values are stored like the others).
INJECTED = {'injected_files': 5, 'injected_file_content_bytes': 10240,
            'injected_file_path_bytes': 255}
# and before 2.36: the network quotas of nova-network days, unlimited (-1)
# and unused in Nova with Neutron, as here (the network API keeps its own).
NETWORK_LEGACY = ('fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules')

# /limits names of the quotas, and of their usage.
_LIMIT_NAMES = {
    'ram': ('maxTotalRAMSize',), 'instances': ('maxTotalInstances',),
    'cores': ('maxTotalCores',), 'key_pairs': ('maxTotalKeypairs',),
    'floating_ips': ('maxTotalFloatingIps',),
    'metadata_items': ('maxServerMeta', 'maxImageMeta'),
    'injected_files': ('maxPersonality',),
    'injected_file_content_bytes': ('maxPersonalitySize',),
    'security_groups': ('maxSecurityGroups',),
    'security_group_rules': ('maxSecurityGroupRules',),
    'server_groups': ('maxServerGroups',), 'server_group_members': ('maxServerGroupMembers',),
}
_USED_NAMES = {'totalRAMUsed': 'ram', 'totalCoresUsed': 'cores',
               'totalInstancesUsed': 'instances', 'totalFloatingIpsUsed': 'floating_ips',
               'totalSecurityGroupsUsed': 'security_groups',
               'totalServerGroupsUsed': 'server_groups'}


def _shown():
    """The quotas shown (and settable) at the request's microversion."""
    names = list(SHOWN)
    if not microversion.at_least('2.57'):
        names += list(INJECTED)
    if not microversion.at_least('2.36'):
        names += list(NETWORK_LEGACY)
    return names


def _limits(project_id):
    lim = dict(INJECTED, **quota.limits(project_id))
    lim.update(dict.fromkeys(NETWORK_LEGACY, -1))
    return lim


def _counted(project_id):
    used = quota.usage(project_id)
    with db_api.reader() as s:
        used['server_groups'] = s.scalar(sa.select(sa.func.count()).select_from(
            cm.ServerGroup).where(cm.ServerGroup.project_id == project_id)) or 0
    return used


def limits():
    """GET /limits, by microversion as Nova: the network limits go at 2.36,
    maxImageMeta at 2.39, maxPersonality* at 2.57."""
    ctx = http.context()
    project = flask.request.args.get('tenant_id') or ctx.project_id
    if project != ctx.project_id:
        policy.authorize(ctx, 'os_compute_api:limits:other_project', {})
    lim = _limits(project)
    used = _counted(project)
    shown = set(_shown())
    absolute = {}
    for resource, names in _LIMIT_NAMES.items():
        if resource in shown:
            absolute.update(dict.fromkeys(names, lim[resource]))
    if microversion.at_least('2.39'):
        absolute.pop('maxImageMeta', None)
    for name, resource in _USED_NAMES.items():
        if resource in shown:
            absolute[name] = used.get(resource, 0)
    return http.reply({'limits': {'rate': [], 'absolute': absolute}})


def _quota_set(project_id, detail=False):
    lim = _limits(project_id)
    out = {'id': project_id}
    used = _counted(project_id) if detail else {}
    for r in _shown():
        out[r] = {'limit': lim[r], 'in_use': used.get(r, 0), 'reserved': 0} if detail \
            else lim[r]
    return out


def _check_project(ctx, project_id):
    if project_id != ctx.project_id:
        policy.authorize(ctx, 'os_compute_api:os-quota-sets:show', {})


def show_quota(project_id):
    ctx = http.context()
    _check_project(ctx, project_id)
    return http.reply({'quota_set': _quota_set(project_id)})


def show_quota_detail(project_id):
    ctx = http.context()
    _check_project(ctx, project_id)
    return http.reply({'quota_set': _quota_set(project_id, detail=True)})


def show_quota_defaults(project_id):
    lim = _limits('')
    return http.reply({'quota_set': dict({r: lim[r] for r in _shown()}, id=project_id)})


_LIMIT = {'type': ['integer', 'string'], 'pattern': '^-?[0-9]+$', 'minimum': -1,
          'maximum': 0x7FFFFFFF}


def _update_schema():
    return {'type': 'object', 'required': ['quota_set'], 'additionalProperties': False,
            'properties': {'quota_set': {
                'type': 'object', 'additionalProperties': False,
                'properties': dict(dict.fromkeys(_shown(), _LIMIT), force=types.BOOLEAN)}}}


def update_quota(project_id):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-quota-sets:update', {})
    body = dict(http.json_body(_update_schema())['quota_set'])
    body.pop('force', None)
    values = {}
    for r, v in body.items():
        v = int(v)
        if v < -1:
            raise exception.BadRequest('Quota limit %s for %s must be -1 or more.' % (v, r))
        if r not in NETWORK_LEGACY:  # accepted and unused, as in Nova
            values[r] = v
    quota.set_limits(project_id, values)
    out = _quota_set(project_id)
    out.pop('id')
    return http.reply({'quota_set': out})


def delete_quota(project_id):
    """The project's own limits go: its defaults apply again (202, as Nova)."""
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-quota-sets:delete', {})
    with db_api.session() as s:
        s.execute(sa.delete(cm.QuotaLimit).where(cm.QuotaLimit.project_id == project_id))
    return http.reply(status=202)


# -- os-server-groups ---------------------------------------------------------

POLICIES = ('affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity')


def _group_view(s, g):
    members = list(s.scalars(sa.select(cm.ServerGroupMember.instance_uuid).where(
        cm.ServerGroupMember.group_id == g.id)))
    # (2.64, beyond our max, has policy and rules instead of policies)
    d = {'id': g.uuid, 'name': g.name, 'members': members, 'policies': [g.policy],
         'metadata': {}}
    if microversion.at_least('2.13'):
        d.update(project_id=g.project_id, user_id=g.user_id)
    return d


def _group(s, ctx, group_id):
    q = sa.select(cm.ServerGroup).where(cm.ServerGroup.uuid == group_id)
    if not ctx.is_admin_role:
        q = q.where(cm.ServerGroup.project_id == ctx.project_id)
    g = s.scalars(q).first()
    if g is None:
        raise exception.NotFound('Server group %s could not be found.' % group_id)
    return g


def list_groups():
    ctx = http.context()
    q = sa.select(cm.ServerGroup).order_by(cm.ServerGroup.id)
    if not (ctx.is_admin_role and flask.request.args.get('all_projects')):
        q = q.where(cm.ServerGroup.project_id == ctx.project_id)
    with db_api.reader() as s:
        return http.reply({'server_groups': [_group_view(s, g) for g in s.scalars(q)]})


def create_group():
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-server-groups:create',
                     {'project_id': ctx.project_id})
    body = http.json_body().get('server_group')
    if not isinstance(body, dict) or not body.get('name'):
        raise exception.BadRequest("Invalid input: 'server_group' needs a 'name'.")
    pols = body.get('policies')
    if not isinstance(pols, list) or len(pols) != 1:
        raise exception.BadRequest("Invalid input: 'policies' must hold one policy.")
    pol = pols[0]
    # the soft policies come with 2.15
    offered = POLICIES if microversion.at_least('2.15') else POLICIES[:2]
    if pol not in offered:
        raise exception.BadRequest('Invalid server group policy %r: use one of %s.'
                                   % (pol, ', '.join(offered)))
    lim = quota.limits(ctx.project_id)['server_groups']
    with db_api.session() as s:
        count = s.scalar(sa.select(sa.func.count()).select_from(cm.ServerGroup).where(
            cm.ServerGroup.project_id == ctx.project_id)) or 0
        if 0 <= lim <= count:
            raise quota.OverQuota(resource='server_groups', requested=1, used=count,
                                  limit=lim)
        g = cm.ServerGroup(uuid=str(uuid_mod.uuid4()), name=body['name'],
                           project_id=ctx.project_id, user_id=ctx.user_id, policy=pol,
                           rules={})
        s.add(g)
        s.flush()
        return http.reply({'server_group': _group_view(s, g)})


def show_group(group_id):
    ctx = http.context()
    with db_api.reader() as s:
        return http.reply({'server_group': _group_view(s, _group(s, ctx, group_id))})


def delete_group(group_id):
    ctx = http.context()
    with db_api.session() as s:
        group = _group(s, ctx, group_id)
        policy.authorize(ctx, 'os_compute_api:os-server-groups:delete',
                         {'project_id': group.project_id})
        s.delete(group)
    return http.reply(status=204)


# -- os-simple-tenant-usage ---------------------------------------------------

def _window():
    args = flask.request.args
    try:
        end = timeutils.parse_isotime(args['end']).replace(tzinfo=None) \
            if args.get('end') else timeutils.utcnow()
        start = timeutils.parse_isotime(args['start']).replace(tzinfo=None) \
            if args.get('start') else end - datetime.timedelta(days=1)
    except ValueError:
        raise exception.BadRequest('Invalid start or end time.') from None
    if start > end:
        raise exception.BadRequest('start must be before end.')
    return start, end


def _usage(project_id, start, end, detailed):
    q = sa.select(cm.Instance).where(
        cm.Instance.created_at <= end,
        sa.or_(cm.Instance.terminated_at.is_(None), cm.Instance.terminated_at >= start))
    if project_id:
        q = q.where(cm.Instance.project_id == project_id)
    with db_api.reader() as s:
        rows = list(s.scalars(q))
    by_project = {}
    for inst in rows:
        begin = max(inst.created_at, start)
        finish = min(inst.terminated_at or end, end)
        hours = max((finish - begin).total_seconds(), 0) / 3600.0
        u = by_project.setdefault(inst.project_id, {
            'tenant_id': inst.project_id, 'total_hours': 0.0, 'total_vcpus_usage': 0.0,
            'total_memory_mb_usage': 0.0, 'total_local_gb_usage': 0.0,
            'start': start.isoformat(), 'stop': end.isoformat(), 'server_usages': []})
        u['total_hours'] += hours
        u['total_vcpus_usage'] += hours * inst.vcpus
        u['total_memory_mb_usage'] += hours * inst.memory_mb
        u['total_local_gb_usage'] += hours * inst.root_gb
        if detailed:
            u['server_usages'].append({
                'instance_id': inst.uuid, 'name': inst.display_name, 'hours': hours,
                'vcpus': inst.vcpus, 'memory_mb': inst.memory_mb, 'local_gb': inst.root_gb,
                'flavor': inst.flavor.get('name'), 'state': inst.vm_state,
                'tenant_id': inst.project_id, 'uptime': int(hours * 3600),
                'started_at': inst.created_at.isoformat(),
                'ended_at': inst.terminated_at.isoformat() if inst.terminated_at else None})
    for u in by_project.values():
        if not detailed:
            u.pop('server_usages')
    return list(by_project.values())


def list_usage():
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-simple-tenant-usage:list', {})
    start, end = _window()
    detailed = flask.request.args.get('detailed', '0') in ('1', 'true', 'True')
    return http.reply({'tenant_usages': _usage(None, start, end, detailed)})


def show_usage(project_id):
    ctx = http.context()
    if project_id != ctx.project_id:
        policy.authorize(ctx, 'os_compute_api:os-simple-tenant-usage:show', {})
    start, end = _window()
    usages = _usage(project_id, start, end, True)
    return http.reply({'tenant_usage': usages[0] if usages else {}})


ROUTES = [
    ('/v2.1/limits', {'GET': limits}),
    ('/v2.1/os-quota-sets/<project_id>', {'GET': show_quota, 'PUT': update_quota,
                                          'DELETE': delete_quota}),
    ('/v2.1/os-quota-sets/<project_id>/detail', {'GET': show_quota_detail}),
    ('/v2.1/os-quota-sets/<project_id>/defaults', {'GET': show_quota_defaults}),
    ('/v2.1/os-server-groups', {'GET': list_groups, 'POST': create_group}),
    ('/v2.1/os-server-groups/<group_id>', {'GET': show_group, 'DELETE': delete_group}),
    ('/v2.1/os-simple-tenant-usage', {'GET': list_usage}),
    ('/v2.1/os-simple-tenant-usage/<project_id>', {'GET': show_usage}),
]
