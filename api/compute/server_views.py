"""How a server looks in the Nova API, by microversion."""

import hashlib

from api import http
from api import microversion
from blockstore import attachments
from common import exception
from common import instance_states as st
from common import policy
from common import servicegroup
from network import ports

_TIME = '%Y-%m-%dT%H:%M:%SZ'


def _t(dt, fmt=_TIME):
    return dt.strftime(fmt) if dt else None


def links(uuid):
    href = http.url('compute/v2.1/servers', uuid)
    return [{'rel': 'self', 'href': href},
            {'rel': 'bookmark', 'href': href.replace('/v2.1/', '/')}]


def host_id(inst):
    if not inst.host:
        return ''
    return hashlib.sha224((inst.project_id + inst.host).encode()).hexdigest()


def flavor_view(inst):
    fl = inst.flavor or {}
    if microversion.at_least('2.47'):
        d = {'original_name': fl.get('name'), 'vcpus': fl.get('vcpus'),
             'ram': fl.get('memory_mb'), 'disk': fl.get('root_gb'),
             'ephemeral': fl.get('ephemeral_gb', 0), 'swap': fl.get('swap', 0)}
        d['extra_specs'] = fl.get('extra_specs', {})
        return d
    href = http.url('compute/flavors', fl.get('flavorid', ''))
    return {'id': fl.get('flavorid'), 'links': [{'rel': 'bookmark', 'href': href}]}


def image_view(inst):
    if not inst.image_ref:
        return ''
    href = http.url('compute/images', inst.image_ref)
    return {'id': inst.image_ref, 'links': [{'rel': 'bookmark', 'href': href}]}


def basic(inst):
    return {'id': inst.uuid, 'name': inst.display_name, 'links': links(inst.uuid)}


def details(insts, ctx):
    """Detail views of many servers, their ports read in one go."""
    uuids = [i.uuid for i in insts]
    addrs = ports.addresses(uuids) if uuids else {}
    groups = ports.security_group_names(uuids) if uuids else {}
    vols = attachments.volumes_attached(uuids)
    return [detail(i, ctx, addrs.get(i.uuid), groups.get(i.uuid), vols.get(i.uuid))
            for i in insts]


# Nova shows progress only in these statuses, a fault only in these.
_PROGRESS_STATUSES = ('ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING')
_FAULT_STATUSES = ('ERROR', 'DELETED')


def plain_addresses(addresses):
    """Addresses without the OS-EXT-IPS fields (update and rebuild answers)."""
    return {net: [{'version': a['version'], 'addr': a['addr']} for a in entries]
            for net, entries in addresses.items()}


def _core(inst, ctx, addresses):
    """The keys every full server view has (Nova's show() without extras)."""
    status = st.status(inst.vm_state, inst.task_state)
    d = {
        'id': inst.uuid, 'name': inst.display_name, 'status': status,
        'tenant_id': inst.project_id, 'user_id': inst.user_id,
        'metadata': dict(inst.meta or {}), 'hostId': host_id(inst),
        'image': image_view(inst), 'flavor': flavor_view(inst),
        'created': _t(inst.created_at), 'updated': _t(inst.updated_at or inst.created_at),
        # (Nova hides addresses while building; ours exist from the
        # create on, and are shown.)
        'addresses': addresses or {},
        'accessIPv4': inst.access_ip_v4 or '', 'accessIPv6': inst.access_ip_v6 or '',
        'links': links(inst.uuid), 'OS-DCF:diskConfig': 'MANUAL',
    }
    if status in _PROGRESS_STATUSES:
        d['progress'] = inst.progress if inst.vm_state == st.BUILDING else 0
    if status in _FAULT_STATUSES and inst.fault:
        fault = {'code': inst.fault.get('code', 500), 'message': inst.fault.get('message'),
                 'created': inst.fault.get('created')}
        if ctx.is_admin_role and inst.fault.get('details'):
            fault['details'] = inst.fault['details']
        d['fault'] = fault
    if microversion.at_least('2.9'):
        d['locked'] = bool(inst.locked)
    return d


def _since_219(d, inst):
    if microversion.at_least('2.19'):
        d['description'] = inst.description
    if microversion.at_least('2.26'):
        d['tags'] = list(inst.tags or [])
    return d


def summary(inst, ctx):
    """The server as Nova answers a PUT /servers/{id} or a rebuild before
    2.75: no OS-EXT-* extensions, key_name, security groups or volumes, and
    addresses without their type and MAC."""
    addrs = ports.addresses([inst.uuid]).get(inst.uuid) or {}
    return _since_219(_core(inst, ctx, plain_addresses(addrs)), inst)


def _may(ctx, rule, inst):
    try:
        return policy.authorize(ctx, 'os_compute_api:' + rule,
                                {'project_id': inst.project_id})
    except exception.PolicyNotAuthorized:
        return False


def host_status(inst):
    """Nova's host_status (2.16): UP, DOWN (forced down), MAINTENANCE
    (disabled), UNKNOWN (no heartbeat) or '' for a server with no host."""
    if not inst.host:
        return ''
    recs = servicegroup.list_services(binary='nova-compute', host=inst.host)
    if not recs:
        return 'UNKNOWN'
    svc = recs[0]
    if getattr(svc, 'forced_down', False):
        return 'DOWN'
    if svc.disabled:
        return 'MAINTENANCE'
    return 'UP' if servicegroup.is_up(svc) else 'UNKNOWN'


def detail(inst, ctx, addresses=None, security_groups=None, volumes_attached=None):
    """One server's detail view; without ``addresses`` its ports are read."""
    if addresses is None:
        return details([inst], ctx)[0]
    admin = ctx.is_admin_role
    d = _core(inst, ctx, addresses)
    d.update({
        'OS-EXT-AZ:availability_zone': inst.availability_zone or '',
        'config_drive': 'True' if inst.config_drive else '',
        'key_name': inst.key_name,
        'OS-SRV-USG:launched_at': _t(inst.launched_at, '%Y-%m-%dT%H:%M:%S.%f'),
        'OS-SRV-USG:terminated_at': _t(inst.terminated_at, '%Y-%m-%dT%H:%M:%S.%f'),
        'OS-EXT-STS:task_state': inst.task_state, 'OS-EXT-STS:vm_state': inst.vm_state,
        'OS-EXT-STS:power_state': inst.power_state,
        'os-extended-volumes:volumes_attached': [
            v if microversion.at_least('2.3') else {'id': v['id']}
            for v in volumes_attached or []],
    })
    if security_groups:
        d['security_groups'] = [{'name': n} for n in security_groups]
    if admin:
        d.update({'OS-EXT-SRV-ATTR:host': inst.host,
                  'OS-EXT-SRV-ATTR:hypervisor_hostname': inst.node,
                  'OS-EXT-SRV-ATTR:instance_name': 'altostack-%s' % inst.uuid})
        if microversion.at_least('2.3'):
            d.update({'OS-EXT-SRV-ATTR:reservation_id': inst.reservation_id,
                      'OS-EXT-SRV-ATTR:launch_index': inst.launch_index,
                      'OS-EXT-SRV-ATTR:hostname': inst.hostname,
                      'OS-EXT-SRV-ATTR:kernel_id': '', 'OS-EXT-SRV-ATTR:ramdisk_id': '',
                      'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
                      'OS-EXT-SRV-ATTR:user_data': inst.user_data})
    if microversion.at_least('2.16') and _may(ctx, 'servers:show:host_status', inst):
        d['host_status'] = host_status(inst)
    return _since_219(d, inst)
