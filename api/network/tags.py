"""Tags of networks, subnets, ports, security groups, floating IPs and
routers (standard-attr-tag): /v2.0/<collection>/<id>/tags[/<tag>].
GET lists, PUT replaces all, POST {"tags": [...]} adds several, DELETE
removes all; on one tag PUT adds, GET answers 204/404, DELETE removes.
Lists filter by tags, tags-any, not-tags, not-tags-any (api/network/query.py)."""

from api import http
from api.network import attrs
from common import exception
from network import floatingips
from network import networks
from network import portcore
from network import routers
from network import secgroups

# collection: (get, update, the policy rule of a change)
KINDS = {
    'networks': (networks.get_network, networks.update_network, 'update_network'),
    'subnets': (networks.get_subnet, networks.update_subnet, 'update_subnet'),
    'ports': (portcore.get_port, portcore.update_port, 'update_port'),
    'security-groups': (secgroups.get_group, secgroups.update_group, 'update_security_group'),
    'floatingips': (floatingips.get_fip, lambda ctx, rid, v: floatingips.update_fip(
        ctx, rid, v)[0], 'update_floatingip'),
    'routers': (routers.get_router, routers.update_router, 'update_router'),
}


def _get(coll, rid):
    get, _update, _rule = KINDS[coll]
    return get(http.context(), rid)


def _writable(coll, rid):
    """The resource, once the caller may change it (before any answer that
    depends on its tags: a reader gets 403 whether the tag is there or not)."""
    get, _update, rule = KINDS[coll]
    res = get(http.context(), rid)
    attrs.authorize(rule, res['project_id'])
    return res


def _set(coll, rid, tags):
    get, update, rule = KINDS[coll]
    ctx = http.context()
    attrs.authorize(rule, get(ctx, rid)['project_id'])
    return update(ctx, rid, {'tags': tags})['tags']


def list_tags(coll, rid):
    return http.reply({'tags': _get(coll, rid)['tags']})


def replace_tags(coll, rid):
    body = http.json_body()
    tags = attrs.tags('tags', body.get('tags'))
    return http.reply({'tags': _set(coll, rid, tags)})


def add_tags(coll, rid):
    """Add several tags at once (those already there stay once)."""
    body = http.json_body()
    new = attrs.tags('tags', body.get('tags'))
    tags = _writable(coll, rid)['tags']
    return http.reply({'tags': _set(coll, rid, tags + [t for t in new if t not in tags])},
                      status=201)


def clear_tags(coll, rid):
    _set(coll, rid, [])
    return http.reply(status=204)


def _not_found(tag):
    err = exception.NotFound('Tag %s could not be found.' % tag)
    err.neutron_type = 'TagNotFound'
    return err


def check_tag(coll, rid, tag):
    if tag not in _get(coll, rid)['tags']:
        raise _not_found(tag)
    return http.reply(status=204)


def add_tag(coll, rid, tag):
    attrs.tags('tag', [tag])
    tags = _writable(coll, rid)['tags']
    if tag not in tags:
        _set(coll, rid, tags + [tag])
    return http.reply(status=201)


def remove_tag(coll, rid, tag):
    tags = _writable(coll, rid)['tags']
    if tag not in tags:
        raise _not_found(tag)
    _set(coll, rid, [t for t in tags if t != tag])
    return http.reply(status=204)


_COLL = '<any(networks, subnets, ports, "security-groups", floatingips, routers):coll>'
ROUTES = [
    ('/v2.0/%s/<rid>/tags' % _COLL, {'GET': list_tags, 'PUT': replace_tags,
                                     'POST': add_tags, 'DELETE': clear_tags}),
    ('/v2.0/%s/<rid>/tags/<tag>' % _COLL, {'GET': check_tag, 'PUT': add_tag,
                                           'DELETE': remove_tag}),
]
