"""A server's addresses by network: GET /servers/{id}/ips and
/servers/{id}/ips/{network label}, as Nova's ips API answers them (the
plain {"addr", "version"} entries, fixed then floating; a network the
server is not on is a 404)."""

from api import http
from api.compute import server_views as views
from api.compute import servers
from common import exception
from network import ports


def _addresses(ctx, server_id, rule):
    inst = servers.get_instance(ctx, server_id, rule='ips:' + rule)
    return views.plain_addresses(ports.addresses([inst.uuid]).get(inst.uuid) or {})


def index(server_id):
    return http.reply({'addresses': _addresses(http.context(), server_id, 'index')})


def show(server_id, network_label):
    addresses = _addresses(http.context(), server_id, 'show')
    if network_label not in addresses:
        raise exception.NotFound('Instance is not a member of specified network')
    return http.reply({network_label: addresses[network_label]})


ROUTES = [
    ('/v2.1/servers/<server_id>/ips', {'GET': index}),
    ('/v2.1/servers/<server_id>/ips/<network_label>', {'GET': show}),
]
