"""The build flow: pick a host, claim it, hand the build to its agent;
on a failed build free the claim and try another host (bounded); when no
host fits, the server goes to ERROR with a fault that says why. A
database that loses a transaction before the build is handed over (the
writer died) does not fail the build: the placement runs again.
"""

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import exc as sa_exc

from blockstore import attachments
from common import instance_states as st
from common import unit_of_work
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import rpcapi as compute_rpcapi
from conductor import records
from network import notify
from network import ports
from network import state as netstate
from scheduler import claims
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
    the cache is read again and the hosts tried once more. A zone asked
    for is checked in the database before the claim: an aggregate changed
    a moment ago (the cache is up to two seconds old) must not send a
    server to a host of another zone; then the cache is read again. Only when
    nothing fits are all hosts read from the database, to explain which
    filter removed which host.
    """
    spec = dict(spec, group=_group_info(spec.get('group_uuid')))
    enabled = CONF.scheduler.enabled_filters
    subset = CONF.scheduler.host_subset_size
    tries = max(20, subset)
    req = {'vcpus': spec['vcpus'], 'memory_mb': spec['memory_mb'], 'disk_gb': spec['disk_gb']}
    cache = host_cache.get()
    zone = spec.get('availability_zone') if 'AvailabilityZoneFilter' in enabled else None
    taken = set()  # hosts whose claim failed: their room went to someone else
    for fresh in (False, True):
        snap = cache.refresh() if fresh else cache.snapshot()
        failed = 0
        for host in host_cache.candidates(snap, spec, enabled, subset, exclude=taken):
            if zone and host_state.zone_of(host.host) != zone:
                break  # the cache's zones are behind an aggregate's change
            if claims.claim(host.node_id, uuid, req, enabled_only='ComputeFilter' in enabled):
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


def build(context, uuid):
    """Schedule one instance (first try or a retry) and cast its build.

    Up to the cast, a transaction lost to the database (its writer died,
    a deadlock) places the instance again (unit_of_work.run_part): every
    step of ``_place`` can run twice, and a claim an earlier try committed
    is given back before claiming again. After the cast nothing is run
    again: the agent builds it.
    """
    placed = unit_of_work.run_part('placing %s' % uuid, _place, context, uuid)
    if placed is None:
        return
    host, payload = placed
    compute_rpcapi.ComputeAPI().build_and_run_instance(context, host.host, payload)
    # Hosts whose remote-group rules must now let the new addresses in. The
    # build went: a database lost now only delays this to their next
    # network sync, it does not fail the server.
    try:
        notify.refresh_hosts(context, netstate.hosts_for_instance(uuid) - {host.host})
    except unit_of_work.RETRYABLE as e:
        LOG.warning('Instance %s: the other hosts not told of its addresses (%s); their '
                    'next network sync will', uuid, e)


def _place(context, uuid):
    """Claim a host for ``uuid`` and place it there: (HostState, the build's
    payload), or None when there is nothing to build (gone, no longer
    waiting, or no host: then it is in ERROR)."""
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return None
    if inst.task_state != st.SCHEDULING or inst.vm_state != st.BUILDING:
        LOG.info('Instance %s is no longer waiting to be scheduled (%s/%s)', uuid,
                 inst.vm_state, inst.task_state)
        return None
    rerun = unit_of_work.rerun()
    if inst.host is not None and not rerun:
        # Placed by another request for it (the conductor asked again for a
        # build it thought lost, and the first request came after all).
        LOG.info('Instance %s is placed on %s already', uuid, inst.host)
        return None
    spec = dict(inst.request_spec)
    spec['ignore_hosts'] = spec.get('tried_hosts', [])
    if rerun:
        # An earlier try lost its transaction: a claim it made (perhaps one
        # that committed as the connection died) is given back, not leaked.
        _release_held(uuid)
    else:
        # (On a try again the event is there, or event_finish makes it.)
        instances.event_start(context.request_id, uuid, 'schedule')
    try:
        host, why = select_and_claim(uuid, spec)
    except sa_exc.IntegrityError:
        # Another request for it holds a claim on that host: it places it.
        LOG.info('Instance %s is being placed by another request', uuid)
        return None
    if host is None:
        try:
            if not rerun and instances.get(uuid).host is not None:
                return None  # another request for it took the room: it is placed
        except instances.InstanceNotFound:
            return None
        prefix = 'No valid host was found. '
        if spec.get('last_error'):
            prefix += 'Earlier attempts failed (last: %s). ' % spec['last_error']
        records.fail_build(context, uuid, prefix + why)
        return None
    try:
        inst = instances.update(uuid, {'host': host.host, 'node': host.hypervisor_hostname,
                                       'availability_zone': inst.availability_zone or
                                       host.availability_zone},
                                vm_states=[st.BUILDING], task_states=[st.SCHEDULING],
                                hosts=instances.ANY if rerun else [None], action='schedule')
    except (instances.InstanceNotFound, instances.InstanceInvalidState):
        # Deleted while we looked for a host, or placed by another request
        # for it: give back our claim only (not the other's).
        claims.release(uuid, host.node_id)
        host_cache.get().reload_nodes([host.node_id])
        return None
    instances.event_finish(context.request_id, uuid, 'schedule', details=host.host)
    LOG.info('Instance %s placed on %s', uuid, host.host)
    payload = instances.to_dict(inst)
    # The ports go with the claim: the agent plugs them and serves them DHCP.
    payload['network_info'] = ports.bind_instance_ports(uuid, host.host)
    # And its volumes: the agent connects them and the guest boots with them.
    payload['block_devices'] = attachments.instance_block_devices(uuid)
    return host, payload


def _release_held(uuid):
    held = claims.held(uuid)
    if held:
        LOG.info('Instance %s: giving back the claim of an earlier try on node%s %s', uuid,
                 '' if len(held) == 1 else 's', ', '.join(str(n) for n in held))
        claims.release(uuid)
        host_cache.get().reload_nodes(list(held))


def build_failed(context, uuid, host, message, reschedule=True):
    """An agent could not build: the records (conductor.records) free its
    claim and say whether to try another host; then this process does."""
    node = claims.node_for_host(host)
    again = records.build_failed(context, uuid, host, message, CONF.scheduler.max_attempts,
                                 reschedule=reschedule)
    if node is not None:
        host_cache.get().reload_nodes([node.id])
    if again:
        build(context, uuid)
