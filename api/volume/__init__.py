"""Cinder v3 compatible volume API, mounted at /volume (version documents so far)."""

import flask

from api import http

bp = flask.Blueprint('volume', __name__)

MIN, MAX = '3.0', '3.0'


def _v3():
    return {'id': 'v3.0', 'status': 'CURRENT', 'version': MAX, 'min_version': MIN,
            'updated': '2023-07-17T00:00:00Z',
            'links': [{'rel': 'self', 'href': http.url('volume/v3/')}],
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.volume+json;version=3'}]}


@http.public
def versions():
    return http.reply({'versions': [_v3()]}, status=300)


@http.public
def version_v3():
    return http.reply({'versions': [_v3()]})


http.route_table(bp, [
    ('/', {'GET': versions}),
    ('/v3', {'GET': version_v3}),
    ('/v3/', {'GET': version_v3}),
])
