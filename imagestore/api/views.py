"""JSON views of images and members, shaped like Glance v2: a bare image
object with every base attribute (null when unset) and the additional
properties as top-level string keys."""

import urllib.parse

from imagestore import images

_BASE = ('id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner',
         'disk_format', 'container_format', 'min_disk', 'min_ram', 'size', 'virtual_size',
         'checksum', 'os_hash_algo', 'os_hash_value')


def image(rec):
    d = dict(rec['properties'])
    for key in _BASE:
        d[key] = rec[key]
    d['tags'] = list(rec['tags'])
    d['created_at'] = images.to_iso(rec['created_at'])
    d['updated_at'] = images.to_iso(rec['updated_at'])
    d['self'] = '/v2/images/%s' % rec['id']
    d['file'] = '/v2/images/%s/file' % rec['id']
    d['schema'] = '/v2/schemas/image'
    return d


def image_list(records, more, args):
    """The list body; ``args`` are the request's query pairs (for next/first)."""
    kept = [(k, v) for k, v in args if k != 'marker']
    body = {'images': [image(r) for r in records],
            'first': '/v2/images' + ('?' + urllib.parse.urlencode(kept) if kept else ''),
            'schema': '/v2/schemas/images'}
    if more and records:
        query = urllib.parse.urlencode(kept + [('marker', records[-1]['id'])])
        body['next'] = '/v2/images?' + query
    return body


def member(mem):
    return {'image_id': mem['image_id'], 'member_id': mem['member_id'],
            'status': mem['status'], 'created_at': images.to_iso(mem['created_at']),
            'updated_at': images.to_iso(mem['updated_at']), 'schema': '/v2/schemas/member'}


def member_list(mems):
    return {'members': [member(x) for x in mems], 'schema': '/v2/schemas/members'}
