"""os-services: the workers, their heartbeats and their enabled flag."""

import flask

from api import http
from api import microversion
from common import exception
from common import policy
from common import servicegroup
from common.conf import CONF

_update_schema = {
    'type': 'object',
    'properties': {
        'status': {'enum': ['enabled', 'disabled']},
        'disabled_reason': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'forced_down': {'type': 'boolean'},
    },
    'additionalProperties': False,
}

_legacy_schema = {
    'type': 'object',
    'properties': {
        'host': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'binary': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'disabled_reason': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'forced_down': {'type': 'boolean'},
    },
    'required': ['host', 'binary'],
    'additionalProperties': False,
}


def _fmt(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%S.%f') if dt else None


def _zone(rec):
    return CONF.default_availability_zone if rec.binary == 'nova-compute' else rec.zone


def render(rec):
    d = {'id': rec.uuid if microversion.at_least('2.53') else rec.id,
         'binary': rec.binary, 'host': rec.host, 'zone': _zone(rec),
         'status': 'disabled' if rec.disabled else 'enabled',
         'state': 'up' if servicegroup.is_up(rec) else 'down',
         'updated_at': _fmt(rec.updated_at), 'disabled_reason': rec.disabled_reason}
    if microversion.at_least('2.11'):
        d['forced_down'] = rec.forced_down
    return d


def list_services():
    policy.authorize(http.context(), 'os_compute_api:os-services:list', {})
    args = flask.request.args
    recs = servicegroup.list_services(binary=args.get('binary'), host=args.get('host'))
    return http.reply({'services': [render(r) for r in recs]})


def _find(host, binary):
    recs = servicegroup.list_services(binary=binary, host=host)
    if not recs:
        raise exception.NotFound('Service %s on host %s could not be found.' % (binary, host))
    return recs[0]


def update_service(service_id):
    policy.authorize(http.context(), 'os_compute_api:os-services:update', {})
    if not microversion.at_least('2.53'):
        return _legacy_action(service_id)
    body = http.json_body(_update_schema)
    if not body:
        raise exception.BadRequest('Nothing to update: give status, disabled_reason or '
                                   'forced_down.')
    if 'disabled_reason' in body and body.get('status') != 'disabled':
        raise exception.BadRequest('disabled_reason goes with status "disabled".')
    rec = servicegroup.get_service(service_id)
    values = {}
    if 'status' in body:
        values['disabled'] = body['status'] == 'disabled'
        values['disabled_reason'] = body.get('disabled_reason') if values['disabled'] else None
    if 'forced_down' in body:
        values['forced_down'] = body['forced_down']
    rec = servicegroup.update_service(rec.uuid, **values)
    return http.reply({'service': render(rec)})


def _legacy_action(action):
    body = http.json_body(_legacy_schema)
    rec = _find(body['host'], body['binary'])
    if action == 'enable':
        values = {'disabled': False, 'disabled_reason': None}
    elif action == 'disable':
        values = {'disabled': True, 'disabled_reason': None}
    elif action == 'disable-log-reason':
        if not body.get('disabled_reason'):
            raise exception.BadRequest('disabled_reason is required.')
        values = {'disabled': True, 'disabled_reason': body['disabled_reason']}
    elif action == 'force-down' and microversion.at_least('2.11'):
        if 'forced_down' not in body:
            raise exception.BadRequest('forced_down is required.')
        values = {'forced_down': body['forced_down']}
    else:
        raise exception.NotFound('Unknown action %s.' % action)
    rec = servicegroup.update_service(rec.uuid, **values)
    out = {'host': rec.host, 'binary': rec.binary}
    if 'disabled' in values:
        out['status'] = 'disabled' if rec.disabled else 'enabled'
        if rec.disabled_reason:
            out['disabled_reason'] = rec.disabled_reason
    else:
        out['forced_down'] = rec.forced_down
    return http.reply({'service': out})


def delete_service(service_id):
    policy.authorize(http.context(), 'os_compute_api:os-services:delete', {})
    if microversion.at_least('2.53'):
        rec = servicegroup.get_service(service_id)
    elif str(service_id).isdigit():
        rec = servicegroup.get_service(int(service_id))
    else:
        raise exception.BadRequest('Invalid service id %s: an integer is needed before '
                                   'microversion 2.53.' % service_id)
    servicegroup.delete_service(rec.uuid)
    return http.reply(status=204)


ROUTES = [
    ('/v2.1/os-services', {'GET': list_services}),
    ('/v2.1/os-services/<service_id>', {'PUT': update_service, 'DELETE': delete_service}),
]
