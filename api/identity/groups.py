"""Group membership: PUT/HEAD/DELETE /v3/groups/{g}/users/{u}, the users of
a group and the groups of a user. A group's roles reach its members through
common.auth.held_by; a membership change is an identity change, so cached
token validations are dropped at once (auth.changed)."""

import flask
import sqlalchemy as sa

from api import http
from api.identity import resources
from common import auth
from common import exception
from common import policy
from common.db import api as db_api
from common.db import models

M = models.GroupMembership


def _both(s, group_id, user_id):
    resources.get_or_404(s, models.Group, 'group', group_id)
    resources.get_or_404(s, models.User, 'user', user_id)


def _not_member(group_id, user_id):
    return exception.NotFound('User %s is not a member of group %s.' % (user_id, group_id))


def add_user(group_id, user_id):
    policy.authorize(http.context(), 'identity:add_user_to_group', {'group_id': group_id})
    with db_api.session() as s:
        _both(s, group_id, user_id)
        if s.get(M, (group_id, user_id)) is None:
            s.add(M(group_id=group_id, user_id=user_id))
    auth.changed()
    return http.reply(status=204)


def check_user(group_id, user_id):
    policy.authorize(http.context(), 'identity:check_user_in_group', {'group_id': group_id})
    with db_api.reader() as s:
        _both(s, group_id, user_id)
        found = s.get(M, (group_id, user_id))
    if found is None:
        raise _not_member(group_id, user_id)
    return http.reply(status=204)


def remove_user(group_id, user_id):
    policy.authorize(http.context(), 'identity:remove_user_from_group',
                     {'group_id': group_id})
    with db_api.session() as s:
        _both(s, group_id, user_id)
        row = s.get(M, (group_id, user_id))
        if row is None:
            raise _not_member(group_id, user_id)
        s.delete(row)
    auth.changed()
    return http.reply(status=204)


def list_users(group_id):
    policy.authorize(http.context(), 'identity:list_users_in_group', {'group_id': group_id})
    with db_api.reader() as s:
        resources.get_or_404(s, models.Group, 'group', group_id)
        q = sa.select(models.User).join(M, M.user_id == models.User.id).where(
            M.group_id == group_id)
        for f in ('name', 'domain_id'):
            if flask.request.args.get(f):
                q = q.where(getattr(models.User, f) == flask.request.args[f])
        users = list(s.scalars(q.order_by(models.User.name)))
    return http.reply({'users': [resources.Users().render(u) for u in users],
                       'links': resources.links('groups', group_id, 'users')})


def list_user_groups(user_id):
    policy.authorize(http.context(), 'identity:list_groups_for_user', {'user_id': user_id})
    with db_api.reader() as s:
        resources.get_or_404(s, models.User, 'user', user_id)
        groups = list(s.scalars(
            sa.select(models.Group).join(M, M.group_id == models.Group.id)
            .where(M.user_id == user_id).order_by(models.Group.name)))
    return http.reply({'groups': [dict(resources.Groups().render(g), membership_expires_at=None)
                                  for g in groups],
                       'links': resources.links('users', user_id, 'groups')})
