"""Hypervisors, aggregates and availability zones: the compute hosts seen
from the API."""

import json
import uuid as uuid_mod

import flask
import oslo_messaging as messaging
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from api import http
from api import microversion
from api.compute import paging
from common import exception
from common import policy
from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from compute import rpcapi as compute_rpcapi

_T = '%Y-%m-%dT%H:%M:%S.%f'


# -- os-hypervisors -----------------------------------------------------------

def _service(host):
    recs = servicegroup.list_services(binary='nova-compute', host=host)
    return recs[0] if recs else None


def _services_of(nodes):
    """{host: compute service record} of ``nodes``, in one query (a query
    per node made a list of thousands of hypervisors take seconds)."""
    hosts = {n.host for n in nodes}
    if not hosts:
        return {}
    if len(hosts) > 500:  # most of them: all compute records beat a huge IN list
        recs = servicegroup.list_services(binary='nova-compute')
    else:
        recs = servicegroup.list_services(binary='nova-compute', hosts=hosts)
    return {r.host: r for r in recs if r.host in hosts}


def _hypervisor(node, detail, svc):
    """``svc``: the node's compute service record (None: it has none)."""
    d = {'id': node.uuid if microversion.at_least('2.53') else node.id,
         'hypervisor_hostname': node.hypervisor_hostname,
         'state': 'up' if svc and servicegroup.is_up(svc) else 'down',
         'status': 'disabled' if svc is None or svc.disabled else 'enabled'}
    if not detail:
        return d
    d.update({'hypervisor_type': node.hypervisor_type,
              'hypervisor_version': node.hypervisor_version, 'host_ip': node.host_ip,
              'service': {'host': node.host,
                          'id': (svc.uuid if microversion.at_least('2.53') else svc.id)
                          if svc else None,
                          'disabled_reason': svc.disabled_reason if svc else None}})
    # (Nova drops these resource fields at 2.88, beyond our max.)
    d.update({'vcpus': node.vcpus, 'memory_mb': node.memory_mb, 'local_gb': node.local_gb,
              'vcpus_used': node.vcpus_used, 'memory_mb_used': node.memory_mb_used,
              'local_gb_used': node.local_gb_used,
              'free_ram_mb': node.memory_mb - node.memory_mb_used,
              'free_disk_gb': node.local_gb - node.local_gb_used,
              'current_workload': 0, 'running_vms': node.running_vms,
              'disk_available_least': node.disk_available_least,
              'cpu_info': _cpu_info(node)})
    return d


def _nodes(args):
    q = sa.select(cm.ComputeNode).order_by(cm.ComputeNode.id)
    if args.get('hypervisor_hostname_pattern'):
        q = q.where(cm.ComputeNode.hypervisor_hostname.contains(
            args['hypervisor_hostname_pattern']))
    with db_api.reader() as s:
        return list(s.scalars(q))


def _cpu_info(node):
    raw = node.cpu_info or '{}'
    if not microversion.at_least('2.28'):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def _paged_nodes():
    """The nodes, from 2.33 with limit and marker (the id as shown)."""
    nodes = _nodes(flask.request.args)
    if microversion.at_least('2.33'):
        nodes = paging.page(nodes, lambda n: str(
            n.uuid if microversion.at_least('2.53') else n.id))
    return nodes


def list_hypervisors():
    policy.authorize(http.context(), 'os_compute_api:os-hypervisors:list', {})
    nodes = _paged_nodes()
    svcs = _services_of(nodes)
    return http.reply({'hypervisors': [_hypervisor(n, False, svcs.get(n.host))
                                       for n in nodes]})


def list_hypervisors_detail():
    policy.authorize(http.context(), 'os_compute_api:os-hypervisors:list-detail', {})
    nodes = _paged_nodes()
    svcs = _services_of(nodes)
    return http.reply({'hypervisors': [_hypervisor(n, True, svcs.get(n.host))
                                       for n in nodes]})


