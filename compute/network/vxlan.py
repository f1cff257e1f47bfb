"""The VXLAN segment of a tenant network: what joins its bridges on the
hosts that have a port on it.

One device vx-<net> per network with at least one peer host: ``type vxlan
id <segmentation id> local <this host's my_ip> dstport <[network]
vxlan_port> nolearning``, the network's MTU, enslaved to the network's
bridge. The device learns no remote MAC itself (the bridge does, on its
port): broadcast, multicast and unknown unicast go to every peer through one
all-zero FDB entry per peer (head-end replication), kept equal to the peers
of the host state.

What must not cross (each host has its own router leg with the same
gateway address and MAC, and its own dnsmasq) is dropped by the firewall on
the device (compute/network/firewall.py), not here.
"""

import ipaddress
import json

from oslo_log import log as logging

from compute.network import bridge as br
from compute.network import names

LOG = logging.getLogger(__name__)

ZERO_MAC = '00:00:00:00:00:00'


def _ip_key(ip):
    addr = ipaddress.ip_address(ip)
    return (addr.version, addr)


def spec(network, port, default_mtu):
    """The segment of ``network`` (a host state network), or None: the
    external network, no ``vxlan`` entry, or no peer (a network on one host
    needs no tunnel). Peers of the other IP version than the local address,
    or equal to it, are left out."""
    vx = network.get('vxlan')
    if network.get('external') or not vx or vx.get('vni') is None or not vx.get('local_ip'):
        return None
    local = ipaddress.ip_address(vx['local_ip'])
    peers = set()
    for ip in vx.get('peers') or []:
        addr = ipaddress.ip_address(ip)
        if addr.version == local.version and addr != local:
            peers.add(str(addr))
    if not peers:
        return None
    nid = network['id']
    return {'network_id': nid, 'name': names.vxlan_if(nid), 'bridge': network['bridge'],
            'vni': int(vx['vni']), 'local': str(local), 'port': int(port),
            'mtu': network.get('mtu') or default_mtu,
            'peers': sorted(peers, key=_ip_key)}


def _link(run, name):
    links = run.ip_json('-d', 'link', 'show', 'dev', name)
    return links[0] if links else None


def _matches(link, sp):
    """The existing device is the VXLAN device the spec describes."""
    info = link.get('linkinfo') or {}
    data = info.get('info_data') or {}
    return (info.get('info_kind') == 'vxlan' and data.get('id') == sp['vni']
            and data.get('local') == sp['local'] and data.get('port') == sp['port']
            and not data.get('learning', False))


def fdb_peers(run, name):
    """The destinations of the all-zero FDB entries of device ``name``."""
    res = run.run(['bridge', '-j', 'fdb', 'show', 'dev', name], check=False)
    if not res.ok or not res.stdout.strip():
        return set()
    try:
        entries = json.loads(res.stdout)
    except ValueError:
        return set()
    return {e['dst'] for e in entries
            if e.get('mac') == ZERO_MAC and e.get('dst') and not e.get('master')}


def ensure_fdb(run, name, peers):
    """One all-zero FDB entry per peer, none for anyone else: the new ones
    are added before the gone ones are deleted. Returns (added, removed)."""
    have = fdb_peers(run, name)
    want = set(peers)
    added = sorted(want - have, key=_ip_key)
    removed = sorted(have - want, key=_ip_key)
    for ip in added:
        run.run(['bridge', 'fdb', 'append', ZERO_MAC, 'dev', name, 'dst', ip])
    for ip in removed:
        run.run(['bridge', 'fdb', 'del', ZERO_MAC, 'dev', name, 'dst', ip], check=False)
    return added, removed


def ensure(run, sp):
    """The device as the spec says (made again when its VNI, local address
    or port differ), on the bridge, up, with one FDB entry per peer."""
    name = sp['name']
    link = _link(run, name)
    if link is not None and not _matches(link, sp):
        LOG.info('VXLAN device %s differs from its spec; making it again', name)
        br.delete_link(run, name)
        link = None
    if link is None:
        run.ip('link', 'add', name, 'type', 'vxlan', 'id', str(sp['vni']), 'local',
               sp['local'], 'dstport', str(sp['port']), 'nolearning')
        run.ip('link', 'set', 'dev', name, 'addrgenmode', 'none', check=False)
    run.ip('link', 'set', 'dev', name, 'master', sp['bridge'], 'mtu', str(sp['mtu']), 'up')
    ensure_fdb(run, name, sp['peers'])


def remove(run, sp):
    """The device goes, and its FDB entries with it."""
    br.delete_link(run, sp['name'])
