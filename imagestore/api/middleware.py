"""Per-request plumbing of the image API: request ids, token check, access log."""

import re
import time
import uuid

import flask
from oslo_log import log as logging

from common import auth
from common import context as ctx_mod
from common import exception

LOG = logging.getLogger(__name__)
_GLOBAL_ID = re.compile(r'^req-[a-f0-9]{8}(-[a-f0-9]{4}){3}-[a-f0-9]{12}$')


def before_request():
    g = flask.g
    g.started = time.monotonic()
    g.request_id = 'req-%s' % uuid.uuid4()
    inbound = flask.request.headers.get('X-OpenStack-Request-ID')
    g.global_request_id = inbound if inbound and _GLOBAL_ID.match(inbound) else None
    g.context = ctx_mod.RequestContext(request_id=g.request_id,
                                       global_request_id=g.global_request_id,
                                       overwrite=True)
    view = flask.current_app.view_functions.get(flask.request.endpoint)
    if view is None or getattr(view, 'public', False):
        return None
    token = flask.request.headers.get('X-Auth-Token')
    if not token:
        raise exception.Unauthorized()
    g.context = auth.validate(token).to_context(g.request_id, g.global_request_id)
    return None


def after_request(resp):
    g = flask.g
    rid = getattr(g, 'request_id', None)
    if rid:
        resp.headers['X-Openstack-Request-Id'] = rid
    started = getattr(g, 'started', None)
    if started is not None and LOG.isEnabledFor(logging.INFO):
        path = flask.request.full_path.rstrip('?')
        if flask.request.path.startswith('/internal/'):
            path = flask.request.path  # keep signatures out of the logs
        LOG.info('%s %s -> %d (%.1f ms)', flask.request.method, path, resp.status_code,
                 (time.monotonic() - started) * 1000)
    return resp
