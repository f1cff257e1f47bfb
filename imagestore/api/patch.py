"""The JSON-patch body of PATCH /v2/images/{id}
(application/openstack-images-v2.1-json-patch): a list of
{"op": "add"|"replace"|"remove", "path": "/<attribute>", "value": ...}.
Paths are one level deep (JSON pointer escapes ~0 and ~1 are decoded).
Parsing only; images.update decides what each change may do.
"""

from common import exception
from imagestore import exception as img_exc

MEDIA_TYPE = 'application/openstack-images-v2.1-json-patch'
OPS = ('add', 'replace', 'remove')


def check_media_type(content_type):
    mime = (content_type or '').split(';')[0].strip().lower()
    if mime != MEDIA_TYPE:
        raise img_exc.UnsupportedMediaType(
            reason="Unsupported Content-Type '%s': send a JSON patch as %s."
                   % (mime or 'none', MEDIA_TYPE))


def _path(raw):
    if not isinstance(raw, str) or not raw.startswith('/') or raw == '/':
        raise exception.BadRequest("Invalid JSON pointer '%s': it must start with / and name "
                                   "an attribute." % raw)
    parts = raw[1:].split('/')
    if len(parts) != 1:
        if parts[0] == 'locations':
            raise exception.Forbidden('Image locations are not supported by this image '
                                      'service.')
        raise exception.BadRequest("Invalid path '%s': only top-level attributes can be "
                                   "changed." % raw)
    name = parts[0]
    if '~' in name.replace('~0', '').replace('~1', ''):
        raise exception.BadRequest("Invalid JSON pointer '%s': ~ must be followed by 0 or 1."
                                   % raw)
    return name.replace('~1', '/').replace('~0', '~')


def parse(body):
    """[(op, name, value)] from a decoded patch body; 400 when malformed."""
    if not isinstance(body, list):
        raise exception.BadRequest('The request body must be a JSON array of operation '
                                   'objects.')
    changes = []
    for item in body:
        if not isinstance(item, dict):
            raise exception.BadRequest('Each operation must be a JSON object.')
        op = item.get('op')
        if op not in OPS:
            raise exception.BadRequest("Invalid operation '%s': use add, replace or remove."
                                       % op)
        if 'path' not in item:
            raise exception.BadRequest("Operation '%s' has no path." % op)
        allowed = {'op', 'path', 'value'} if op != 'remove' else {'op', 'path'}
        extra = set(item) - allowed
        if extra:
            raise exception.BadRequest("Operation '%s' has unexpected members: %s."
                                       % (op, ', '.join(sorted(extra))))
        if op != 'remove' and 'value' not in item:
            raise exception.BadRequest("Operation '%s' needs a value." % op)
        name = _path(item['path'])
        if name == 'locations':
            raise exception.Forbidden('Image locations are not supported by this image '
                                      'service.')
        changes.append((op, name, item.get('value')))
    return changes
