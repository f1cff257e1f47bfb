"""`altostack-manage node add|list|remove`: nodes that join with a token
(`altostack-node join`, cli/node_join.py): compute nodes, and controllers
(`--role control`, cli/node_cloud.py).

``add`` makes the node a broker user of its own (permissions on the
cloud's virtual host only, with rabbitmqctl on this controller), records
the token's hash and expiry, and prints the token. ``remove`` refuses while
the node has servers; otherwise it deletes the broker user (closing its
connections), the node's service records, compute node, claims, aggregate
memberships and DHCP ports, and marks the node removed. A controller is
taken out of the clusters and the fronts too (``_leave_clusters``): once
its machine is stopped or lost, its Galera node gone from the cluster.
"""

import calendar
import re
import secrets
import shlex
import subprocess
import sys

import oslo_messaging as messaging
import sqlalchemy as sa

from common import exception
from common import join_token
from common.conf import CONF
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import node_models as nodem
from conductor import nodes

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')


class NodeCommandError(Exception):
    """A refusal or failure to report to the operator (exit status 1)."""


def _rabbitmqctl(*args):
    cmd = shlex.split(CONF.node_join.rabbitmqctl) + ['-q', *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NodeCommandError('cannot run %s: %s' % (cmd[0], e)) from None
    return r


def register_transport_opts():
    """[DEFAULT] transport_url and its neighbours, and the drivers' groups
    ([oslo_messaging_rabbit]: agent_options may name them), which
    oslo.messaging registers only when a transport is made (this tool makes
    none)."""
    from oslo_messaging import opts as msg_opts
    for group, options in msg_opts.list_opts():
        CONF.register_opts(options, group=group)


def _vhost():
    register_transport_opts()
    url = messaging.TransportURL.parse(CONF, CONF.transport_url)
    return url.virtual_host or '/'


def _bus_user_add(user, password, vhost):
    r = _rabbitmqctl('add_user', user, password)
    if r.returncode != 0:
        raise NodeCommandError('the broker did not make user %s: %s' % (user, r.stderr.strip()))
    r = _rabbitmqctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*')
    if r.returncode != 0:
        _bus_user_delete(user, vhost)
        raise NodeCommandError('the broker did not give %s rights on %s: %s'
                               % (user, vhost, r.stderr.strip()))


def _bus_user_delete(user, vhost):
    """Delete the broker user and close its open connections (an agent
    that still runs cannot report any more)."""
    r = _rabbitmqctl('delete_user', user)
    if r.returncode != 0 and 'not exist' not in (r.stdout + r.stderr).lower():
        raise NodeCommandError('the broker did not delete user %s: %s'
                               % (user, r.stderr.strip()))
    r = _rabbitmqctl('list_connections', '-p', vhost, 'user', 'pid')
    for line in r.stdout.splitlines():
        fields = line.split('\t')
        if len(fields) == 2 and fields[0] == user:
            _rabbitmqctl('close_connection', fields[1], 'node removed')


def _agent_options():
    register_transport_opts()
    out = {}
    for item in CONF.node_join.agent_options:
        group, _, name = item.rpartition('.')
        value = CONF[name] if group in ('', 'DEFAULT') else CONF[group][name]
        if value is not None:
            out[item] = str(value)
    return out


def _controller_addresses():
    """This controller's [node_join] controller_addresses, then those of
    the controllers that joined since it was configured."""
    out = list(CONF.node_join.controller_addresses)
    out += [ip for _name, ip in nodes.control_nodes() if ip and ip not in out]
    return out


def add(name, now=None, role='compute'):
    """Issue a join token for ``name`` to join as ``role``; the token text."""
    try:
        join_token.check_role(role)
    except join_token.InvalidRole as e:
        raise NodeCommandError(str(e)) from None
    if not NAME_RE.match(name):
        raise NodeCommandError('%r is not a valid node name (letters, digits, ".", "_", "-"; '
                               'it becomes the compute host name)' % name)
    row = nodes.get(name)
    if row is not None and row.state == nodem.JOINED:
        raise NodeCommandError('node %s has joined already; remove it first '
                               '("altostack-manage node remove %s")' % (name, name))
    vhost = _vhost()
    user = 'altostack-node-%s-%s' % (name, secrets.token_hex(4))
    # (hex: rabbitmqctl reads an argument that starts with '-' as an option,
    # and a URL-safe token starts with one once in 64)
    password = secrets.token_hex(24)
    _bus_user_add(user, password, vhost)
    secret = join_token.new_secret()
    expires = nodes.expires_in(CONF.node_join.token_ttl, now)
    try:
        old_user = nodes.issue(name, join_token.secret_hash(secret), expires, user, role)
    except exception.Conflict as e:
        _bus_user_delete(user, vhost)
        raise NodeCommandError(e.message) from None
    if old_user:
        _bus_user_delete(old_user, vhost)
    # expires is naive UTC.
    expires_unix = calendar.timegm(expires.timetuple())
    return join_token.encode(name, secret, _controller_addresses(),
                             CONF.node_join.bus_port, vhost, user, password, expires_unix,
                             _agent_options(), role)


def list_lines():
    """One line per compute node (host hypervisor_hostname vcpus memory_mb
    local_gb join-state, '-' for a host that did not join with a token),
    then one per node with a token record but no compute node (its
    resources as '-')."""
    records = {r.name: r for r in nodes.list_nodes()}
    lines = []
    with db_api.reader() as s:
        computes = list(s.scalars(sa.select(cm.ComputeNode).order_by(cm.ComputeNode.host)))
    for node in computes:
        rec = records.pop(node.host, None)
        lines.append('%s %s %d %d %d %s' % (node.host, node.hypervisor_hostname, node.vcpus,
                                             node.memory_mb, node.local_gb,
                                             rec.state if rec else '-'))
    for name, rec in sorted(records.items()):
        lines.append('%s - - - - %s' % (name, rec.state))
    return lines


def remove(name):
    """Remove node ``name``; a summary of what went. NodeCommandError while
    it has servers."""
    servers = nodes.servers_on(name)
    if servers:
        raise NodeCommandError(
            'node %s still has %d server(s): %s. Move them first: live-migrate them '
            '("openstack server migrate --live-migration SERVER") while the node runs, or '
            'evacuate them ("altostack-host-evacuate %s") once it is down; then run "node '
            'remove %s" again.' % (name, len(servers), ', '.join(
                '%s (%s)' % (n, u) for u, n in servers), name, name))
    row = nodes.get(name)
    control = row is not None and row.role == nodem.CONTROL
    if control:
        _leave_clusters(row)
    if row is not None and row.bus_user:
        _bus_user_delete(row.bus_user, _vhost())
    done = nodes.remove_records(name)
    if row is None and not any(done.values()):
        raise NodeCommandError('no node or compute host is called %s' % name)
    nodes.mark_removed(name)
    if control:
        done['fronts_left'] = len(_refresh_fronts())
    return done


def _lb_host():
    from conductor import cloud
    try:
        return cloud.load_cloud()['loadbalancer']
    except (cloud.CloudError, KeyError, ValueError) as e:
        raise NodeCommandError('this controller cannot read the cloud file (%s): %s'
                               % (CONF.node_join.cloud_file, e)) from None


def _leave_clusters(row):
    """Controller ``row`` out of the RabbitMQ cluster; refused (nothing
    done) for the load balancer's machine, the last controller, or one
    whose Galera node is still in the cluster."""
    name, ip = row.name, row.my_ip
    if name == _lb_host():
        raise NodeCommandError(
            '%s holds the load balancer\'s fronts and Ceph\'s mon (it started the cloud): '
            'it cannot be removed' % name)
    others = [n for n, _ in nodes.control_nodes() if n != name]
    if not others:
        raise NodeCommandError('%s is the last controller: it cannot be removed' % name)
    incoming = _galera_members()
    if ip and any(a.rsplit(':', 1)[0] == ip for a in incoming):
        raise NodeCommandError(
            'the Galera node of %s (%s) is still in the cluster (%s): stop the machine, or '
            'wait until the cluster drops a lost one (about 15 s), then run "node remove %s" '
            'again' % (name, ip, ', '.join(incoming), name))
    r = _rabbitmqctl('forget_cluster_node', 'rabbit@%s' % ip)
    said = (r.stdout + r.stderr).lower()
    if r.returncode != 0 and 'not_a_cluster_node' not in said and \
            'not in the cluster' not in said:
        raise NodeCommandError('the broker did not forget node rabbit@%s of %s (stop the '
                               'machine first): %s' % (ip, name, r.stderr.strip()[-500:]))


def _galera_members():
    """The addresses of the Galera cluster's nodes ([] on another engine)."""
    with db_api.connection() as conn:
        if conn.dialect.name != 'mysql':
            return []
        row = conn.exec_driver_sql("SHOW STATUS LIKE 'wsrep_incoming_addresses'").first()
    return [a for a in (row[1] if row else '').split(',') if a]


def _refresh_fronts():
    from common import context as ctx_mod
    from conductor import rpcapi as conductor_rpcapi
    lb = _lb_host()
    try:
        out = conductor_rpcapi.ConductorAPI().refresh_fronts(
            ctx_mod.get_admin_context(), lb, timeout=60)
    except (messaging.MessagingException, exception.ServiceUnavailable) as e:
        out = {'error': str(e) or type(e).__name__}
    if out.get('error'):
        raise NodeCommandError('the node is removed, but the load balancer\'s conductor (%s) '
                               'did not rewrite the fronts: %s; run "node remove" again'
                               % (lb, out['error']))
    return out['controls']


def _fail(e):
    print('altostack-manage: %s' % e, file=sys.stderr)
    raise SystemExit(1)


def cmd_add():
    try:
        token = add(CONF.command.node_name, role=CONF.command.role)
    except NodeCommandError as e:
        _fail(e)
    print(token)
    print('Single-use join token for %s to join as %s (valid %d s). On the new node run:\n'
          '  altostack-node join TOKEN' % (CONF.command.node_name, CONF.command.role,
                                           CONF.node_join.token_ttl), file=sys.stderr)


def cmd_list():
    for line in list_lines():
        print(line)


def cmd_remove():
    try:
        done = remove(CONF.command.node_name)
    except NodeCommandError as e:
        _fail(e)
    print('Node %s removed (%s).' % (CONF.command.node_name, ', '.join(
        '%s %d' % (k.replace('_', ' '), v) for k, v in sorted(done.items()))))
