"""Builds whose request was lost: a server waits in BUILD (task scheduling)
for a scheduler that will never place it, because the cast that asked for
it died with its process (an API worker killed between the commit of the
server and the cast, a scheduler killed after it took the message off the
queue: oslo.messaging acknowledges a cast before it runs it), or was
placed but its hand-over to the agent died with the scheduler.

Nothing else ever moves such a server, so the conductor looks for them
every ``service_down_time``: a server that has waited in scheduling for
``[scheduler] stranded_build_timeout`` seconds with no change to its
record is taken back (compare-and-set on its updated_at, so of two
conductors one does it; a placed one gives back its claim and its host)
and its build is cast to the schedulers again. A late original request
finds it placed or taken and does nothing (scheduler.build: only a
server waiting with no host is placed).

A placed server whose agent is down is left alone: that agent's restart
reconcile settles it (ERROR, "restarted during the build").
"""

import datetime

import sqlalchemy as sa
from oslo_log import log as logging

from common import instance_states as st
from common import servicegroup
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db.models import utcnow
from scheduler import claims

LOG = logging.getLogger(__name__)
INST = cm.Instance


def stranded(now=None):
    """[(uuid, host, updated_at)] of the servers waiting in scheduling with
    no change for longer than the timeout (none when it is 0)."""
    timeout = CONF.scheduler.stranded_build_timeout
    if not timeout:
        return []
    before = (now or utcnow()) - datetime.timedelta(seconds=timeout)
    since = sa.func.coalesce(INST.updated_at, INST.created_at)
    with db_api.reader() as s:
        rows = s.execute(sa.select(INST.uuid, INST.host, INST.updated_at).where(
            INST.deleted.is_(False), INST.vm_state == st.BUILDING,
            INST.task_state == st.SCHEDULING, since < before)).all()
    if not rows:
        return []
    up = {r.host for r in servicegroup.list_services(binary='nova-compute')
          if servicegroup.is_up(r)}
    return [(r.uuid, r.host, r.updated_at) for r in rows if r.host is None or r.host in up]


def take_back(uuid, host, updated_at):
    """Make a stranded server wait for a scheduler again (no host, no
    claim); False when it changed since it was found (someone else took
    it, or its build went on)."""
    cond = [INST.uuid == uuid, INST.deleted.is_(False), INST.vm_state == st.BUILDING,
            INST.task_state == st.SCHEDULING,
            INST.updated_at.is_(None) if updated_at is None else INST.updated_at == updated_at]
    with db_api.session() as s:
        res = s.execute(sa.update(INST).where(*cond).values(host=None, node=None,
                                                         updated_at=utcnow()))
        if res.rowcount != 1:
            return False
    # Placed, or killed between its claim and the placement: a claim it
    # holds is a dead request's.
    claims.release(uuid)
    return True


def redrive(context, scheduler):
    """Cast the build of every stranded server again (``scheduler``: a
    SchedulerAPI); the uuids cast."""
    cast = []
    for uuid, host, updated_at in stranded():
        if take_back(uuid, host, updated_at):
            LOG.warning('Instance %s waited in scheduling for more than %d s%s: its build '
                        'request was lost; asking a scheduler again', uuid,
                        CONF.scheduler.stranded_build_timeout,
                        ' (placed on %s, never handed over)' % host if host else '')
            cast.append(uuid)
    if cast:
        scheduler.build_instances(context, cast)
    return cast
