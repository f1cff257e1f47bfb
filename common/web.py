"""What every HTTP API of ours does per request, in one place: a request id
(returned in X-Openstack-Request-Id and carried by every log line), the
token check for views not marked public, and an access log line.

Flask apps register ``before_request`` and call ``after_request`` from
their own after-request hook.
"""

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


def public(fn):
    """Mark a view that needs no token (version documents, token issue,
    signed internal URLs)."""
    fn.public = True
    return fn


def before_request():
    g = flask.g
    g.started = time.monotonic()
    g.request_id = 'req-%s' % uuid.uuid4()
    inbound = flask.request.headers.get('X-OpenStack-Request-ID')
    g.global_request_id = inbound if inbound and _GLOBAL_ID.match(inbound) else None
    # An anonymous context first, so that every log line carries the id.
    g.context = ctx_mod.RequestContext(request_id=g.request_id,
                                       global_request_id=g.global_request_id,
                                       overwrite=True)
    view = flask.current_app.view_functions.get(flask.request.endpoint)
    if view is None or getattr(view, 'public', False):
        return None
    token = flask.request.headers.get('X-Auth-Token')
    if not token:
        raise exception.Unauthorized()
    g.token_info = auth.validate(token)
    g.context = g.token_info.to_context(g.request_id, g.global_request_id)
    return None


def after_request(resp, id_headers=('X-Openstack-Request-Id',), logged_path=None):
    """Request id headers and the access log; ``logged_path`` replaces the
    path with its query (to keep secrets such as signatures out of logs)."""
    g = flask.g
    rid = getattr(g, 'request_id', None)
    if rid:
        for header in id_headers:
            resp.headers[header] = rid
    started = getattr(g, 'started', None)
    if started is not None and LOG.isEnabledFor(logging.INFO):
        path = logged_path or flask.request.full_path.rstrip('?')
        LOG.info('%s %s -> %d (%.1f ms)', flask.request.method, path, resp.status_code,
                 (time.monotonic() - started) * 1000)
    return resp
