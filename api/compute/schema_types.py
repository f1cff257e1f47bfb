"""Request-body building blocks of the compute API, as Nova defines its
parameter types, and the one way to pick a schema by microversion.

A schema that changed with a microversion is written as a list of
``(since, schema)`` pairs, oldest first; ``for_version`` picks the one the
request's microversion is at. ``None`` as a schema means "not validated at
this version": Nova ignores the value (the migrate action before 2.56).
"""

from api import microversion

# Nova ignores the value of these actions: {}, null, anything.
ANY = {}

_TRUE = [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes']
_FALSE = [False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']
BOOLEAN = {'type': ['boolean', 'string'], 'enum': _TRUE + _FALSE}

# A host name as Nova's fqdn parameter type spells it (underscores allowed).
FQDN = {'type': 'string', 'pattern': '^[a-zA-Z0-9-._]*$', 'minLength': 1, 'maxLength': 255}
FQDN_OR_NULL = dict(FQDN, type=['string', 'null'])

# Server metadata: keys of letters, digits and -_:. and space, values up to
# 255 characters (metadata at create, rebuild, createImage).
METADATA_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$'
METADATA = {'type': 'object', 'additionalProperties': False,
            'patternProperties': {METADATA_KEY: {'type': 'string', 'maxLength': 255}}}

ACCESS_IPV4 = {'type': 'string', 'format': 'ipv4'}
ACCESS_IPV6 = {'type': 'string', 'format': 'ipv6'}


def to_bool(value):
    """A BOOLEAN value (True, 'yes', 'Off', ...) as a bool."""
    return value in _TRUE


def for_version(schema):
    """The schema in force at the request's microversion (see above)."""
    if not isinstance(schema, list):
        return schema
    chosen = None
    for since, candidate in schema:
        if microversion.at_least(since):
            chosen = candidate
    return chosen
