"""Role grants to users and groups on projects and domains, and the projects
of a user."""

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
_ACTORS = {'user': models.User, 'group': models.Group}


def _check(s, target_type, target_id, actor_type, actor_id, role_id=None):
    resources.get_or_404(s, _TARGETS[target_type], target_type, target_id)
    resources.get_or_404(s, _ACTORS[actor_type], actor_type, actor_id)
    if role_id is not None:
        resources.get_or_404(s, models.Role, 'role', role_id)


def _no_grant(target_type, target_id, actor_id, role_id):
    return exception.NotFound('Could not find role assignment with role: %s, user or '
                              'group: %s, %s: %s.' % (role_id, actor_id, target_type,
                                                      target_id))


def _grant_views(target_type, actor_type):
    """The list, check, grant and revoke handlers of the roles of a user or
    a group (``actor_type``) on a project or a domain (``target_type``).
    A group's grant is kept as a user's is, with the group's id as actor."""

    def list_grants(target_id, actor_id):
        policy.authorize(http.context(), 'identity:list_grants', {})
        with db_api.reader() as s:
            _check(s, target_type, target_id, actor_type, actor_id)
            roles = list(s.scalars(
                sa.select(models.Role).join(R, R.role_id == models.Role.id)
                .where(R.actor_id == actor_id, R.target_type == target_type,
                       R.target_id == target_id).order_by(models.Role.name)))
        return http.reply({'roles': [resources.Roles().render(r) for r in roles],
                           'links': resources.links(flask.request.path)})

    def check_grant(target_id, actor_id, role_id):
        policy.authorize(http.context(), 'identity:check_grant', {})
        with db_api.reader() as s:
            _check(s, target_type, target_id, actor_type, actor_id, role_id)
            found = s.get(R, (actor_id, target_type, target_id, role_id))
        if found is None:
            raise _no_grant(target_type, target_id, actor_id, role_id)
        return http.reply(status=204)

    def create_grant(target_id, actor_id, role_id):
        policy.authorize(http.context(), 'identity:create_grant', {})
        with db_api.session() as s:
            _check(s, target_type, target_id, actor_type, actor_id, role_id)
            if s.get(R, (actor_id, target_type, target_id, role_id)) is None:
                s.add(R(actor_id=actor_id, target_type=target_type, target_id=target_id,
                        role_id=role_id))
        auth.changed()
        return http.reply(status=204)

    def revoke_grant(target_id, actor_id, role_id):
        policy.authorize(http.context(), 'identity:revoke_grant', {})
        with db_api.session() as s:
            _check(s, target_type, target_id, actor_type, actor_id, role_id)
            row = s.get(R, (actor_id, target_type, target_id, role_id))
            if row is None:
                raise _no_grant(target_type, target_id, actor_id, role_id)
            s.delete(row)
        auth.changed()
        return http.reply(status=204)

    for fn in (list_grants, check_grant, create_grant, revoke_grant):
        fn.__name__ = '%s_%s_%s' % (fn.__name__, actor_type, target_type)
    return list_grants, check_grant, create_grant, revoke_grant


# {(target collection, actor collection): (list, check, grant, revoke)}
GRANTS = {('%ss' % t, '%ss' % a): _grant_views(t, a)
          for t in ('project', 'domain') for a in ('user', 'group')}


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
            sa.select(R.target_id).where(auth.held_by(user_id),
                                         R.target_type == 'project')))
        .order_by(models.Project.name)))


def projects_of(user_id):
    with db_api.reader() as s:
        return _projects_of(s, user_id)
