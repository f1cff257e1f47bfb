"""altostack-node join TOKEN: make this machine a compute node of the cloud
whose controller printed TOKEN (`altostack-manage node add NAME`); a token of
`node add NAME --role control` makes it a controller instead, and
`altostack-node init` starts a new cloud on its first machine (both in
cli/node_cloud.py).

On the new machine it
  1. reads the token (common/join_token.py): the controllers' addresses,
     the broker user made for this node, the node's name and the settings
     every agent of the cloud shares;
  2. finds this machine's address toward the controller (my_ip) and checks
     that the broker takes the node's credential;
  3. registers over RPC (the conductor's ``register_node``, which accepts
     a token once, while it has not expired);
  4. writes /etc/altostack/altostack.conf (broker URL with the node's own
     user, host, my_ip, paths; never database credentials: the agent
     holds none) and starts altostack-compute in the background (pid file
     and log under /var/lib/altostack), as devstack starts its services.

Run again with the same token on the same node, it registers no second
time: it starts the agent if it is not running. A used, expired, unknown
or damaged token is refused with the reason, exit status 1.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from common import join_token

AGENT = 'import sys; from compute.cmd import main; sys.exit(main())'
# What the agent's environment keeps of ours: nothing else (no secrets).
ENV_KEEP = ('PATH', 'PYTHONPATH', 'HOME', 'LANG', 'LC_ALL', 'TZ')


class JoinError(Exception):
    """What the operator must read; exit status 1."""


def _parser():
    p = argparse.ArgumentParser(prog='altostack-node',
                                description='Join this machine to an Altostack cloud.')
    sub = p.add_subparsers(dest='command', required=True)
    j = sub.add_parser('join', help='join with a token from "altostack-manage node add"')
    j.add_argument('token')
    j.add_argument('--config-dir', default='/etc/altostack',
                   help='where altostack.conf is written (default /etc/altostack)')
    j.add_argument('--state-path', default='/var/lib/altostack',
                   help='the node\'s state, instances, pid file and logs')
    j.add_argument('--my-ip', help='this node\'s address for the other hosts (default: the '
                                  'address of the route toward the controller)')
    j.add_argument('--external-interface', metavar='DEVICE',
                   help='device that wires the external network\'s bridge to the other '
                        'hosts ([network] external_interface)')
    j.add_argument('--external-gateway', action='store_true',
                   help='this node holds the external network\'s gateway (one host per '
                        'external wire; default: not)')
    j.add_argument('--no-start', action='store_true', help='register and write the '
                   'configuration, but do not start the compute agent')
    j.add_argument('--timeout', type=float, default=60,
                   help='seconds to wait for the controller (default 60)')
    i = sub.add_parser('init', help='start a new cloud on this machine (its first '
                       'controller, its load balancer and, unless storage machines join, '
                       'its storage)')
    i.add_argument('--roles', default='control,storage,loadbalancer',
                   help='what this machine runs: control,loadbalancer and, for a Ceph OSD '
                        'here too, storage (without it, volumes and images wait for a '
                        'machine that joins with a storage token)')
    i.add_argument('--my-ip', required=True,
                   help='this machine\'s address on the cloud\'s network (its services '
                        'bind it, the other machines reach it)')
    i.add_argument('--front-address', required=True,
                   help='the cloud\'s address: the load balancer\'s fronts (API :8080, '
                        'images :9292, database :3306) listen there; added to the '
                        'device of --my-ip when the machine does not have it yet')
    i.add_argument('--name', help='this machine\'s name in the cloud (default: hostname)')
    i.add_argument('--public-cidr', help='the external network bootstrap makes')
    i.add_argument('--report-interval', type=int, default=5)
    i.add_argument('--service-down-time', type=int, default=20)
    for one in (i,):
        one.add_argument('--config-dir', default='/etc/altostack')
        one.add_argument('--state-path', default='/var/lib/altostack')
    return p


def detect_my_ip(controllers, port):
    """The source address of this machine's route toward a controller."""
    errors = []
    for addr in controllers:
        family = socket.AF_INET6 if ':' in addr else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((addr, port))  # UDP: no packet, only the route
                return s.getsockname()[0]
        except OSError as e:
            errors.append('%s: %s' % (addr, e))
    raise JoinError('no route to any controller (%s)' % '; '.join(errors))


