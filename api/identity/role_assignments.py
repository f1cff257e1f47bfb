"""GET /v3/role_assignments, as Keystone answers it.

Each assignment is a role of a user or a group on a project or a domain.
``effective`` answers who holds what in the end: a group's assignment
becomes one for each of its members (with a ``membership`` link), implied
roles are added (with a ``prior_role`` link), and group entries themselves
go. Filters: user.id, group.id, role.id, scope.project.id, scope.domain.id;
``include_names`` adds names and domains.
"""

import flask
import sqlalchemy as sa

from api import http
from api.identity import resources
from common import auth
from common import exception
from common import policy
from common.db import api as db_api
from common.db import models

R = models.RoleAssignment


def _url(*parts):
    return http.url('identity/v3', *parts)


def _named(row, domains):
    dom = domains.get(row.domain_id)
    return {'id': row.id, 'name': row.name,
            'domain': {'id': row.domain_id, 'name': dom.name if dom else None}}


class _Entry:
    """One answer line: (actor kind, actor id, scope, role) and its links."""

    def __init__(self, row, actor_kind, actor_id, role_id, links):
        self.row, self.actor_kind, self.actor_id = row, actor_kind, actor_id
        self.role_id, self.links = role_id, links

    def key(self):
        return (self.actor_kind, self.actor_id, self.row.target_type, self.row.target_id,
                self.role_id)


def _assignment_link(row, kind):
    return _url('%ss' % row.target_type, row.target_id, '%ss' % kind, row.actor_id,
                'roles', row.role_id)


def _load(s, args):
    q = sa.select(R)
    for ttype in ('project', 'domain'):
        if args.get('scope.%s.id' % ttype):
            q = q.where(R.target_type == ttype, R.target_id == args['scope.%s.id' % ttype])
    rows = list(s.scalars(q))
    group_ids = set(s.scalars(sa.select(models.Group.id).where(
        models.Group.id.in_({r.actor_id for r in rows}))))
    members = {}
    for m in s.scalars(sa.select(models.GroupMembership).where(
            models.GroupMembership.group_id.in_(group_ids))):
        members.setdefault(m.group_id, []).append(m.user_id)
    return rows, group_ids, members


def _entries(rows, group_ids, members, roles, effective):
    out = []
    for r in rows:
        kind = 'group' if r.actor_id in group_ids else 'user'
        link = _assignment_link(r, kind)
        if effective and kind == 'group':
            actors = [('user', uid, {'assignment': link,
                                     'membership': _url('groups', r.actor_id, 'users', uid)})
                      for uid in sorted(members.get(r.actor_id, ()))]
        else:
            actors = [(kind, r.actor_id, {'assignment': link})]
        role_ids = [r.role_id]
        if effective and r.role_id in roles:
            role_ids = [rid for rid, _n in auth.expand_roles([roles[r.role_id]],
                                                             roles.values())]
        for akind, aid, links in actors:
            for rid in role_ids:
                extra = {} if rid == r.role_id else {'prior_role': _url('roles', r.role_id)}
                out.append(_Entry(r, akind, aid, rid, dict(links, **extra)))
    return out


def list_role_assignments():
    policy.authorize(http.context(), 'identity:list_role_assignments', {})
    args = flask.request.args
    names = http.bool_arg('include_names', False)
    effective = http.bool_arg('effective', False)
    if effective and args.get('group.id'):
        raise exception.BadRequest('Combining effective and group filter will always '
                                   'result in an empty list.')
    with db_api.reader() as s:
        rows, group_ids, members = _load(s, args)
        roles = {r.id: r for r in s.scalars(sa.select(models.Role))}
        entries = _entries(rows, group_ids, members, roles, effective)
        wanted = {'user': args.get('user.id'), 'group': args.get('group.id')}
        if wanted['user'] or wanted['group']:
            entries = [e for e in entries if wanted[e.actor_kind] == e.actor_id]
        if args.get('role.id'):
            entries = [e for e in entries if e.role_id == args['role.id']]
        seen, unique = set(), []
        for e in sorted(entries, key=_Entry.key):
            if e.key() not in seen:
                seen.add(e.key())
                unique.append(e)
        lookup = _names(s, unique) if names else None
    return http.reply({'role_assignments': [_render(e, roles, lookup) for e in unique],
                       'links': resources.links('role_assignments')})


def _names(s, entries):
    def by_id(model, ids):
        return {x.id: x for x in s.scalars(sa.select(model).where(model.id.in_(ids)))}
    return {
        'user': by_id(models.User, {e.actor_id for e in entries if e.actor_kind == 'user'}),
        'group': by_id(models.Group, {e.actor_id for e in entries if e.actor_kind == 'group'}),
        'project': by_id(models.Project, {e.row.target_id for e in entries
                                          if e.row.target_type == 'project'}),
        'domain': {d.id: d for d in s.scalars(sa.select(models.Domain))},
    }


def _render(e, roles, lookup):
    ttype, tid = e.row.target_type, e.row.target_id
    item = {'role': {'id': e.role_id}, e.actor_kind: {'id': e.actor_id},
            'scope': {ttype: {'id': tid}}, 'links': e.links}
    if lookup is None:
        return item
    domains = lookup['domain']
    role = roles.get(e.role_id)
    if role is not None:
        item['role']['name'] = role.name
    actor = lookup[e.actor_kind].get(e.actor_id)
    if actor is not None:
        item[e.actor_kind] = _named(actor, domains)
    if ttype == 'project' and tid in lookup['project']:
        item['scope']['project'] = _named(lookup['project'][tid], domains)
    elif ttype == 'domain' and tid in domains:
        item['scope']['domain'] = {'id': tid, 'name': domains[tid].name}
    return item
