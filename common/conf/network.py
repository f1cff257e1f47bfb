"""[network] options: the Neutron-compatible networks, their address ranges
and the data plane each compute host builds (bridges, DHCP, firewall, NAT)."""

from oslo_config import cfg

group = cfg.OptGroup('network', title='Networks, DHCP, security groups and floating IPs')

opts = [
    cfg.StrOpt('public_network_name', default='public',
               help='Name of the external network bootstrap makes for floating IPs.'),
    cfg.StrOpt('public_cidr', default='172.24.4.0/24',
               help='Range of the external network. Its gateway (the first address) '
                    'is put on a host bridge that this project creates, so the host '
                    'reaches floating IPs; the host\'s real uplink is never touched. '
                    'Use a private range no other interface of the host has.'),
    cfg.StrOpt('private_network_name', default='private',
               help='Name of the shared tenant network bootstrap makes; servers '
                    'created with networks "auto" land on it when their project has '
                    'no network of its own.'),
    cfg.StrOpt('private_cidr', default='10.0.0.0/24',
               help='Range of the shared private network bootstrap makes.'),
    cfg.StrOpt('private_router_name', default='router1',
               help='Name of the router bootstrap makes between the private network '
                    'and the public one (as devstack\'s router1), through which the '
                    'private network\'s servers take floating IPs.'),
    cfg.ListOpt('dns_nameservers', default=[],
                help='DNS servers handed to guests when a subnet names none.'),
    cfg.IntOpt('network_mtu', default=1450, min=576,
               help='MTU of tenant networks (1450 leaves room for VXLAN between hosts).'),
    cfg.IntOpt('dhcp_lease_time', default=86400, min=120,
               help='Seconds of a DHCP lease.'),
    cfg.StrOpt('base_mac', default='fa:16:3e:00:00:00',
               help='Port MAC addresses start with the first three octets of this.'),
    cfg.IntOpt('sync_interval', default=30, min=1,
               help='Seconds between two full syncs of a compute host\'s data plane '
                    '(bridges, DHCP, firewall, NAT) with the records.'),
    cfg.IntOpt('command_timeout', default=20, min=1,
               help='Seconds a data plane command (ip, nft, dnsmasq) may take.'),
    cfg.PortOpt('vxlan_port', default=4789, min=1,
                help='UDP port of the VXLAN segments that join the bridges of a tenant '
                     'network across hosts (every host must use the same; let it '
                     'through between the hosts\' [DEFAULT] my_ip addresses).'),
    cfg.StrOpt('external_interface',
               help='A device of this host to put on the external network\'s bridge: '
                    'the wire that joins it to the other hosts\' external bridges and '
                    'to the external network\'s gateway (Neutron\'s physical interface '
                    'of a flat provider network). Unset: the routers\' legs are the '
                    'bridge\'s only ports. A device that is missing is added when it '
                    'appears.'),
    cfg.BoolOpt('external_gateway', default=True,
                help='The external network\'s bridge holds the network\'s gateway '
                     'address, so this host routes for it and reaches floating IPs. '
                     'With several hosts on one external_interface wire, exactly one '
                     'should (devstack/lib/hosts.sh: host 1).'),
    cfg.StrOpt('state_dir', default='$state_path/network',
               help='Folder where a compute host\'s data plane keeps its registry of '
                    'what it made (bridges, namespaces, dnsmasq, nft tables) and the '
                    'DHCP files (hosts, options, leases, pid) of each network. '
                    'altostack-network-cleanup removes everything listed there.'),
    # Default per-project limits of the network API (-1: unlimited); an admin
    # changes one project's with PUT /network/v2.0/quotas/<project id>.
    cfg.IntOpt('quota_network', default=100, min=-1, help='Networks per project.'),
    cfg.IntOpt('quota_subnet', default=100, min=-1, help='Subnets per project.'),
    cfg.IntOpt('quota_port', default=500, min=-1, help='Ports per project.'),
    cfg.IntOpt('quota_security_group', default=10, min=-1,
               help='Security groups per project.'),
    cfg.IntOpt('quota_security_group_rule', default=100, min=-1,
               help='Security group rules per project.'),
    cfg.IntOpt('quota_floatingip', default=50, min=-1, help='Floating IPs per project.'),
    cfg.IntOpt('quota_router', default=10, min=-1,
               help='Routers per project.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
