"""Flavors, their extra specs and project access."""

import uuid

import flask
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from api import http
from api import microversion
from api.compute import paging
from common import exception
from common import policy
from common.db import api as db_api
from common.db import compute_models as cm

F = cm.Flavor

_create_schema = {
    'type': 'object', 'required': ['flavor'], 'additionalProperties': False,
    'properties': {'flavor': {
        'type': 'object', 'required': ['name', 'ram', 'vcpus', 'disk'],
        'additionalProperties': False,
        'properties': {
            'name': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                     'pattern': r'^(?! )[^\x00-\x1f]*(?<! )$'},
            'id': {'type': ['string', 'integer', 'null'], 'minLength': 1, 'maxLength': 255,
                   'pattern': r'^(?! )[a-zA-Z0-9. _-]+(?<! )$'},
            'ram': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$', 'minimum': 1},
            'vcpus': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$', 'minimum': 1},
            'disk': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$', 'minimum': 0},
            'OS-FLV-EXT-DATA:ephemeral': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
                                          'minimum': 0},
            'swap': {'type': ['integer', 'string'], 'pattern': '^[0-9]*$', 'minimum': 0},
            'rxtx_factor': {'type': ['number', 'string'], 'minimum': 0},
            'os-flavor-access:is_public': {'type': 'boolean'},
            'description': {'type': ['string', 'null'], 'maxLength': 65535},
        }}},
}
_specs_schema = {
    'type': 'object', 'required': ['extra_specs'], 'additionalProperties': False,
    'properties': {'extra_specs': {
        'type': 'object', 'minProperties': 1,
        'patternProperties': {r'^[a-zA-Z0-9-_:. ]{1,255}$': {
            'type': ['string', 'number', 'boolean'], 'maxLength': 255}},
        'additionalProperties': False}},
}
_update_schema = {
    'type': 'object', 'required': ['flavor'], 'additionalProperties': False,
    'properties': {'flavor': {'type': 'object', 'required': ['description'],
                              'additionalProperties': False,
                              'properties': {'description': {'type': ['string', 'null'],
                                                             'maxLength': 65535}}}},
}
_access_schema = {
    'type': 'object', 'additionalProperties': False, 'minProperties': 1, 'maxProperties': 1,
    'properties': {k: {'type': 'object', 'required': ['tenant'],
                       'properties': {'tenant': {'type': 'string', 'minLength': 1,
                                                 'maxLength': 255}},
                       'additionalProperties': False}
                   for k in ('addTenantAccess', 'removeTenantAccess')},
}


def to_dict(flavor, specs):
    """The embedded copy an instance keeps of its flavor."""
    return {'flavorid': flavor.flavorid, 'name': flavor.name, 'memory_mb': flavor.memory_mb,
            'vcpus': flavor.vcpus, 'root_gb': flavor.root_gb,
            'ephemeral_gb': flavor.ephemeral_gb, 'swap': flavor.swap,
            'extra_specs': dict(specs)}


def _specs(s, flavor):
    return {r.key: r.value for r in s.scalars(sa.select(cm.FlavorExtraSpec).where(
        cm.FlavorExtraSpec.flavor_id == flavor.id))}


def render(flavor, specs=None, detail=True):
    link = http.url('compute/v2.1/flavors', flavor.flavorid)
    d = {'id': flavor.flavorid, 'name': flavor.name,
         'links': [{'rel': 'self', 'href': link},
                   {'rel': 'bookmark', 'href': link.replace('/v2.1/', '/')}]}
    if microversion.at_least('2.55'):
        d['description'] = flavor.description
    if not detail:
        return d
    d.update({'ram': flavor.memory_mb, 'vcpus': flavor.vcpus, 'disk': flavor.root_gb,
              'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral_gb,
              'swap': flavor.swap or '',  # '' for none, until 2.75 (beyond our max)
              'rxtx_factor': flavor.rxtx_factor,
              'os-flavor-access:is_public': flavor.is_public,
              'OS-FLV-DISABLED:disabled': flavor.disabled})
    if microversion.at_least('2.61') and specs is not None:
        d['extra_specs'] = specs
    return d


def _visible(q, ctx):
    if ctx.is_admin_role:
        return q
    return q.where(sa.or_(F.is_public.is_(True), F.id.in_(
        sa.select(cm.FlavorProject.flavor_id).where(
            cm.FlavorProject.project_id == ctx.project_id))))


