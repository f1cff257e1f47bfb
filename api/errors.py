"""Errors in the shape each API's clients parse, decided in one place.

Keystone: {"error": {"code", "message", "title"}}
Nova and Cinder: {"<kind>": {"code", "message"}} (itemNotFound, badRequest, ...)
Neutron: {"NeutronError": {"type", "message", "detail"}}

A 401 from token checking uses Keystone's shape on every API, as
keystonemiddleware does. Anything unexpected is logged with its stack and
answered as a 500 with no detail.
"""

import http.client

import flask
from oslo_log import log as logging
from werkzeug import exceptions as wz

from common import exception

LOG = logging.getLogger(__name__)

NOVA_KINDS = {400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound',
              405: 'badMethod', 406: 'notAcceptable', 409: 'conflictingRequest',
              413: 'overLimit', 415: 'badMediaType', 501: 'notImplemented',
              503: 'serviceUnavailable'}

NEUTRON_TYPES = {400: 'BadRequest', 401: 'Unauthorized', 403: 'PolicyNotAuthorized',
                 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict',
                 503: 'ServiceUnavailable'}


def _title(code):
    return http.client.responses.get(code, 'Error')


def api_of(path):
    for prefix in ('identity', 'compute', 'volume', 'network'):
        if path == '/' + prefix or path.startswith('/' + prefix + '/'):
            return prefix
    return 'identity'


def render(code, message, api=None, neutron_type=None):
    api = api or api_of(flask.request.path)
    if code == 401 or api == 'identity':
        body = {'error': {'code': code, 'message': message, 'title': _title(code)}}
    elif api == 'network':
        body = {'NeutronError': {'type': neutron_type or NEUTRON_TYPES.get(code, 'Error'),
                                 'message': message, 'detail': ''}}
    else:
        body = {NOVA_KINDS.get(code, 'computeFault'): {'code': code, 'message': message}}
    resp = flask.jsonify(body)
    resp.status_code = code
    if code == 401:
        resp.headers['WWW-Authenticate'] = 'Keystone uri="%sidentity"' % flask.request.host_url
    return resp


def _altostack_error(err):
    if err.code >= 500:
        LOG.error('%s: %s', type(err).__name__, err.message)
    else:
        LOG.info('%s %s -> %d %s', flask.request.method, flask.request.path, err.code,
                 err.message)
    return render(err.code, err.message,
                  neutron_type=getattr(err, 'neutron_type', None) or None)


def _http_error(err):
    if isinstance(err, wz.NotFound):
        message = 'The resource could not be found.'
    elif isinstance(err, wz.MethodNotAllowed):
        message = 'The method %s is not allowed for this resource.' % flask.request.method
    else:
        message = err.description or _title(err.code)
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
