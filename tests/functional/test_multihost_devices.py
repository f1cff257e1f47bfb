"""Guests on host 2 (devstack/lib/hosts.sh) through the real openstack CLI:
a volume hot-plugged over NBD from the volume service on host 1 (the
export listens on the hosts bridge), the serial console and the VNC
display through their proxies on host 1 (the guest's socket and display
listen on host 2's address), and a
floating IP of a guest on host 2 answering pings from the machine (host
2's external bridge is on the hosts' external wire, host 1's holds the
gateway), the same guest without a floating IP reaching the external
network through its router's centralized SNAT port on host 1 (also after
either agent restarts), and two subnets of one router reaching each other
across hosts."""

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
from websockets.sync import client as ws_client

from tests.fixtures.console import connect
from tests.fixtures.console import novnc_websocket
from tests.fixtures.console import read_until
from tests.fixtures.console import rfb_handshake
from tests.fixtures.hosts import domains
from tests.fixtures.netcheck import PINGS
from tests.fixtures.netcheck import addresses
from tests.fixtures.netcheck import ping
from tests.fixtures.netcheck import until
from tests.fixtures.netcheck import user_data
from tests.fixtures.servers import wait_console
from tests.fixtures.volumes import VOL
from tests.fixtures.volumes import wait_status
from tests.functional import cloud as cloud_mod

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which('nsenter') or not shutil.which('libvirtd'),
    reason='needs root, nsenter and libvirtd')


@pytest.fixture(scope='module')
def hcloud():
    with cloud_mod.LocalCloud(extra_hosts=1) as c:
        c.upload_tiny_image()
        c.openstack('aggregate', 'create', '--zone', 'zone-h2', 'agg-h2')
        c.openstack('aggregate', 'add', 'host', 'agg-h2', c.host_name(2))
        yield c


@pytest.fixture(scope='module')
def vm(hcloud):
    """A guest on host 2, its shell ready on the serial console."""
    srv = hcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--nic', 'none', '--availability-zone', 'zone-h2',
                           '--wait', 'h2-vm', cloud='demo', json_out=True)
    shown = hcloud.openstack('server', 'show', srv['id'], json_out=True)
    assert shown['OS-EXT-SRV-ATTR:host'] == hcloud.host_name(2)
    assert 'altostack-%s' % srv['id'] in domains(hcloud.host_uri(2))
    wait_console(hcloud, 'h2-vm', 'ALTOSTACK-READY', timeout=240)
    yield srv
    hcloud.openstack('server', 'delete', '--wait', srv['id'], cloud='demo', check=False)


