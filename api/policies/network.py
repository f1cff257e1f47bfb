"""Network (Neutron-compatible) policy defaults, named as Neutron names them."""

from oslo_policy import policy

ADMIN = 'rule:admin_required'
MEMBER = '(role:member and project_id:%(project_id)s) or rule:admin_required'
READER = '(role:reader and project_id:%(project_id)s) or rule:admin_required'

_MEMBER = (
    'create_network', 'update_network', 'delete_network',
    'create_subnet', 'update_subnet', 'delete_subnet',
    'create_port', 'update_port', 'delete_port',
    'create_security_group', 'update_security_group', 'delete_security_group',
    'create_security_group_rule', 'delete_security_group_rule',
    'create_floatingip', 'update_floatingip', 'delete_floatingip',
    'create_router', 'update_router', 'delete_router',
    'create_router:external_gateway_info', 'update_router:external_gateway_info',
    'add_router_interface', 'remove_router_interface', 'add_extraroutes', 'remove_extraroutes',
)
_ADMIN_ONLY = (
    # Attributes only an admin sets.
    'create_network:shared', 'update_network:shared',
    'create_network:router:external', 'update_network:router:external',
    'create_network:provider', 'create_network:is_default', 'update_network:is_default',
    'create_port:binding:host_id', 'update_port:binding:host_id',
    'create_port:binding:profile', 'update_port:binding:profile',
    'update_port:mac_address',
    'create_floatingip:floating_ip_address',
    'create_router:external_gateway_info:enable_snat',
    'update_router:external_gateway_info:enable_snat',
    'create_router:external_gateway_info:external_fixed_ips',
    'update_router:external_gateway_info:external_fixed_ips',
    # Attributes only an admin reads.
    'get_network:provider', 'get_port:binding',
    'update_quota', 'delete_quota', 'get_quota:other_project',
)

RULES = ([policy.RuleDefault(name, MEMBER) for name in _MEMBER] +
         [policy.RuleDefault(name, ADMIN) for name in _ADMIN_ONLY] +
         [policy.RuleDefault('get_quota', READER)])
