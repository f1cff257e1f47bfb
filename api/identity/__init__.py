"""Keystone v3 compatible identity API, mounted at /identity."""

import flask

from api import http
from api.identity import assignments
from api.identity import auth_tokens as tok
from api.identity import groups
from api.identity import resources
from api.identity import role_assignments

bp = flask.Blueprint('identity', __name__)

V3_UPDATED = '2020-04-07T00:00:00Z'


def _v3():
    return {'id': 'v3.14', 'status': 'stable', 'updated': V3_UPDATED,
            'links': [{'rel': 'self', 'href': http.url('identity/v3/')}],
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.identity-v3+json'}]}


@http.public
def versions():
    return http.reply({'versions': {'values': [_v3()]}}, status=300)


@http.public
def version_v3():
    return http.reply({'version': _v3()})


ROUTES = [
    ('/', {'GET': versions}),
    ('/v3', {'GET': version_v3}),
    ('/v3/', {'GET': version_v3}),
    ('/v3/auth/tokens', {'POST': tok.issue_token, 'GET': tok.validate_token,
                         'HEAD': tok.check_token, 'DELETE': tok.revoke_token}),
    ('/v3/auth/catalog', {'GET': tok.auth_catalog}),
    ('/v3/auth/projects', {'GET': tok.auth_projects}),
    ('/v3/auth/domains', {'GET': tok.auth_domains}),
    ('/v3/users/<user_id>/password', {'POST': tok.change_password}),
    ('/v3/users/<user_id>/projects', {'GET': assignments.list_user_projects}),
    ('/v3/users/<user_id>/groups', {'GET': groups.list_user_groups}),
    ('/v3/groups/<group_id>/users', {'GET': groups.list_users}),
    ('/v3/groups/<group_id>/users/<user_id>',
     {'PUT': groups.add_user, 'HEAD': groups.check_user, 'GET': groups.check_user,
      'DELETE': groups.remove_user}),
    ('/v3/role_assignments', {'GET': role_assignments.list_role_assignments}),
]

for (_target, _actor), _views in assignments.GRANTS.items():
    _list, _check, _grant, _revoke = _views
    ROUTES += [
        ('/v3/%s/<target_id>/%s/<actor_id>/roles' % (_target, _actor), {'GET': _list}),
        ('/v3/%s/<target_id>/%s/<actor_id>/roles/<role_id>' % (_target, _actor),
         {'HEAD': _check, 'GET': _check, 'PUT': _grant, 'DELETE': _revoke}),
    ]

for _res in resources.ALL:
    _list, _get, _create, _update, _delete = resources.views(_res)
    ROUTES += [
        ('/v3/%s' % _res.collection, {'GET': _list, 'POST': _create}),
        ('/v3/%s/<id_>' % _res.collection, {'GET': _get, 'PATCH': _update,
                                            'DELETE': _delete}),
    ]

http.route_table(bp, ROUTES)
