"""Servers: create, list, show, update, delete."""

import base64
import binascii
import re
import uuid as uuid_mod

import flask
import sqlalchemy as sa
from oslo_log import log as logging
from oslo_utils import timeutils

from api import http
from api import microversion
from api.compute import flavors as flavors_api
from api.compute import images
from api.compute import paging
from api.compute import schema_types as types
from api.compute import server_views as views
from api.compute import server_volumes
from api.compute import tags
from blockstore import attachments
from common import exception
from common import instance_states as st
from common import policy
from common import quota
from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import records
from conductor import resizes
from network import notify
from network import ports
from network import state as netstate
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3

_bdm = {'type': 'object', 'properties': {
    'uuid': {'type': 'string'}, 'boot_index': {'type': ['integer', 'string', 'null']},
    'source_type': {'enum': ['image', 'volume', 'snapshot', 'blank']},
    'destination_type': {'enum': ['local', 'volume']},
    'delete_on_termination': {'type': ['boolean', 'string', 'null']},
    'volume_size': {'type': ['integer', 'string', 'null']},
    'device_name': {'type': ['string', 'null']}, 'device_type': {'type': ['string', 'null']},
    'disk_bus': {'type': ['string', 'null']}, 'guest_format': {'type': ['string', 'null']},
    'tag': {'type': 'string'}, 'volume_type': {'type': ['string', 'null']},
}, 'additionalProperties': False}

_create_schema = {
    'type': 'object', 'required': ['server'],
    'properties': {
        'server': {
            'type': 'object', 'required': ['name', 'flavorRef'],
            'additionalProperties': False,
            'properties': {
                'name': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                'imageRef': {'type': 'string'},
                'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
                'networks': {'oneOf': [
                    {'enum': ['auto', 'none']},
                    {'type': 'array', 'items': {'type': 'object', 'properties': {
                        'uuid': {'type': 'string'}, 'port': {'type': ['string', 'null']},
                        'fixed_ip': {'type': 'string'}, 'tag': {'type': 'string'}},
                        'additionalProperties': False}}]},
                'key_name': {'type': ['string', 'null'], 'minLength': 1, 'maxLength': 255},
                'user_data': {'type': ['string', 'null'], 'maxLength': 65535},
                'metadata': types.METADATA,
                'availability_zone': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                'min_count': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
                              'minimum': 1},
                'max_count': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
                              'minimum': 1},
                'return_reservation_id': {'type': ['boolean', 'string']},
                'block_device_mapping_v2': {'type': 'array', 'items': _bdm},
                'security_groups': {'type': 'array', 'items': {
                    'type': 'object', 'properties': {'name': {'type': 'string'}}}},
                'config_drive': {'type': ['boolean', 'string']},
                'adminPass': {'type': 'string'},
                'description': {'type': ['string', 'null'], 'maxLength': 255},
                'accessIPv4': types.ACCESS_IPV4, 'accessIPv6': types.ACCESS_IPV6,
                'OS-DCF:diskConfig': {'enum': ['AUTO', 'MANUAL']},
                'tags': tags.TAGS,  # from 2.52
                'hostname': {'type': 'string', 'minLength': 1, 'maxLength': 63},
                # file injection, until 2.57: accepted, not injected
                'personality': {'type': 'array', 'items': {'type': 'object'}},
            }},
        'os:scheduler_hints': {'type': 'object'},
        'OS-SCH-HNT:scheduler_hints': {'type': 'object'},
    },
    'additionalProperties': False,
}

_update_schema = {
    'type': 'object', 'required': ['server'], 'additionalProperties': False,
    'properties': {'server': {'type': 'object', 'additionalProperties': False,
                              'minProperties': 1, 'properties': {
                                  'name': {'type': 'string', 'minLength': 1,
                                           'maxLength': 255},
                                  'description': {'type': ['string', 'null'],
                                                  'maxLength': 255},
                                  'accessIPv4': types.ACCESS_IPV4,
                                  'accessIPv6': types.ACCESS_IPV6,
                                  'OS-DCF:diskConfig': {'enum': ['AUTO', 'MANUAL']}}}},
}


def hostname_of(name):
    host = re.sub(r'[^\w.-]+', '-', name.lower()).replace('_', '-')
    host = host.strip('.-')[:63].rstrip('.-')
    return host or 'server'


