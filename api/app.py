"""The API service's WSGI application."""

import flask

from api import compute
from api import errors
from api import http
from api import identity
from api import middleware
from api import network
from api import policies
from api import volume
from common import policy
from common import token_cache

_rules_registered = False


@http.public
def root():
    return http.reply({'apis': {name: http.url(name) for name in
                                ('identity', 'compute', 'volume', 'network')}})


@http.public
def healthcheck():
    """200 while this copy serves (the load balancer's check), with how its
    token validations were served when they are shared in memcached."""
    body = {'status': 'OK'}
    if token_cache.enabled():
        body['token_validations'] = token_cache.counters()
    return http.reply(body)


def create_app():
    global _rules_registered
    if not _rules_registered:
        policy.register_rules(policies.list_rules())
        _rules_registered = True
    app = flask.Flask('altostack-api')
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.before_request(middleware.before_request)
    app.after_request(middleware.after_request)
    errors.register(app)
    app.add_url_rule('/', 'root', root, methods=['GET'])
    app.add_url_rule('/healthcheck', 'healthcheck', healthcheck, methods=['GET'])
    app.register_blueprint(identity.bp, url_prefix='/identity')
    app.register_blueprint(compute.bp, url_prefix='/compute')
    app.register_blueprint(volume.bp, url_prefix='/volume')
    app.register_blueprint(network.bp, url_prefix='/network')
    return app
