"""Server metadata: /servers/{id}/metadata and /servers/{id}/metadata/{key},
with Nova's rules.

GET lists or shows (404 "Metadata item was not found" for a missing key);
PUT .../metadata replaces all, POST .../metadata merges, PUT .../{key}
sets one item (its body {"meta": {key: value}} names exactly that key),
DELETE .../{key} removes one. Keys are 1 to 255 of letters, digits and
-_:. and space, values up to 255 characters. More items than the project's
metadata_items quota is a 403; changes need the server ACTIVE, PAUSED,
SUSPENDED or SHUTOFF with no task under way, and not locked for anyone but
an admin (409 otherwise, as Nova's state and lock checks answer).
"""

from api import http
from api.compute import schema_types as types
from api.compute import servers
from common import exception
from common import instance_states as st
from common.db import instances

_METADATA_BODY = {'type': 'object', 'required': ['metadata'], 'additionalProperties': False,
                  'properties': {'metadata': types.METADATA}}
_META_BODY = {'type': 'object', 'required': ['meta'], 'additionalProperties': False,
              'properties': {'meta': dict(types.METADATA, minProperties=1,
                                          maxProperties=1)}}


class MetadataItemNotFound(exception.NotFound):
    msg_fmt = 'Metadata item was not found'


def _instance(ctx, server_id, rule):
    return servers.get_instance(ctx, server_id, rule='server-metadata:' + rule)


def _save(ctx, inst, metadata):
    """Store the server's whole metadata if its state and lock allow it."""
    servers.check_metadata_quota(inst.project_id, metadata)
    vm_ok, task_ok, _next = st.ACTIONS['update_metadata']
    instances.update(inst.uuid, {'meta': dict(metadata)}, vm_states=vm_ok,
                     task_states=task_ok, action='update metadata',
                     unlocked=not ctx.is_admin_role)
    return metadata


def index(server_id):
    inst = _instance(http.context(), server_id, 'index')
    return http.reply({'metadata': dict(inst.meta or {})})


def create(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'create')
    body = http.json_body(_METADATA_BODY)
    merged = dict(inst.meta or {}, **body['metadata'])
    return http.reply({'metadata': _save(ctx, inst, merged)})


def update_all(server_id):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'update_all')
    body = http.json_body(_METADATA_BODY)
    return http.reply({'metadata': _save(ctx, inst, body['metadata'])})


def show(server_id, key):
    inst = _instance(http.context(), server_id, 'show')
    meta = inst.meta or {}
    if key not in meta:
        raise MetadataItemNotFound()
    return http.reply({'meta': {key: meta[key]}})


def update(server_id, key):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'update')
    item = http.json_body(_META_BODY)['meta']
    if key not in item:
        raise exception.BadRequest('Request body and URI mismatch')
    _save(ctx, inst, dict(inst.meta or {}, **item))
    return http.reply({'meta': item})


def delete(server_id, key):
    ctx = http.context()
    inst = _instance(ctx, server_id, 'delete')
    meta = dict(inst.meta or {})
    if key not in meta:
        raise MetadataItemNotFound()
    del meta[key]
    _save(ctx, inst, meta)
    return http.reply(status=204)


ROUTES = [
    ('/v2.1/servers/<server_id>/metadata', {'GET': index, 'POST': create,
                                            'PUT': update_all}),
    ('/v2.1/servers/<server_id>/metadata/<key>', {'GET': show, 'PUT': update,
                                                  'DELETE': delete}),
]
