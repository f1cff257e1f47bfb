"""The migrate action (cold migration), with Nova's codes: the server
moves, with its flavor, to another host the scheduler chooses (or the one
named, from microversion 2.56). It waits in VERIFY_RESIZE there for
confirmResize / revertResize, as a resize does (api.compute.resize).

As in Nova, choosing the destination happens before the answer: a named
host that is unknown, or no host that fits, is a 400 with the reason.
"""

from api import microversion
from api.compute import resize
from api.compute import schema_types as types
from common import exception
from common import instance_states as st
from common.db import instances
from conductor import resizes
from scheduler import claims

SCHEMAS = {
    # Before 2.56 Nova does not look at the value (null, {}, anything).
    'migrate': [('2.1', None),
                ('2.56', {'type': ['object', 'null'], 'additionalProperties': False,
                          'properties': {'host': types.FQDN_OR_NULL}})],
}


def _migrate(ctx, inst, body):
    host = (body or {}).get('host') if microversion.at_least('2.56') else None
    if not inst.host or not st.allowed('migrate', inst.vm_state, inst.task_state):
        raise instances.InstanceInvalidState('migrate', inst.uuid, inst.vm_state,
                                             inst.task_state)
    if host is not None:
        if claims.node_for_host(host) is None:
            raise exception.BadRequest('Compute host %s could not be found.' % host)
        if host == inst.host:
            raise exception.BadRequest("The target host can't be the same one.")
    try:
        inst, migration = resizes.start(
            ctx, inst, dict(inst.flavor),
            resize.chooser(ctx, inst, requested_host=host, allow_same_host=False),
            migration_type='migration', action='migrate')
    except resizes.NoRoom as e:
        raise exception.BadRequest(str(e)) from None
    resize.send(ctx, inst, migration)
    return None


HANDLERS = {'migrate': _migrate}
