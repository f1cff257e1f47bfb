"""Names of the devices and tables the data plane makes besides the ones in
common.netnames (bridges, taps, namespaces). Linux interface names are at
most 15 characters; every name here is a 3-character prefix and the first
11 characters of an id (net: network id, port: a router interface port's
id or a centralized SNAT port's id, router: the router's id).

| what | root namespace side | namespace side |
|---|---|---|
| DHCP leg of a network | dh-<net> (on brq<net>) | ns-<net> in qdhcp-<net> |
| router interface leg | rt-<port> (on brq<net>) | qr-<port> in qrouter-<router> |
| router gateway leg | rg-<router> (on brq<ext>) | qg-<router> in qrouter-<router> |
| centralized SNAT leg (SNAT host) | rs-<port> (on brq<net>) | sg-<port> in qrouter-<router> |
| VXLAN device of a network (to the other hosts) | vx-<net> (on brq<net>) | |
"""

import hashlib
import re

from common import netnames

DHCP_HOST_PREFIX = 'dh-'
DHCP_NS_PREFIX = 'ns-'
ROUTER_HOST_PREFIX = 'rt-'
ROUTER_NS_PREFIX = 'qr-'
GATEWAY_HOST_PREFIX = 'rg-'
GATEWAY_NS_PREFIX = 'qg-'
SNAT_HOST_PREFIX = 'rs-'
SNAT_NS_PREFIX = 'sg-'
VXLAN_PREFIX = 'vx-'

# Every root-namespace device name this package may make.
OWN_PREFIXES = (netnames.BRIDGE_PREFIX, DHCP_HOST_PREFIX, ROUTER_HOST_PREFIX,
                GATEWAY_HOST_PREFIX, SNAT_HOST_PREFIX, VXLAN_PREFIX)

# nft table of each router namespace (namespaces are private: one name).
ROUTER_TABLE = 'altostack_router'


def _short(network_id):
    return network_id[:11]


def dhcp_host_if(network_id):
    return DHCP_HOST_PREFIX + _short(network_id)


def dhcp_ns_if(network_id):
    return DHCP_NS_PREFIX + _short(network_id)


def router_host_if(port_id):
    """Root side of a router interface leg (``port_id``: the interface port)."""
    return ROUTER_HOST_PREFIX + _short(port_id)


def router_ns_if(port_id):
    return ROUTER_NS_PREFIX + _short(port_id)


def gateway_host_if(router_id):
    """Root side of a router's leg into the external bridge."""
    return GATEWAY_HOST_PREFIX + _short(router_id)


def gateway_ns_if(router_id):
    return GATEWAY_NS_PREFIX + _short(router_id)


def snat_host_if(port_id):
    """Root side of a centralized SNAT port's leg (``port_id``: that port)."""
    return SNAT_HOST_PREFIX + _short(port_id)


def snat_ns_if(port_id):
    return SNAT_NS_PREFIX + _short(port_id)


def vxlan_if(network_id):
    return VXLAN_PREFIX + _short(network_id)


def table_name(host):
    """This agent's nft tables (bridge and inet family) in the root
    namespace: altostack_<host>_<hash>; several agents may share a kernel."""
    clean = re.sub(r'[^a-z0-9_]', '_', (host or 'host').lower())[:40]
    digest = hashlib.sha1((host or '').encode('utf-8')).hexdigest()[:6]
    return 'altostack_%s_%s' % (clean, digest)


def host_router_mac(host):
    """The source MAC this host's routers give frames they send through a
    VXLAN device (fa:16:3f:..): router legs have the same MAC on every host,
    so a routed frame must not carry it to another host's bridge."""
    d = hashlib.sha1(('dvr-' + (host or '')).encode('utf-8')).digest()
    return 'fa:16:3f:%02x:%02x:%02x' % (d[0], d[1], d[2])
