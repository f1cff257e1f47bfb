"""The external network across hosts: [network] external_interface puts a
wire on the external bridge (Neutron's physical interface of a flat
network), [network] external_gateway off leaves the gateway address to the
one host that routes for the wire (devstack/lib/hosts.sh: host 1)."""

import pytest

from common import netnames
from common.conf import CONF
from compute.network import names
from tests.fixtures.host_network import EXT
from tests.fixtures.host_network import RTR1
from tests.fixtures.host_network import make_state

WIRE = 'extwire0'


@pytest.fixture
def wired():
    CONF.set_override('external_interface', WIRE, 'network')
    CONF.set_override('external_gateway', False, 'network')
    yield
    CONF.clear_override('external_interface', 'network')
    CONF.clear_override('external_gateway', 'network')


def test_default_external_bridge_has_the_gateway_and_no_wire(hn, fake):
    hn.apply(make_state())
    assert fake.links[(None, netnames.bridge(EXT))]['addrs'] == ['172.24.9.1/24']
    assert WIRE not in fake.bridge_ports(netnames.bridge(EXT))
    assert names.gateway_host_if(RTR1) in fake.bridge_ports(netnames.bridge(EXT))


def test_a_host_on_the_wire_without_the_gateway(hn, fake, wired):
    fake.links[(None, WIRE)] = {'kind': 'veth', 'master': None, 'addrs': [],
                                'mac': '02:00:00:00:00:09', 'mtu': 1500}
    hn.apply(make_state())
    bridge = netnames.bridge(EXT)
    assert fake.links[(None, bridge)]['addrs'] == []
    assert fake.link_master(WIRE) == bridge
    # the routers still route via the gateway, now across the wire
    assert fake.ran('default via 172.24.9.1 dev %s onlink' % names.gateway_ns_if(RTR1))
    # the wire taken off the bridge is put back at the next apply
    fake.links[(None, WIRE)]['master'] = None
    summary = hn.apply(make_state())
    assert summary['updated'] == ['bridge:' + bridge]
    assert fake.link_master(WIRE) == bridge


def test_a_wire_that_appears_later_is_added(hn, fake, wired):
    bridge = netnames.bridge(EXT)
    assert 'bridge:' + bridge in hn.apply(make_state())['created']
    assert not fake.link_exists(WIRE)
    assert hn.apply(make_state())['changed'] is False
    fake.links[(None, WIRE)] = {'kind': 'veth', 'master': None, 'addrs': [],
                                'mac': '02:00:00:00:00:09', 'mtu': 1500}
    assert hn.apply(make_state())['updated'] == ['bridge:' + bridge]
    assert fake.link_master(WIRE) == bridge