def check_bus(token, timeout):
    """Connect to the broker with the node's credential, so a deleted user
    or an unreachable broker is a clear message, not endless retries."""
    import kombu
    url = join_token.transport_url(token).replace('rabbit://', 'amqp://', 1)
    errors = []
    for one in url.split(','):
        if not one.startswith('amqp://'):
            one = 'amqp://' + one
        if one.count('/') < 3:
            one += url[url.rindex('/'):]
        conn = kombu.Connection(one, connect_timeout=min(timeout, 10))
        try:
            conn.connect()
            return
        except Exception as e:  # noqa: BLE001 - kombu/amqp raise many kinds
            text = str(e)
            if 'ACCESS_REFUSED' in text or 'access_refused' in text.lower() or \
                    type(e).__name__ == 'AccessRefused':
                raise JoinError(
                    'the controller\'s message broker refused this token\'s credential: the '
                    'token was replaced by a newer one or its node was removed; ask for a '
                    'new token ("altostack-manage node add %s")' % token['name']) from None
            errors.append('%s: %s' % (one.split('@')[-1], text))
        finally:
            conn.release()
    raise JoinError('cannot reach the controller\'s message broker (%s)' % '; '.join(errors))


def render_conf(token, my_ip, state_path, external_interface=None, external_gateway=False):
    """The node's altostack.conf: no database section, no password but
    its own broker user's."""
    groups = {'DEFAULT': {}, 'compute': {}, 'vnc': {}, 'network': {}}
    for item, value in sorted(token['options'].items()):
        group, _, name = item.rpartition('.')
        groups.setdefault(group or 'DEFAULT', {})[name] = value
    groups['DEFAULT'].update({
        'host': token['name'], 'my_ip': my_ip, 'state_path': state_path,
        'transport_url': join_token.transport_url(token)})
    groups['compute'].update({'instances_path': os.path.join(state_path, 'instances'),
                              'console_host': my_ip})
    groups['vnc'].update({'server_listen': my_ip, 'server_proxyclient_address': my_ip})
    groups['network'].update({'state_dir': os.path.join(state_path, 'network'),
                              'external_gateway': 'true' if external_gateway else 'false'})
    if external_interface:
        groups['network']['external_interface'] = external_interface
    lines = ['# Written by "altostack-node join" for node %s; it holds no database '
             'credentials.' % token['name']]
    for group, values in groups.items():
        if values:
            lines.append('[%s]' % group)
            lines += ['%s = %s' % (k, v) for k, v in values.items()]
    return '\n'.join(lines) + '\n'


def ceph_client(ceph, config_dir):
    """Ceph's client files of a compute node (the conductor's answer: its
    cephx user, limited to the volumes and images pools) under
    config_dir/ceph; the [libvirt] lines that name them."""
    ceph_dir = os.path.join(config_dir, 'ceph')
    os.makedirs(ceph_dir, mode=0o755, exist_ok=True)
    for name, text in ceph['files'].items():
        _write(os.path.join(ceph_dir, os.path.basename(name)), text)
    return ('[libvirt]\nrbd_user = %s\nrbd_secret_uuid = %s\nrbd_keyring = %s\n' % (
        ceph['user'], ceph['secret_uuid'],
        os.path.join(ceph_dir, 'client.%s.keyring' % ceph['user'])))


