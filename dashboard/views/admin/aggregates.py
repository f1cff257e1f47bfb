"""Host aggregates and availability zones: each aggregate with its zone,
hosts and metadata (create with a zone, add and remove hosts, set and
unset metadata, delete); the zones with their hosts and services."""

import flask

from dashboard import rest
from dashboard.views import admin
from dashboard.views import admin_only

bp = admin.blueprint('admin_aggregates', '/admin/aggregates')
ADMIN_NAV = [('admin_aggregates.index', 'Aggregates and zones')]


def _action(agg_id, name, args):
    return rest.call('compute', 'POST', '/os-aggregates/%d/action' % agg_id, {name: args})


@bp.route('/')
@admin_only
def index():
    aggs = rest.get('compute', '/os-aggregates')['aggregates']
    aggs.sort(key=lambda a: a['name'].lower())
    zones, zones_err = rest.attempt('compute', 'GET', '/os-availability-zone/detail')
    hosts, hosts_err = rest.attempt('compute', 'GET', '/os-services',
                                    **{'binary': 'nova-compute'})
    return flask.render_template(
        'admin/aggregates.html', aggregates=aggs,
        zones=(zones or {}).get('availabilityZoneInfo', []), zones_err=zones_err,
        hosts=sorted({s['host'] for s in (hosts or {}).get('services', [])}),
        hosts_err=hosts_err)


@bp.route('/', methods=['POST'])
@admin_only
def create():
    name, zone = rest.form('name'), rest.form('zone')
    agg = {'name': name}
    if zone:
        agg['availability_zone'] = zone
    created = rest.call('compute', 'POST', '/os-aggregates', {'aggregate': agg})['aggregate']
    return rest.done('Aggregate %s created%s.' % (created['name'], ' in zone %s' % zone
                                                  if zone else ''),
                     flask.url_for('.index'))


@bp.route('/<int:agg_id>/hosts', methods=['POST'])
@admin_only
def hosts(agg_id):
    host = rest.form('host')
    if not host:
        rest.refuse('Choose a host.')
    add = rest.form('op', 'add') == 'add'
    agg = _action(agg_id, 'add_host' if add else 'remove_host', {'host': host})['aggregate']
    return rest.done('Host %s %s aggregate %s.' % (host, 'added to' if add else
                                                   'removed from', agg['name']),
                     flask.url_for('.index'))


@bp.route('/<int:agg_id>/metadata', methods=['POST'])
@admin_only
def metadata(agg_id):
    key = rest.form('key')
    if not key:
        rest.refuse('Give the metadata a key.')
    unset = rest.form('op') == 'unset'
    value = None if unset else rest.form('value')
    agg = _action(agg_id, 'set_metadata', {'metadata': {key: value}})['aggregate']
    return rest.done('Metadata %s %s on aggregate %s.' % (key, 'unset' if unset else 'set',
                                                         agg['name']),
                     flask.url_for('.index'))


@bp.route('/<int:agg_id>/delete', methods=['POST'])
@admin_only
def delete(agg_id):
    rest.call('compute', 'DELETE', '/os-aggregates/%d' % agg_id)
    return rest.done('Aggregate %s deleted.' % rest.form('name', str(agg_id)),
                     flask.url_for('.index'))
