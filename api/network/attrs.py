"""Request bodies of the network API: which attributes a resource takes on
POST and PUT, and their types, checked as Neutron checks them (unknown
attribute, read-only attribute, wrong type: 400 HTTPBadRequest).
"""

import uuid

from api import http
from common import exception
from common import policy
from network import exception as ne
from network import lookup


class Attr:
    def __init__(self, conv, post=True, put=True, required=False):
        self.conv, self.post, self.put, self.required = conv, post, put, required


def _bad(attr, reason):
    return ne.HTTPBadRequest(msg='Invalid input for %s. Reason: %s.' % (attr, reason))


bad = _bad  # for the converters of other modules (dns.py)


def string(maxlen=255):
    def conv(attr, value):
        if value is None:
            return ''
        if not isinstance(value, str):
            raise _bad(attr, "'%s' is not a valid string" % (value,))
        if len(value) > maxlen:
            raise _bad(attr, "'%s' exceeds maximum length of %d" % (value, maxlen))
        return value
    return conv


def boolean(attr, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ('true', '1', 'false', '0'):
        return value.strip().lower() in ('true', '1')
    raise _bad(attr, "'%s' cannot be converted to boolean" % (value,))


def integer(lo=None, hi=None, nullable=False):
    def conv(attr, value):
        if value is None and nullable:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            n = int(value)
            if isinstance(value, float) and n != value:
                raise ValueError
        except (ValueError, TypeError):
            raise _bad(attr, "'%s' is not an integer" % (value,)) from None
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise _bad(attr, "'%s' is not in range %s through %s" % (value, lo, hi))
        return n
    return conv


def uuid_str(attr, value):
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise _bad(attr, "'%s' is not a valid UUID" % (value,)) from None


def nullable(conv):
    def wrapped(attr, value):
        return None if value is None else conv(attr, value)
    return wrapped


def list_of(conv=None):
    def wrapped(attr, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise _bad(attr, "'%s' is not a list" % (value,))
        return [conv(attr, v) for v in value] if conv else list(value)
    return wrapped


def dict_any(attr, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(attr, "'%s' is not a dictionary" % (value,))
    return value


def one_of(*choices, fold=False):
    def conv(attr, value):
        if fold and isinstance(value, str):
            for c in choices:
                if c.lower() == value.lower():
                    return c
        if value in choices:
            return value
        raise _bad(attr, "%s is not in %s" % (value, list(choices)))
    return conv


def ip_version(attr, value):
    n = integer()(attr, value)
    if n not in (4, 6):
        raise _bad(attr, '%s is not in [4, 6]' % (value,))
    return n


def tags(attr, value):
    out = list_of(string(255))(attr, value)
    for t in out:
        if not t or ',' in t:
            raise _bad(attr, "'%s' is not a valid tag" % t)
    return list(dict.fromkeys(out))


NAME = Attr(string())
DESCRIPTION = Attr(string())
PROJECT = Attr(string(64), put=False)
TAGS = Attr(tags)


def parse(kind, spec, put=False, data=None):
    """The ``kind`` object of the request body (or ``data``, one item of a
    bulk create), converted per ``spec``."""
    ctx = http.context()
    if data is None:
        data = http.json_body().get(kind)
    if not isinstance(data, dict):
        raise ne.HTTPBadRequest(msg="Unable to find '%s' in request body" % kind)
    unknown = sorted(k for k in data if k not in spec)
    if unknown:
        raise ne.HTTPBadRequest(msg="Unrecognized attribute(s) '%s'" % ', '.join(unknown))
    out = {}
    for key, value in data.items():
        attr = spec[key]
        if put and not attr.put:
            raise ne.HTTPBadRequest(msg='Cannot update read-only attribute %s' % key)
        if not put and not attr.post:
            raise ne.HTTPBadRequest(msg="Attribute '%s' not allowed in POST" % key)
        out[key] = attr.conv(key, value)
    if not put:
        for key, attr in spec.items():
            if attr.required and key not in out:
                raise ne.HTTPBadRequest(msg="Failed to parse request. Required attribute '%s' "
                                            'not specified' % key)
    tenant = out.pop('tenant_id', None)
    if tenant:
        if out.get('project_id') and out['project_id'] != tenant:
            raise ne.HTTPBadRequest(msg="'project_id' and 'tenant_id' do not match")
        out['project_id'] = tenant
    if out.get('project_id') and out['project_id'] != ctx.project_id and \
            not lookup.is_admin(ctx):
        raise ne.HTTPBadRequest(msg="Specifying 'project_id' or 'tenant_id' other than the "
                                    'authenticated project in request requires admin '
                                    'privileges')
    return out


def authorize(action, project_id):
    """Policy check on a resource of ``project_id``, refused in Neutron's words."""
    ctx = http.context()
    try:
        policy.authorize(ctx, action, {'project_id': project_id})
    except exception.Forbidden:
        raise ne.policy_error(action) from None


def authorize_attrs(kind, values, names, project_id, put=False):
    """Attributes only some may set: ``<create|update>_<kind>:<name>``."""
    for name in names:
        if name in values:
            authorize('%s_%s:%s' % ('update' if put else 'create', kind, name), project_id)