def show_hypervisor(hypervisor_id):
    policy.authorize(http.context(), 'os_compute_api:os-hypervisors:show', {})
    col = cm.ComputeNode.uuid if microversion.at_least('2.53') else cm.ComputeNode.id
    if col is cm.ComputeNode.id and not str(hypervisor_id).isdigit():
        raise exception.NotFound('Hypervisor %s could not be found.' % hypervisor_id)
    with db_api.reader() as s:
        node = s.scalars(sa.select(cm.ComputeNode).where(col == hypervisor_id)).first()
    if node is None:
        raise exception.NotFound('Hypervisor %s could not be found.' % hypervisor_id)
    return http.reply({'hypervisor': _hypervisor(node, True, _service(node.host))})


def hypervisor_uptime(hypervisor_id):
    policy.authorize(http.context(), 'os_compute_api:os-hypervisors:show', {})
    body = show_hypervisor(hypervisor_id).get_json()['hypervisor']
    host = body['service']['host']
    try:
        uptime = compute_rpcapi.ComputeAPI().get_host_uptime(http.context(), host)
    except messaging.MessagingTimeout:
        raise exception.ServiceUnavailable(reason='the compute host %s did not answer'
                                           % host) from None
    return http.reply({'hypervisor': {k: body[k] for k in (
        'id', 'hypervisor_hostname', 'state', 'status')} | {'uptime': uptime}})


# -- os-aggregates -----------------------------------------------------------

_agg_schema = {'type': 'object', 'required': ['aggregate'], 'additionalProperties': False,
               'properties': {'aggregate': {
                   'type': 'object', 'additionalProperties': False,
                   'properties': {'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                                  'availability_zone': {'type': ['string', 'null'],
                                                        'minLength': 1, 'maxLength': 255}}}}}


def _agg_view(s, agg):
    hosts = sorted(s.scalars(sa.select(cm.AggregateHost.host).where(
        cm.AggregateHost.aggregate_id == agg.id)))
    meta = dict(agg.meta or {})
    if agg.availability_zone:
        meta['availability_zone'] = agg.availability_zone
    d = {'id': agg.id, 'name': agg.name, 'availability_zone': agg.availability_zone,
         'hosts': hosts, 'metadata': meta, 'created_at': agg.created_at.strftime(_T),
         'updated_at': agg.updated_at.strftime(_T) if agg.updated_at else None,
         'deleted': False, 'deleted_at': None}
    if microversion.at_least('2.41'):
        d['uuid'] = agg.uuid
    return d


def _agg(s, agg_id):
    agg = s.get(cm.Aggregate, int(agg_id)) if str(agg_id).isdigit() else None
    if agg is None:
        raise exception.NotFound('Aggregate %s could not be found.' % agg_id)
    return agg


def list_aggregates():
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:index', {})
    with db_api.reader() as s:
        return http.reply({'aggregates': [_agg_view(s, a) for a in
                                          s.scalars(sa.select(cm.Aggregate))]})


def create_aggregate():
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:create', {})
    body = http.json_body(_agg_schema)['aggregate']
    if 'name' not in body:
        raise exception.BadRequest("'name' is a required property")
    try:
        with db_api.session() as s:
            if s.scalars(sa.select(cm.Aggregate).where(cm.Aggregate.name == body['name'])
                         ).first():
                raise exception.Conflict('Aggregate %s already exists.' % body['name'])
            agg = cm.Aggregate(uuid=str(uuid_mod.uuid4()), name=body['name'],
                               availability_zone=body.get('availability_zone'), meta={})
            s.add(agg)
            s.flush()
            view = _agg_view(s, agg)
            # As Nova: a new aggregate is shown without hosts and metadata.
            del view['hosts'], view['metadata']
            return http.reply({'aggregate': view})
    except sa_exc.IntegrityError:
        raise exception.Conflict('Aggregate %s already exists.' % body['name']) from None


def show_aggregate(agg_id):
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:show', {})
    with db_api.reader() as s:
        return http.reply({'aggregate': _agg_view(s, _agg(s, agg_id))})


def update_aggregate(agg_id):
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:update', {})
    body = http.json_body(_agg_schema)['aggregate']
    with db_api.session() as s:
        agg = _agg(s, agg_id)
        for k, v in body.items():
            setattr(agg, k, v)
        return http.reply({'aggregate': _agg_view(s, agg)})


def delete_aggregate(agg_id):
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:delete', {})
    with db_api.session() as s:
        agg = _agg(s, agg_id)
        if s.scalars(sa.select(cm.AggregateHost).where(cm.AggregateHost.aggregate_id ==
                                                        agg.id)).first():
            raise exception.BadRequest('Cannot delete aggregate %s: it still has hosts.'
                                       % agg_id)
        s.delete(agg)
    return http.reply(status=200)