def _flavor(s, ctx, ref):
    try:
        return flavors_api.find(s, ctx, str(ref).rsplit('/', 1)[-1])
    except exception.NotFound:
        raise exception.BadRequest('Flavor %s could not be found.' % ref) from None


def _key(s, ctx, name):
    if not name:
        return None
    kp = s.scalars(sa.select(cm.KeyPair).where(cm.KeyPair.user_id == ctx.user_id,
                                               cm.KeyPair.name == name)).first()
    if kp is None:
        raise exception.BadRequest('Invalid key_name provided.')
    return kp


def _zones(s):
    zones = {CONF.default_availability_zone}
    zones.update(z for z in s.scalars(sa.select(cm.Aggregate.availability_zone)) if z)
    return zones


def _zone_and_host(ctx, value):
    """'zone', 'zone:host', ':host' or 'zone:host:node' -> (zone or None,
    host or None); naming a host is an admin's (Nova's forced_host rule)."""
    if not value:
        return None, None
    zone, _sep, rest = value.partition(':')
    host = rest.split(':')[0] or None
    if host:
        policy.authorize(ctx, 'os_compute_api:servers:create:forced_host',
                         {'project_id': ctx.project_id})
    return zone or None, host


def _count(body, key):
    try:
        return int(body.get(key, 1))
    except (TypeError, ValueError):
        raise exception.BadRequest('%s must be an integer.' % key) from None


class MetadataLimitExceeded(exception.Forbidden):
    msg_fmt = 'Maximum number of metadata items exceeds %(allowed)d'


def check_metadata_quota(project_id, metadata):
    """Nova's 403 when ``metadata`` has more items than the project's
    metadata_items quota allows."""
    allowed = quota.limits(project_id)['metadata_items']
    if 0 <= allowed < len(metadata or {}):
        raise MetadataLimitExceeded(allowed=allowed)


def _check_image_fits(image, flavor):
    if image.get('status') != 'active':
        raise exception.BadRequest('Image %s is not active.' % image['id'])
    if flavor.root_gb:
        if image.get('min_disk') and flavor.root_gb < image['min_disk']:
            raise exception.BadRequest(
                "Flavor's disk is too small for requested image. Flavor disk is %d GiB; "
                'the image needs %d GiB (min_disk).' % (flavor.root_gb, image['min_disk']))
        size = max(image.get('size') or 0, image.get('virtual_size') or 0)
        if size > flavor.root_gb * GiB:
            raise exception.BadRequest(
                "Flavor's disk is too small for requested image. Flavor disk is %d GiB; "
                'the image is %d bytes.' % (flavor.root_gb, size))
    if image.get('min_ram') and flavor.memory_mb < image['min_ram']:
        raise exception.BadRequest("Flavor's memory is too small for requested image "
                                   '(%d MB < %d MB).' % (flavor.memory_mb, image['min_ram']))


