"""Errors of the image API, rendered the way Glance renders them: a small
HTML page with the status line and the message. openstacksdk strips the
tags and shows "<code> <reason>: <message>". Anything unexpected is logged
with its stack and answered 500 with no detail.
"""

import html
import http.client

import flask

from common import web
from common.conf import CONF

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


def render(code, message, err=None):
    status = '%d %s' % (code, http.client.responses.get(code, 'Error'))
    body = _PAGE % {'status': status, 'message': html.escape(message, quote=False)}
    resp = flask.Response(body, status=code, content_type='text/html; charset=UTF-8')
    if code == 401:
        resp.headers['WWW-Authenticate'] = 'Keystone uri="http://%s:%d/identity"' % (
            CONF.api.public_host, CONF.api.public_port or CONF.api.bind_port)
    extra = getattr(err, 'headers', None)
    if isinstance(extra, dict):
        resp.headers.update(extra)  # e.g. Accept-Patch with a 415
    return resp


def register(app):
    web.register_error_handlers(app, render)
