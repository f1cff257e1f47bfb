"""routers: list, show, create, update, delete; add/remove_router_interface
(by subnet_id or port_id) and add/remove_extraroutes. The rules are in
network/routers.py and network/interfaces.py."""

from api import http
from api.network import attrs
from api.network import query
from network import exception as ne
from network import interfaces
from network import notify
from network import routers as db
from network import state as netstate

A = attrs.Attr

SPEC = {
    'name': attrs.NAME, 'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'admin_state_up': A(attrs.boolean),
    'external_gateway_info': A(lambda attr, v: db.parse_gateway(v)),
    'routes': A(lambda attr, v: db.parse_routes(v), post=False),
    'availability_zone_hints': A(attrs.list_of(attrs.string()), put=False),
    'tags': A(attrs.tags, put=False),
}


def _authorize_gateway(info, project_id, current=None, put=False):
    """Turning SNAT off and picking a gateway address are an admin's."""
    if info is None:
        return
    verb = 'update' if put else 'create'
    attrs.authorize('%s_router:external_gateway_info' % verb, project_id)
    before = (current or {}).get('external_gateway_info') or {}
    if info.get('enable_snat') is False and before.get('enable_snat') is not False:
        attrs.authorize('%s_router:external_gateway_info:enable_snat' % verb, project_id)
    wanted = [(f.get('subnet_id'), f.get('ip_address'))
              for f in info.get('external_fixed_ips') or [] if isinstance(f, dict)]
    held = [(f['subnet_id'], f['ip_address']) for f in before.get('external_fixed_ips') or []]
    if any(ip and (sub, ip) not in held and ip not in [h[1] for h in held]
           for sub, ip in wanted):
        attrs.authorize('%s_router:external_gateway_info:external_fixed_ips' % verb,
                        project_id)


def list_routers():
    ctx = http.context()
    items = db.list_routers(ctx, ids=query.arg_list('id'), names=query.arg_list('name'))
    return query.listing('router', 'routers', items)


def show_router(router_id):
    return http.reply(query.show('router', db.get_router(http.context(), router_id)))


def create_router():
    ctx = http.context()
    values = attrs.parse('router', SPEC)
    values.pop('availability_zone_hints', None)
    project_id = values.get('project_id') or ctx.project_id
    attrs.authorize('create_router', project_id)
    _authorize_gateway(values.get('external_gateway_info'), project_id)
    return http.reply(query.show('router', db.create_router(ctx, values)), status=201)


def update_router(router_id):
    ctx = http.context()
    values = attrs.parse('router', SPEC, put=True)
    current = db.get_router(ctx, router_id)
    attrs.authorize('update_router', current['project_id'])
    if 'external_gateway_info' in values:
        _authorize_gateway(values['external_gateway_info'], current['project_id'], current,
                           put=True)
    # Before and after: a gateway that goes takes the SNAT ports off their host.
    hosts = netstate.hosts_for_router(router_id)
    router = db.update_router(ctx, router_id, values)
    if {'external_gateway_info', 'routes', 'admin_state_up'} & set(values):
        notify.refresh_hosts(ctx, hosts | netstate.hosts_for_router(router_id))
    return http.reply(query.show('router', router))


def delete_router(router_id):
    ctx = http.context()
    attrs.authorize('delete_router', db.get_router(ctx, router_id)['project_id'])
    db.delete_router(ctx, router_id)
    return http.reply(status=204)


def add_interface(router_id):
    ctx = http.context()
    attrs.authorize('add_router_interface', db.get_router(ctx, router_id)['project_id'])
    info = interfaces.add_interface(ctx, router_id, http.json_body())
    notify.refresh_hosts(ctx, netstate.hosts_for_router(router_id))
    return http.reply(info)


def remove_interface(router_id):
    ctx = http.context()
    attrs.authorize('remove_router_interface', db.get_router(ctx, router_id)['project_id'])
    hosts = netstate.hosts_for_router(router_id)
    info = interfaces.remove_interface(ctx, router_id, http.json_body())
    notify.refresh_hosts(ctx, hosts)
    return http.reply(info)


def _route_body():
    body = http.json_body().get('router')
    if not isinstance(body, dict) or set(body) != {'routes'}:
        raise ne.HTTPBadRequest(msg="Unable to find 'routes' in request body")
    return db.parse_routes(body['routes'])


def _change_routes(router_id, add):
    ctx = http.context()
    rule = 'add_extraroutes' if add else 'remove_extraroutes'
    attrs.authorize(rule, db.get_router(ctx, router_id)['project_id'])
    router = db.change_routes(ctx, router_id, _route_body(), add=add)
    notify.refresh_hosts(ctx, netstate.hosts_for_router(router_id))
    return http.reply(query.show('router', router))


def add_extraroutes(router_id):
    return _change_routes(router_id, add=True)


def remove_extraroutes(router_id):
    return _change_routes(router_id, add=False)


ROUTES = [
    ('/v2.0/routers', {'GET': list_routers, 'POST': create_router}),
    ('/v2.0/routers/<router_id>', {'GET': show_router, 'PUT': update_router,
                                   'DELETE': delete_router}),
    ('/v2.0/routers/<router_id>/add_router_interface', {'PUT': add_interface}),
    ('/v2.0/routers/<router_id>/remove_router_interface', {'PUT': remove_interface}),
    ('/v2.0/routers/<router_id>/add_extraroutes', {'PUT': add_extraroutes}),
    ('/v2.0/routers/<router_id>/remove_extraroutes', {'PUT': remove_extraroutes}),
]
