"""Per-request plumbing of the API service (see common.web)."""

import flask

from common import web

before_request = web.before_request

_COMPUTE_IDS = ('X-Openstack-Request-Id', 'X-Compute-Request-Id')


def after_request(resp):
    compute = flask.request.path.startswith('/compute')
    return web.after_request(resp, id_headers=_COMPUTE_IDS if compute else
                             ('X-Openstack-Request-Id',))
