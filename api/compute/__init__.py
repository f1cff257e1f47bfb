"""Nova v2.1 compatible compute API, mounted at /compute."""

import flask

from api import http
from api.compute import consoles
from api.compute import flavors
from api.compute import hosts
from api.compute import interfaces
from api.compute import keypairs
from api.compute import microversion as mv
from api.compute import migrations
from api.compute import quotas
from api.compute import server_actions
from api.compute import server_ips
from api.compute import server_metadata
from api.compute import server_security_groups
from api.compute import server_tags
from api.compute import servers
from api.compute import services
from api.compute import volume_attachments

bp = flask.Blueprint('compute', __name__)


def _v21(full=True):
    """The v2.1 version as Nova's version documents give it: in the
    versions list without describedby and media-types, in GET /v2.1/ with."""
    links = [{'rel': 'self', 'href': http.url('compute/v2.1') + '/'}]
    v = {'id': 'v2.1', 'status': 'CURRENT', 'version': mv.MAX, 'min_version': mv.MIN,
         'updated': '2013-07-23T11:33:21Z', 'links': links}
    if full:
        links.append({'rel': 'describedby', 'type': 'text/html',
                      'href': 'http://docs.openstack.org/'})
        v['media-types'] = [{'base': 'application/json',
                             'type': 'application/vnd.openstack.compute+json;version=2.1'}]
    return v


@bp.before_request
def _negotiate():
    flask.g.microversion = mv.negotiator.negotiate(flask.request.headers)


@bp.after_request
def _version_headers(resp):
    ver = getattr(flask.g, 'microversion', None)
    if ver is not None:
        mv.negotiator.set_headers(resp, ver)
    return resp


@http.public
def versions():
    # v2.0 is listed as Nova lists it (deprecated); it is not served here.
    v20 = {'id': 'v2.0', 'status': 'DEPRECATED', 'version': '', 'min_version': '',
           'updated': '2025-07-04T12:00:00Z',
           'links': [{'rel': 'self', 'href': http.url('compute/v2/')}]}
    return http.reply({'versions': [v20, _v21(full=False)]})


@http.public
def version_v21():
    return http.reply({'version': _v21()})


ROUTES = [
    ('/', {'GET': versions}),
    ('/v2.1', {'GET': version_v21}),
    ('/v2.1/', {'GET': version_v21}),
] + (services.ROUTES + flavors.ROUTES + keypairs.ROUTES + servers.ROUTES +
      server_actions.ROUTES + consoles.ROUTES + interfaces.ROUTES + hosts.ROUTES +
      quotas.ROUTES + volume_attachments.ROUTES + migrations.ROUTES +
      server_metadata.ROUTES + server_tags.ROUTES + server_ips.ROUTES +
      server_security_groups.ROUTES)

http.route_table(bp, ROUTES)