def find(s, ctx, flavorid):
    q = _visible(sa.select(F).where(F.flavorid == str(flavorid)), ctx)
    flavor = s.scalars(q).first()
    if flavor is None:
        raise exception.NotFound('Flavor %s could not be found.' % flavorid)
    return flavor


def _list(detail):
    ctx = http.context()
    args = flask.request.args
    q = _visible(sa.select(F), ctx)
    raw = args.get('is_public', 'true').strip().lower()
    want = None if raw == 'none' else raw in ('true', '1', 't', 'yes', 'y', 'on')
    if want is not None and (ctx.is_admin_role or want is False):
        q = q.where(F.is_public.is_(want))
    for arg, col in (('minRam', F.memory_mb), ('minDisk', F.root_gb)):
        if args.get(arg) is not None:
            try:
                q = q.where(col >= int(args[arg]))
            except ValueError:
                raise exception.BadRequest('Invalid %s filter %r: an integer is needed.'
                                           % (arg, args[arg])) from None
    sort_key = {'flavorid': F.flavorid, 'name': F.name, 'memory_mb': F.memory_mb,
                'vcpus': F.vcpus, 'root_gb': F.root_gb, 'id': F.id}.get(
        args.get('sort_key', 'flavorid'))
    if sort_key is None:
        raise exception.BadRequest('Invalid sort_key %s.' % args.get('sort_key'))
    with db_api.reader() as s:
        rows = list(s.scalars(q.order_by(sort_key.desc() if args.get('sort_dir') == 'desc'
                                         else sort_key, F.id)))
        rows = paging.page(rows, lambda f: f.flavorid)
        specs = {f.id: _specs(s, f) for f in rows} if detail else {}
    return http.reply({'flavors': [render(f, specs.get(f.id), detail) for f in rows]})


def list_flavors():
    return _list(False)


def list_flavors_detail():
    return _list(True)


def show_flavor(flavor_id):
    ctx = http.context()
    with db_api.reader() as s:
        flavor = find(s, ctx, flavor_id)
        return http.reply({'flavor': render(flavor, _specs(s, flavor))})


def _int(value, name):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise exception.BadRequest('%s must be an integer.' % name) from None


def create_flavor():
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-manage:create', {})
    body = http.json_body(_create_schema)['flavor']
    flavorid = body.get('id')
    if flavorid is None:
        flavorid = str(uuid.uuid4())
    values = dict(flavorid=str(flavorid), name=body['name'],
                  memory_mb=_int(body['ram'], 'ram'), vcpus=_int(body['vcpus'], 'vcpus'),
                  root_gb=_int(body['disk'], 'disk'),
                  ephemeral_gb=_int(body.get('OS-FLV-EXT-DATA:ephemeral'), 'ephemeral'),
                  swap=_int(body.get('swap'), 'swap'),
                  rxtx_factor=float(body.get('rxtx_factor', 1.0)),
                  is_public=body.get('os-flavor-access:is_public', True),
                  description=body.get('description'), disabled=False)
    if values['memory_mb'] < 1 or values['vcpus'] < 1:
        raise exception.BadRequest('A flavor needs at least 1 MB of RAM and 1 vCPU.')
    try:
        with db_api.session() as s:
            for col, val in (('name', values['name']), ('flavorid', values['flavorid'])):
                if s.scalars(sa.select(F).where(getattr(F, col) == val)).first():
                    raise exception.Conflict('Flavor with %s %s already exists.'
                                             % ('name' if col == 'name' else 'ID', val))
            flavor = F(**values)
            s.add(flavor)
    except sa_exc.IntegrityError:
        raise exception.Conflict('Flavor %s already exists.' % values['name']) from None
    return http.reply({'flavor': render(flavor, {})})


def update_flavor(flavor_id):
    ctx = http.context()
    if not microversion.at_least('2.55'):
        raise exception.NotFound('Updating a flavor needs microversion 2.55.')
    policy.authorize(ctx, 'os_compute_api:os-flavor-manage:update', {})
    body = http.json_body(_update_schema)['flavor']
    with db_api.session() as s:
        flavor = find(s, ctx, flavor_id)
        flavor.description = body['description']
        return http.reply({'flavor': render(flavor, _specs(s, flavor))})


def delete_flavor(flavor_id):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-manage:delete', {})
    with db_api.session() as s:
        s.delete(find(s, ctx, flavor_id))
    return http.reply(status=202)


