"""Where a server that moves goes: resize, cold and live migration and
evacuation each ask for a destination here, and the claim for the flavor
it will have there is taken under the migration's uuid (the instance's own
claim stays on its source until the move is confirmed or done; see
conductor.resizes)."""

from oslo_log import log as logging

from common import instance_states as st
from common.db import instances
from conductor import resizes
from scheduler import build

LOG = logging.getLogger(__name__)


def select_destination(context, uuid, consumer_uuid, flavor, requested_host=None,
                       allow_same_host=False, exclude_hosts=()):
    """Claim room for ``flavor`` (an embedded flavor dict) under
    ``consumer_uuid`` on the best host for instance ``uuid``; never its own
    host unless ``allow_same_host``; only ``requested_host`` when named.

    Returns {'host', 'node'} or {'host': None, 'reason': why no host fits}.
    """
    try:
        inst = instances.get(uuid)
    except instances.InstanceNotFound:
        return {'host': None, 'reason': 'Instance %s could not be found.' % uuid}
    spec = dict(inst.request_spec or {})
    spec.pop('tried_hosts', None)
    spec.pop('last_error', None)
    spec.update(vcpus=flavor['vcpus'], memory_mb=flavor['memory_mb'],
                disk_gb=resizes.disk_gb(inst, flavor), source_host=inst.host,
                ignore_hosts=([] if allow_same_host else [inst.host]) + list(exclude_hosts),
                requested_host=requested_host)
    if requested_host and requested_host == inst.host and not allow_same_host:
        return {'host': None, 'reason': 'The requested host %s is the server\'s own host.'
                % requested_host}
    if inst.vm_state == st.ERROR and not inst.host:
        spec['ignore_hosts'] = list(exclude_hosts)
    host, why = build.select_and_claim(consumer_uuid, spec)
    if host is None:
        LOG.info('No destination for %s: %s', uuid, why)
        return {'host': None, 'reason': 'No valid host was found. ' + why}
    LOG.info('Destination of %s (%s): %s', uuid, consumer_uuid, host.host)
    return {'host': host.host, 'node': host.hypervisor_hostname}
