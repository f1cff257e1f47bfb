"""Glance v2 compatible image API (version discovery so far)."""

import uuid

import flask


def _versions():
    base = flask.request.host_url.rstrip('/')
    return [{'id': 'v2.%d' % minor, 'status': 'CURRENT' if minor == 17 else 'SUPPORTED',
             'links': [{'rel': 'self', 'href': base + '/v2/'}]}
            for minor in range(17, -1, -1)]


def create_app():
    app = flask.Flask('altostack-image')
    app.json.sort_keys = False

    @app.get('/')
    @app.get('/versions')
    def versions():
        status = 300 if flask.request.path == '/' else 200
        return flask.jsonify({'versions': _versions()}), status

    @app.after_request
    def _request_id(resp):
        resp.headers.setdefault('X-Openstack-Request-Id', 'req-%s' % uuid.uuid4())
        return resp

    return app
