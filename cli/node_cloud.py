"""The cloud without Ansible: `altostack-node init` on the first machine,
`altostack-node join TOKEN` of a controller (a token of `altostack-manage
node add NAME --role control`). Compute nodes join in cli/node_join.py.

Both do what deploy/ansible's roles do, with the same pieces: the same
devstack/lib functions (ceph.sh, galera.sh, rabbitmq_cluster.sh,
api_front.sh through conductor/cloud.py, altostack.sh to start services),
the same settings (the roles' defaults, deploy/ansible/roles/
altostack_defaults/defaults/main.yml) and the same altostack.conf template
(deploy/ansible/roles/controller/templates/altostack.conf.j2), rendered here
with Jinja. What Ansible keeps in its secrets folder is the cloud file
(``[node_join] cloud_file``, /etc/altostack/cloud.json): the variables this
cloud chose (addresses, logins, the Erlang cookie, the image URL key).

init (roles control and loadbalancer, and storage unless storage machines
join): Ceph's mon and mgr (and its OSD with the storage role), its pools
and keys; a new Galera cluster and the cloud's database; a
RabbitMQ node and the cloud's vhost (quorum queues); the HAProxy fronts on
the front address (a second address of the machine: the controller's own
services use its first, on the same ports); altostack.conf, db sync,
bootstrap (admin and demo passwords in /etc/altostack/), the control
services.

join as a controller: the token (no database credential in it) is
presented over RPC with the node's own broker user; only the answer of
the conductor that accepted it carries the cloud file, the token keys and
Ceph's client files. Then the machine's Galera node joins the cluster
(rsync SST), its RabbitMQ node joins the first controller's, its
altostack.conf is rendered, the control services start, and the load
balancer's conductor adds it to the fronts.

join as a storage machine: the conductor's answer carries the cluster's
client conf and the key that can only make OSDs; the machine's OSD joins
the cluster (devstack/lib/ceph.sh altostack_ceph_osd_node_up).
"""

import json
import os
import re
import secrets
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.request

import jinja2
import yaml

from cli import node_join
from conductor import cloud as cloud_mod

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSIBLE = os.path.join(SRC, 'deploy', 'ansible', 'roles')
INIT_ROLES = ('control', 'storage', 'loadbalancer')
INIT_NEEDS = ('control', 'loadbalancer')
SERVICES = 'api conductor scheduler image volume'
HOSTS_MARK = '# %s Altostack controllers (altostack-node)'


def _password(n, chars=string.ascii_letters + string.digits):
    return ''.join(secrets.choice(chars) for _ in range(n))


def _jinja():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             loader=jinja2.FileSystemLoader(ANSIBLE))
    env.filters['regex_replace'] = lambda s, pat, rep: re.sub(pat, rep, s, flags=re.M)
    return env


def ansible_vars(cloud, name, my_ip, controls, etc, state):
    """The roles' variables for machine ``name``: the cloud's choices, this
    machine's, then the roles' defaults rendered over them (the ones that
    need an inventory are the cloud's choices)."""
    env = _jinja()
    with open(os.path.join(ANSIBLE, 'altostack_defaults', 'defaults', 'main.yml')) as f:
        defaults = yaml.safe_load(f)
    v = {'inventory_hostname': name, 'altostack_ip': my_ip, 'altostack_src': SRC,
         'altostack_control_ips': [ip for _n, ip in controls], 'altostack_etc': etc,
         'altostack_state': state,
         'altostack_venv': os.path.dirname(os.path.dirname(sys.executable))}
    v.update(cloud)
    pending = {k: d for k, d in defaults.items() if k not in v}
    for _ in range(4):
        for key, value in list(pending.items()):
            try:
                v[key] = (env.from_string(value).render(v) if isinstance(value, str)
                          else value)
                del pending[key]
            except jinja2.UndefinedError:
                pass
    return v


def render_controller_conf(v):
    return _jinja().get_template('controller/templates/altostack.conf.j2').render(v)


def sh(script, env=None, timeout=600, what=None):
    """bash with devstack/lib at $SRC; JoinError with its output if it fails."""
    r = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, SRC=SRC, **(env or {})))
    if r.returncode != 0:
        raise node_join.JoinError('%s failed: %s' % (
            what or script.split('\n')[0], (r.stderr or r.stdout).strip()[-1500:]))
    return r.stdout


def _write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    node_join._write(path, text, mode)


