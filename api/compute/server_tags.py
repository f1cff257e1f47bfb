"""Server tags (2.26+): /servers/{id}/tags and /servers/{id}/tags/{tag},
with Nova's rules, and the tag filters of GET /servers.

A tag is 1 to 60 characters without '/' or ','; a server has at most 50.
GET /tags lists, PUT /tags replaces all, DELETE /tags removes all;
GET /tags/{tag} is 204 or 404, PUT /tags/{tag} adds one (201 with a
Location, 204 if it was there), DELETE /tags/{tag} removes one (404 if it
was not). Changes need the server ACTIVE, PAUSED, SUSPENDED or SHUTOFF
(409 otherwise, as Nova). Below 2.26 these URLs are a 404.
"""

import jsonschema

from api import http
from api import microversion
from api.compute import servers
from api.compute import tags as tags_mod
from common import exception
from common import instance_states as st
from common.db import instances

_REPLACE_BODY = {'type': 'object', 'required': ['tags'], 'additionalProperties': False,
                 'properties': {'tags': tags_mod.TAGS}}
_CHANGE_STATES = (st.ACTIVE, st.PAUSED, st.SUSPENDED, st.STOPPED)


def _instance(ctx, server_id, rule):
    if not microversion.at_least('2.26'):
        raise exception.NotFound('The resource could not be found.')
    return servers.get_instance(ctx, server_id, rule='os-server-tags:' + rule)


def _changeable(ctx, server_id, rule, action):
    inst = _instance(ctx, server_id, rule)
    if inst.vm_state not in _CHANGE_STATES:
        raise instances.InstanceInvalidState(action, inst.uuid, inst.vm_state,
                                             inst.task_state)
    return inst


def _save(inst, tags):
    instances.update(inst.uuid, {'tags': tags_mod.unique(tags)}, vm_states=_CHANGE_STATES,
                     action='update tags')


def index(server_id):
    inst = _instance(http.context(), server_id, 'index')
    return http.reply({'tags': inst.tags or []})


def replace(server_id):
    inst = _changeable(http.context(), server_id, 'update_all', 'update tags')
    tags = tags_mod.unique(http.json_body(_REPLACE_BODY)['tags'])
    _save(inst, tags)
    return http.reply({'tags': tags})


def delete_all(server_id):
    inst = _changeable(http.context(), server_id, 'delete_all', 'delete tags')
    _save(inst, [])
    return http.reply(status=204)


def show(server_id, tag):
    inst = _instance(http.context(), server_id, 'show')
    if tag not in (inst.tags or []):
        raise exception.NotFound("Server %s has no tag '%s'" % (server_id, tag))
    return http.reply(status=204)


def add(server_id, tag):
    inst = _changeable(http.context(), server_id, 'update', 'update tag')
    try:
        jsonschema.validate(tag, tags_mod.TAG)
    except jsonschema.ValidationError as e:
        raise exception.BadRequest("Tag '%s' is invalid. It must be a non empty string "
                                   "without characters '/' and ','. Validation error "
                                   "message: %s" % (tag, e.message)) from None
    tags = inst.tags or []
    if tag in tags:
        return http.reply(status=204)
    if len(tags) >= tags_mod.MAX_TAGS:
        raise exception.BadRequest('The number of tags exceeded the per-server limit %d'
                                   % tags_mod.MAX_TAGS)
    _save(inst, tags + [tag])
    return http.reply(status=201, headers={
        'Location': http.url('compute/v2.1/servers', inst.uuid, 'tags', tag)})


def delete(server_id, tag):
    inst = _changeable(http.context(), server_id, 'delete', 'delete tag')
    tags = inst.tags or []
    if tag not in tags:
        raise exception.NotFound("Server %s has no tag '%s'" % (server_id, tag))
    _save(inst, [t for t in tags if t != tag])
    return http.reply(status=204)


ROUTES = [
    ('/v2.1/servers/<server_id>/tags', {'GET': index, 'PUT': replace,
                                        'DELETE': delete_all}),
    ('/v2.1/servers/<server_id>/tags/<tag>', {'GET': show, 'PUT': add, 'DELETE': delete}),
]
