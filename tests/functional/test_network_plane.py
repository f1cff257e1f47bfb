"""The compute host's data plane (compute.network.HostNetwork) with real
guests: bridges, DHCP in qdhcp namespaces, security groups in nft, floating
IPs through qrouter namespaces, NIC hot-plug.

No API, database or RabbitMQ: the host state is built here by hand
(docs/network.md "Host state"), applied with HostNetwork, and tiny guests
(devstack/lib/guest-image.sh) are booted with LibvirtDriver.spawn and the
'bridge' VIF driver. Everything is named from random ids, guests live under
this module's own instances_path, and everything is removed at the end.

Needs root, nft, dnsmasq, ip and a reachable libvirtd (qemu:///system);
skips otherwise. ALTOSTACK_TEST_TIMINGS=FILE writes the measured timings.
"""

import base64
import contextlib
import ipaddress
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import time
import uuid as uuid_mod

import pytest

if os.geteuid() != 0:
    pytest.skip('the data plane needs root', allow_module_level=True)
for _tool in ('nft', 'dnsmasq', 'ip', 'ping', 'genisoimage', 'qemu-img'):
    if not shutil.which(_tool):
        pytest.skip('%s is not installed' % _tool, allow_module_level=True)
libvirt = pytest.importorskip('libvirt')

from oslo_config import cfg  # noqa: E402

from common import netnames  # noqa: E402
from common.conf import CONF  # noqa: E402
from common.conf import compute as compute_conf  # noqa: E402
from common.conf import network as network_conf  # noqa: E402
from compute.network import names  # noqa: E402
from compute.network import plane  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from tests.fixtures import libvirt_guest as libvirt_tests  # noqa: E402

for _mod in (compute_conf, network_conf):
    try:
        _mod.register_opts(CONF)
    except cfg.DuplicateOptError:
        pass

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUEST_IMAGE_DIR = os.environ.get('ALTOSTACK_TEST_IMAGE_DIR', '/var/cache/altostack/guest-image')
URI = os.environ.get('ALTOSTACK_TEST_LIBVIRT_URI', 'qemu:///system')
BOOT_TIMEOUT = 150
TIMINGS = {}


# -- helpers -------------------------------------------------------------------------

def sh(*argv, timeout=30):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)


def ns_ping(netns, ip, count=2):
    argv = ['ping', '-n', '-c', str(count), '-W', '1', ip]
    if netns:
        argv = ['ip', 'netns', 'exec', netns] + argv
    return sh(*argv).returncode == 0


