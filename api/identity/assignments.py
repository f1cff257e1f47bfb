"""Role grants on projects and domains, and the role assignment listing."""

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
_TARGETS = {'project': models.Project, 'domain': models.Domain}


def _check(s, target_type, target_id, user_id, role_id=None):
    resources.get_or_404(s, _TARGETS[target_type], target_type, target_id)
    resources.get_or_404(s, models.User, 'user', user_id)
    if role_id is not None:
        resources.get_or_404(s, models.Role, 'role', role_id)


def _grant_views(target_type):
    def list_grants(target_id, user_id):
        policy.authorize(http.context(), 'identity:list_grants', {})
        with db_api.reader() as s:
            _check(s, target_type, target_id, user_id)
            roles = list(s.scalars(
                sa.select(models.Role).join(R, R.role_id == models.Role.id)
                .where(R.actor_id == user_id, R.target_type == target_type,
                       R.target_id == target_id).order_by(models.Role.name)))
        return http.reply({'roles': [resources.Roles().render(r) for r in roles],
                           'links': resources.links(flask.request.path)})

    def check_grant(target_id, user_id, role_id):
        policy.authorize(http.context(), 'identity:check_grant', {})
        with db_api.reader() as s:
            _check(s, target_type, target_id, user_id, role_id)
            found = s.get(R, (user_id, target_type, target_id, role_id))
        if found is None:
            raise exception.NotFound('Could not find role assignment with role: %s, user '
                                     'or group: %s, %s: %s.'
                                     % (role_id, user_id, target_type, target_id))
        return http.reply(status=204)

    def create_grant(target_id, user_id, role_id):
        policy.authorize(http.context(), 'identity:create_grant', {})
        with db_api.session() as s:
            _check(s, target_type, target_id, user_id, role_id)
            if s.get(R, (user_id, target_type, target_id, role_id)) is None:
                s.add(R(actor_id=user_id, target_type=target_type, target_id=target_id,
                        role_id=role_id))
        auth.changed()
        return http.reply(status=204)

    def revoke_grant(target_id, user_id, role_id):
        policy.authorize(http.context(), 'identity:revoke_grant', {})
        with db_api.session() as s:
            _check(s, target_type, target_id, user_id, role_id)
            row = s.get(R, (user_id, target_type, target_id, role_id))
            if row is None:
                raise exception.NotFound('Could not find role assignment with role: %s, '
                                         'user: %s, %s: %s.'
                                         % (role_id, user_id, target_type, target_id))
            s.delete(row)
        auth.changed()
        return http.reply(status=204)

    for fn in (list_grants, check_grant, create_grant, revoke_grant):
        fn.__name__ = '%s_%s' % (fn.__name__, target_type)
    return list_grants, check_grant, create_grant, revoke_grant


project_grants = _grant_views('project')
domain_grants = _grant_views('domain')


def _named(row, domains):
    dom = domains.get(row.domain_id)
    return {'id': row.id, 'name': row.name,
            'domain': {'id': row.domain_id, 'name': dom.name if dom else None}}


def list_role_assignments():
    policy.authorize(http.context(), 'identity:list_role_assignments', {})
    args = flask.request.args
    names = http.bool_arg('include_names', False)
    effective = http.bool_arg('effective', False)
    if args.get('group.id'):
        return http.reply({'role_assignments': [],
                           'links': resources.links('role_assignments')})
    q = sa.select(R)
    if args.get('user.id'):
        q = q.where(R.actor_id == args['user.id'])
    if args.get('role.id'):
        q = q.where(R.role_id == args['role.id'])
    for ttype in ('project', 'domain'):
        if args.get('scope.%s.id' % ttype):
            q = q.where(R.target_type == ttype, R.target_id == args['scope.%s.id' % ttype])
    with db_api.reader() as s:
        rows = list(s.scalars(q))
        roles = {r.id: r for r in s.scalars(sa.select(models.Role))}
        users = {u.id: u for u in s.scalars(sa.select(models.User).where(
            models.User.id.in_({r.actor_id for r in rows})))}
        projects = {p.id: p for p in s.scalars(sa.select(models.Project).where(
            models.Project.id.in_({r.target_id for r in rows if r.target_type == 'project'})))}
        domains = {d.id: d for d in s.scalars(sa.select(models.Domain))}
    pairs = [(r, r.role_id) for r in rows]
    if effective:
        expanded = []
        for r in rows:
            for role_id, _name in auth.expand_roles([roles[r.role_id]], roles.values()):
                expanded.append((r, role_id))
        pairs = sorted(set(expanded), key=lambda p: (p[0].actor_id, p[0].target_id, p[1]))
    out = []
    for r, role_id in pairs:
        role = roles[role_id]
        item = {'role': {'id': role.id}, 'user': {'id': r.actor_id},
                'scope': {r.target_type: {'id': r.target_id}},
                'links': {'assignment': http.url(
                    'identity/v3', '%ss' % r.target_type, r.target_id, 'users', r.actor_id,
                    'roles', role.id)}}
        if names:
            item['role']['name'] = role.name
            if r.actor_id in users:
                item['user'] = _named(users[r.actor_id], domains)
            target = projects.get(r.target_id) if r.target_type == 'project' else \
                domains.get(r.target_id)
            if target is not None:
                if r.target_type == 'project':
                    item['scope']['project'] = _named(target, domains)
                else:
                    item['scope']['domain'] = {'id': target.id, 'name': target.name}
        out.append(item)
    return http.reply({'role_assignments': out, 'links': resources.links('role_assignments')})


def list_user_projects(user_id):
    policy.authorize(http.context(), 'identity:list_user_projects', {'user_id': user_id})
    with db_api.reader() as s:
        resources.get_or_404(s, models.User, 'user', user_id)
        projects = _projects_of(s, user_id)
    return http.reply({'projects': [resources.Projects().render(p) for p in projects],
                       'links': resources.links('users', user_id, 'projects')})


def _projects_of(s, user_id):
    return list(s.scalars(
        sa.select(models.Project).where(models.Project.id.in_(
            sa.select(R.target_id).where(R.actor_id == user_id,
                                         R.target_type == 'project')))
        .order_by(models.Project.name)))


def projects_of(user_id):
    with db_api.reader() as s:
        return _projects_of(s, user_id)