def list_extra_specs(flavor_id):
    ctx = http.context()
    with db_api.reader() as s:
        return http.reply({'extra_specs': _specs(s, find(s, ctx, flavor_id))})


def set_extra_specs(flavor_id):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-extra-specs:create', {})
    specs = {k: str(v) for k, v in http.json_body(_specs_schema)['extra_specs'].items()}
    with db_api.session() as s:
        flavor = find(s, ctx, flavor_id)
        for k, v in specs.items():
            row = s.get(cm.FlavorExtraSpec, (flavor.id, k))
            if row is None:
                s.add(cm.FlavorExtraSpec(flavor_id=flavor.id, key=k, value=v))
            else:
                row.value = v
    return http.reply({'extra_specs': specs})


def show_extra_spec(flavor_id, key):
    ctx = http.context()
    with db_api.reader() as s:
        specs = _specs(s, find(s, ctx, flavor_id))
    if key not in specs:
        raise exception.NotFound('Flavor %s has no extra spec %s.' % (flavor_id, key))
    return http.reply({key: specs[key]})


def update_extra_spec(flavor_id, key):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-extra-specs:update', {})
    body = http.json_body()
    if list(body) != [key]:
        raise exception.BadRequest('The body must hold exactly the key %s.' % key)
    with db_api.session() as s:
        flavor = find(s, ctx, flavor_id)
        row = s.get(cm.FlavorExtraSpec, (flavor.id, key))
        if row is None:
            s.add(cm.FlavorExtraSpec(flavor_id=flavor.id, key=key, value=str(body[key])))
        else:
            row.value = str(body[key])
    return http.reply({key: str(body[key])})


def delete_extra_spec(flavor_id, key):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-extra-specs:delete', {})
    with db_api.session() as s:
        flavor = find(s, ctx, flavor_id)
        row = s.get(cm.FlavorExtraSpec, (flavor.id, key))
        if row is None:
            raise exception.NotFound('Flavor %s has no extra spec %s.' % (flavor_id, key))
        s.delete(row)
    return http.reply(status=202)


def list_access(flavor_id):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-access', {})
    with db_api.reader() as s:
        flavor = find(s, ctx, flavor_id)
        if flavor.is_public:
            raise exception.NotFound('Access list not available for public flavors.')
        rows = list(s.scalars(sa.select(cm.FlavorProject).where(
            cm.FlavorProject.flavor_id == flavor.id)))
    return http.reply({'flavor_access': [{'flavor_id': flavor.flavorid,
                                          'tenant_id': r.project_id} for r in rows]})


def flavor_action(flavor_id):
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:os-flavor-access:add_tenant_access', {})
    body = http.json_body(_access_schema)
    (action, args), = body.items()
    with db_api.session() as s:
        flavor = find(s, ctx, flavor_id)
        if flavor.is_public:
            raise exception.Conflict('Cannot set access for a public flavor.')
        row = s.get(cm.FlavorProject, (flavor.id, args['tenant']))
        if action == 'addTenantAccess':
            if row is not None:
                raise exception.Conflict('Flavor access already exists for flavor %s and '
                                         'project %s.' % (flavor_id, args['tenant']))
            s.add(cm.FlavorProject(flavor_id=flavor.id, project_id=args['tenant']))
        else:
            if row is None:
                raise exception.NotFound('Flavor access not found for flavor %s and '
                                         'project %s.' % (flavor_id, args['tenant']))
            s.delete(row)
    return list_access(flavor_id)


ROUTES = [
    ('/v2.1/flavors', {'GET': list_flavors, 'POST': create_flavor}),
    ('/v2.1/flavors/detail', {'GET': list_flavors_detail}),
    ('/v2.1/flavors/<flavor_id>', {'GET': show_flavor, 'PUT': update_flavor,
                                   'DELETE': delete_flavor}),
    ('/v2.1/flavors/<flavor_id>/os-extra_specs', {'GET': list_extra_specs,
                                                  'POST': set_extra_specs}),
    ('/v2.1/flavors/<flavor_id>/os-extra_specs/<key>', {
        'GET': show_extra_spec, 'PUT': update_extra_spec, 'DELETE': delete_extra_spec}),
    ('/v2.1/flavors/<flavor_id>/os-flavor-access', {'GET': list_access}),
    ('/v2.1/flavors/<flavor_id>/action', {'POST': flavor_action}),
]
