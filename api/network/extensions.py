"""extensions: what this Neutron subset offers, by alias. No
'availability_zone' (there is no such API here)."""

from api import http
from network import exception as ne

# (alias, name, updated, what it brings)
EXTENSIONS = (
    ('security-group', 'security-group', '2012-10-05T10:00:00-00:00',
     'Security groups and their rules.'),
    ('external-net', 'Neutron external network', '2013-01-14T10:00:00-00:00',
     'router:external on networks.'),
    ('router', 'Neutron L3 Router', '2012-07-20T10:00:00-00:00',
     'Routers: external gateways, interfaces and floating IPs through them.'),
    ('ext-gw-mode', 'Neutron L3 Configurable external gateway mode',
     '2013-03-28T10:00:00-00:00', 'enable_snat in a router\'s external_gateway_info.'),
    ('extraroute', 'Neutron Extra Route', '2013-02-01T10:00:00-00:00',
     'Static routes (routes) on routers.'),
    ('extraroute-atomic', 'Atomically add/remove extra routes', '2019-07-10T00:00:00-00:00',
     'add_extraroutes and remove_extraroutes on routers.'),
    ('quotas', 'Quota management support', '2012-07-29T10:00:00-00:00',
     'Per-project limits.'),
    ('quota_details', 'Quota details management support', '2017-02-10T10:00:00-00:00',
     'Limits with their use.'),
    ('binding', 'Port Binding', '2014-02-03T10:00:00-00:00',
     'binding:host_id and friends on ports.'),
    ('port-security', 'Port Security', '2012-07-23T10:00:00-00:00',
     'port_security_enabled on networks and ports.'),
    ('standard-attr-description', 'standard-attr-description', '2016-02-10T10:00:00-00:00',
     'description on every resource.'),
    ('standard-attr-tag', 'Tag support for resources with standard attribute',
     '2017-01-01T00:00:00-00:00',
     'tags on networks, subnets, ports, groups, floating IPs, routers.'),
    ('tag-creation', 'Tag creation extension', '2024-07-23T10:00:00-00:00',
     'tags given when a resource is created.'),
    ('standard-attr-revisions', 'Resource revision numbers', '2016-04-11T10:00:00-00:00',
     'revision_number on every resource.'),
    ('standard-attr-timestamp', 'Resource timestamps', '2016-09-12T10:00:00-00:00',
     'created_at and updated_at on every resource.'),
    ('fip-port-details', 'Floating IP Port Details Extension', '2018-04-09T10:00:00-00:00',
     'port_details on floating IPs.'),
    ('net-mtu', 'Network MTU', '2015-03-25T10:00:00-00:00', 'mtu on networks.'),
    ('provider', 'Provider Network', '2012-09-07T10:00:00-00:00',
     'provider:network_type, physical_network and segmentation_id (admins).'),
    ('extra_dhcp_opt', 'Neutron Extra DHCP options', '2013-03-17T12:00:00-00:00',
     'extra_dhcp_opts on ports (kept, not served).'),
    ('allowed-address-pairs', 'Allowed Address Pairs', '2013-07-23T10:00:00-00:00',
     'allowed_address_pairs on ports.'),
    ('dns-integration', 'DNS Integration', '2015-08-15T18:00:00-00:00',
     'dns_name and dns_assignment on ports, dns_domain on networks, dns_name and '
     'dns_domain on floating IPs (kept; no external DNS service is driven).'),
    ('project-id', 'project_id field enabled', '2016-09-09T09:09:09-09:09',
     'project_id beside tenant_id.'),
    ('pagination', 'Pagination support', '2016-06-12T00:00:00-00:00', 'limit and marker.'),
    ('sorting', 'Sorting support', '2016-06-12T00:00:00-00:00', 'sort_key and sort_dir.'),
    ('ip-substring-filtering', 'IP address substring filtering',
     '2017-11-28T09:00:00-00:00', 'fixed_ips=ip_address_substr=...'),
    ('stateful-security-group', 'Stateful security group', '2019-11-26T09:00:00-00:00',
     'stateful on security groups.'),
    ('security-groups-normalized-cidr', 'Normalized CIDR field for security group rules',
     '2020-07-28T10:00:00-00:00', 'normalized_cidr on rules.'),
)


def _view(ext):
    alias, name, updated, description = ext
    return {'alias': alias, 'name': name, 'description': description, 'updated': updated,
            'links': []}


def list_extensions():
    return http.reply({'extensions': [_view(e) for e in EXTENSIONS]})


def show_extension(alias):
    for ext in EXTENSIONS:
        if ext[0] == alias:
            return http.reply({'extension': _view(ext)})
    raise ne.ExtensionNotFound(alias=alias)


ROUTES = [
    ('/v2.0/extensions', {'GET': list_extensions}),
    ('/v2.0/extensions/<path:alias>', {'GET': show_extension}),
]
