"""Glance v2 compatible image API: the app factory and its route table.

``create_app`` is called once in each worker process of altostack-image.
"""

import flask

from common import policy
from imagestore import policies
from imagestore.api import discovery
from imagestore.api import errors
from imagestore.api import http
from imagestore.api import image_data
from imagestore.api import images
from imagestore.api import members
from imagestore.api import middleware

IMAGE = '/v2/images/<image_id>'
MEMBER = IMAGE + '/members/<member_id>'

ROUTES = [
    ('/', {'GET': discovery.root}),
    ('/versions', {'GET': discovery.versions}),
    ('/v2/images', {'GET': images.list_, 'POST': images.create}),
    (IMAGE, {'GET': images.show, 'PATCH': images.update, 'DELETE': images.delete}),
    (IMAGE + '/file', {'PUT': image_data.upload, 'GET': image_data.download}),
    (IMAGE + '/actions/deactivate', {'POST': images.deactivate}),
    (IMAGE + '/actions/reactivate', {'POST': images.reactivate}),
    (IMAGE + '/tags/<tag>', {'PUT': images.add_tag, 'DELETE': images.delete_tag}),
    (IMAGE + '/members', {'GET': members.list_, 'POST': members.create}),
    (MEMBER, {'GET': members.show, 'PUT': members.update, 'DELETE': members.delete}),
    ('/v2/schemas/image', {'GET': discovery.image_schema}),
    ('/v2/schemas/images', {'GET': discovery.images_schema}),
    ('/v2/schemas/member', {'GET': discovery.member_schema}),
    ('/v2/schemas/members', {'GET': discovery.members_schema}),
    ('/v2/info/import', {'GET': discovery.import_info}),
    # Signed URLs for compute hosts (no token; see imagestore/signing.py).
    ('/internal/images/<image_id>/file', {'GET': image_data.internal_download,
                                          'PUT': image_data.internal_upload}),
]

_rules_registered = False


def create_app():
    global _rules_registered
    if not _rules_registered:
        policy.register_rules(policies.list_rules())
        _rules_registered = True
    app = flask.Flask('altostack-image', static_folder=None)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.before_request(middleware.before_request)
    app.after_request(middleware.after_request)
    errors.register(app)
    http.route_table(app, ROUTES)
    return app