def create_server():
    ctx = http.context()
    policy.authorize(ctx, 'os_compute_api:servers:create', {'project_id': ctx.project_id})
    body = http.json_body(_create_schema)
    server = body['server']
    hints = body.get('os:scheduler_hints') or body.get('OS-SCH-HNT:scheduler_hints') or {}
    if 'tags' in server and not microversion.at_least('2.52'):
        raise exception.BadRequest("Invalid input for field/attribute server. Additional "
                                   "properties are not allowed ('tags' was unexpected)")
    if 'personality' in server and microversion.at_least('2.57'):
        raise exception.BadRequest("Invalid input for field/attribute server. Additional "
                                   "properties are not allowed ('personality' was "
                                   "unexpected)")
    if microversion.at_least('2.37') and 'networks' not in server:
        raise exception.BadRequest("Invalid input for field/attribute server: 'networks' "
                                   'is a required property')
    networks = server.get('networks', 'auto')
    if isinstance(networks, list) and not networks:
        networks = 'auto'
    image_ref = server.get('imageRef') or None
    bdms = server.get('block_device_mapping_v2') or []
    for bdm in bdms:
        if bdm.get('source_type') == 'image' and bdm.get('destination_type') != 'volume' \
                and not image_ref:
            image_ref = bdm.get('uuid')
    volume_plan = server_volumes.parse(ctx, bdms)
    boot_volume = server_volumes.root(volume_plan)
    image = None
    if boot_volume is None and image_ref:
        image_ref = image_ref.rsplit('/', 1)[-1]
        image = images.get(ctx, image_ref)
        from_image = server_volumes.image_mappings(image)
        if from_image:
            # A snapshot of a server booted from a volume: boot from new
            # volumes made from its snapshots, beside the request's own.
            volume_plan = server_volumes.parse(ctx, from_image + bdms)
            boot_volume = server_volumes.root(volume_plan)
            image = {'status': 'active', 'properties': {
                k: v for k, v in (image.get('properties') or {}).items()
                if k not in server_volumes.MAPPING_PROPERTIES}}
    if boot_volume is not None:
        image_ref = None  # booted from a volume: no image on the server, as in Nova
    elif not image_ref:
        raise exception.BadRequest('An image is required (imageRef), or a block device '
                                   'mapping with boot_index 0 to a volume.')
    check_metadata_quota(ctx.project_id, server.get('metadata'))
    user_data = server.get('user_data')
    if user_data:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            raise exception.BadRequest('User data needs to be valid base 64.') from None
    min_count, max_count = _count(server, 'min_count'), _count(server, 'max_count')
    if min_count > max_count:
        raise exception.BadRequest('min_count must be <= max_count')
    if volume_plan and max(_count(server, 'min_count'), _count(server, 'max_count')) > 1:
        raise exception.BadRequest('Servers with volumes in their block device mapping '
                                   'are created one at a time (min_count and max_count 1).')
    if image is None:
        image = {'status': 'active',
                 'properties': server_volumes.image_properties(volume_plan)}
    with db_api.reader() as s:
        flavor = _flavor(s, ctx, server['flavorRef'])
        specs = {r.key: r.value for r in s.scalars(sa.select(cm.FlavorExtraSpec).where(
            cm.FlavorExtraSpec.flavor_id == flavor.id))}
        kp = _key(s, ctx, server.get('key_name'))
        zone, forced_host = _zone_and_host(ctx, server.get('availability_zone')
                                           or CONF.default_schedule_zone)
        if zone and zone not in _zones(s):
            raise exception.BadRequest('The requested availability zone is not available')
        group = None
        if hints.get('group'):
            group = s.scalars(sa.select(cm.ServerGroup).where(
                cm.ServerGroup.uuid == hints['group'],
                cm.ServerGroup.project_id == ctx.project_id)).first()
            if group is None:
                raise exception.BadRequest('Server group %s not found.' % hints['group'])
    if image_ref:
        _check_image_fits(image, flavor)
    if flavor.disabled:
        raise exception.BadRequest('Flavor %s is disabled.' % flavor.flavorid)
    fl = flavors_api.to_dict(flavor, specs)
    if boot_volume is not None:
        disk_gb = 0  # the root disk is the volume: nothing on the host's disk
    else:
        disk_gb = flavor.root_gb or -(-(image.get('virtual_size') or image.get('size') or 0)
                                      // GiB)
    if isinstance(networks, list) and max_count > 1 and any(n.get('port') for n in networks):
        raise exception.BadRequest('Unable to launch multiple instances with a single '
                                   'configured port ID. Please launch your instance one by '
                                   'one with different ports.')
    limits = quota.prepare(ctx.project_id)
    count = max_count
    reservation_id = 'r-%s' % uuid_mod.uuid4().hex[:8]
    uuids = [str(uuid_mod.uuid4()) for _ in range(count)]
    names = [server['name'] if count == 1 else '%s-%d' % (server['name'], i + 1)
             for i in range(count)]
    groups = [g.get('name') for g in server.get('security_groups') or [] if g.get('name')]
    allocated = []
    made = []
    try:
        for uuid, name in zip(uuids, names, strict=True):
            # Ports first: a bad network, port or address fails the request
            # before any server exists.
            ports.allocate_for_instance(ctx, uuid, ctx.project_id, networks,
                                        hostname=hostname_of(server.get('hostname') or name),
                                        security_groups=groups or None)
            allocated.append(uuid)
        # Then volumes: one in use, or over the volume quota, fails it too.
        made = server_volumes.make(ctx, volume_plan, uuids[0], ctx.project_id)
        created = _create_records(ctx, server, uuids, names, count, min_count, limits, fl,
                                  flavor, image, image_ref, disk_gb, (zone, forced_host), kp,
                                  group, user_data, reservation_id)
    except Exception:
        for uuid in allocated:
            ports.deallocate_for_instance(uuid)
        server_volumes.undo(made)
        raise
    server_volumes.start(ctx, made)
    for uuid in uuids[len(created):]:
        ports.deallocate_for_instance(uuid)  # min_count was all the quota allowed
    try:
        scheduler_rpcapi.SchedulerAPI().build_instances(ctx, [i.uuid for i in created])
    except Exception as e:  # noqa: BLE001 - the bus is down: do not leave BUILD forever
        LOG.error('Could not ask the scheduler to build %s: %s', [i.uuid for i in created], e)
        for inst in created:
            instances.update(inst.uuid, {'vm_state': st.ERROR, 'task_state': None,
                                         'fault': instances.format_fault(
                                             'The scheduler could not be reached.', 503)})
    first = created[0]
    if str(server.get('return_reservation_id', '')).lower() in ('true', '1'):
        return http.reply({'reservation_id': reservation_id}, status=202)
    out = {'id': first.uuid, 'links': views.links(first.uuid), 'OS-DCF:diskConfig': 'MANUAL',
           'security_groups': [{'name': g} for g in groups or ['default']],
           'adminPass': server.get('adminPass') or uuid_mod.uuid4().hex[:12]}
    return http.reply({'server': out}, status=202,
                      headers={'Location': views.links(first.uuid)[0]['href']})


def _create_records(ctx, server, uuids, names, count, min_count, limits, fl, flavor, image,
                    image_ref, disk_gb, where, kp, group, user_data, reservation_id):
    """The instance rows and their create actions, quota consumed in the same
    transaction; max_count falls back to min_count when quota is short.
    ``where``: (zone or None, a host an admin named or None)."""
    zone, forced_host = where
    created = []
    while True:
        try:
            with db_api.session() as s:
                quota.consume(s, ctx.project_id, quota.instance_deltas(fl, count), limits)
                if group is not None:
                    _check_group_room(s, group, count)
                for i in range(count):
                    name = names[i] if count == len(names) else (
                        server['name'] if count == 1 else '%s-%d' % (server['name'], i + 1))
                    inst = cm.Instance(
                        uuid=uuids[i], display_name=name,
                        hostname=hostname_of(server.get('hostname') or name),
                        description=server.get('description'), project_id=ctx.project_id,
                        access_ip_v4=server.get('accessIPv4'),
                        access_ip_v6=server.get('accessIPv6'),
                        tags=tags.unique(server.get('tags')),
                        user_id=ctx.user_id, image_ref=image_ref, flavor=fl,
                        vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, root_gb=disk_gb,
                        vm_state=st.BUILDING, task_state=st.SCHEDULING, power_state=0,
                        availability_zone=None if forced_host else zone,
                        key_name=kp.name if kp else None,
                        key_data=kp.public_key if kp else None, user_data=user_data,
                        meta=server.get('metadata') or {}, launch_index=i,
                        reservation_id=reservation_id, config_drive=True,
                        request_spec={'vcpus': flavor.vcpus, 'memory_mb': flavor.memory_mb,
                                      'disk_gb': disk_gb,
                                      # a host named by an admin: only that
                                      # one, whatever its zone
                                      'availability_zone': None if forced_host else zone,
                                      'requested_host': forced_host,
                                      'image_properties': image.get('properties') or {},
                                      'group_uuid': group.uuid if group else None,
                                      'tried_hosts': []},
                        created_at=instances.utcnow())
                    s.add(inst)
                    s.add(cm.InstanceAction(instance_uuid=inst.uuid, request_id=ctx.request_id,
                                            action='create', project_id=ctx.project_id,
                                            user_id=ctx.user_id))
                    if group is not None:
                        s.add(cm.ServerGroupMember(group_id=group.id, instance_uuid=inst.uuid))
                    created.append(inst)
            break
        except quota.OverQuota:
            if count == min_count:
                raise
            count, created = min_count, []
    return created


def _check_group_room(s, group, count):
    members = s.scalar(sa.select(sa.func.count()).select_from(cm.ServerGroupMember).where(
        cm.ServerGroupMember.group_id == group.id)) or 0
    limit = CONF.quota.server_group_members
    if 0 <= limit < members + count:
        raise quota.OverQuota(resource='server_group_members', requested=count, used=members,
                              limit=limit)


def _visible_query(ctx, args):
    q = sa.select(cm.Instance)
    all_tenants = args.get('all_tenants') is not None and \
        args.get('all_tenants', '').lower() not in ('0', 'false', 'f', 'no', 'off')
    if all_tenants:
        policy.authorize(ctx, 'os_compute_api:servers:index:get_all_tenants', {})
        project = args.get('project_id') or args.get('tenant_id')
        if project:
            q = q.where(cm.Instance.project_id == project)
    elif ctx.is_admin_role and (args.get('project_id') or args.get('tenant_id')):
        q = q.where(cm.Instance.project_id == (args.get('project_id') or args.get('tenant_id')))
    else:
        q = q.where(cm.Instance.project_id == ctx.project_id)
    deleted = args.get('deleted', 'false').lower() in ('true', '1', 't', 'yes')
    # As in Nova: changes-since also lists what was deleted since (status
    # DELETED), so a poller learns of deletions; an admin's explicit
    # 'deleted' filter wins.
    since_lists_deleted = 'changes-since' in args and not (
        ctx.is_admin_role and 'deleted' in args)
    if not since_lists_deleted and not (deleted and ctx.is_admin_role):
        q = q.where(cm.Instance.deleted.is_(False))
    return q


def _list(detail):
    ctx = http.context()
    args = flask.request.args
    q = _visible_query(ctx, args)
    if args.get('changes-since'):
        try:
            since = timeutils.parse_isotime(args['changes-since']).replace(tzinfo=None)
        except ValueError:
            raise exception.BadRequest('Invalid changes-since value.') from None
        q = q.where(sa.or_(cm.Instance.updated_at >= since, cm.Instance.created_at >= since))
    for arg, col in (('host', cm.Instance.host), ('image', cm.Instance.image_ref),
                     ('availability_zone', cm.Instance.availability_zone),
                     ('reservation_id', cm.Instance.reservation_id),
                     ('key_name', cm.Instance.key_name)):
        if args.get(arg):
            if arg == 'host':
                policy.authorize(ctx, 'os_compute_api:servers:detail', {})
            q = q.where(col == args[arg])
    statuses = args.getlist('status')
    if statuses:
        vm_states = set()
        for status in statuses:
            known = st.STATUS_TO_VM_STATES.get(status.upper())
            if known is None and status.upper() not in ('REBOOT', 'HARD_REBOOT'):
                if microversion.at_least('2.38'):
                    raise exception.BadRequest('Invalid status value')
                return http.reply({'servers': []})
            vm_states |= known or {st.ACTIVE}
        q = q.where(cm.Instance.vm_state.in_(vm_states))
    sort_key = {'created_at': cm.Instance.created_at, 'display_name': cm.Instance.display_name,
                'uuid': cm.Instance.uuid, 'updated_at': cm.Instance.updated_at,
                'vm_state': cm.Instance.vm_state}.get(args.get('sort_key', 'created_at'))
    if sort_key is None:
        raise exception.BadRequest('Invalid sort_key %s.' % args.get('sort_key'))
    order = sort_key.asc() if args.get('sort_dir') == 'asc' else sort_key.desc()
    with db_api.reader() as s:
        rows = list(s.scalars(q.order_by(order, cm.Instance.uuid)))
    if args.get('name'):
        try:
            pattern = re.compile(args['name'])
        except re.error:
            raise exception.BadRequest('Invalid name filter: not a regular expression.'
                                       ) from None
        rows = [r for r in rows if pattern.search(r.display_name)]
    if args.get('flavor'):
        rows = [r for r in rows if r.flavor.get('flavorid') == args['flavor']]
    rows = tags.filter_rows(rows, args)
    if statuses:
        want = {s_.upper() for s_ in statuses}
        rows = [r for r in rows if st.status(r.vm_state, r.task_state) in want]
    rows = paging.page(rows, lambda r: r.uuid)
    if detail:
        return http.reply({'servers': views.details(rows, ctx)})
    return http.reply({'servers': [views.basic(r) for r in rows]})


def list_servers():
    return _list(False)


def list_servers_detail():
    return _list(True)


def get_instance(ctx, server_id, rule=None):
    """The caller's instance (any project for admins), or 404; with
    ``rule``, the caller must also pass policy os_compute_api:<rule> for
    the instance's project."""
    try:
        inst = instances.get(server_id, None if ctx.is_admin_role else ctx.project_id)
    except instances.InstanceNotFound:
        raise exception.NotFound('Instance %s could not be found.' % server_id) from None
    if rule is not None:
        policy.authorize(ctx, 'os_compute_api:' + rule, {'project_id': inst.project_id})
    return inst


def show_server(server_id):
    ctx = http.context()
    return http.reply({'server': views.detail(get_instance(ctx, server_id), ctx)})


def update_server(server_id):
    ctx = http.context()
    inst = get_instance(ctx, server_id, 'servers:update')
    body = http.json_body(_update_schema)['server']
    values = {}
    if 'name' in body:
        values['display_name'] = body['name']
    if 'description' in body:
        if not microversion.at_least('2.19'):
            raise exception.BadRequest('description needs microversion 2.19.')
        values['description'] = body['description']
    values.update(access_ips(body))
    if values:
        inst = instances.update(inst.uuid, values, action='update')
    return http.reply({'server': views.summary(inst, ctx)})


def access_ips(body):
    """The access_ip columns an accessIPv4/accessIPv6 in ``body`` sets
    (Nova's access_ip_v4 and access_ip_v6)."""
    return {col: body[key] or None for key, col in (('accessIPv4', 'access_ip_v4'),
                                                    ('accessIPv6', 'access_ip_v6'))
            if key in body}


def delete_server(server_id):
    ctx = http.context()
    inst = get_instance(ctx, server_id)
    policy.authorize(ctx, 'os_compute_api:servers:delete', {'project_id': inst.project_id})
    inst = instances.begin_action(ctx, inst.uuid, 'delete')
    instances.event_start(ctx.request_id, inst.uuid, 'terminate')
    _clean_other_host(ctx, inst)
    if inst.host and host_up(inst.host):
        payload = dict(instances.to_dict(inst),
                       block_devices=attachments.instance_block_devices(inst.uuid))
        compute_rpcapi.ComputeAPI().terminate_instance(ctx, inst.host, payload)
    else:
        # Never placed, or its host is down: delete the records here. A host
        # that comes back cleans up the orphan domain at start-up; one that
        # only looked down (its heartbeats held up, as by a broker outage)
        # never restarts: it is told all the same, and removes the guest.
        payload = dict(instances.to_dict(inst), block_devices=[]) if inst.host else None
        hosts = netstate.hosts_for_instance(inst.uuid)
        server_volumes.release_for_deleted_server(ctx, inst.uuid)
        records.finish_delete(ctx.request_id, inst.uuid)
        notify.refresh_hosts(ctx, hosts)
        if payload is not None:
            try:
                compute_rpcapi.ComputeAPI().terminate_instance(ctx, inst.host, payload)
            except Exception:  # noqa: BLE001 - the records are settled; its restart cleans
                LOG.warning('Could not tell %s to remove the guest of deleted server %s',
                            inst.host, inst.uuid, exc_info=True)
    return http.reply(status=204)


def _clean_other_host(ctx, inst):
    """A server deleted while it moves to another host, or waits there
    for its confirmation, has a guest and disk on both: the host that is not
    its own drops its copy (the delete gives back both claims)."""
    mig = resizes.get_open(inst.uuid)
    if mig is None or mig.source_compute == mig.dest_compute:
        return
    other = mig.source_compute if inst.host == mig.dest_compute else mig.dest_compute
    if not other or not host_up(other):
        return  # it removes the orphan when it starts again
    payload = dict(instances.to_dict(inst),
                   block_devices=attachments.instance_block_devices(inst.uuid))
    try:
        compute_rpcapi.ComputeAPI().cleanup_migration(ctx, other, payload,
                                                      migration=resizes.to_dict(mig))
    except Exception:  # noqa: BLE001 - its restart removes the orphan
        LOG.warning('Could not ask %s to drop its copy of %s', other, inst.uuid,
                    exc_info=True)


def host_up(host):
    recs = servicegroup.list_services(binary='nova-compute', host=host)
    return bool(recs) and servicegroup.is_up(recs[0])


ROUTES = [
    ('/v2.1/servers', {'GET': list_servers, 'POST': create_server}),
    ('/v2.1/servers/detail', {'GET': list_servers_detail}),
    ('/v2.1/servers/<server_id>', {'GET': show_server, 'PUT': update_server,
                                   'DELETE': delete_server}),
]
