"""types: list, show, the default; admins create and delete, and read a
type's (empty) encryption spec."""

import flask

from api import http
from api.volume import base
from api.volume import views
from blockstore import types as volume_types
from common import exception

CREATE = {
    'type': 'object', 'required': ['volume_type'],
    'properties': {'volume_type': {
        'type': 'object', 'required': ['name'],
        'properties': {'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                       'description': {'type': ['string', 'null'], 'maxLength': 255},
                       'os-volume-type-access:is_public': {'type': ['boolean', 'string']},
                       'extra_specs': {'type': 'object'}}}},
}


def list_types(project_id):
    base.check_project(project_id)
    raw = (flask.request.args.get('is_public') or '').strip().lower()
    if raw == 'none':
        is_public = None if base.is_admin() else True
    elif raw in ('false', '0', 'no'):
        is_public = False if base.is_admin() else True
    else:
        is_public = True
    return http.reply({'volume_types': [views.volume_type(t)
                                        for t in volume_types.list_types(is_public)]})


def show_type(project_id, type_id):
    base.check_project(project_id)
    if type_id == 'default':
        try:
            vt = volume_types.default_type()
        except exception.NotFound:
            raise exception.NotFound('Default volume type can not be found.') from None
    else:
        vt = volume_types.get_type(type_id)
    return http.reply({'volume_type': views.volume_type(vt)})


def create_type(project_id):
    base.check_project(project_id)
    base.authorize('volume_extension:types_manage')
    body = http.json_body(CREATE)['volume_type']
    public = body.get('os-volume-type-access:is_public', True)
    if isinstance(public, str):
        public = public.strip().lower() in ('true', '1', 'yes')
    vt = volume_types.create_type(body['name'], body.get('description'), public,
                                  body.get('extra_specs'))
    return http.reply({'volume_type': views.volume_type(vt)})


def delete_type(project_id, type_id):
    base.check_project(project_id)
    base.authorize('volume_extension:types_manage')
    volume_types.delete_type(type_id)
    return http.reply(status=202)


def show_encryption(project_id, type_id):
    """Cinder's encryption spec of a type, for admins: this cloud encrypts
    no volumes, so every type answers Cinder's answer for an unencrypted
    one, an empty object (after the type is found)."""
    base.check_project(project_id)
    base.authorize('volume_extension:volume_type_encryption:get')
    volume_types.get_type(type_id)
    return http.reply({})


P = '/v3/<project_id>/types'
ROUTES = [
    (P, {'GET': list_types, 'POST': create_type}),
    (P + '/<type_id>', {'GET': show_type, 'DELETE': delete_type}),
    (P + '/<type_id>/encryption', {'GET': show_encryption}),
]