def aggregate_action(agg_id):
    policy.authorize(http.context(), 'os_compute_api:os-aggregates:add_host', {})
    body = http.json_body()
    if len(body) != 1:
        raise exception.BadRequest('An action body names exactly one action.')
    (name, args), = body.items()
    if not isinstance(args, dict):
        raise exception.BadRequest('The %s action takes an object.' % name)
    with db_api.session() as s:
        agg = _agg(s, agg_id)
        if name in ('add_host', 'remove_host'):
            host = args.get('host')
            if not host or _service(host) is None:
                raise exception.NotFound('Compute host %s could not be found.' % host)
            row = s.get(cm.AggregateHost, (agg.id, host))
            if name == 'add_host':
                if row is not None:
                    raise exception.Conflict('Host %s is already in aggregate %s.'
                                             % (host, agg_id))
                s.add(cm.AggregateHost(aggregate_id=agg.id, host=host))
            else:
                if row is None:
                    raise exception.NotFound('Host %s is not in aggregate %s.'
                                             % (host, agg_id))
                s.delete(row)
        elif name == 'set_metadata':
            meta = dict(agg.meta or {})
            for k, v in (args.get('metadata') or {}).items():
                if k == 'availability_zone':
                    agg.availability_zone = v
                elif v is None:
                    meta.pop(k, None)
                else:
                    meta[k] = str(v)
            agg.meta = meta
        else:
            raise exception.BadRequest('There is no such action: %s' % name)
        s.flush()
        return http.reply({'aggregate': _agg_view(s, agg)})


# -- os-availability-zone ----------------------------------------------------

def _zone_hosts():
    with db_api.reader() as s:
        by_host = dict(s.execute(sa.select(cm.AggregateHost.host,
                                           cm.Aggregate.availability_zone)
                                 .join(cm.Aggregate, cm.Aggregate.id ==
                                       cm.AggregateHost.aggregate_id)
                                 .where(cm.Aggregate.availability_zone.is_not(None))).all())
    zones = {}
    for rec in servicegroup.list_services():
        zone = by_host.get(rec.host, CONF.default_availability_zone) \
            if rec.binary == 'nova-compute' else 'internal'
        zones.setdefault(zone, []).append(rec)
    return zones


def list_zones():
    zones = _zone_hosts()
    info = [{'zoneName': z, 'zoneState': {'available': any(
        servicegroup.is_up(r) and not r.disabled for r in recs)}, 'hosts': None}
        for z, recs in sorted(zones.items()) if z != 'internal']
    return http.reply({'availabilityZoneInfo': info})


def list_zones_detail():
    policy.authorize(http.context(), 'os_compute_api:os-availability-zone:detail', {})
    info = []
    for z, recs in sorted(_zone_hosts().items()):
        hosts = {}
        for r in recs:
            hosts.setdefault(r.host, {})[r.binary] = {
                'available': servicegroup.is_up(r), 'active': not r.disabled,
                'updated_at': r.updated_at.strftime(_T) if r.updated_at else None}
        info.append({'zoneName': z, 'zoneState': {'available': True}, 'hosts': hosts})
    return http.reply({'availabilityZoneInfo': info})


ROUTES = [
    ('/v2.1/os-hypervisors', {'GET': list_hypervisors}),
    ('/v2.1/os-hypervisors/detail', {'GET': list_hypervisors_detail}),
    ('/v2.1/os-hypervisors/<hypervisor_id>', {'GET': show_hypervisor}),
    ('/v2.1/os-hypervisors/<hypervisor_id>/uptime', {'GET': hypervisor_uptime}),
    ('/v2.1/os-aggregates', {'GET': list_aggregates, 'POST': create_aggregate}),
    ('/v2.1/os-aggregates/<agg_id>', {'GET': show_aggregate, 'PUT': update_aggregate,
                                      'DELETE': delete_aggregate}),
    ('/v2.1/os-aggregates/<agg_id>/action', {'POST': aggregate_action}),
    ('/v2.1/os-availability-zone', {'GET': list_zones}),
    ('/v2.1/os-availability-zone/detail', {'GET': list_zones_detail}),
]