def etc_hosts(controls, path='/etc/hosts'):
    """The controllers by name in /etc/hosts (rsync's daemon in a Galera
    state transfer looks its peer up): the block the common role writes,
    rewritten in place (a bind-mounted file cannot be renamed over)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    begin, end = HOSTS_MARK % 'BEGIN', HOSTS_MARK % 'END'
    if begin in lines and end in lines:
        del lines[lines.index(begin):lines.index(end) + 1]
    lines += [begin] + ['%s %s' % (ip, n) for n, ip in controls] + [end]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def _ceph_env(v):
    return {'ALTOSTACK_CEPH_DIR': v['altostack_ceph_dir'],
            'ALTOSTACK_CEPH_ADDR': v['altostack_ip'], 'ALTOSTACK_CEPH_PORTS': '3300 6789',
            'ALTOSTACK_CEPH_OSD_PORTS': '6800 6900',
            'ALTOSTACK_CEPH_OSD_GB': str(v['altostack_ceph_osd_gb'])}


def galera_up(v, new=False):
    sh('source "$SRC/devstack/lib/galera.sh"\n'
       'altostack_galera_host_node_up "$D" "$IP" "$PEERS" %s' % ('new' if new else ''),
       {'D': v['altostack_galera_dir'], 'IP': v['altostack_ip'],
        'PEERS': ' '.join(v['altostack_control_ips'])}, what='the Galera node')


def rabbit_up(v, join_ip):
    sh('source "$SRC/devstack/lib/rabbitmq_cluster.sh"\n'
       'altostack_rabbit_host_node_up "$D" "$IP" "$COOKIE" "$JOIN"',
       {'D': v['altostack_rabbit_dir'], 'IP': v['altostack_ip'],
        'COOKIE': v['altostack_rabbit_cookie'], 'JOIN': join_ip}, what='the RabbitMQ node')


def services_up(v, restart=False):
    """The control services, as the controller role starts them."""
    return sh('source "$SRC/devstack/lib/prereqs.sh"\n'
              'source "$SRC/devstack/lib/altostack.sh"\n'
              'altostack_settings\n'
              '[ -z "$RESTART" ] || altostack_stop_services $SERVICES\n'
              'for s in $SERVICES; do\n'
              '  altostack_service_pid $s >/dev/null || '
              '{ altostack_start_service $s; echo "started $s"; }\n'
              'done',
              {'ALTOSTACK_STATE': v['altostack_state'], 'ALTOSTACK_ETC': v['altostack_etc'],
               'ALTOSTACK_VENV': v['altostack_venv'],
               'ALTOSTACK_LOG_PREFIX': v['inventory_hostname'], 'SERVICES': SERVICES,
               'RESTART': '1' if restart else ''}, what='starting the control services')


def side_by_side(*calls):
    """Run each (function, args...) in a thread of its own; the first
    failure (in the order given) is raised once all have ended."""
    errors = [None] * len(calls)

    def run(i, fn, *a):
        try:
            fn(*a)
        except Exception as e:  # noqa: BLE001 - raised again below
            errors[i] = e
    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e


def wait_http(url, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise node_join.JoinError('%s did not answer within %d s' % (url, timeout))
        time.sleep(1)


def manage(v, *argv, tries=1):
    cmd = [os.path.join(v['altostack_venv'], 'bin', 'altostack-manage'), '--config-file',
           os.path.join(v['altostack_etc'], 'altostack.conf'), *argv]
    for _ in range(tries):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            return r.stdout
        time.sleep(2)
    raise node_join.JoinError('altostack-manage %s failed: %s' % (argv[0], r.stderr[-1500:]))


def write_conf(v, extra=''):
    """altostack.conf from the controller role's template; True if it changed."""
    path = os.path.join(v['altostack_etc'], 'altostack.conf')
    text = render_controller_conf(dict(v, altostack_extra_conf=v['altostack_extra_conf'] +
                                        extra))
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    _write(path, text)
    return True


# -- init -------------------------------------------------------------------

def _front_address_up(my_ip, front):
    """The front address on the device that holds my_ip (a /32: the
    machine answers for it on that network)."""
    if sh('ip -o addr show to "$A"', {'A': front}).strip():
        return
    line = sh('ip -o addr show to "$A"', {'A': my_ip}).split()
    if not line:
        raise node_join.JoinError('no device of this machine has address %s (--my-ip)' % my_ip)
    sh('ip addr add "$A/32" dev "$D"', {'A': front, 'D': line[1]}, what='adding the front '
       'address')


