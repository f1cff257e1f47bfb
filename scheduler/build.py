"""The build flow: pick a host, claim it, hand the build to its agent;
on a failed build free the claim and try another host (bounded); when no
host fits, the server goes to ERROR with a fault that says why.
"""

import sqlalchemy as sa
from oslo_log import log as logging

from blockstore import attachments as volumes
from common import instance_states as st
from common.conf import CONF
from common.db import api as db_api
from common.db import claims
from common.db import compute_models as cm
from common.db import instances
from common.db import netstate
from common.db import ports
from compute import rpcapi as compute_rpcapi
from scheduler import filters
from scheduler import host_cache
from scheduler import host_state

LOG = logging.getLogger(__name__)


def _group_info(group_uuid):
    if not group_uuid:
        return None
    with db_api.reader() as s:
        group = s.scalars(sa.select(cm.ServerGroup).where(cm.ServerGroup.uuid ==
                                                          group_uuid)).first()
        if group is None:
            return None
        hosts = list(s.scalars(
            sa.select(cm.Instance.host)
            .join(cm.ServerGroupMember, cm.ServerGroupMember.instance_uuid == cm.Instance.uuid)
            .where(cm.ServerGroupMember.group_id == group.id, cm.Instance.deleted.is_(False),
                   cm.Instance.host.is_not(None))))
    return {'policy': group.policy, 'hosts': set(hosts), 'member_hosts': hosts}


def select_and_claim(uuid, spec):
    """(HostState, None) on success, or (None, explanation).

    Hosts come from this process's host cache (scheduler/host_cache.py):
    filtered and weighed in memory, then claimed in the database with one
    compare-and-set, best first. A claim that fails (the cache was behind
    another scheduler) re-reads that host and tries the next one; after
    ``max(20, host_subset_size)`` such failures, or when nothing passes,
    the cache is read again and the hosts tried once more. Only when
    nothing fits are all hosts read from the database, to explain which
    filter removed which host.
    """
    spec = dict(spec, group=_group_info(spec.get('group_uuid')))
    enabled = CONF.scheduler.enabled_filters
    subset = CONF.scheduler.host_subset_size
    tries = max(20, subset)
    req = {'vcpus': spec['vcpus'], 'memory_mb': spec['memory_mb'], 'disk_gb': spec['disk_gb']}
    cache = host_cache.get()
    taken = set()  # hosts whose claim failed: their room went to someone else
    for fresh in (False, True):
        snap = cache.refresh() if fresh else cache.snapshot()
        failed = 0
        for host in host_cache.candidates(snap, spec, enabled, subset, exclude=taken):
            if claims.claim(host.node_id, uuid, req):
                cache.consumed(host.node_id, req)
                return host, None
            taken.add(host.host)
            cache.reload_nodes([host.node_id])
            failed += 1
            if failed >= tries:
                break
    if taken:
        return None, ('%d host%s passed the filters but concurrent builds took their room '
                      'first' % (len(taken), '' if len(taken) == 1 else 's'))
    return None, explain(spec)


def explain(spec):
    """Why no host fits: every filter, on every host."""
    hosts = host_state.load_hosts()
    if not hosts:
        return 'There are no compute hosts.'
    want = spec.get('requested_host')
    if want:
        hosts = [h for h in hosts if h.host == want]
        if not hosts:
            return 'Compute host %s is not known to the scheduler.' % want
    passing, explanations = filters.run(filters.load(CONF.scheduler.enabled_filters),
                                        hosts, spec)
    if passing:
        return ('%d host%s passed the filters but concurrent builds took their room first'
                % (len(passing), '' if len(passing) == 1 else 's'))
    return '; '.join(explanations) or 'No host passed the filters.'


