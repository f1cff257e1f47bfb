"""JSON schemas of images and members: what clients may send, and what
GET /v2/schemas/... describes. Plain dicts."""

import copy

from imagestore import formats
from imagestore import states

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){12}$')
VISIBILITIES = ('public', 'community', 'shared', 'private')
MEMBER_STATUSES = ('pending', 'accepted', 'rejected')
MAX_INT = 2 ** 31 - 1

# Attributes a client may set (on create; on update all but id).
WRITABLE = {
    'id': {'type': 'string', 'pattern': UUID_PATTERN,
           'description': 'An identifier for the image'},
    'name': {'type': ['null', 'string'], 'maxLength': 255,
             'description': 'Descriptive name for the image'},
    'visibility': {'type': 'string', 'enum': list(VISIBILITIES),
                   'description': 'Scope of image accessibility'},
    'protected': {'type': 'boolean', 'description': 'If true, image will not be deletable.'},
    'os_hidden': {'type': 'boolean',
                  'description': 'If true, image will not appear in default image list '
                                 'response.'},
    'min_disk': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                 'description': 'Amount of disk space (in GB) required to boot image.'},
    'min_ram': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                'description': 'Amount of ram (in MB) required to boot image.'},
    'disk_format': {'type': ['null', 'string'], 'enum': [None] + list(formats.DISK_FORMATS),
                    'description': 'Format of the disk'},
    'container_format': {'type': ['null', 'string'],
                         'enum': [None] + list(formats.CONTAINER_FORMATS),
                         'description': 'Format of the container'},
    'tags': {'type': 'array', 'items': {'type': 'string', 'maxLength': 255},
             'description': 'List of strings related to the image'},
    'owner': {'type': ['null', 'string'], 'maxLength': 255,
              'description': 'Owner of the image'},
}

# Attributes only the image service sets.
READ_ONLY = {
    'status': {'type': 'string', 'enum': list(states.ALL), 'description': 'Status of the image'},
    'checksum': {'type': ['null', 'string'], 'maxLength': 32,
                 'description': 'md5 hash of image contents.'},
    'os_hash_algo': {'type': ['null', 'string'], 'maxLength': 64,
                     'description': 'Algorithm to calculate the os_hash_value'},
    'os_hash_value': {'type': ['null', 'string'], 'maxLength': 128,
                      'description': 'Hexdigest of the image contents using the algorithm '
                                     'specified by the os_hash_algo'},
    'size': {'type': ['null', 'integer'], 'description': 'Size of image file in bytes'},
    'virtual_size': {'type': ['null', 'integer'],
                     'description': 'Virtual size of image in bytes'},
    'created_at': {'type': 'string', 'description': 'Date and time of image registration'},
    'updated_at': {'type': 'string',
                   'description': 'Date and time of the last image modification'},
    'self': {'type': 'string', 'description': 'An image self url'},
    'file': {'type': 'string', 'description': 'An image file url'},
    'schema': {'type': 'string', 'description': 'An image schema url'},
    'direct_url': {'type': 'string',
                   'description': 'URL to access the image file kept in external store'},
    'locations': {'type': 'array',
                  'description': 'A set of URLs to access the image file kept in external '
                                 'store (not supported here)'},
}

RESERVED_PREFIX = 'os_glance'
MAX_KEY = 255


def create_schema():
    """Validates a create body; unknown keys are additional string properties."""
    return {'type': 'object', 'properties': copy.deepcopy(WRITABLE),
            'additionalProperties': {'type': 'string'}}


def image_schema():
    props = copy.deepcopy(WRITABLE)
    for name, spec in READ_ONLY.items():
        props[name] = dict(spec, readOnly=True)
    return {
        'name': 'image',
        'properties': props,
        'additionalProperties': {'type': 'string'},
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'enclosure', 'href': '{file}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def images_schema():
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array', 'items': image_schema()},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'first', 'href': '{first}'},
                  {'rel': 'next', 'href': '{next}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


# openstacksdk sends the member id along with the new status.
MEMBER_UPDATE = {'type': 'object', 'required': ['status'], 'additionalProperties': False,
                 'properties': {'status': {'type': 'string', 'enum': list(MEMBER_STATUSES)},
                                'member': {'type': 'string'},
                                'member_id': {'type': 'string'}}}
MEMBER_CREATE = {'type': 'object', 'required': ['member'], 'additionalProperties': False,
                 'properties': {'member': {'type': 'string', 'minLength': 1,
                                           'maxLength': 255}}}


def member_schema():
    return {
        'name': 'member',
        'properties': {
            'created_at': {'type': 'string', 'description': 'Date and time of image member '
                                                          'creation'},
            'image_id': {'type': 'string', 'pattern': UUID_PATTERN,
                         'description': 'An identifier for the image'},
            'member_id': {'type': 'string', 'description': 'An identifier for the image '
                                                         'member (tenantId)'},
            'schema': {'type': 'string', 'readOnly': True},
            'status': {'type': 'string', 'enum': list(MEMBER_STATUSES),
                       'description': 'The status of this image member'},
            'updated_at': {'type': 'string', 'description': 'Date and time of last '
                                                          'modification of image member'},
        },
    }


def members_schema():
    return {
        'name': 'members',
        'properties': {'members': {'type': 'array', 'items': member_schema()},
                       'schema': {'type': 'string'}},
        'links': [{'rel': 'schema', 'href': '{schema}'}],
    }
