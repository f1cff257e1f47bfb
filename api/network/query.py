"""List queries of the network API, as Neutron reads them: attribute
filters (a repeated parameter means any of its values), tags filters,
``fields`` (repeatable), ``sort_key``/``sort_dir`` and
``limit``/``marker`` paging with ``<collection>_links``. Unknown filters
are ignored. Admin-only attributes are dropped for others first, so they
cannot be filtered on either.
"""

import urllib.parse

import flask

from api import http
from common import exception
from common import policy

_RESERVED = {'fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse', 'tags',
             'tags-any', 'not-tags', 'not-tags-any', 'fixed_ips'}

# Attributes only an admin reads (Neutron's default policy).
HIDDEN = {
    'network': ('get_network:provider', ('provider:network_type',
                                         'provider:physical_network',
                                         'provider:segmentation_id')),
    'port': ('get_port:binding', ('binding:host_id', 'binding:vif_type',
                                  'binding:vif_details', 'binding:profile')),
}


def _may(ctx, rule):
    try:
        return policy.authorize(ctx, rule, {'project_id': ctx.project_id})
    except exception.Forbidden:
        return False


def hide(kind, items):
    """Drop the attributes the caller may not read."""
    rule, keys = HIDDEN.get(kind, (None, ()))
    if rule and not _may(http.context(), rule):
        for item in items:
            for key in keys:
                item.pop(key, None)
    return items


def show(kind, item):
    """One resource's reply body, with ``fields`` and hidden attributes applied."""
    hide(kind, [item])
    fields = flask.request.args.getlist('fields')
    if fields:
        item = {k: v for k, v in item.items() if k in fields}
    return {kind: item}


def _matches(value, wanted):
    if isinstance(value, bool):
        return str(value).lower() in [w.lower() for w in wanted]
    if value is None:
        return any(w in ('', 'None', 'null') for w in wanted)
    if isinstance(value, list):
        return any(str(v) in wanted for v in value if not isinstance(v, dict))
    if isinstance(value, dict):
        return True
    return str(value) in wanted


def _split(name):
    out = []
    for raw in flask.request.args.getlist(name):
        out.extend(t for t in raw.split(',') if t)
    return out


def _tag_filter(items):
    every, any_, not_every, not_any = (_split(n) for n in ('tags', 'tags-any', 'not-tags',
                                                           'not-tags-any'))
    out = []
    for item in items:
        have = set(item.get('tags') or [])
        if every and not set(every) <= have:
            continue
        if any_ and not set(any_) & have:
            continue
        if not_every and set(not_every) <= have:
            continue
        if not_any and set(not_any) & have:
            continue
        out.append(item)
    return out


def fixed_ips_filter(items):
    """Ports by ``fixed_ips=ip_address=X`` / ``fixed_ips=subnet_id=Y`` (also
    ``ip_address_substr=``); several of one kind: any of them."""
    wanted = {}
    for raw in flask.request.args.getlist('fixed_ips'):
        key, _, value = raw.partition('=')
        wanted.setdefault(key.strip(), []).append(value.strip())
    if not wanted:
        return items
    out = []
    for item in items:
        fixed = item.get('fixed_ips') or []
        ok = True
        if 'ip_address' in wanted:
            ok = ok and any(f['ip_address'] in wanted['ip_address'] for f in fixed)
        if 'subnet_id' in wanted:
            ok = ok and any(f['subnet_id'] in wanted['subnet_id'] for f in fixed)
        if 'ip_address_substr' in wanted:
            ok = ok and any(sub in f['ip_address'] for f in fixed
                            for sub in wanted['ip_address_substr'])
        if ok:
            out.append(item)
    return out


def _sort(items):
    keys = flask.request.args.getlist('sort_key')
    dirs = flask.request.args.getlist('sort_dir')
    if not keys:
        return items
    for i in reversed(range(len(keys))):
        key = keys[i]
        direction = dirs[i] if i < len(dirs) else 'asc'
        if direction not in ('asc', 'desc'):
            raise exception.BadRequest("%s is invalid attribute for sort_dir" % direction)
        items = sorted(items, key=lambda x, k=key: (x.get(k) is None, str(x.get(k))
                                                    if not isinstance(x.get(k), (int, float))
                                                    else x.get(k)),
                       reverse=(direction == 'desc'))
    return items


def _link(rel, marker, limit, reverse=False):
    args = [(k, v) for k, v in flask.request.args.items(multi=True)
            if k not in ('marker', 'limit', 'page_reverse')]
    args += [('limit', str(limit)), ('marker', marker)]
    if reverse:
        args.append(('page_reverse', 'True'))
    return {'rel': rel, 'href': http.url(flask.request.path) + '?' +
            urllib.parse.urlencode(args)}


def _page(items, coll):
    raw = flask.request.args.get('limit')
    marker = flask.request.args.get('marker')
    start = 0
    if marker:
        ids = [i.get('id') for i in items]
        if marker not in ids:
            raise exception.NotFound('Marker %s could not be found.' % marker)
        start = ids.index(marker) + 1
    if raw in (None, ''):
        return items[start:], []
    try:
        limit = int(raw)
        if limit < 0:
            raise ValueError
    except ValueError:
        raise exception.BadRequest("Bad limit request: Limit must be an integer 0 or greater "
                                   "and not '%s'." % raw) from None
    if limit == 0:
        return items[start:], []
    page = items[start:start + limit]
    links = []
    if start + limit < len(items) and page:
        links.append(_link('next', page[-1]['id'], limit))
    if marker and page:
        links.append(_link('previous', page[0]['id'], limit, reverse=True))
    return page, links


def listing(kind, coll, items, special=None):
    """The reply to a list request over ``items`` (dicts of one kind)."""
    items = hide(kind, items)
    for name in set(flask.request.args.keys()) - _RESERVED:
        key = 'project_id' if name == 'tenant_id' else name
        wanted = flask.request.args.getlist(name)
        items = [i for i in items if key not in i or _matches(i[key], wanted)]
    items = _tag_filter(items)
    if special:
        items = special(items)
    items, links = _page(_sort(items), coll)
    fields = flask.request.args.getlist('fields')
    if fields:
        items = [{k: v for k, v in i.items() if k in fields} for i in items]
    body = {coll: items}
    if links:
        body[coll + '_links'] = links
    return http.reply(body)


def arg_list(name):
    """All values of a query parameter (for narrowing the database read)."""
    return [v for v in flask.request.args.getlist(name) if v] or None