def eventually(check, timeout=15.0, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def tcp_open(netns, ip, port):
    r = sh('ip', 'netns', 'exec', netns, 'timeout', '3', 'bash', '-c',
           '</dev/tcp/%s/%d' % (ip, port))
    return r.returncode == 0


def rand_mac():
    return 'fa:16:3e:%02x:%02x:%02x' % tuple(random.randrange(256) for _ in range(3))


def routed(net):
    """True if the host already has a route or address in ``net``."""
    out = sh('ip', '-4', 'route', 'show', 'table', 'all').stdout
    for word in out.split():
        with contextlib.suppress(ValueError):
            if ipaddress.ip_network(word, strict=False).overlaps(net):
                return True
    return False


def free_net(template):
    for _ in range(200):
        net = ipaddress.ip_network(template % random.randrange(2, 250))
        if not routed(net):
            return net
    raise RuntimeError('no free /24 for %s' % template)


def serial_command(port, command, timeout=40):
    """Run a shell command on a local guest's serial console."""
    return libvirt_tests.serial_command('127.0.0.1', port, command, timeout=timeout)


def guest_ping(port, ip, count=2):
    """True if the guest behind serial console ``port`` can ping ``ip``."""
    out = serial_command(port, 'ping -c %d -W 1 %s >/dev/null 2>&1; echo PING-RC=$?'
                         % (count, ip))
    assert 'PING-RC=' in out.replace('PING-RC=$?', ''), out
    return 'PING-RC=0' in out


# -- the lab: three networks, three guests --------------------------------------------

def sg_rules(remote_ips, extra=()):
    """Neutron's default group (egress anywhere, ingress from the group) + extra."""
    def rule(direction, ethertype='IPv4', protocol=None, lo=None, hi=None, prefix=None,
             remote=None):
        return {'direction': direction, 'ethertype': ethertype, 'protocol': protocol,
                'port_range_min': lo, 'port_range_max': hi, 'remote_ip_prefix': prefix,
                'remote_ips': remote}
    rules = [rule('egress'), rule('egress', 'IPv6'),
             rule('ingress', remote=sorted(remote_ips)), rule('ingress', 'IPv6', remote=[])]
    for e in extra:
        rules.append(rule('ingress', **e))
    return rules


ICMP_IN = {'protocol': 'icmp'}
SSH_IN = {'protocol': 'tcp', 'lo': 22, 'hi': 22}


class Lab:
    def __init__(self, workdir):
        self.workdir = workdir
        self.host = 'netfunc-%s' % uuid_mod.uuid4().hex[:8]
        ext_net = free_net('172.24.%d.0/24')
        n1 = free_net('10.%d.11.0/24')
        n2 = free_net('10.%d.12.0/24')
        self.nets = {}
        for key, cidr, external in (('ext', ext_net, True), ('n1', n1, False),
                                    ('n2', n2, False)):
            hosts = list(cidr.hosts())
            nid = str(uuid_mod.uuid4())
            self.nets[key] = {
                'id': nid, 'name': 'func-%s' % key, 'bridge': netnames.bridge(nid),
                'mtu': 1500 if external else 1450, 'external': external,
                'segmentation_id': random.randrange(1, 4000), 'cidr': str(cidr),
                'hosts': hosts,
                'subnets': [{'id': str(uuid_mod.uuid4()), 'cidr': str(cidr),
                             'gateway_ip': str(hosts[0]), 'enable_dhcp': not external,
                             'dns_nameservers': [], 'host_routes': []}],
                'dhcp_port': None if external else {
                    'id': str(uuid_mod.uuid4()), 'mac_address': rand_mac(),
                    'fixed_ips': [{'ip_address': str(hosts[1])}]}}
            if not external:
                self.nets[key]['dhcp_port']['fixed_ips'][0]['subnet_id'] = \
                    self.nets[key]['subnets'][0]['id']
        self.ports = {}
        for key, net, last in (('a', 'n1', 10), ('b', 'n1', 11), ('c', 'n2', 10)):
            n = self.nets[net]
            pid = str(uuid_mod.uuid4())
            self.ports[key] = {
                'id': pid, 'network_id': n['id'], 'mac_address': rand_mac(),
                'devname': netnames.tap(pid), 'device_id': str(uuid_mod.uuid4()),
                'hostname': 'vm-%s' % key, 'ip': str(n['hosts'][last - 1]), 'net': net,
                'port_security_enabled': True, 'extra_rules': [], 'fip': None}
        self.ports['a']['fip'] = str(self.nets['ext']['hosts'][9])
        self.ports['c']['fip'] = str(self.nets['ext']['hosts'][10])
        # Each network behind its own router (gateway on ext, SNAT off: a
        # port without a floating IP has no way out).
        self.routers = {}
        for key, net, last in (('r1', 'n1', 4), ('r2', 'n2', 5)):
            n, ext = self.nets[net], self.nets['ext']
            self.routers[key] = {
                'id': str(uuid_mod.uuid4()), 'net': net, 'enable_snat': False, 'routes': [],
                'interfaces': [{'port_id': str(uuid_mod.uuid4()), 'network_id': n['id'],
                                'mac_address': rand_mac(),
                                'fixed_ips': [{'subnet_id': n['subnets'][0]['id'],
                                               'ip_address': str(n['hosts'][0]),
                                               'cidr': n['cidr']}]}],
                'gateway': {'port_id': str(uuid_mod.uuid4()), 'network_id': ext['id'],
                            'fixed_ips': [{'subnet_id': ext['subnets'][0]['id'],
                                           'ip_address': str(ext['hosts'][last]),
                                           'cidr': ext['cidr'],
                                           'gateway_ip': str(ext['hosts'][0])}]}}
        self.hn = plane.HostNetwork(os.path.join(workdir, 'network'), self.host)
        self.guests = {}

    def port_state(self, key):
        p = self.ports[key]
        n = self.nets[p['net']]
        group = [q['ip'] for q in self.ports.values() if q['net'] == p['net']]
        return {'id': p['id'], 'network_id': p['network_id'],
                'mac_address': p['mac_address'], 'devname': p['devname'],
                'device_id': p['device_id'], 'hostname': p['hostname'],
                'fixed_ips': [{'subnet_id': n['subnets'][0]['id'], 'ip_address': p['ip']}],
                'port_security_enabled': p['port_security_enabled'],
                'rules': sg_rules(group, p['extra_rules']),
                'floating_ips': [{'id': 'fip-' + key, 'floating_ip_address': p['fip'],
                                  'fixed_ip_address': p['ip']}] if p['fip'] else []}

    def router_state(self, key):
        r = self.routers[key]
        fips = [{'id': 'fip-' + k, 'port_id': p['id'], 'floating_ip_address': p['fip'],
                 'fixed_ip_address': p['ip']}
                for k, p in self.ports.items() if p['fip'] and p['net'] == r['net']]
        return dict({k: v for k, v in r.items() if k != 'net'}, floating_ips=fips)

    def state(self, extra_ports=()):
        nets = [{k: v for k, v in n.items() if k not in ('cidr', 'hosts')}
                for n in self.nets.values()]
        return {'host': self.host, 'networks': nets,
                'ports': [self.port_state(k) for k in self.ports] + list(extra_ports),
                'routers': [self.router_state(k) for k in self.routers]}

    def apply(self, **kw):
        return self.hn.apply(self.state(**kw))

    def vif(self, key):
        p = self.ports[key]
        n = self.nets[p['net']]
        sub = n['subnets'][0]
        return {'id': p['id'], 'address': p['mac_address'], 'devname': p['devname'],
                'type': 'bridge',
                'network': {'id': n['id'], 'label': n['name'], 'bridge': n['bridge'],
                            'mtu': n['mtu'],
                            'subnets': [{'id': sub['id'], 'cidr': sub['cidr'],
                                         'gateway': sub['gateway_ip'], 'ips': [p['ip']],
                                         'dns_nameservers': [], 'routes': [],
                                         'enable_dhcp': True}]}}


USER_DATA = {
    # A: a TCP server on port 22 for the security group tests.
    'a': '#!/bin/sh\nnc -ll -p 22 -e /bin/echo hello-from-nc &\necho NC-STARTED\n',
    # B: ping A (same network, let in by A's remote-group rule).
    'b': ('#!/bin/sh\ni=0\nwhile [ $i -lt 40 ]; do\n'
          '  if ping -c 1 -W 1 {a} >/dev/null 2>&1; then echo PING-A-OK; exit 0; fi\n'
          '  i=$((i + 1)); sleep 1\ndone\necho PING-A-FAILED\n'),
    'c': '#!/bin/sh\necho C-UP\n',
}


def make_instance(lab, key):
    p = lab.ports[key]
    user_data = USER_DATA[key].replace('{a}', lab.ports['a']['ip'])
    return {
        'uuid': p['device_id'], 'name': 'netfunc %s' % key, 'hostname': p['hostname'],
        'project_id': 'proj-%s' % p['net'], 'user_id': 'user-func', 'image_ref': 'img-func',
        'flavor': {'name': 'm1.nano', 'vcpus': 1, 'memory_mb': 192, 'root_gb': 1,
                   'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}},
        'key_name': None, 'key_data': None,
        'user_data': base64.b64encode(user_data.encode()).decode(),
        'metadata': {}, 'launch_index': 0, 'availability_zone': 'nova',
        'created_at': '2025-01-01T00:00:00Z'}


def leftovers(lab, inventory):
    """Devices, namespaces, tables and processes of ours still on the host."""
    ids = [n['id'][:11] for n in lab.nets.values()] + \
        [p['id'][:11] for p in lab.ports.values()]
    links = [line.split()[0].split('@')[0] for line in sh('ip', '-br', 'link').stdout.splitlines()
             if line.strip()]
    out = {'links': [name for name in links if any(i in name for i in ids)],
           'netns': [line.split()[0] for line in sh('ip', 'netns', 'list').stdout.splitlines()
                     if any(n['id'] in line for n in lab.nets.values())],
           'tables': [t for t in sh('nft', 'list', 'tables').stdout.splitlines()
                      if names.table_name(lab.host) in t],
           'dnsmasq': [line for line in sh('ps', '-eo', 'args').stdout.splitlines()
                       if 'dnsmasq' in line and lab.workdir in line],
           'files': [f for f in inventory['files'] if os.path.exists(f)]}
    return {k: v for k, v in out.items() if v}


@pytest.fixture(scope='module')
def libvirtd():
    try:
        conn = libvirt.open(URI)
    except libvirt.libvirtError as e:
        pytest.skip('libvirtd is not reachable at %s (%s)' % (URI, e))
    conn.close()
    return URI


@pytest.fixture(scope='module')
def base_image(tmp_path_factory):
    subprocess.run(['bash', '-c', 'set -e; source "$1/devstack/lib/guest-image.sh"; '
                    'altostack_build_guest_image "$2"', '_', str(ROOT), GUEST_IMAGE_DIR],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    # Our own copy: a rebuild of the shared one must not pull it from under us.
    path = tmp_path_factory.mktemp('netimg') / 'base.qcow2'
    shutil.copy(os.path.join(GUEST_IMAGE_DIR, 'altostack-tiny.qcow2'), path)
    return str(path)


@pytest.fixture(scope='module')
def lab(libvirtd, base_image, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('netplane'))
    overrides = [('libvirt_uri', libvirtd, 'compute'),
                 ('instances_path', os.path.join(workdir, 'instances'), 'compute'),
                 ('virt_type', 'qemu', 'compute'), ('vif_driver', 'bridge', 'compute'),
                 ('shutdown_timeout', 2, 'compute'),
                 ('state_dir', os.path.join(workdir, 'network'), 'network')]
    for name, value, group in overrides:
        CONF.set_override(name, value, group)
    lab = Lab(workdir)
    drv = libvirt_driver.LibvirtDriver()
    drv.init_host(lab.host)
    lab.drv = drv
    inventory = {'files': []}
    try:
        t0 = time.monotonic()
        summary = lab.apply()
        TIMINGS['first_apply'] = time.monotonic() - t0
        assert summary['changed'] and not summary['removed']
        inventory = lab.hn.inventory()
        image_meta = {'id': 'img-func', 'disk_format': 'qcow2'}
        t0 = time.monotonic()
        for key in ('a', 'b', 'c'):
            inst = make_instance(lab, key)
            lab.guests[key] = inst
            drv.spawn(None, inst, image_meta, base_image, [lab.vif(key)])
        TIMINGS['spawn_3'] = time.monotonic() - t0
        lab.boot_started = t0
        yield lab
    finally:
        for inst in lab.guests.values():
            with contextlib.suppress(Exception):
                drv.destroy(None, inst)
        with contextlib.suppress(Exception):
            lab.hn.teardown()
        drv.cleanup_host(lab.host)
        for name, _value, group in overrides:
            CONF.clear_override(name, group)
        left = leftovers(lab, inventory)
        report = ', '.join('%s=%.4fs' % kv for kv in sorted(TIMINGS.items()))
        print('\nNETWORK-PLANE-TIMINGS %s' % report)
        if os.environ.get('ALTOSTACK_TEST_TIMINGS'):
            with open(os.environ['ALTOSTACK_TEST_TIMINGS'], 'w') as f:
                json.dump(TIMINGS, f, indent=1)
        shutil.rmtree(workdir, ignore_errors=True)
        assert not left, 'left behind: %s' % left


def console(lab, key):
    return lab.drv.get_console_output(lab.guests[key], max_bytes=10 ** 6)


def wait_console(lab, key, marker, timeout=BOOT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        out = console(lab, key)
        if marker in out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError('%r not on the console of %s after %ds:\n%s'
                                 % (marker, key, timeout, out[-3000:]))
        time.sleep(0.3)


def console_port(lab, key):
    return lab.drv.get_serial_console(lab.guests[key])['port']


# -- the scenarios -----------------------------------------------------------------------

def test_dhcp_gives_each_guest_its_fixed_address(lab):
    """1. Each guest gets exactly its port's address by DHCP: the config
    drive says ipv4_dhcp (no static address), the guest prints
    source=dhcp, and dnsmasq's lease file has the lease."""
    for key in ('a', 'b', 'c'):
        p = lab.ports[key]
        n = lab.nets[p['net']]
        out = wait_console(lab, key, 'ALTOSTACK-READY')
        TIMINGS.setdefault('boot_to_ready_all', 0)
        TIMINGS['boot_to_ready_all'] = max(TIMINGS['boot_to_ready_all'],
                                           time.monotonic() - lab.boot_started)
        want = 'ALTOSTACK-NET eth0 mac=%s %s/24 gw=%s source=dhcp' % (
            p['mac_address'], p['ip'], n['subnets'][0]['gateway_ip'])
        assert want in out, out[-3000:]
        leases = {(mac, ip) for _exp, mac, ip, _h in lab.hn.dhcp_leases(n['id'])}
        assert (p['mac_address'], p['ip']) in leases, leases
        hostnames = {h for _exp, mac, _ip, h in lab.hn.dhcp_leases(n['id'])
                     if mac == p['mac_address']}
        assert hostnames == {p['hostname']}


def test_second_apply_is_a_noop(lab):
    """7 (part). The same state again changes nothing and is fast."""
    times = []
    for _ in range(20):
        t0 = time.monotonic()
        summary = lab.apply()
        times.append(time.monotonic() - t0)
        assert summary['changed'] is False, summary
    times.sort()
    TIMINGS['noop_apply_median'] = times[len(times) // 2]
    TIMINGS['noop_apply_max'] = times[-1]
    assert times[len(times) // 2] < 0.05


def test_icmp_rule_lets_the_dhcp_namespace_ping(lab):
    """2. With the default group (ingress from the group only) a ping from
    the qdhcp namespace is dropped; with an ingress icmp rule it passes."""
    wait_console(lab, 'a', 'ALTOSTACK-READY')
    a = lab.ports['a']
    qdhcp = netnames.dhcp_namespace(lab.nets['n1']['id'])
    lab.ports['a']['extra_rules'] = []
    lab.apply()
    assert not ns_ping(qdhcp, a['ip'])
    lab.ports['a']['extra_rules'] = [ICMP_IN]
    t0 = time.monotonic()
    summary = lab.apply()
    TIMINGS['rule_change_apply'] = time.monotonic() - t0
    assert summary['updated'] == ['firewall'], summary
    assert eventually(lambda: ns_ping(qdhcp, a['ip'], count=1))
    lab.ports['a']['extra_rules'] = []
    lab.apply()
    assert not ns_ping(qdhcp, a['ip'])


def test_remote_group_lets_a_neighbour_in(lab):
    """3. B (same network and group) pings A from its user_data."""
    out = wait_console(lab, 'b', 'ALTOSTACK-USERDATA-END')
    assert 'PING-A-OK' in out, out[-2000:]


def test_tcp_rule(lab):
    """5. A listens on TCP 22 (busybox nc); from the qdhcp namespace the
    port opens only while an ingress tcp 22 rule is there."""
    wait_console(lab, 'a', 'NC-STARTED')
    a = lab.ports['a']
    qdhcp = netnames.dhcp_namespace(lab.nets['n1']['id'])
    lab.ports['a']['extra_rules'] = []
    lab.apply()
    assert not tcp_open(qdhcp, a['ip'], 22)
    lab.ports['a']['extra_rules'] = [SSH_IN]
    lab.apply()
    assert eventually(lambda: tcp_open(qdhcp, a['ip'], 22))
    lab.ports['a']['extra_rules'] = []
    lab.apply()
    assert not tcp_open(qdhcp, a['ip'], 22)


def test_floating_ip(lab):
    """4. The host reaches A at its floating IP; not once it is removed."""
    wait_console(lab, 'a', 'ALTOSTACK-READY')
    a = lab.ports['a']
    fip = a['fip']
    lab.ports['a']['extra_rules'] = [ICMP_IN]
    lab.apply()
    assert eventually(lambda: ns_ping(None, fip, count=1)), 'floating IP %s unreachable' % fip
    lab.ports['a']['fip'] = None
    t0 = time.monotonic()
    summary = lab.apply()
    TIMINGS['fip_remove_apply'] = time.monotonic() - t0
    assert summary['updated'] == ['router:' + lab.routers['r1']['id']], summary
    assert not ns_ping(None, fip)
    lab.ports['a']['fip'] = fip
    lab.apply()
    assert eventually(lambda: ns_ping(None, fip, count=1))


def test_networks_are_isolated(lab):
    """6. Guests on two networks (both with floating IPs) cannot reach each
    other's fixed addresses; floating IPs are the only way in. A port
    without a floating IP cannot leave its network."""
    for key in ('a', 'b', 'c'):
        wait_console(lab, key, 'ALTOSTACK-READY')
    a, b, c = lab.ports['a'], lab.ports['b'], lab.ports['c']
    for key in ('a', 'b', 'c'):
        lab.ports[key]['extra_rules'] = [ICMP_IN]
    lab.apply()
    gw_ext = lab.nets['ext']['subnets'][0]['gateway_ip']
    pa, pb, pc = console_port(lab, 'a'), console_port(lab, 'b'), console_port(lab, 'c')
    # controls: what may pass does pass
    assert guest_ping(pc, gw_ext), 'C (floating IP) cannot reach the external gateway'
    assert guest_ping(pc, a['fip']), 'C cannot reach A at its floating IP'
    assert guest_ping(pb, a['ip'])
    assert guest_ping(pb, a['fip']), 'hairpin: B cannot reach A at its floating IP'
    # fixed addresses across networks do not
    assert not guest_ping(pc, a['ip'])
    assert not guest_ping(pc, b['ip'])
    assert not guest_ping(pa, c['ip'])
    assert not guest_ping(pb, c['ip'])
    # B has no floating IP: it cannot leave its network
    assert not guest_ping(pb, gw_ext)
    assert not guest_ping(pb, c['fip'])
    # anti-spoofing: B with an address that is not its own gets nowhere,
    # although A lets ICMP in from anywhere
    spoofed = str(lab.nets['n1']['hosts'][98])
    serial_command(pb, 'ip addr add %s/24 dev eth0' % spoofed)
    try:
        out = serial_command(pb, 'ping -c 2 -W 1 -I %s %s >/dev/null 2>&1; echo PING-RC=$?'
                             % (spoofed, a['ip']))
        assert 'PING-RC=1' in out, out
        out = serial_command(pb, 'ping -c 2 -W 1 -I %s %s >/dev/null 2>&1; echo PING-RC=$?'
                             % (b['ip'], a['ip']))
        assert 'PING-RC=0' in out, out      # the same command from its own address
    finally:
        serial_command(pb, 'ip addr del %s/24 dev eth0' % spoofed)
    assert guest_ping(pb, a['ip'])
    for key in ('a', 'b', 'c'):
        lab.ports[key]['extra_rules'] = []
    lab.apply()


def test_hotplug_a_second_nic(lab):
    """attach_interface / detach_interface on the running guest C: a port
    on N1 appears as eth1, gets its address from N1's DHCP, and goes."""
    wait_console(lab, 'c', 'ALTOSTACK-READY')
    n1 = lab.nets['n1']
    pid = str(uuid_mod.uuid4())
    extra = {'id': pid, 'network_id': n1['id'], 'mac_address': rand_mac(),
             'devname': netnames.tap(pid), 'device_id': lab.guests['c']['uuid'],
             'hostname': 'vm-c', 'fixed_ips': [{'subnet_id': n1['subnets'][0]['id'],
                                                'ip_address': str(n1['hosts'][20])}],
             'port_security_enabled': True,
             'rules': sg_rules([], [ICMP_IN]), 'floating_ips': []}
    lab.apply(extra_ports=[extra])
    vif = {'id': pid, 'address': extra['mac_address'], 'devname': extra['devname'],
           'type': 'bridge', 'network': {'id': n1['id'], 'bridge': n1['bridge'],
                                         'mtu': n1['mtu'], 'label': n1['name'],
                                         'subnets': []}}
    inst = lab.guests['c']
    port = console_port(lab, 'c')
    t0 = time.monotonic()
    lab.drv.attach_interface(None, inst, None, vif)
    TIMINGS['attach_interface'] = time.monotonic() - t0
    lab.drv.attach_interface(None, inst, None, vif)  # again: no error, no second NIC
    xml = sh('virsh', '-c', URI, 'dumpxml', 'altostack-' + inst['uuid']).stdout
    assert xml.count(extra['mac_address']) == 1
    assert "<target dev='%s'/>" % extra['devname'] in xml
    inactive = sh('virsh', '-c', URI, 'dumpxml', '--inactive',
                  'altostack-' + inst['uuid']).stdout
    assert extra['mac_address'] in inactive
    assert os.path.exists('/sys/class/net/%s/brif/%s' % (n1['bridge'], extra['devname']))
    out = ''
    for _ in range(20):
        out = serial_command(port, 'cat /sys/class/net/eth1/address')
        if extra['mac_address'] in out.replace('cat /sys', ''):
            break
        time.sleep(0.5)
    assert extra['mac_address'] in out, out
    out = serial_command(port, 'ip link set eth1 up; udhcpc -i eth1 -n -q -t 5 -T 1 '
                         '-s /bin/true >/tmp/dh1.log 2>&1; echo DHCP-RC=$?; '
                         'cat /tmp/dh1.log')
    assert 'DHCP-RC=0' in out and str(n1['hosts'][20]) in out, out
    # qdhcp namespace reaches it once the guest takes the address
    serial_command(port, 'ip addr add %s/24 dev eth1' % n1['hosts'][20])
    assert eventually(lambda: ns_ping(netnames.dhcp_namespace(n1['id']),
                                      str(n1['hosts'][20]), count=1))
    t0 = time.monotonic()
    lab.drv.detach_interface(None, inst, vif)
    TIMINGS['detach_interface'] = time.monotonic() - t0
    xml = sh('virsh', '-c', URI, 'dumpxml', 'altostack-' + inst['uuid']).stdout
    inactive = sh('virsh', '-c', URI, 'dumpxml', '--inactive',
                  'altostack-' + inst['uuid']).stdout
    assert extra['mac_address'] not in xml and extra['mac_address'] not in inactive
    assert not os.path.exists('/sys/class/net/%s' % extra['devname'])
    lab.drv.detach_interface(None, inst, vif)  # again: not an error
    assert eventually(lambda: 'eth1' not in serial_command(port, 'ls /sys/class/net'))
    lab.apply()


def test_dead_dnsmasq_and_lost_devices_come_back(lab):
    """apply() converges: a killed dnsmasq, a deleted router leg and a
    deleted DHCP leg are made again at the next apply, nothing else
    changes, and guests get their leases and floating IPs again."""
    wait_console(lab, 'a', 'ALTOSTACK-READY')
    n1 = lab.nets['n1']['id']
    n2 = lab.nets['n2']['id']
    sh('ip', 'link', 'del', names.dhcp_host_if(n2))
    summary = lab.apply()
    assert summary['updated'] == ['dhcp:' + n2], summary
    pc = console_port(lab, 'c')
    out = serial_command(pc, 'udhcpc -i eth0 -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1; '
                         'echo DHCP-RC=$?')
    assert 'DHCP-RC=0' in out, out
    sp = lab.hn.resources['dhcp:' + n1]
    with open(sp['files']['pid']) as f:
        pid = int(f.read())
    os.kill(pid, 9)
    assert eventually(lambda: not os.path.exists('/proc/%d/cmdline' % pid)
                      or not open('/proc/%d/cmdline' % pid).read(), 5, 0.1)
    sh('ip', 'link', 'del', names.router_host_if(lab.routers['r1']['interfaces'][0]['port_id']))
    summary = lab.apply()
    assert sorted(summary['updated']) == sorted(['dhcp:' + n1,
                                                 'router:' + lab.routers['r1']['id']]), summary
    with open(sp['files']['pid']) as f:
        assert int(f.read()) != pid
    assert lab.apply()['changed'] is False
    lab.ports['a']['extra_rules'] = [ICMP_IN]
    lab.apply()
    assert eventually(lambda: ns_ping(None, lab.ports['a']['fip'], count=1))
    pa = console_port(lab, 'a')
    out = serial_command(pa, 'udhcpc -i eth0 -n -q -t 5 -T 1 -s /bin/true >/dev/null 2>&1; '
                         'echo DHCP-RC=$?')
    assert 'DHCP-RC=0' in out, out
    lab.ports['a']['extra_rules'] = []
    lab.apply()


def test_teardown_leaves_nothing(lab):
    """7. teardown() removes every device, namespace, process, table and
    file; applying again rebuilds it; the cleanup command removes it too."""
    inventory = lab.hn.inventory()
    for inst in lab.guests.values():
        lab.drv.destroy(None, inst)
    lab.guests.clear()
    assert lab.apply()['changed'] is False   # the guests' taps are libvirt's
    t0 = time.monotonic()
    removed = lab.hn.teardown()
    TIMINGS['teardown'] = time.monotonic() - t0
    assert 'firewall' in removed
    assert leftovers(lab, inventory) == {}
    assert not os.path.exists(lab.hn.state_dir)
    # a restarted agent: everything again from nothing, then the command
    lab.hn = plane.HostNetwork(lab.hn.state_dir, lab.host)
    t0 = time.monotonic()
    assert lab.apply()['created']
    TIMINGS['first_apply_again'] = time.monotonic() - t0
    bin_dir = os.path.dirname(sys.executable)
    tool = os.path.join(bin_dir, 'altostack-network-cleanup')
    if os.path.exists(tool):
        r = sh(tool, '--state-dir', lab.hn.state_dir, timeout=120)
    else:
        r = sh(sys.executable, '-m', 'compute.network.cleanup', '--state-dir',
               lab.hn.state_dir, timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'removed' in r.stdout
    assert leftovers(lab, inventory) == {}
