"""The records of compute nodes that join with a token: issued by
`altostack-manage node add`, consumed once by the conductor's
``register_node`` (the node's `altostack-node join`), and cleared by
`altostack-manage node remove` (common/db/node_models.py).
"""

import datetime
import hmac

import sqlalchemy as sa
from oslo_log import log as logging

from common import exception
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import models
from common.db import network_models as nm
from common.db import node_models as nodem
from common.db.models import utcnow
from network import portcore

LOG = logging.getLogger(__name__)
J = nodem.JoinNode


class JoinRefused(exception.Unauthorized):
    msg_fmt = '%(reason)s'


def get(name):
    with db_api.reader() as s:
        return s.scalars(sa.select(J).where(J.name == name)).first()


def list_nodes():
    with db_api.reader() as s:
        return list(s.scalars(sa.select(J).order_by(J.name)))


def control_nodes():
    """(name, my_ip) of every controller that joined (the one that started
    the cloud first): the fronts' servers, the clusters' peers."""
    with db_api.reader() as s:
        return [(r.name, r.my_ip) for r in s.scalars(sa.select(J).where(
            J.role == nodem.CONTROL, J.state == nodem.JOINED).order_by(J.id))]


def _row_or_new(s, name):
    """The join record of ``name`` in session ``s``, made if it has none."""
    row = s.scalars(sa.select(J).where(J.name == name)).first()
    if row is None:
        row = J(name=name, created_at=utcnow())
        s.add(row)
    return row


def record_first_control(name, my_ip):
    """The machine that started the cloud (`altostack-node init`): a
    controller, joined from the start (idempotent)."""
    with db_api.session() as s:
        row = _row_or_new(s, name)
        row.role = nodem.CONTROL
        row.state = nodem.JOINED
        row.my_ip = my_ip
        row.joined_at = row.joined_at or utcnow()


def issue(name, token_hash, expires, bus_user, role=nodem.COMPUTE):
    """Record a token for ``name`` (a new node, or one whose token is
    unused or which was removed). The broker user of the record it
    replaces (to delete), or None. Conflict if ``name`` has joined."""
    with db_api.session() as s:
        row = s.scalars(sa.select(J).where(J.name == name)).first()
        if row is not None and row.state == nodem.JOINED:
            raise exception.Conflict(
                'Node %s has joined already; remove it first ("altostack-manage node remove '
                '%s").' % (name, name))
        old_user = row.bus_user if row is not None else None
        if row is None:
            row = J(name=name)
            s.add(row)
        row.state = nodem.TOKEN_ISSUED
        row.role = role
        row.token_hash = token_hash
        row.expires = expires
        row.bus_user = bus_user
        row.my_ip = None
        row.created_at = utcnow()
        row.joined_at = row.removed_at = None
    return old_user if old_user != bus_user else None


def consume(name, token_hash, my_ip, now=None):
    """Accept the token of ``name`` once: the node is 'joined' from now on.
    JoinRefused (with what to do) for an unknown, used or expired token."""
    now = now or utcnow()
    with db_api.session() as s:
        row = s.scalars(sa.select(J).where(J.name == name)).first()
        if row is None or not row.token_hash or not hmac.compare_digest(row.token_hash,
                                                                        token_hash):
            raise JoinRefused(reason='The controller does not know this join token (it was '
                                     'replaced by a newer one, or never issued here).')
        if row.state == nodem.JOINED:
            raise JoinRefused(reason='This join token was used already: %s joined at %s. A '
                                     'token is good for one join.' % (
                                         name, row.joined_at.strftime('%Y-%m-%d %H:%M:%S')))
        if row.state == nodem.REMOVED:
            raise JoinRefused(reason='Node %s was removed; ask for a new token ("altostack-'
                                     'manage node add %s").' % (name, name))
        if row.expires <= now:
            raise JoinRefused(reason='This join token expired at %s UTC; ask for a new one '
                                     '("altostack-manage node add %s").' % (
                                         row.expires.strftime('%Y-%m-%d %H:%M:%S'), name))
        # Compare and set: of two joins racing with one token, one wins.
        res = s.execute(sa.update(J).where(J.id == row.id, J.state == nodem.TOKEN_ISSUED)
                        .values(state=nodem.JOINED, joined_at=now, my_ip=my_ip))
        if res.rowcount != 1:
            raise JoinRefused(reason='This join token was used already.')
        role = row.role
    LOG.info('Node %s joined from %s as %s', name, my_ip, role)
    return {'name': name, 'state': nodem.JOINED, 'role': role}


def servers_on(name):
    """Names and ids of the servers (not deleted) whose host is ``name``."""
    I = cm.Instance  # noqa: E741 - the model's usual short name
    with db_api.reader() as s:
        return [(i.uuid, i.display_name) for i in s.scalars(sa.select(I).where(
            I.host == name, I.deleted.is_(False)).order_by(I.created_at))]


def remove_records(name):
    """Forget host ``name``: its service records, its compute node and the
    claims on it, its aggregate memberships and its DHCP ports. The
    number of rows of each kind removed."""
    done = {}
    with db_api.session() as s:
        node = s.scalars(sa.select(cm.ComputeNode).where(cm.ComputeNode.host == name)).first()
        if node is not None:
            done['claims'] = s.execute(sa.delete(cm.Allocation).where(
                cm.Allocation.node_id == node.id)).rowcount
            s.delete(node)
            done['compute_nodes'] = 1
        done['services'] = s.execute(sa.delete(models.ServiceRecord).where(
            models.ServiceRecord.host == name)).rowcount
        done['aggregate_hosts'] = s.execute(sa.delete(cm.AggregateHost).where(
            cm.AggregateHost.host == name)).rowcount
        nets = set(s.scalars(sa.select(nm.Port.network_id).where(
            nm.Port.host == name, nm.Port.device_owner == portcore.DHCP_OWNER)))
        portcore.collect_dhcp(s, name, nets)
        done['dhcp_networks'] = len(nets)
    return done


def mark_removed(name):
    with db_api.session() as s:
        row = _row_or_new(s, name)
        row.state = nodem.REMOVED
        row.bus_user = None
        row.removed_at = utcnow()


def expires_in(seconds, now=None):
    return (now or utcnow()) + datetime.timedelta(seconds=seconds)
