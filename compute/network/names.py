"""Names of the devices and tables the data plane makes besides the ones in
common.netnames (bridges, taps, namespaces). Linux interface names are at
most 15 characters; every name here is a 3-character prefix and the first
11 characters of the network id.

| what | root namespace side | namespace side |
|---|---|---|
| DHCP leg of a network | dh-<net> (on brq<net>) | ns-<net> in qdhcp-<net> |
| router leg into the tenant bridge | rt-<net> (on brq<net>) | qr-<net> in qrouter-<net> |
| router leg into the external bridge | rg-<net> (on brq<ext>) | qg-<net> in qrouter-<net> |
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
VXLAN_PREFIX = 'vx-'

# Every root-namespace device name this package may make.
OWN_PREFIXES = (netnames.BRIDGE_PREFIX, DHCP_HOST_PREFIX, ROUTER_HOST_PREFIX,
                GATEWAY_HOST_PREFIX, VXLAN_PREFIX)

# nft table of each router namespace (namespaces are private: one name).
ROUTER_TABLE = 'altostack_router'


def _short(network_id):
    return network_id[:11]


def dhcp_host_if(network_id):
    return DHCP_HOST_PREFIX + _short(network_id)


def dhcp_ns_if(network_id):
    return DHCP_NS_PREFIX + _short(network_id)


def router_host_if(network_id):
    return ROUTER_HOST_PREFIX + _short(network_id)


def router_ns_if(network_id):
    return ROUTER_NS_PREFIX + _short(network_id)


def gateway_host_if(network_id):
    return GATEWAY_HOST_PREFIX + _short(network_id)


def gateway_ns_if(network_id):
    return GATEWAY_NS_PREFIX + _short(network_id)


def vxlan_if(network_id):
    return VXLAN_PREFIX + _short(network_id)


def table_name(host):
    """This agent's nft tables (bridge and inet family) in the root
    namespace: altostack_<host>_<hash>; several agents may share a kernel."""
    clean = re.sub(r'[^a-z0-9_]', '_', (host or 'host').lower())[:40]
    digest = hashlib.sha1((host or '').encode('utf-8')).hexdigest()[:6]
    return 'altostack_%s_%s' % (clean, digest)


def gateway_mac(network_id):
    """The router leg's MAC, the same on every host for one network (fa:16:3f:..)."""
    d = hashlib.sha1(('gw-' + network_id).encode('utf-8')).digest()
    return 'fa:16:3f:%02x:%02x:%02x' % (d[0], d[1], d[2])
