"""Errors of the image API, rendered the way Glance renders them: a small
HTML page with the status line and the message. openstacksdk strips the
tags and shows "<code> <reason>: <message>". Anything unexpected is logged
with its stack and answered 500 with no detail.
"""

import html
import http.client

import flask
from oslo_log import log as logging
from werkzeug import exceptions as wz

from common import exception
from common.conf import CONF

LOG = logging.getLogger(__name__)

_PAGE = """<html>
 <head>
  <title>%(status)s</title>
 </head>
 <body>
  <h1>%(status)s</h1>
  %(message)s<br /><br />
 </body>
</html>
"""


def render(code, message):
    status = '%d %s' % (code, http.client.responses.get(code, 'Error'))
    body = _PAGE % {'status': status, 'message': html.escape(message, quote=False)}
    resp = flask.Response(body, status=code, content_type='text/html; charset=UTF-8')
    if code == 401:
        resp.headers['WWW-Authenticate'] = 'Keystone uri="http://%s:%d/identity"' % (
            CONF.api.public_host, CONF.api.bind_port)
    return resp


def _altostack_error(err):
    if err.code >= 500:
        LOG.error('%s %s -> %d %s', flask.request.method, flask.request.path, err.code,
                  err.message)
    else:
        LOG.info('%s %s -> %d %s', flask.request.method, flask.request.path, err.code,
                 err.message)
    return render(err.code, err.message)


def _http_error(err):
    if isinstance(err, wz.NotFound):
        message = 'The resource could not be found.'
    elif isinstance(err, wz.MethodNotAllowed):
        message = 'The method %s is not allowed for this resource.' % flask.request.method
    elif isinstance(err, wz.RequestEntityTooLarge):
        message = 'The request body is too large.'
    else:
        message = err.description or http.client.responses.get(err.code, 'Error')
    resp = render(err.code, message)
    if isinstance(err, wz.MethodNotAllowed) and err.valid_methods:
        resp.headers['Allow'] = ', '.join(err.valid_methods)
    return resp


def _unexpected(err):
    LOG.exception('Unexpected error in %s %s', flask.request.method, flask.request.path)
    return render(500, 'An unexpected error prevented the server from fulfilling your '
                       'request.')


def register(app):
    app.register_error_handler(exception.AltostackError, _altostack_error)
    app.register_error_handler(wz.HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
