"""limit/marker paging over an ordered list, as Nova does it."""

import flask

from common import exception


def page(rows, key):
    args = flask.request.args
    marker = args.get('marker')
    if marker is not None:
        ids = [key(r) for r in rows]
        if marker not in ids:
            raise exception.BadRequest('marker [%s] not found' % marker)
        rows = rows[ids.index(marker) + 1:]
    if args.get('limit') is not None:
        try:
            limit = int(args['limit'])
            if limit < 0:
                raise ValueError
        except ValueError:
            raise exception.BadRequest('limit must be a non-negative integer.') from None
        rows = rows[:limit]
    return rows
