"""The JSON-patch body of PATCH /v2/images/{id}, in either of Glance's two
media types:

- application/openstack-images-v2.1-json-patch (JSON Patch as RFC 6902 has
  it): a list of {"op": "add"|"replace"|"remove", "path": "/<attribute>",
  "value": ...};
- application/openstack-images-v2.0-json-patch (the older draft Glance
  still takes): a list of {"add"|"replace"|"remove": "/<attribute>",
  "value": ...}, the operation being the one member of those three names.
  Its "add" only adds: an attribute the image already has is a 409
  ("already present"), where 2.1's "add" replaces it.

Paths are one level deep (JSON pointer escapes ~0 and ~1 are decoded).
Parsing only; images.update decides what each change may do.
"""

from common import exception
from imagestore import exception as img_exc

V2_0 = 'application/openstack-images-v2.0-json-patch'
V2_1 = 'application/openstack-images-v2.1-json-patch'
MEDIA_TYPES = (V2_0, V2_1)
OPS = ('add', 'replace', 'remove')


def media_type(content_type):
    """The patch media type of the request (V2_0 or V2_1); 415 for any other."""
    mime = (content_type or '').split(';')[0].strip().lower()
    if mime not in MEDIA_TYPES:
        err = img_exc.UnsupportedMediaType(
            reason="Unsupported Content-Type '%s': send a JSON patch as %s (or %s)."
                   % (mime or 'none', V2_1, V2_0))
        err.headers = {'Accept-Patch': ', '.join(MEDIA_TYPES)}
        raise err
    return mime


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


def _op_v2_1(item):
    op = item.get('op')
    if op not in OPS:
        raise exception.BadRequest("Invalid operation '%s': use add, replace or remove." % op)
    if 'path' not in item:
        raise exception.BadRequest("Operation '%s' has no path." % op)
    allowed = {'op', 'path', 'value'} if op != 'remove' else {'op', 'path'}
    extra = set(item) - allowed
    if extra:
        raise exception.BadRequest("Operation '%s' has unexpected members: %s."
                                   % (op, ', '.join(sorted(extra))))
    return op, item['path']


def _op_v2_0(item):
    named = [op for op in OPS if op in item]
    if len(named) != 1:
        raise exception.BadRequest('Each operation object must have exactly one member '
                                   'named "add", "remove" or "replace" (the %s format).'
                                   % V2_0)
    op = named[0]
    allowed = {op, 'value'} if op != 'remove' else {op}
    extra = set(item) - allowed
    if extra:
        raise exception.BadRequest("Operation '%s' has unexpected members: %s."
                                   % (op, ', '.join(sorted(extra))))
    return op, item[op]


def parse(body, mime=V2_1):
    """[(op, name, value)] from a decoded patch body; 400 when malformed."""
    if not isinstance(body, list):
        raise exception.BadRequest('The request body must be a JSON array of operation '
                                   'objects.')
    read_op = _op_v2_0 if mime == V2_0 else _op_v2_1
    changes = []
    for item in body:
        if not isinstance(item, dict):
            raise exception.BadRequest('Each operation must be a JSON object.')
        op, raw_path = read_op(item)
        if op != 'remove' and 'value' not in item:
            raise exception.BadRequest("Operation '%s' needs a value." % op)
        name = _path(raw_path)
        if name == 'locations':
            raise exception.Forbidden('Image locations are not supported by this image '
                                      'service.')
        changes.append((op, name, item.get('value')))
    return changes