def dumpxml(hcloud, n, server_id):
    return subprocess.run(['virsh', '-c', hcloud.host_uri(n), 'dumpxml',
                           'altostack-%s' % server_id], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_volume_attach_to_a_guest_on_host_2(hcloud, vm):
    vid = hcloud.openstack('volume', 'create', '--size', '1', 'h2-vol', cloud='demo',
                           json_out=True)['id']
    wait_status(hcloud, VOL, vid, 'available')
    hcloud.openstack('server', 'add', 'volume', 'h2-vm', vid, cloud='demo')
    wait_status(hcloud, VOL, vid, 'in-use')
    # The guest sees the disk, its serial the volume id ...
    out = wait_console(hcloud, 'h2-vm', 'serial=%s' % vid[:20], timeout=120)
    assert 'vdb size=' in out
    # ... served over NBD by the volume service on host 1, at its address on
    # the hosts bridge (loopback would be host 2's own).
    xml = dumpxml(hcloud, 2, vm['id'])
    assert "protocol='nbd' name='%s'" % vid in xml
    assert "<host name='%s.1'" % hcloud.hosts_subnet in xml, xml
    hcloud.openstack('server', 'remove', 'volume', 'h2-vm', vid, cloud='demo')
    wait_status(hcloud, VOL, vid, 'available')
    assert "name='%s'" % vid not in dumpxml(hcloud, 2, vm['id'])
    hcloud.openstack('volume', 'delete', vid, cloud='demo')


def test_serial_console_of_a_guest_on_host_2(hcloud, vm):
    # The guest's socket listens on host 2's address, which the proxy on
    # host 1 reaches over the hosts bridge.
    assert "host='%s.2'" % hcloud.hosts_subnet in dumpxml(hcloud, 2, vm['id'])
    url = hcloud.openstack('console', 'url', 'show', '--serial', 'h2-vm', cloud='demo',
                           json_out=True)['url']
    with connect(url) as ws:
        ws.send(b'\n')
        ws.send(b'echo HOST-$(hostname)-$((6*7))\n')
        read_until(ws, b'HOST-h2-vm-42')


def test_vnc_console_of_a_guest_on_host_2(hcloud, vm):
    # The display listens on host 2's address too, for the noVNC proxy on host 1.
    xml = dumpxml(hcloud, 2, vm['id'])
    assert "<graphics type='vnc' port='59" in xml, xml
    assert "<listen type='address' address='%s.2'/>" % hcloud.hosts_subnet in xml, xml
    url = hcloud.openstack('console', 'url', 'show', '--novnc', 'h2-vm', cloud='demo',
                           json_out=True)['url']
    with ws_client.connect(novnc_websocket(url), open_timeout=10) as ws:
        assert rfb_handshake(ws)['name'] == 'QEMU (altostack-%s)' % vm['id']


@pytest.fixture(scope='module')
def h2_routed(hcloud):
    """h2-net behind h2-router (gateway on public, SNAT on; host 1 holds the
    external gateway) and a guest on host 2 there without a floating IP,
    its shell ready on the serial console."""
    hcloud.openstack('network', 'create', 'h2-net', cloud='demo')
    hcloud.openstack('subnet', 'create', '--network', 'h2-net', '--subnet-range',
                     '10.62.0.0/24', 'h2-sub', cloud='demo')
    router = hcloud.openstack('router', 'create', '--external-gateway', 'public',
                              'h2-router', cloud='demo', json_out=True)
    hcloud.openstack('router', 'add', 'subnet', 'h2-router', 'h2-sub', cloud='demo')
    hcloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default',
                     cloud='demo')
    srv = hcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                           'm1.tiny', '--network', 'h2-net', '--availability-zone',
                           'zone-h2', '--wait', 'h2-fip-vm', cloud='demo', json_out=True)
    try:
        shown = hcloud.openstack('server', 'show', srv['id'], json_out=True)
        assert shown['OS-EXT-SRV-ATTR:host'] == hcloud.host_name(2)
        wait_console(hcloud, 'h2-fip-vm', 'ALTOSTACK-READY', timeout=240)
        yield {'server': srv, 'router': router}
    finally:
        hcloud.openstack('server', 'delete', '--wait', 'h2-fip-vm', cloud='demo',
                         check=False)
        hcloud.openstack('router', 'remove', 'subnet', 'h2-router', 'h2-sub', cloud='demo',
                         check=False)
        hcloud.openstack('router', 'delete', 'h2-router', cloud='demo', check=False)
        hcloud.openstack('network', 'delete', 'h2-net', cloud='demo', check=False)


def test_floating_ip_of_a_guest_on_host_2(hcloud, h2_routed):
    fip = hcloud.openstack('floating', 'ip', 'create', 'public', cloud='demo',
                           json_out=True)['floating_ip_address']
    assert not ping(None, fip)
    hcloud.openstack('server', 'add', 'floating', 'ip', 'h2-fip-vm', fip, cloud='demo')
    # From the machine (host 1's namespaces): over host 1's external bridge
    # and the wire to host 2's, whose router holds the floating IP.
    until(lambda: ping(None, fip), 30, 'ping of the floating IP %s on host 2' % fip)
    assert fip in addresses(hcloud, 'h2-fip-vm', 'demo')['h2-net']
    hcloud.openstack('server', 'remove', 'floating', 'ip', 'h2-fip-vm', fip, cloud='demo')
    until(lambda: not ping(None, fip), 30, 'the floating IP gone')
    hcloud.openstack('floating', 'ip', 'delete', fip, cloud='demo')