def init(args, out):
    roles = [r for r in args.roles.split(',') if r]
    unknown = sorted(set(roles) - set(INIT_ROLES))
    if unknown:
        raise node_join.JoinError('unknown role(s) %s: the first machine takes %s'
                                  % (', '.join(unknown), ','.join(INIT_ROLES)))
    if not set(INIT_NEEDS) <= set(roles):
        raise node_join.JoinError(
            'the first machine must take the roles %s (the machines that join need its '
            'controller and the database front from the start), and storage too unless '
            'storage machines join; other machines join later with tokens'
            % ','.join(INIT_NEEDS))
    if not args.front_address or args.front_address == args.my_ip:
        raise node_join.JoinError('--front-address must be an address of its own (the '
                                  'clients\' and the services\' way in), not --my-ip %s: '
                                  'the controller listens there on the same ports'
                                  % args.my_ip)
    name = args.name or socket.gethostname()
    etc, state = args.config_dir, args.state_path
    cloud_path = os.path.join(etc, 'cloud.json')
    if os.path.exists(cloud_path):
        with open(cloud_path) as f:
            cloud = json.load(f)
        print('Using the cloud settings already in %s.' % cloud_path, file=out)
    else:
        cloud = {'altostack_vip': args.front_address, 'loadbalancer': name,
                 'altostack_db_password': _password(24),
                 'altostack_rabbit_password': _password(24),
                 'altostack_rabbit_cookie': _password(20, string.ascii_uppercase),
                 'altostack_image_url_key': _password(64, '0123456789abcdef'),
                 'altostack_api_port': 8080, 'altostack_image_port': 9292,
                 'altostack_db_port': 3306,
                 'altostack_report_interval': args.report_interval,
                 'altostack_service_down_time': args.service_down_time}
        if args.public_cidr:
            cloud['altostack_public_cidr'] = args.public_cidr
        _write(cloud_path, json.dumps(cloud, indent=1, sort_keys=True) + '\n')
    controls = [(name, args.my_ip)]
    v = ansible_vars(cloud, name, args.my_ip, controls, etc, state)
    t0 = time.monotonic()

    def step(what):
        print('[%5.1f s] %s' % (time.monotonic() - t0, what), file=out, flush=True)

    _front_address_up(args.my_ip, args.front_address)
    etc_hosts(controls)
    osd_here = 'storage' in roles
    step('Ceph: mon, mgr%s' % (', OSD' if osd_here else ' (the OSDs join on storage machines)'))
    sh('source "$SRC/devstack/lib/ceph.sh"\n'
       '$UP && altostack_ceph_pools volumes images &&\n'
       'altostack_ceph_volume_key altostack-volume && altostack_ceph_image_key altostack-image '
       '&&\naltostack_ceph_compute_key "$COMPUTE" && altostack_ceph_bootstrap_osd_key\n'
       'mkdir -p "$ETC/ceph" && altostack_ceph_client_conf "$ETC/ceph" > "$ETC/ceph/ceph.conf"\n'
       'for k in altostack-volume altostack-image "$COMPUTE" bootstrap-osd; do\n'
       '  install -m 0600 "$ALTOSTACK_CEPH_DIR/keys/client.$k.keyring" "$ETC/ceph/"\n'
       'done', dict(_ceph_env(v), ETC=etc, COMPUTE=cloud_mod.COMPUTE_USER,
                    UP='altostack_ceph_up' if osd_here else 'altostack_ceph_mon_up'),
       what='Ceph')
    step('Galera: a new cluster')
    galera_up(v, new=True)
    sh('source "$SRC/devstack/lib/galera.sh"\n'
       'altostack_galera_host_grant "$D" "$DB" "$U" "$P"',
       {'D': v['altostack_galera_dir'], 'DB': v['altostack_db_name'],
        'U': v['altostack_db_user'], 'P': v['altostack_db_password']}, what='the database')
    step('RabbitMQ: a new cluster')
    rabbit_up(v, args.my_ip)
    sh('source "$SRC/devstack/lib/rabbitmq_cluster.sh"\n'
       'altostack_rabbit_host_login "$D" "$IP" "$U" "$P" "$VH"',
       {'D': v['altostack_rabbit_dir'], 'IP': args.my_ip, 'U': v['altostack_rabbit_user'],
        'P': v['altostack_rabbit_password'], 'VH': v['altostack_rabbit_vhost']},
       what='the broker login')
    step('the load balancer\'s fronts on %s' % args.front_address)
    front_dir = v['altostack_front_dir']
    cloud_mod.write_fronts(front_dir, args.front_address, v, controls, src=SRC)
    step('altostack.conf, the database schema, bootstrap')
    extra = ('\n[node_join]\ncloud_file = %s\nfront_dir = %s\nfront_address = %s\n'
             'src_dir = %s\n' % (cloud_path, front_dir, args.front_address, SRC))
    changed = write_conf(v, extra)
    _write(os.path.join(state, 'image-url.key'), v['altostack_image_url_key'])
    passwords = {}
    for who in ('admin', 'demo'):
        path = os.path.join(etc, '%s_password' % who)
        if not os.path.exists(path):
            _write(path, _password(20) + '\n')
        with open(path) as f:
            passwords[who] = f.read().strip()
    manage(v, 'db', 'sync', tries=10)
    manage(v, 'bootstrap', '--admin-password', passwords['admin'], '--demo-password',
           passwords['demo'])
    _record_first(v, name, args.my_ip)
    step('the control services')
    services_up(v, restart=changed)
    wait_http('http://%s:%s/healthcheck' % (args.front_address, v['altostack_api_port']))
    step('done')
    print('Cloud started: %s %s (%s); the cloud\'s address %s. Admin password in %s. Add '
          'machines with "altostack-manage node add NAME [--role control|storage]" here and '
          '"altostack-node join TOKEN" there.%s'
          % (', '.join(roles), name, args.my_ip, args.front_address,
             os.path.join(etc, 'admin_password'),
             '' if osd_here else ' Volumes and images wait for a storage machine.'),
          file=out)
    return 0


