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

from common import web

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


def _render_error(code, message, err=None):
    return render(code, message, neutron_type=getattr(err, 'neutron_type', None))


def register(app):
    web.register_error_handlers(app, _render_error)