class Listener:
    """A TCP listener on host 1's end of the external network (the public
    gateway, on host 1's external bridge) that records who connects."""

    def __init__(self, address):
        self.sock = socket.socket()
        self.sock.bind((address, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.peers = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.peers.append(peer[0])
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(5)
        self.sock.close()


def guest_run(hcloud, name, command, timeout=60):
    """Run a shell command on the guest's serial console (through the
    proxy); its output up to the RC line the command ends with."""
    url = hcloud.openstack('console', 'url', 'show', '--serial', name, cloud='demo',
                           json_out=True)['url']
    with connect(url) as ws:
        ws.send(b'\n')
        ws.send(('%s; echo CMD-RC=$((0+$?))\n' % command).encode())
        out = b''
        deadline = time.monotonic() + timeout
        while b'CMD-RC=' not in out.replace(b'CMD-RC=$', b'') and \
                time.monotonic() < deadline:
            try:
                out += ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                pass
    return out.decode('utf-8', 'replace').replace('CMD-RC=$', '')


def reaches_out(hcloud, gateway, listener):
    """The guest pings the public gateway and connects to the listener."""
    before = len(listener.peers)
    out = guest_run(hcloud, 'h2-fip-vm', 'ping -c 2 -W 2 %s >/dev/null && echo x | nc -w 5 '
                    '%s %d' % (gateway, gateway, listener.port))
    return 'CMD-RC=0' in out and len(listener.peers) > before


def snat_rules(hcloud, router_id):
    """Host 2's rules sending the subnet to the SNAT port, as ip prints them."""
    r = hcloud.host_exec(2, 'ip', '-n', 'qrouter-%s' % router_id, 'rule', 'show',
                         check=False)
    return [line for line in r.stdout.splitlines() if line.startswith('22000:')]


def test_snat_of_a_guest_on_host_2_without_a_floating_ip(hcloud, h2_routed):
    """Host 2 does not hold the external gateway: its router sends the
    guest's traffic to the router's centralized SNAT port, which host 1
    holds and SNATs to the router's gateway address. It still works after
    each agent restarts with its part of the data plane gone, and the port
    and rules go with the gateway."""
    rid = h2_routed['router']['id']
    router = hcloud.openstack('router', 'show', rid, cloud='admin', json_out=True)
    gw_ip = router['external_gateway_info']['external_fixed_ips'][0]['ip_address']
    public = hcloud.openstack('network', 'show', 'public', cloud='admin', json_out=True)
    gateway = hcloud.openstack('subnet', 'show', public['subnets'][0], cloud='admin',
                               json_out=True)['gateway_ip']
    csnat = hcloud.openstack('port', 'list', '--device-owner',
                             'network:router_centralized_snat', '--router', rid,
                             cloud='admin', json_out=True)
    assert len(csnat) == 1, csnat
    port = hcloud.openstack('port', 'show', csnat[0]['ID'], cloud='admin', json_out=True)
    assert port['binding_host_id'] == hcloud.host_name(1)
    assert port['project_id'] == '' and port['device_id'] == rid
    assert not hcloud.openstack('port', 'list', '--device-owner',
                                'network:router_centralized_snat', cloud='demo',
                                json_out=True)
    listener = Listener(gateway)
    try:
        until(lambda: reaches_out(hcloud, gateway, listener), 90,
              'the guest on host 2 reaching %s' % gateway)
        # SNATed on host 1 to the router's gateway address
        assert set(listener.peers) == {gw_ip}, (listener.peers, _diagnose(hcloud))
        assert snat_rules(hcloud, rid)

        # Host 2's agent restarts with its router namespace gone.
        hcloud.stop_host_agent(2)
        hcloud.host_exec(2, 'ip', 'netns', 'del', 'qrouter-%s' % rid)
        hcloud.start_host_agent(2)
        until(lambda: reaches_out(hcloud, gateway, listener), 120,
              'the guest reaching out after host 2\'s agent restarted')
        # Host 1's agent restarts with the SNAT leg gone.
        leg = 'rs-' + port['id'][:11]
        hcloud.kill_service('compute')
        subprocess.run(['ip', 'link', 'del', 'dev', leg], check=True)
        hcloud.start_service('compute')
        until(lambda: os.path.exists('/sys/class/net/%s' % leg), 120,
              'host 1\'s SNAT leg made again')
        until(lambda: reaches_out(hcloud, gateway, listener), 120,
              'the guest reaching out after host 1\'s agent restarted')
        assert set(listener.peers) == {gw_ip}, listener.peers
    finally:
        listener.close()
    # The gateway goes: so do the SNAT port, host 1's leg and host 2's rules.
    hcloud.openstack('router', 'unset', '--external-gateway', 'h2-router', cloud='demo')
    assert not hcloud.openstack('port', 'list', '--device-owner',
                                'network:router_centralized_snat', '--router', rid,
                                cloud='admin', json_out=True)
    until(lambda: not snat_rules(hcloud, rid), 30, 'host 2\'s SNAT rules gone')
    until(lambda: not os.path.exists('/sys/class/net/%s' % leg), 30,
          'host 1\'s SNAT leg gone')


DIAG = ('ip netns list; for ns in $(ip netns list | grep -o "qrouter-[^ ]*"); do '
        'echo "== $ns"; ip -n $ns -br addr; ip -n $ns neigh; ip -n $ns route; done; '
        'ip -br link | grep -E "^(vx|brq|rt)-?"; '
        'for d in $(ip -br link | grep -o "^vx-[^@ ]*"); do bridge fdb show dev $d; done')


def _diagnose(hcloud):
    """Both hosts' routers, VXLAN devices and FDB, for a failure message."""
    one = subprocess.run(['sh', '-c', DIAG], capture_output=True, text=True).stdout
    two = hcloud.host_exec(2, 'sh', '-c', DIAG, check=False).stdout
    return 'host 1:\n%s\nhost 2:\n%s\nagent 2:\n%s' % (
        one, two, hcloud.log_tail('compute-h2', 30) or hcloud.log_tail('compute', 30))


def test_east_west_across_hosts(hcloud, tmp_path):
    """Two subnets on one router, a guest on each, on two hosts: each
    host's router routes for its own guests (the leg on the other network
    knows the remote guest from the records) and the frame crosses VXLAN on
    the destination network."""
    nets = (('ew1', '10.63.0.0/24'), ('ew2', '10.64.0.0/24'))
    hcloud.openstack('router', 'create', 'ew-router', cloud='admin')
    servers = []
    try:
        for name, cidr in nets:
            hcloud.openstack('network', 'create', name, cloud='admin')
            hcloud.openstack('subnet', 'create', '--network', name, '--subnet-range', cidr,
                             name + '-sub', cloud='admin')
            hcloud.openstack('router', 'add', 'subnet', 'ew-router', name + '-sub',
                             cloud='admin')
        groups = hcloud.openstack('security', 'group', 'list', '--project', 'admin',
                                  cloud='admin', json_out=True)
        default = [g['ID'] for g in groups if g['Name'] == 'default'][0]
        hcloud.openstack('security', 'group', 'rule', 'create', '--protocol', 'icmp',
                         default, cloud='admin', check=False)
        hcloud.openstack('port', 'create', '--network', 'ew2', '--fixed-ip',
                         'ip-address=10.64.0.50', 'ew2-port', cloud='admin')
        hcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                         'm1.tiny', '--port', 'ew2-port', '--availability-zone',
                         'nova:' + hcloud.host_name(2), '--wait', 'ew2-vm', cloud='admin')
        servers.append('ew2-vm')
        wait_console(hcloud, 'ew2-vm', 'ALTOSTACK-READY', timeout=240, cloud_name='admin')
        hcloud.openstack('server', 'create', '--image', 'altostack-tiny', '--flavor',
                         'm1.tiny', '--network', 'ew1', '--availability-zone',
                         'nova:' + hcloud.host_name(1), '--user-data',
                         user_data(tmp_path, 'ew.sh', PINGS.format(targets='10.64.0.50:60')),
                         '--wait', 'ew1-vm', cloud='admin')
        servers.append('ew1-vm')
        for name, n in (('ew1-vm', 1), ('ew2-vm', 2)):
            shown = hcloud.openstack('server', 'show', name, cloud='admin', json_out=True)
            assert shown['OS-EXT-SRV-ATTR:host'] == hcloud.host_name(n)
        out = wait_console(hcloud, 'ew1-vm', 'PINGS-DONE', timeout=300, cloud_name='admin')
        assert 'PING-RESULT 10.64.0.50 reached' in out, '%s\n%s' % (out[-800:],
                                                                  _diagnose(hcloud))
    finally:
        if servers:
            hcloud.openstack('server', 'delete', '--wait', *servers, cloud='admin',
                             check=False)
        hcloud.openstack('port', 'delete', 'ew2-port', cloud='admin', check=False)
        for name, _cidr in nets:
            hcloud.openstack('router', 'remove', 'subnet', 'ew-router', name + '-sub',
                             cloud='admin', check=False)
            hcloud.openstack('network', 'delete', name, cloud='admin', check=False)
        hcloud.openstack('router', 'delete', 'ew-router', cloud='admin', check=False)
