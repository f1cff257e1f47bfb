"""Cinder v3 compatible volume API, mounted at /volume: volumes (with
metadata and actions), snapshots, volume types, limits, quota sets, user
messages, availability zones and services, under /volume/v3/<project_id>. The
volume service (blockstore) does the storage work on casts."""

import flask

from api import http
from api.volume import messages
from api.volume import microversion as mv
from api.volume import quotas
from api.volume import snapshots
from api.volume import types
from api.volume import volumes

bp = flask.Blueprint('volume', __name__)

MIN, MAX = mv.MIN, mv.MAX


@bp.before_request
def _negotiate():
    flask.g.microversion = mv.negotiator.negotiate(flask.request.headers)


@bp.after_request
def _version_headers(resp):
    ver = getattr(flask.g, 'microversion', None)
    if ver is not None:
        mv.negotiator.set_headers(resp, ver)
    return resp


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


ROUTES = [
    ('/', {'GET': versions}),
    ('/v3', {'GET': version_v3}),
    ('/v3/', {'GET': version_v3}),
] + volumes.ROUTES + snapshots.ROUTES + types.ROUTES + quotas.ROUTES + messages.ROUTES

http.route_table(bp, ROUTES)
