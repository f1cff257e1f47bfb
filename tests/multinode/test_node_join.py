"""Issue 15, test 1: a fresh compute node given only a token joins.

One cloud (tests/functional/cloud.py LocalCloud) is the controller; host 2
is a private node (devstack/lib/hosts.sh "private"): its own network,
mount and UTS namespaces, /etc/altostack, /var/lib/altostack, /run and
libvirtd, and the controller's folder hidden. Given only the token of
`altostack-manage node add`, `altostack-node join` run inside it makes it a
hypervisor of the cloud holding no database credentials; a server placed
there boots (TCG) and serves its console; the token works once; `node
remove` refuses while the node has a server and leaves nothing after.
"""

import os
import subprocess
import sys
import time

import pytest

from tests.fixtures.console import connect
from tests.fixtures.console import read_until
from tests.fixtures.servers import wait_console
from tests.functional import cloud as cloud_mod


@pytest.fixture(scope='module')
def jcloud():
    with cloud_mod.LocalCloud(private_hosts=1) as c:
        c.upload_tiny_image()
        yield c


def until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError('timed out waiting for %s' % what)


def _node_files(root):
    """(path, text) of every file of the node's /etc/altostack and
    /var/lib/altostack (seen from outside: the node's root folder)."""
    for top in ('etc/altostack', 'var/lib/altostack'):
        for d, _dirs, files in os.walk(os.path.join(root, top)):
            for f in files:
                path = os.path.join(d, f)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, 'rb') as fh:
                    yield path, fh.read().decode('utf-8', 'replace')


def test_a_fresh_node_joins_with_only_a_token_and_serves_a_guest(jcloud, tmp_path):
    t0 = time.monotonic()
    (n,) = jcloud.private_host_numbers()
    name = jcloud.host_name(n)
    node_root = os.path.join(jcloud.workdir, 'hosts', 'host%d' % n, 'root')
    # Before joining, the node sees nothing of the controller's files.
    seen = jcloud.host_exec(n, 'sh', '-c', 'ls -A /etc/altostack /var/lib/altostack; '
                            'ls -A %s 2>&1; true' % jcloud.workdir).stdout
    assert 'altostack.conf' not in seen and 'altostack.sqlite' not in seen, seen

    token = jcloud.manage('node', 'add', name).strip()
    assert token.startswith('altostack-join-1.') and '\n' not in token
    assert any(line.split()[0] == name and line.endswith('token-issued')
               for line in jcloud.manage('node', 'list').splitlines())

    r = jcloud.node_join(n, token)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Joined as %s (my_ip %s.%d)' % (name, jcloud.hosts_subnet, n) in r.stdout, r.stdout
    until(lambda: name in [h['Hypervisor Hostname'] for h in jcloud.openstack(
        'hypervisor', 'list', json_out=True)], 90, '%s in the hypervisor list' % name)
    services = jcloud.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                                json_out=True)
    assert {s['Host']: s['State'] for s in services}.get(name) == 'up', services
    joined = time.monotonic() - t0

    # No database credentials anywhere on the node, nor the controller's
    # own broker login: only the node's own.
    secrets = [jcloud.db.url, 'altostack.sqlite', '[database]', cloud_mod.RABBIT,
               jcloud.conf_path]
    files = dict(_node_files(node_root))
    assert os.path.join(node_root, 'etc/altostack/altostack.conf') in files, sorted(files)
    for path, text in files.items():
        for secret in secrets:
            assert secret not in text, (path, secret)
    conf = files[os.path.join(node_root, 'etc/altostack/altostack.conf')]
    assert 'transport_url = rabbit://altostack-node-%s-' % name in conf
    with open(os.path.join(node_root, 'var/lib/altostack/compute.pid')) as f:
        pid = int(f.read())
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        cmdline = f.read().decode().replace('\0', ' ')
    with open('/proc/%d/environ' % pid, 'rb') as f:
        environ = f.read().decode('utf-8', 'replace')
    assert '--config-file /etc/altostack/altostack.conf' in cmdline, cmdline
    for secret in secrets + ['ALTOSTACK_HOSTS_CONF', 'connection']:
        assert secret not in cmdline and secret not in environ, secret
    # The agent runs inside the node's namespaces.
    assert os.readlink('/proc/%d/ns/mnt' % pid) != os.readlink('/proc/self/ns/mnt')

    # The token was good once: another machine (here the test's own
    # namespaces, with folders of its own) is refused, non-zero.
    other = subprocess.run(
        [sys.executable, '-m', 'cli.node_join', 'join', token, '--config-dir',
         str(tmp_path / 'etc'), '--state-path', str(tmp_path / 'lib'), '--no-start'],
        capture_output=True, text=True, timeout=120, env=cloud_mod._checkout_env())
    assert other.returncode == 1, other.stdout + other.stderr
    assert 'used already' in other.stderr, other.stderr
    assert not (tmp_path / 'etc' / 'altostack.conf').exists()
    # Joining again on the node itself is harmless (idempotent).
    again = jcloud.node_join(n, token)
    assert again.returncode == 0 and 'already' in again.stdout, again.stdout + again.stderr

    # A server placed on the node boots there and serves its console.
    srv = jcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--nic', 'none', '--availability-zone', 'nova:%s' % name,
                           '--wait', 'join-vm', json_out=True)
    assert srv['status'] == 'ACTIVE' and srv['OS-EXT-SRV-ATTR:host'] == name, srv
    dom = 'altostack-%s' % srv['id']
    assert dom in jcloud.host_exec(n, 'virsh', '-q', '-c', 'qemu:///system', 'list',
                                   '--name').stdout
    assert os.path.isdir(os.path.join(node_root, 'var/lib/altostack/instances', srv['id']))
    wait_console(jcloud, 'join-vm', 'ALTOSTACK-READY hostname=', timeout=240,
                 cloud_name='admin')
    con = jcloud.openstack('console', 'url', 'show', '--serial', 'join-vm', json_out=True)
    with connect(con['url']) as ws:
        ws.send(b'\n')
        ws.send(b'echo JOINED$((6*7))\n')
        read_until(ws, b'JOINED42')
    booted = time.monotonic() - t0

    # Removal: refused while the server is there, with what to do.
    refused = jcloud.manage('node', 'remove', name, check=False)
    assert refused.returncode == 1
    assert srv['id'] in refused.stderr and 'live-migrate' in refused.stderr, refused.stderr
    jcloud.openstack('server', 'delete', '--wait', srv['id'])
    out = jcloud.manage('node', 'remove', name)
    assert 'Node %s removed' % name in out, out
    until(lambda: name not in [h['Hypervisor Hostname'] for h in jcloud.openstack(
        'hypervisor', 'list', json_out=True)], 30, '%s gone from the hypervisor list' % name)
    time.sleep(3)  # an agent that still runs cannot come back: its bus user is gone
    hyps = [h['Hypervisor Hostname'] for h in jcloud.openstack('hypervisor', 'list',
                                                               json_out=True)]
    services = jcloud.openstack('compute', 'service', 'list', json_out=True)
    assert name not in hyps and name not in [s['Host'] for s in services], (hyps, services)
    users = cloud_mod._rabbitmqctl('list_users').stdout
    assert 'altostack-node-%s-' % name not in users
    assert any(line.split()[0] == name and line.endswith('removed')
               for line in jcloud.manage('node', 'list').splitlines())
    print('joined in %.1f s, guest console after %.1f s, all in %.1f s'
          % (joined, booted, time.monotonic() - t0))
