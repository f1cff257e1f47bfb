"""Neutron v2.0 compatible network API, mounted at /network (version document so far)."""

import flask

from api import http

bp = flask.Blueprint('network', __name__)


@http.public
def versions():
    return http.reply({'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                                     'links': [{'rel': 'self',
                                                'href': http.url('network/v2.0/')}]}]})


def extensions():
    return http.reply({'extensions': []})


http.route_table(bp, [
    ('/', {'GET': versions}),
    ('/v2.0/extensions', {'GET': extensions}),
])