def _record_first(v, name, my_ip):
    from common import config
    from conductor import nodes
    config.parse_args(['--config-file', os.path.join(v['altostack_etc'], 'altostack.conf')],
                      default_config_files=[])
    nodes.record_first_control(name, my_ip)


# -- join as a controller ---------------------------------------------------

def _stamp(token, state):
    """(marker file, its text once joined with this token, joined already?)"""
    marker = os.path.join(state, 'joined')
    stamp = '%s %s\n' % (token['name'], node_join.join_token.secret_hash(token['secret']))
    try:
        with open(marker) as f:
            return marker, stamp, f.read() == stamp
    except OSError:
        return marker, stamp, False


def join_control(token, args, out):
    etc, state = args.config_dir, args.state_path
    name = token['name']
    marker, stamp, already = _stamp(token, state)
    cloud_path = os.path.join(etc, 'cloud.json')
    if already:
        with open(cloud_path) as f:
            cloud = json.load(f)
        with open(os.path.join(state, 'controls.json')) as f:
            controls = json.load(f)
        my_ip = [ip for n, ip in controls if n == name][0]
        v = ansible_vars(cloud, name, my_ip, controls, etc, state)
        print('This node already joined as controller %s with this token.' % name, file=out)
        print((services_up(v) or '').strip() or 'The control services are running.', file=out)
        return 0
    t0 = time.monotonic()

    def step(what):
        print('[%5.1f s] %s' % (time.monotonic() - t0, what), file=out, flush=True)

    my_ip = args.my_ip or node_join.detect_my_ip(token['controllers'], token['port'])
    node_join.check_bus(token, args.timeout)
    # The node's own broker login, for its two calls; gone when done.
    bus_conf = os.path.join(etc, 'join-bus.conf')
    _write(bus_conf, node_join.render_conf(token, my_ip, state))
    try:
        step('token presented over RPC')
        answer = node_join.register(bus_conf, token, my_ip, args.timeout)
        bundle = answer.get('bundle')
        if answer.get('role') != 'control' or not bundle:
            raise node_join.JoinError('the conductor accepted the token but sent no '
                                      'controller files (is it older than this node?)')
        cloud = bundle['cloud']
        controls = [c for c in bundle['controls'] if c[0] != name] + [[name, my_ip]]
        _write(cloud_path, json.dumps(cloud, indent=1, sort_keys=True) + '\n')
        _write(os.path.join(state, 'controls.json'), json.dumps(controls) + '\n', 0o644)
        for rel, text in bundle['state_files'].items():
            _write(os.path.join(state, rel), text)
        for rel, text in bundle['etc_files'].items():
            _write(os.path.join(etc, rel), text)
        v = ansible_vars(cloud, name, my_ip, controls, etc, state)
        _write(os.path.join(state, 'image-url.key'), v['altostack_image_url_key'])
        etc_hosts(controls)
        # Side by side: the Galera state transfer and the Erlang VM's start
        # are each most of a join's time, and they need nothing of each other.
        step('Galera node joining %s, RabbitMQ node joining rabbit@%s' % (
            ', '.join(n for n, _ in controls[:-1]), controls[0][1]))
        side_by_side((galera_up, v), (rabbit_up, v, controls[0][1]))
        step('altostack.conf, the control services')
        changed = write_conf(v, '\n[node_join]\ncloud_file = %s\n' % cloud_path)
        services_up(v, restart=changed)
        wait_http('http://%s:%s/healthcheck' % (my_ip, v['altostack_api_port']))
        step('added to the load balancer\'s fronts (%s)' % cloud['loadbalancer'])
        fronts = _rpc_add_to_fronts(bus_conf, cloud['loadbalancer'], name, args.timeout)
        _write(marker, stamp)
    finally:
        if os.path.exists(bus_conf):
            os.unlink(bus_conf)
    print('Joined as controller %s (my_ip %s); the fronts now send to %s.'
          % (name, my_ip, ', '.join(fronts)), file=out)
    return 0


