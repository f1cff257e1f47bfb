"""messages (3.3): why a volume operation failed after its 202 (Cinder's
user messages): list, show, delete. Below 3.3 the resource does not exist."""

import flask

from api import http
from api import microversion
from api.volume import base
from blockstore import messages
from common import exception


def _check(project_id, action):
    if not microversion.at_least('3.3'):
        raise exception.NotFound('The resource could not be found.')
    base.check_project(project_id)
    base.authorize(action, project_id)


def _scope(project_id):
    """A non-admin sees its project's messages; an admin the URL's project,
    or every project with all_tenants."""
    if base.is_admin() and http.bool_arg('all_tenants', False):
        return None
    return project_id


def view(m):
    return {'id': m['id'], 'request_id': m['request_id'], 'event_id': m['event_id'],
            'resource_type': m['resource_type'], 'resource_uuid': m['resource_uuid'],
            'message_level': m['message_level'], 'user_message': m['user_message'],
            'created_at': base.fmt(m['created_at']),
            'guaranteed_until': base.fmt(m['expires_at']),
            'links': base.link('messages', m['id'])}


def list_messages(project_id):
    _check(project_id, 'message:get_all')
    found = messages.list_messages(_scope(project_id),
                                   resource_uuid=flask.request.args.get('resource_uuid'))
    return http.reply({'messages': [view(m) for m in found]})


def show_message(project_id, message_id):
    _check(project_id, 'message:get')
    return http.reply({'message': view(messages.get(message_id, _scope(project_id)))})


def delete_message(project_id, message_id):
    _check(project_id, 'message:delete')
    messages.delete(message_id, _scope(project_id))
    return http.reply(status=204)


P = '/v3/<project_id>/messages'
ROUTES = [
    (P, {'GET': list_messages}),
    (P + '/<message_id>', {'GET': show_message, 'DELETE': delete_message}),
]
