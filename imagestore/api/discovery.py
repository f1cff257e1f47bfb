"""Version discovery (no token), schemas and import info."""

from imagestore import schemas
from imagestore.api import http

CURRENT_MINOR = 17  # we answer as Glance v2.17 does (no microversions in Glance)


def _versions():
    base = http.base_url()
    return [{'id': 'v2.%d' % minor,
             'status': 'CURRENT' if minor == CURRENT_MINOR else 'SUPPORTED',
             'links': [{'rel': 'self', 'href': base + '/v2/'}]}
            for minor in range(CURRENT_MINOR, -1, -1)]


@http.public
def root():
    """GET /: 300 Multiple Choices, as Glance answers."""
    return http.reply({'versions': _versions()}, status=300)


@http.public
def versions():
    return http.reply({'versions': _versions()})


def image_schema():
    return http.reply(schemas.image_schema())


def images_schema():
    return http.reply(schemas.images_schema())


def member_schema():
    return http.reply(schemas.member_schema())


def members_schema():
    return http.reply(schemas.members_schema())


def import_info():
    """No interoperable import methods here: data goes up with PUT .../file."""
    return http.reply({'import-methods': {
        'description': 'Import methods available.', 'type': 'array', 'value': []}})
