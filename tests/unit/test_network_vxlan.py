"""The VXLAN entry of each tenant network in the host state (docs/network.md
"Host state"): which hosts a network spans, by the addresses their agents
report (compute_nodes.host_ip), and which hosts hear when that changes."""

import uuid

import pytest
import sqlalchemy as sa

from common.db import api as db_api
from common.db import network_models as nm
from network import portcore
from network import ports
from network import state as netstate
from scheduler import claims
from tests.fixtures.network_api import ctx_of

pytestmark = pytest.mark.usefixtures('casts')


def add_node(host, host_ip):
    """A compute node record as the agent's report makes it (scheduler side)."""
    claims.update_node(host, {'hypervisor_hostname': host, 'hypervisor_type': 'QEMU',
                              'hypervisor_version': 7002000, 'vcpus': 2, 'memory_mb': 4096,
                              'local_gb': 100, 'host_ip': host_ip})


def server_on(demo, host, *nets):
    vm = str(uuid.uuid4())
    got = ports.allocate_for_instance(ctx_of(demo), vm, demo.project_id,
                                      [{'uuid': n['id']} for n in nets])
    ports.bind_instance_ports(vm, host)
    return vm, got


def vx(host, net_id):
    (net,) = [n for n in netstate.host_state(host)['networks'] if n['id'] == net_id]
    return net['vxlan']


def test_two_hosts_see_each_other(demo, public):
    pub, _priv = public
    net = demo.network('mine')
    demo.subnet(net['id'])
    add_node('h1', '192.0.2.1')
    add_node('h2', '192.0.2.2')
    server_on(demo, 'h1', net)
    with db_api.reader() as s:
        vni = s.get(nm.Network, net['id']).segmentation_id
    assert vx('h1', net['id']) == {'vni': vni, 'local_ip': '192.0.2.1', 'peers': []}
    server_on(demo, 'h2', net)
    state = netstate.host_state('h1')
    ext, mine = state['networks']
    assert ext['id'] == pub['id'] and ext['vxlan'] is None    # the external network: none
    assert mine['segmentation_id'] == vni
    assert mine['vxlan'] == {'vni': vni, 'local_ip': '192.0.2.1', 'peers': ['192.0.2.2']}
    assert vx('h2', net['id']) == {'vni': vni, 'local_ip': '192.0.2.2', 'peers': ['192.0.2.1']}


def test_three_hosts_sorted_deduplicated_and_only_known_ones(demo, admin, public):
    net = demo.network('mine')
    demo.subnet(net['id'])
    other = demo.network('other')
    demo.subnet(other['id'], cidr='10.2.0.0/24')
    add_node('h1', '192.0.2.1')
    add_node('h2', '192.0.2.10')
    add_node('h3', '192.0.2.9')
    add_node('h4', '192.0.2.9')        # two agents behind one address: one peer
    add_node('h5', '192.0.2.1')        # an agent sharing h1's address: no tunnel to it
    add_node('h6', '')                 # an agent that reported no address
    for host in ('h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'):   # h7: no node record
        server_on(demo, host, net)
    server_on(demo, 'h1', other)
    assert vx('h1', net['id'])['peers'] == ['192.0.2.9', '192.0.2.10']   # by address
    assert vx('h3', net['id'])['peers'] == ['192.0.2.1', '192.0.2.10']
    assert vx('h1', other['id'])['peers'] == []                 # on h1 only
    assert vx('h6', net['id']) is None and vx('h7', net['id']) is None   # own address unknown
    # a DHCP port puts its host on the segment; a user port bound somewhere does not
    add_node('h8', '192.0.2.8')
    add_node('h9', '192.0.2.7')
    with db_api.session() as s:
        portcore.ensure_dhcp(s, 'h8', s.get(nm.Network, net['id']))
    admin.port(net['id'], **{'binding:host_id': 'h9'})
    assert vx('h1', net['id'])['peers'] == ['192.0.2.8', '192.0.2.9', '192.0.2.10']
    # a host whose last server on the network goes leaves its peers' lists
    vm2 = [p for p in admin.get('/ports?network_id=%s' % net['id'])['ports']
           if p['binding:host_id'] == 'h2' and p['device_owner'].startswith('compute:')]
    ports.deallocate_for_instance(vm2[0]['device_id'])
    assert vx('h1', net['id'])['peers'] == ['192.0.2.8', '192.0.2.9']
    # a network without a segment has no VXLAN
    with db_api.session() as s:
        s.execute(sa.update(nm.Network).where(nm.Network.id == net['id']).values(
            segmentation_id=None))
    assert vx('h1', net['id']) is None


def test_who_hears_when_a_network_gains_or_loses_a_host(demo, admin, public):
    pub, priv = public
    net = demo.network('mine')
    demo.subnet(net['id'])
    vm1, (p1, _p) = server_on(demo, 'h1', net, priv)
    vm2, (p2,) = server_on(demo, 'h2', net)
    vm3, (p3,) = server_on(demo, 'h3', priv)
    # h2's server came or goes: h1 and h2 (on its network) must hear
    assert netstate.hosts_for_instance(vm2) >= {'h1', 'h2'}
    assert netstate.hosts_for_port_networks([p2['id']]) == {'h1', 'h2'}
    # vm1 is on both networks
    assert netstate.hosts_for_instance(vm1) == {'h1', 'h2', 'h3'}
    assert netstate.hosts_for_port_networks([p3['id'], None]) == {'h1', 'h3'}
    assert netstate.hosts_for_port_networks([]) == set()
    assert netstate.hosts_for_instance('nothing') == set()
    # the external network has no segment: nobody to tell
    on_pub = admin.port(pub['id'], **{'binding:host_id': 'h1', 'device_owner': 'compute:nova'})
    assert netstate.hosts_for_port_networks([on_pub['id']]) == set()
    # h1's address changed: everyone it shares a network with
    assert netstate.hosts_for_host_networks('h1') == {'h1', 'h2', 'h3'}
    assert netstate.hosts_for_host_networks('h3') == {'h1', 'h3'}
    assert netstate.hosts_for_host_networks('nowhere') == set()
    # after the last port of h2 went, h2 is no longer named
    ports.deallocate_for_instance(vm2)
    assert netstate.hosts_for_port_networks([p1['id']]) == {'h1'}
    assert netstate.hosts_for_host_networks('h2') == set()
