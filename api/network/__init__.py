"""Neutron v2.0 compatible network API, mounted at /network: networks,
subnets, ports, security groups and rules, floating IPs, routers, tags, quotas and
extensions (docs/network.md). The clients add /v2.0 themselves and make
no version discovery; GET / answers for those that do."""

import flask

from api import http
from api.network import extensions
from api.network import floatingips
from api.network import networks
from api.network import ports
from api.network import quotas
from api.network import routers
from api.network import security_groups
from api.network import subnets
from api.network import tags

bp = flask.Blueprint('network', __name__)


@http.public
def versions():
    return http.reply({'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                                     'links': [{'rel': 'self',
                                                'href': http.url('network/v2.0/')}]}]})


@http.public
def version_v20():
    return http.reply({'resources': [
        {'name': name, 'collection': coll,
         'links': [{'rel': 'self', 'href': http.url('network/v2.0', coll)}]}
        for name, coll in (('network', 'networks'), ('subnet', 'subnets'),
                           ('port', 'ports'), ('security_group', 'security-groups'),
                           ('security_group_rule', 'security-group-rules'),
                           ('floatingip', 'floatingips'), ('router', 'routers'),
                           ('quota', 'quotas'))]})


ROUTES = [
    ('/', {'GET': versions}),
    ('/v2.0', {'GET': version_v20}),
] + (extensions.ROUTES + networks.ROUTES + subnets.ROUTES + ports.ROUTES +
     security_groups.ROUTES + floatingips.ROUTES + routers.ROUTES + quotas.ROUTES +
     tags.ROUTES)

http.route_table(bp, ROUTES)