def _fail(context, uuid, message):
    LOG.warning('Instance %s: %s', uuid, message)
    try:
        instances.update(uuid, {'vm_state': st.ERROR, 'task_state': None,
                                'fault': {'code': 500, 'message': message[:4000],
                                          'created': instances.utcnow().strftime(
                                              '%Y-%m-%dT%H:%M:%SZ')}},
                         action='fail build')
    except instances.InstanceNotFound:
        return
    instances.event_finish(context.request_id, uuid, 'schedule', result='Error',
                           details=message[:4000])


def build(context, uuid):
    """Schedule one instance (first try or a retry) and cast its build."""
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return
    if inst.task_state != st.SCHEDULING or inst.vm_state != st.BUILDING:
        LOG.info('Instance %s is no longer waiting to be scheduled (%s/%s)', uuid,
                 inst.vm_state, inst.task_state)
        return
    spec = dict(inst.request_spec)
    spec['ignore_hosts'] = spec.get('tried_hosts', [])
    instances.event_start(context.request_id, uuid, 'schedule')
    host, why = select_and_claim(uuid, spec)
    if host is None:
        prefix = 'No valid host was found. '
        if spec.get('last_error'):
            prefix += 'Earlier attempts failed (last: %s). ' % spec['last_error']
        _fail(context, uuid, prefix + why)
        return
    try:
        inst = instances.update(uuid, {'host': host.host, 'node': host.hypervisor_hostname,
                                       'availability_zone': inst.availability_zone or
                                       host.availability_zone},
                                vm_states=[st.BUILDING], task_states=[st.SCHEDULING],
                                action='schedule')
    except (instances.InstanceNotFound, instances.InstanceInvalidState):
        claims.release(uuid)  # deleted while we looked for a host
        host_cache.get().reload_nodes([host.node_id])
        return
    instances.event_finish(context.request_id, uuid, 'schedule', details=host.host)
    LOG.info('Instance %s placed on %s', uuid, host.host)
    payload = instances.to_dict(inst)
    # The ports go with the claim: the agent plugs them and serves them DHCP.
    payload['network_info'] = ports.bind_instance_ports(uuid, host.host)
    # And its volumes: the agent connects them and the guest boots with them.
    payload['block_devices'] = volumes.instance_block_devices(uuid)
    compute_rpcapi.ComputeAPI().build_and_run_instance(context, host.host, payload)
    # Hosts whose remote-group rules must now let the new addresses in.
    refresh_hosts(context, netstate.hosts_for_instance(uuid) - {host.host})


def refresh_hosts(context, hosts):
    """Nudge hosts to resync their data plane; one that misses the nudge
    catches up at its periodic sync."""
    for host in sorted(hosts):
        try:
            compute_rpcapi.ComputeAPI().refresh_network(context, host)
        except Exception:  # noqa: BLE001
            LOG.warning('Could not ask %s to refresh its network', host, exc_info=True)


def build_failed(context, uuid, host, message, reschedule=True):
    """An agent could not build: free its claim, then retry or give up."""
    node = claims.node_for_host(host)
    claims.release(uuid, node.id if node else None)
    if node is not None:
        host_cache.get().reload_nodes([node.id])
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return
    spec = dict(inst.request_spec)
    tried = list(spec.get('tried_hosts', [])) + [host]
    spec.update(tried_hosts=tried, last_error=message[:500])
    if not reschedule or len(tried) >= CONF.scheduler.max_attempts:
        instances.update(uuid, {'request_spec': spec}, action='build failed')
        _fail(context, uuid, 'Build failed on %d host%s (%s); last error on %s: %s'
              % (len(tried), '' if len(tried) == 1 else 's', ', '.join(tried), host, message))
        return
    try:
        instances.update(uuid, {'request_spec': spec, 'host': None, 'node': None,
                                'task_state': st.SCHEDULING},
                         vm_states=[st.BUILDING], action='reschedule')
    except instances.InstanceInvalidState:
        return
    LOG.info('Instance %s failed on %s (%s); rescheduling', uuid, host, message)
    build(context, uuid)
