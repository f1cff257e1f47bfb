"""dns-integration attributes: a network's dns_domain, a floating IP's
dns_name and dns_domain, checked as Neutron checks them (labels of 1-63
letters, digits and hyphens, not starting or ending with a hyphen; at most
255 characters; a top-level label that is not all digits). They are kept
and shown; no external DNS service is driven from them."""

import re

from api.network import attrs

_LABEL = re.compile(r'^(?!-)[a-z0-9-]{1,63}(?<!-)$', re.IGNORECASE)
MAX_LEN = 255


def _check_name(attr, value):
    """A reason the DNS name is malformed, or None."""
    if len(value) > MAX_LEN:
        return "'%s' exceeds the %d character FQDN limit" % (value, MAX_LEN)
    labels = value[:-1].split('.') if value.endswith('.') else value.split('.')
    for label in labels:
        if not label:
            return "Encountered an empty component in '%s'" % value
        if not _LABEL.match(label):
            return ("'%s' is not a valid DNS label: a label is 1 to 63 letters, digits "
                    "and hyphens, and does not start or end with a hyphen" % label)
    if len(labels) > 1 and labels[-1].isdigit():
        return "TLD '%s' must not be all numeric" % labels[-1]
    return None


def _converter(relative):
    def conv(attr, value):
        value = attrs.string(MAX_LEN)(attr, value)
        if not value:
            return ''
        reason = _check_name(attr, value)
        if reason is None and relative and value.endswith('.'):
            reason = "'%s' is a FQDN. It should be a relative domain name" % value
        if reason:
            raise attrs.bad(attr, reason)
        return value
    return conv


# a domain ('example.org.'; the trailing dot is optional, as in Neutron)
domain = _converter(relative=False)
# a floating IP's host name: relative, its domain is dns_domain
fip_name = _converter(relative=True)


def check_fip(values):
    """A floating IP's dns_name and dns_domain go together."""
    name, dom = values.get('dns_name') or '', values.get('dns_domain') or ''
    if bool(name) != bool(dom):
        given, missing = ('dns_name', 'dns_domain') if name else ('dns_domain', 'dns_name')
        raise attrs.bad(given, '%s cannot be specified without a %s' % (given, missing))
    if len(name) + len(dom) + 1 > MAX_LEN:
        raise attrs.bad('dns_name', "'%s.%s' exceeds the %d character FQDN limit"
                        % (name, dom, MAX_LEN))
