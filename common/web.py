"""What every HTTP API of ours does per request, in one place: a request id
(returned in X-Openstack-Request-Id and carried by every log line), the
token check for views not marked public, and an access log line.

Flask apps register ``before_request``, call ``after_request`` from their
own after-request hook, and hand their error renderer to
``register_error_handlers``.
"""

import http.client
import re
import time
import uuid

import flask
from oslo_log import log as logging
from werkzeug import exceptions as wz

from common import auth
from common import context as ctx_mod
from common import exception
from common import unit_of_work

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
    # Its own unit of work: it only reads, so it may always run again.
    g.token_info = unit_of_work.run('token check', auth.validate, token)
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


def register_error_handlers(app, render):
    """Every error of ``app`` goes through ``render(code, message, err)``,
    which draws it in the API's own shape. Anything that is not ours is a
    bug: logged with its stack, answered 500 with no detail.

    Each request's view runs as a unit of work (common/unit_of_work.py), so
    that a transaction lost with the database's writer runs again."""
    dispatch = app.dispatch_request

    def dispatch_request(*args, **kwargs):
        return unit_of_work.run('%s %s' % (flask.request.method, flask.request.path),
                                dispatch, *args, **kwargs)
    app.dispatch_request = dispatch_request

    def ours(err):
        log = LOG.error if err.code >= 500 else LOG.info
        log('%s %s -> %d %s', flask.request.method, flask.request.path, err.code,
            err.message)
        return render(err.code, err.message, err)

    def http_error(err):
        if isinstance(err, wz.NotFound):
            message = 'The resource could not be found.'
        elif isinstance(err, wz.MethodNotAllowed):
            message = ('The method %s is not allowed for this resource.'
                       % flask.request.method)
        elif isinstance(err, wz.RequestEntityTooLarge):
            message = 'The request body is too large.'
        else:
            message = err.description or http.client.responses.get(err.code, 'Error')
        resp = render(err.code, message, err)
        if isinstance(err, wz.MethodNotAllowed) and err.valid_methods:
            resp.headers['Allow'] = ', '.join(err.valid_methods)
        return resp

    def unexpected(err):
        LOG.exception('Unexpected error in %s %s', flask.request.method, flask.request.path)
        return render(500, 'An unexpected error prevented the server from fulfilling your '
                           'request.', err)

    app.register_error_handler(exception.AltostackError, ours)
    app.register_error_handler(wz.HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
