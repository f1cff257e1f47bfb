"""Request helpers for the HTTP edge: public views, JSON bodies, schemas.

Only code under api/ touches flask.request; below it, functions take an
explicit context.
"""

import json

import flask
import jsonschema

from common import exception
from common.web import public  # noqa: F401  (views mark themselves with http.public)


def context():
    return flask.g.context


def json_body(schema=None):
    """The request's JSON object, validated against ``schema`` if given."""
    raw = flask.request.get_data(cache=True)
    if not raw:
        raise exception.BadRequest('The request body is empty; a JSON object is needed.')
    try:
        body = flask.json.loads(raw)
    except ValueError as e:
        raise exception.BadRequest('The request body is not valid JSON: %s' % e) from None
    if not isinstance(body, dict):
        raise exception.BadRequest('The request body must be a JSON object.')
    if schema is not None:
        validate(body, schema)
    return body


def _path(err):
    parts = [str(p) for p in err.absolute_path]
    return '.'.join(parts)


# 'format' (ipv4, ipv6, uuid, ...) is checked, as Nova's validator does.
_FORMATS = jsonschema.FormatChecker()


# Fields whose values are secrets: a validation error names the rule the
# value broke, never the value (the message is answered and logged).
SECRET_FIELDS = frozenset(('password', 'original_password', 'secret', 'token', 'id_token',
                           'passcode', 'adminPass'))


def _holds_secret(value):
    if isinstance(value, dict):
        return any(k in SECRET_FIELDS or _holds_secret(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def _reveals_secret(err):
    return (any(str(p) in SECRET_FIELDS for p in err.absolute_path)
            or _holds_secret(err.instance))


def validate(body, schema):
    validator = jsonschema.Draft4Validator(schema, format_checker=_FORMATS)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    where = _path(err)
    if _reveals_secret(err) and err.validator not in ('required', 'additionalProperties'):
        msg = ("Invalid input for field '%s': the value does not satisfy %s %s."
               % (where, err.validator, json.dumps(err.validator_value, default=str)))
    elif err.validator == 'additionalProperties':
        msg = 'Invalid input%s: %s' % (" for field '%s'" % where if where else '', err.message)
    elif where:
        msg = "Invalid input for field '%s': %s" % (where, err.message)
    else:
        msg = 'Invalid input: %s' % err.message
    raise exception.BadRequest(msg)


def reply(body=None, status=200, headers=None):
    if body is None:
        resp = flask.Response(status=status)
    else:
        resp = flask.jsonify(body)
        resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def url(*parts):
    """An absolute URL under this API service, as the client reached it."""
    return flask.request.host_url.rstrip('/') + '/' + '/'.join(p.strip('/') for p in parts)


def bool_arg(name, default=None):
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    low = raw.strip().lower()
    if low in ('', 'true', '1', 'yes', 'on'):
        return True
    if low in ('false', '0', 'no', 'off'):
        return False
    raise exception.BadRequest("Invalid value '%s' for query parameter %s: expected "
                               "true or false." % (raw, name))


def route_table(bp, routes):
    """Register (path, {METHOD: view}) rows; the table reads top to bottom."""
    for path, methods in routes:
        for method, view in methods.items():
            endpoint = '%s_%s' % (view.__name__, method.lower())
            bp.add_url_rule(path, endpoint=endpoint + path.replace('/', '_').replace('.', '_'),
                            view_func=view, methods=[method])
