"""Names of the host devices and namespaces a network or port gets.

Every compute host derives the same names from the same ids, so the records
(which hand them out in network_info) and the data plane agree. Linux
interface names are at most 15 characters.
"""

BRIDGE_PREFIX = 'brq'
TAP_PREFIX = 'tap'
DHCP_NS_PREFIX = 'qdhcp-'
ROUTER_NS_PREFIX = 'qrouter-'


def bridge(network_id):
    """The Linux bridge of a network on every host: brq + 11 characters."""
    return BRIDGE_PREFIX + network_id[:11]


def tap(port_id):
    """The guest NIC's host device (libvirt <target dev>): tap + 11 characters."""
    return TAP_PREFIX + port_id[:11]


def dhcp_namespace(network_id):
    """The namespace where a network's DHCP server runs (as Neutron names it)."""
    return DHCP_NS_PREFIX + network_id


def router_namespace(router_id):
    """The namespace of a Neutron router on a host (its interfaces, gateway,
    floating IPs and NAT), as Neutron names it."""
    return ROUTER_NS_PREFIX + router_id