# -- join as a storage machine ---------------------------------------------

def _osd_up(v, etc):
    return sh('source "$SRC/devstack/lib/ceph.sh"\n'
              'altostack_ceph_osd_node_up "$ETC/ceph/ceph.conf" '
              '"$ETC/ceph/client.bootstrap-osd.keyring"',
              dict(_ceph_env(v), ETC=etc), what='the OSD')


def join_storage(token, args, out):
    etc, state = args.config_dir, args.state_path
    marker, stamp, already = _stamp(token, state)
    my_ip_path = os.path.join(state, 'my_ip')
    if already:
        with open(my_ip_path) as f:
            my_ip = f.read().strip()
        v = ansible_vars({}, token['name'], my_ip, [], etc, state)
        _osd_up(v, etc)
        print('This node already joined as storage machine %s with this token; its OSD '
              'runs.' % token['name'], file=out)
        return 0
    t0 = time.monotonic()
    my_ip = args.my_ip or node_join.detect_my_ip(token['controllers'], token['port'])
    node_join.check_bus(token, args.timeout)
    bus_conf = os.path.join(etc, 'join-bus.conf')
    _write(bus_conf, node_join.render_conf(token, my_ip, state))
    try:
        answer = node_join.register(bus_conf, token, my_ip, args.timeout)
    finally:
        os.unlink(bus_conf)
    bundle = answer.get('bundle')
    if answer.get('role') != 'storage' or not bundle:
        raise node_join.JoinError('the conductor accepted the token but sent no storage '
                                  'files (is it older than this node?)')
    for rel, text in bundle['etc_files'].items():
        _write(os.path.join(etc, rel), text)
    _write(my_ip_path, my_ip + '\n', 0o644)
    v = ansible_vars({}, token['name'], my_ip, [], etc, state)
    _osd_up(v, etc)
    _write(marker, stamp)
    print('[%5.1f s] Joined as storage machine %s (my_ip %s): its Ceph OSD is up.'
          % (time.monotonic() - t0, token['name'], my_ip), file=out)
    return 0


def _rpc_add_to_fronts(conf_path, lb_host, name, timeout):
    import oslo_messaging as messaging

    from common import config
    from common import context as ctx_mod
    from common import rpc
    from conductor import rpcapi as conductor_rpcapi
    config.parse_args(['--config-file', conf_path], default_config_files=[])
    try:
        out = conductor_rpcapi.ConductorAPI().add_to_fronts(
            ctx_mod.get_admin_context(), lb_host, name, timeout=timeout)
    except messaging.MessagingTimeout:
        raise node_join.JoinError('the load balancer\'s conductor (%s) did not answer within '
                                  '%d s' % (lb_host, timeout)) from None
    except messaging.RemoteError as e:
        raise node_join.JoinError('the load balancer\'s conductor (%s) failed: %s %s'
                                  % (lb_host, e.exc_type, e.value)) from None
    finally:
        rpc.cleanup()
    if out.get('error'):
        raise node_join.JoinError('not added to the fronts: %s' % out['error'])
    return out['controls']
