"""Request helpers of the image API. Only imagestore/api touches
flask.request; below it, functions take an explicit context."""

import flask
import jsonschema

from common import exception
from common.web import public  # noqa: F401  (views mark themselves with http.public)
from imagestore import exception as img_exc

MAX_JSON = 1024 * 1024  # bytes of a JSON request body


def context():
    return flask.g.context


def json_body(kind=dict):
    """The request's JSON body, which must be a ``kind`` (dict or list)."""
    length = flask.request.content_length
    if length is not None and length > MAX_JSON:
        raise img_exc.RequestEntityTooLarge(reason='The request body is larger than %d bytes.'
                                                   % MAX_JSON)
    raw = flask.request.get_data(cache=True)
    if len(raw) > MAX_JSON:
        raise img_exc.RequestEntityTooLarge(reason='The request body is larger than %d bytes.'
                                                   % MAX_JSON)
    if not raw:
        raise exception.BadRequest('The request body is empty; JSON is expected.')
    try:
        body = flask.json.loads(raw)
    except ValueError as e:
        raise exception.BadRequest('The request body is not valid JSON: %s' % e) from None
    if not isinstance(body, kind):
        raise exception.BadRequest('The request body must be a JSON %s.'
                                   % ('object' if kind is dict else 'array'))
    return body


def validated(body, schema):
    """``body`` if it matches the JSON schema; a 400 naming the first problem otherwise."""
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(body),
                    key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = '.'.join(str(p) for p in err.absolute_path)
        raise exception.BadRequest('Invalid input%s: %s' % (
            " for field '%s'" % where if where else '', err.message))
    return body


def reply(body=None, status=200, headers=None):
    if body is None:
        resp = flask.Response(status=status)
        del resp.headers['Content-Type']
    else:
        resp = flask.jsonify(body)
        resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def base_url():
    return flask.request.host_url.rstrip('/')


def route_table(app, routes):
    """Register (path, {METHOD: view}) rows; the table reads top to bottom."""
    for path, methods in routes:
        for method, view in methods.items():
            endpoint = '%s.%s %s' % (view.__module__.rsplit('.', 1)[-1], view.__name__, method)
            app.add_url_rule(path, endpoint=endpoint + ' ' + path, view_func=view,
                             methods=[method])
