"""What the network pages share (networks, subnets, ports, routers): the
network API's collections (a listing, a page, names by id, through
``rest.get('network', ...)``: raw calls live in dashboard/rest.py), and
the reading of their forms.

Form fields are read here too (trimmed text with ``rest.form``). What a
person types that is not even in the shape the API takes (an allocation
pool line without its end, say) is a 400 that names the line
(``rest.refuse``); whether a CIDR overlaps, a pool lies in
its subnet or an address is taken is the API's to say, in its words.
"""

import re

import flask

from dashboard import rest

INTERFACE_OWNER = 'network:router_interface'


# -- the collections ------------------------------------------------------------

def listing(collection, **params):
    """All of ``collection`` the user sees (a list), narrowed by ``params``
    (a list value repeats the parameter: any of them)."""
    return rest.get('network', '/' + collection, **params)[collection.replace('-', '_')]


def page(collection, limit, marker, **params):
    """One page of ``collection``: (items, marker of the next page or None)."""
    body = rest.get('network', '/' + collection, limit=limit, marker=marker, **params)
    items = body[collection.replace('-', '_')]
    more = any(link.get('rel') == 'next'
               for link in body.get(collection.replace('-', '_') + '_links', ()))
    return items, (items[-1]['id'] if more and items else None)


def by_id(items):
    return {item['id']: item for item in items}


def names_of(collection, ids, *fields):
    """{id: item} of the items of ``collection`` with these ids, in one
    call (an empty id list makes none)."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return by_id(listing(collection, id=ids, fields=['id', 'name', *fields]))


# -- reading form fields ----------------------------------------------------------

def flag(name, on='on'):
    """A checkbox or a select of two values: is it ``on``."""
    return flask.request.form.get(name) == on


def lines(name):
    """The non-empty lines of a textarea, trimmed."""
    return [ln.strip() for ln in (flask.request.form.get(name) or '').splitlines()
            if ln.strip()]


_SEP = re.compile(r'\s*(?:,|\s-\s|\s+|-(?=[0-9]))\s*')


def _two(line):
    parts = [p for p in _SEP.split(line.strip()) if p]
    for i, part in enumerate(parts):   # start=A,end=B and destination=D,gateway=G
        parts[i] = part.split('=', 1)[1] if '=' in part else part
    return parts


def parse_pools(raw_lines, field='Allocation pools'):
    """``start,end`` per line (``start - end`` too) -> Neutron's pools."""
    pools = []
    for n, line in enumerate(raw_lines, 1):
        parts = _two(line)
        if len(parts) != 2:
            rest.refuse('%s, line %d: %r is not "start,end" (two addresses).'
                        % (field, n, line))
        pools.append({'start': parts[0], 'end': parts[1]})
    return pools


def parse_routes(raw_lines, field='Host routes'):
    """``destination,nexthop`` per line -> Neutron's host routes."""
    routes = []
    for n, line in enumerate(raw_lines, 1):
        parts = _two(line)
        if len(parts) != 2 or '/' not in parts[0]:
            rest.refuse('%s, line %d: %r is not "destination CIDR,next hop address".'
                        % (field, n, line))
        routes.append({'destination': parts[0], 'nexthop': parts[1]})
    return routes


def subnet_fields(creating):
    """The subnet attributes of a subnet form (create or edit), as the API
    takes them. On create, an empty gateway is the API's choice (the
    first address); 'no gateway' is gateway_ip null on both."""
    values = {'name': rest.form('subnet_name' if creating == 'with-network' else 'name')}
    if creating:
        cidr = rest.form('cidr')
        if not cidr:
            rest.refuse('A subnet needs its network address (CIDR), e.g. 192.168.10.0/24.')
        values['cidr'] = cidr
        version = rest.form('ip_version', '4')
        if version not in ('4', '6'):
            rest.refuse('IP version %r is neither 4 nor 6.' % version)
        values['ip_version'] = int(version)
    if flag('no_gateway', 'none'):
        values['gateway_ip'] = None
    elif rest.form('gateway'):
        values['gateway_ip'] = rest.form('gateway')
    values['enable_dhcp'] = rest.form('dhcp', 'dhcp') != 'no-dhcp'
    pools = parse_pools(lines('allocation_pools'))
    if pools or not creating:
        values['allocation_pools'] = pools
    values['dns_nameservers'] = lines('dns_nameservers')
    values['host_routes'] = parse_routes(lines('host_routes'))
    return values
