"""The query string of GET /v2/images, parsed into an images.Query.

Filters: name, id, status, disk_format, container_format (each also with
``in:a,b``), owner, visibility (public, private, shared, community, all),
member_status (accepted, pending, rejected, all), protected, os_hidden,
checksum, os_hash_value, size_min, size_max, created_at/updated_at
(``gt:<iso time>`` and gte, lt, lte, eq, neq), tag (repeatable). Any other
key filters on an additional property. Paging: limit, marker. Sorting:
sort_key/sort_dir (repeatable) or sort=key:dir,...
Anything malformed is a 400.
"""

import datetime

from common import exception
from common.conf import CONF
from imagestore import images
from imagestore import schemas
from imagestore import states

IN_FIELDS = ('name', 'id', 'status', 'disk_format', 'container_format')
EXACT_FIELDS = ('owner', 'checksum', 'os_hash_value')
_HANDLED = set(IN_FIELDS + EXACT_FIELDS) | {
    'limit', 'marker', 'visibility', 'member_status', 'protected', 'os_hidden',
    'size_min', 'size_max', 'created_at', 'updated_at', 'tag', 'sort_key', 'sort_dir', 'sort'}


def _bool(name, raw):
    low = raw.strip().lower()
    if low == 'true':
        return True
    if low == 'false':
        return False
    raise exception.BadRequest("Invalid value '%s' for query parameter %s: expected true or "
                               "false." % (raw, name))


def _int(name, raw, minimum=0):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exception.BadRequest("Invalid value '%s' for query parameter %s: expected an "
                                   "integer." % (raw, name)) from None
    if value < minimum:
        raise exception.BadRequest("Invalid value '%s' for query parameter %s: it must be at "
                                   "least %d." % (raw, name, minimum))
    return value


def split_in(raw):
    """Values of an ``in:`` list; a value with commas is in double quotes."""
    values, cur, quoted = [], [], False
    for ch in raw:
        if ch == '"':
            quoted = not quoted
        elif ch == ',' and not quoted:
            values.append(''.join(cur))
            cur = []
        else:
            cur.append(ch)
    if quoted:
        raise exception.BadRequest('Invalid in: filter %r: a quote is not closed.' % raw)
    values.append(''.join(cur))
    return values


def _time(name, raw):
    op, _, rest = raw.partition(':')
    if op in ('gt', 'gte', 'lt', 'lte', 'eq', 'neq') and rest:
        when = rest
    else:
        op, when = 'eq', raw
    try:
        value = datetime.datetime.fromisoformat(when.replace('Z', '+00:00'))
    except ValueError:
        raise exception.BadRequest("Invalid value '%s' for query parameter %s: expected "
                                   "[op:]ISO 8601 time." % (raw, name)) from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return name, op, value


def _sort(args):
    pairs = []
    if 'sort' in args:
        if 'sort_key' in args or 'sort_dir' in args:
            raise exception.BadRequest('Use either sort or sort_key/sort_dir, not both.')
        for item in args.get('sort').split(','):
            key, _, direction = item.strip().partition(':')
            pairs.append((key, direction or 'desc'))
    else:
        keys = args.getlist('sort_key')
        dirs = args.getlist('sort_dir')
        if len(dirs) > max(len(keys), 1):
            raise exception.BadRequest('There are more sort_dir than sort_key values.')
        if not keys:
            keys = ['created_at']
        for i, key in enumerate(keys):
            pairs.append((key, dirs[i] if i < len(dirs) else (dirs[0] if dirs else 'desc')))
    for key, direction in pairs:
        if key not in images.SORT_KEYS:
            raise exception.BadRequest("Invalid sort key '%s'; use one of %s." % (
                key, ', '.join(sorted(images.SORT_KEYS))))
        if direction not in ('asc', 'desc'):
            raise exception.BadRequest("Invalid sort direction '%s'; use asc or desc."
                                       % direction)
    return pairs


def parse_list(args):
    """An images.Query from the request's args (a werkzeug MultiDict)."""
    q = images.Query()
    limit = CONF.image.limit_param_default
    if 'limit' in args:
        limit = _int('limit', args.get('limit'))
    q.limit = min(limit, CONF.image.api_limit_max)
    q.marker = args.get('marker') or None
    visibility = args.get('visibility')
    if visibility is not None:
        if visibility not in schemas.VISIBILITIES + ('all',):
            raise exception.BadRequest("Invalid visibility '%s'; use one of public, private, "
                                       "shared, community or all." % visibility)
        q.visibility = visibility
    member_status = args.get('member_status', 'accepted')
    if member_status not in schemas.MEMBER_STATUSES + ('all',):
        raise exception.BadRequest("Invalid member_status '%s'; use one of accepted, pending, "
                                   "rejected or all." % member_status)
    q.member_status = member_status
    if 'os_hidden' in args:
        q.os_hidden = _bool('os_hidden', args.get('os_hidden'))
    if 'protected' in args:
        q.filters['protected'] = _bool('protected', args.get('protected'))
    for name in IN_FIELDS:
        if name not in args:
            continue
        raw = args.get(name)
        if raw.startswith('in:'):
            q.in_filters[name] = split_in(raw[3:])
        else:
            q.filters[name] = raw
    for value in ([q.filters['status']] if 'status' in q.filters else
                  q.in_filters.get('status', [])):
        if value not in states.ALL:
            raise exception.BadRequest("Invalid status value '%s'." % value)
    for name in EXACT_FIELDS:
        if name in args:
            q.filters[name] = args.get(name)
    if 'size_min' in args:
        q.size_min = _int('size_min', args.get('size_min'))
    if 'size_max' in args:
        q.size_max = _int('size_max', args.get('size_max'))
    q.times = [_time(name, raw) for name in ('created_at', 'updated_at')
               for raw in args.getlist(name)]
    q.tags = args.getlist('tag')
    q.sort = _sort(args)
    for key in args:
        if key not in _HANDLED:
            q.properties[key] = args.get(key)
    return q