def _write(path, text, mode=0o600):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def _running(pid_file):
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def register(conf_path, token, my_ip, timeout):
    """The conductor's register_node over RPC, with the node's config."""
    import oslo_messaging as messaging

    from common import config
    from common import context as ctx_mod
    from common import rpc
    from conductor import rpcapi as conductor_rpcapi
    config.parse_args(['--config-file', conf_path], default_config_files=[])
    try:
        out = conductor_rpcapi.ConductorAPI().register_node(
            ctx_mod.get_admin_context(), token['name'], token['secret'], my_ip,
            timeout=timeout)
    except messaging.MessagingTimeout:
        raise JoinError('the controller\'s conductor did not answer within %d s; is it '
                        'running?' % timeout) from None
    finally:
        rpc.cleanup()
    if out.get('error'):
        raise JoinError(out['error'])
    return out


def start_agent(conf_path, state_path):
    """altostack-compute in the background, as devstack starts services:
    its own session, pid file and log; an environment with nothing of ours
    but the search paths."""
    pid_file = os.path.join(state_path, 'compute.pid')
    pid = _running(pid_file)
    if pid:
        return pid, False
    log_dir = os.path.join(state_path, 'log')
    os.makedirs(log_dir, exist_ok=True)
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    with open(os.path.join(log_dir, 'compute.out'), 'ab') as out:
        proc = subprocess.Popen(
            [sys.executable, '-c', AGENT, '--config-file', conf_path,
             '--log-file', os.path.join(log_dir, 'compute.log')],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            cwd='/', start_new_session=True)
    _write(pid_file, '%d\n' % proc.pid, 0o644)
    time.sleep(1)
    if proc.poll() is not None:
        raise JoinError('the compute agent exited at once (status %s); see %s'
                        % (proc.returncode, os.path.join(log_dir, 'compute.out')))
    return proc.pid, True


def join(args, out=None):
    out = out or sys.stdout
    try:
        token = join_token.decode(args.token)
    except join_token.InvalidJoinToken as e:
        raise JoinError(str(e)) from None
    if token['role'] in ('control', 'storage'):
        from cli import node_cloud
        os.makedirs(args.config_dir, mode=0o755, exist_ok=True)
        os.makedirs(args.state_path, mode=0o755, exist_ok=True)
        if token['role'] == 'storage':
            return node_cloud.join_storage(token, args, out)
        return node_cloud.join_control(token, args, out)
    os.makedirs(args.config_dir, mode=0o755, exist_ok=True)
    os.makedirs(args.state_path, mode=0o755, exist_ok=True)
    conf_path = os.path.join(args.config_dir, 'altostack.conf')
    marker = os.path.join(args.state_path, 'joined')
    stamp = '%s %s\n' % (token['name'], join_token.secret_hash(token['secret']))
    try:
        with open(marker) as f:
            already = f.read() == stamp and os.path.exists(conf_path)
    except OSError:
        already = False
    if already:
        print('This node already joined as %s with this token.' % token['name'], file=out)
    else:
        my_ip = args.my_ip or detect_my_ip(token['controllers'], token['port'])
        check_bus(token, args.timeout)
        text = render_conf(token, my_ip, args.state_path, args.external_interface,
                           args.external_gateway)
        pending = conf_path + '.joining'
        _write(pending, text)
        try:
            answer = register(pending, token, my_ip, args.timeout)
            if answer.get('ceph'):
                _write(pending, text + ceph_client(answer['ceph'], args.config_dir))
        except BaseException:
            os.unlink(pending)
            raise
        os.replace(pending, conf_path)
        _write(marker, stamp, 0o600)
        print('Joined as %s (my_ip %s); configuration in %s.' % (token['name'], my_ip,
                                                                 conf_path), file=out)
    if args.no_start:
        return 0
    pid, started = start_agent(conf_path, args.state_path)
    print('Compute agent %s (pid %d); log in %s.' % (
        'started' if started else 'already running', pid,
        os.path.join(args.state_path, 'log', 'compute.log')), file=out)
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if args.command == 'init':
            from cli import node_cloud
            return node_cloud.init(args, sys.stdout)
        return join(args)
    except JoinError as e:
        print('altostack-node: %s refused: %s' % (args.command, e), file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
