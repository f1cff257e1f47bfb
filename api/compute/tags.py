"""Server tags as Nova defines them (2.26), shared by the tags API
(server_tags), create (2.52) and the tag filters of GET /servers."""

from api import microversion

MAX_TAGS = 50
TAG = {'type': 'string', 'pattern': '^[^,/]*$', 'minLength': 1, 'maxLength': 60}
TAGS = {'type': 'array', 'items': TAG, 'maxItems': MAX_TAGS}


def unique(tags):
    """Tags without repeats, in their first order."""
    return list(dict.fromkeys(tags or []))


def filter_rows(rows, args):
    """GET /servers?tags=a,b&tags-any=c&not-tags=d&not-tags-any=e (2.26+):
    all of, any of, not all of, none of."""
    if not microversion.at_least('2.26'):
        return rows

    def wanted(name):
        raw = args.get(name)
        return {t for t in raw.split(',') if t} if raw else None
    all_of, any_of = wanted('tags'), wanted('tags-any')
    not_all, none_of = wanted('not-tags'), wanted('not-tags-any')

    def keep(row):
        have = set(row.tags or [])
        return ((all_of is None or all_of <= have) and
                (any_of is None or bool(any_of & have)) and
                (not_all is None or not not_all <= have) and
                (none_of is None or not none_of & have))
    return [r for r in rows if keep(r)]
