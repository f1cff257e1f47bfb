"""Errors of the network service with Neutron's types and messages (its
core resources and the L3 and extraroute ones of neutron-lib), each defined
once.

Each class names its Neutron type (``neutron_type``), which api/errors.py
puts in {"NeutronError": {"type", "message", "detail"}}; the HTTP code
comes from the common base class.
"""

from common import exception


class BadRequest(exception.BadRequest):
    """Neutron's generic 'Bad <resource> request: <msg>.'"""
    neutron_type = 'BadRequest'
    msg_fmt = 'Bad %(resource)s request: %(msg)s.'


class HTTPBadRequest(exception.BadRequest):
    """A body that does not fit the resource's attributes."""
    neutron_type = 'HTTPBadRequest'
    msg_fmt = '%(msg)s'


class InvalidInput(exception.InvalidInput):
    neutron_type = 'InvalidInput'
    msg_fmt = 'Invalid input for operation: %(error_message)s.'


class InvalidCIDR(exception.BadRequest):
    neutron_type = 'InvalidCIDR'
    msg_fmt = 'Invalid CIDR %(input)s given as IP prefix.'


class InvalidIpForSubnet(exception.BadRequest):
    neutron_type = 'InvalidIpForSubnet'
    msg_fmt = 'IP address %(ip_address)s is not a valid IP for the specified subnet.'


class InvalidIpForNetwork(exception.BadRequest):
    neutron_type = 'InvalidIpForNetwork'
    msg_fmt = ('IP address %(ip_address)s is not a valid IP for any of the subnets on the '
               'specified network.')


class InvalidAllocationPool(exception.BadRequest):
    neutron_type = 'InvalidAllocationPool'
    msg_fmt = 'The allocation pool %(pool)s is not valid.'


class OutOfBoundsAllocationPool(exception.BadRequest):
    neutron_type = 'OutOfBoundsAllocationPool'
    msg_fmt = 'The allocation pool %(pool)s spans beyond the subnet cidr %(subnet_cidr)s.'


class NetworkNotFound(exception.NotFound):
    neutron_type = 'NetworkNotFound'
    msg_fmt = 'Network %(net_id)s could not be found.'


class SubnetNotFound(exception.NotFound):
    neutron_type = 'SubnetNotFound'
    msg_fmt = 'Subnet %(subnet_id)s could not be found.'


class PortNotFound(exception.NotFound):
    neutron_type = 'PortNotFound'
    msg_fmt = 'Port %(port_id)s could not be found.'


class SecurityGroupNotFound(exception.NotFound):
    neutron_type = 'SecurityGroupNotFound'
    msg_fmt = 'Security group %(id)s does not exist'


class SecurityGroupRuleNotFound(exception.NotFound):
    neutron_type = 'SecurityGroupRuleNotFound'
    msg_fmt = 'Security group rule %(id)s does not exist'


class FloatingIPNotFound(exception.NotFound):
    neutron_type = 'FloatingIPNotFound'
    msg_fmt = 'Floating IP %(floatingip_id)s could not be found'


class ExternalGatewayForFloatingIPNotFound(exception.NotFound):
    neutron_type = 'ExternalGatewayForFloatingIPNotFound'
    msg_fmt = ('External network %(external_network_id)s is not reachable from subnet '
               '%(subnet_id)s.  Therefore, cannot associate Port %(port_id)s with a '
               'Floating IP.')


class ExtensionNotFound(exception.NotFound):
    neutron_type = 'ExtensionNotFound'
    msg_fmt = 'Extension with alias %(alias)s does not exist'


class NetworkInUse(exception.Conflict):
    neutron_type = 'NetworkInUse'
    msg_fmt = ('Unable to complete operation on network %(net_id)s. There are one or more '
               'ports still in use on the network.')


class SubnetInUse(exception.Conflict):
    neutron_type = 'SubnetInUse'
    msg_fmt = ('Unable to complete operation on subnet %(subnet_id)s: One or more ports '
               'have an IP allocation from this subnet.')


class MacAddressInUse(exception.Conflict):
    neutron_type = 'MacAddressInUse'
    msg_fmt = ('Unable to complete operation for network %(net_id)s. The mac address '
               '%(mac)s is in use.')


class IpAddressAlreadyAllocated(exception.Conflict):
    neutron_type = 'IpAddressAlreadyAllocated'
    msg_fmt = 'IP address %(ip)s already allocated in subnet %(subnet_id)s'


class IpAddressGenerationFailure(exception.Conflict):
    neutron_type = 'IpAddressGenerationFailure'
    msg_fmt = 'No more IP addresses available on network %(net_id)s.'


class TunnelIdInUse(exception.Conflict):
    neutron_type = 'TunnelIdInUse'
    msg_fmt = 'Unable to create the network. The tunnel ID %(tunnel_id)s is in use.'


class OverQuota(exception.OverQuota, exception.Conflict):
    neutron_type = 'OverQuota'
    msg_fmt = 'Quota exceeded for resources: %(overs)s.'


class InvalidQuotaValue(exception.Conflict):
    neutron_type = 'InvalidQuotaValue'
    msg_fmt = ('Change would make usage less than 0 for the following resources: '
               '%(unders)s.')


class OverlappingAllocationPools(exception.Conflict):
    neutron_type = 'OverlappingAllocationPools'
    msg_fmt = ('Found overlapping allocation pools: %(pool_1)s %(pool_2)s for subnet '
               '%(subnet_cidr)s.')


class GatewayConflictWithAllocationPools(exception.Conflict):
    neutron_type = 'GatewayConflictWithAllocationPools'
    msg_fmt = 'Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s.'


class SecurityGroupInUse(exception.Conflict):
    neutron_type = 'SecurityGroupInUse'
    msg_fmt = 'Security Group %(id)s in use.'


class SecurityGroupCannotRemoveDefault(exception.Conflict):
    neutron_type = 'SecurityGroupCannotRemoveDefault'
    msg_fmt = 'Insufficient rights for removing default security group.'


class SecurityGroupCannotUpdateDefault(exception.Conflict):
    neutron_type = 'SecurityGroupCannotUpdateDefault'
    msg_fmt = 'Updating default security group not allowed.'


class SecurityGroupDefaultAlreadyExists(exception.Conflict):
    neutron_type = 'SecurityGroupDefaultAlreadyExists'
    msg_fmt = 'Default security group already exists.'


class SecurityGroupRuleExists(exception.Conflict):
    neutron_type = 'SecurityGroupRuleExists'
    msg_fmt = 'Security group rule already exists. Rule id is %(rule_id)s.'


class FloatingIPPortAlreadyAssociated(exception.Conflict):
    neutron_type = 'FloatingIPPortAlreadyAssociated'
    msg_fmt = ('Cannot associate floating IP %(floating_ip_address)s (%(fip_id)s) with port '
               '%(port_id)s using fixed IP %(fixed_ip)s, as that fixed IP already has a '
               'floating IP on external network %(net_id)s.')


class PortSecurityPortHasSecurityGroup(exception.Conflict):
    neutron_type = 'PortSecurityPortHasSecurityGroup'
    msg_fmt = ('Port has security group associated. Cannot disable port security or IP '
               'address until security group is removed.')


class AddressPairAndPortSecurityRequired(exception.Conflict):
    neutron_type = 'AddressPairAndPortSecurityRequired'
    msg_fmt = 'Port Security must be enabled in order to have allowed address pairs on a port.'


class NotAuthorized(exception.Forbidden):
    neutron_type = 'NotAuthorized'
    msg_fmt = 'Not authorized.'


# --- routers (L3, extraroute) ------------------------------------------------

def bad_router(msg):
    """Neutron's 'Bad router request: <msg>.'"""
    return BadRequest(resource='router', msg=msg)


class RouterNotFound(exception.NotFound):
    neutron_type = 'RouterNotFound'
    msg_fmt = 'Router %(router_id)s could not be found'


class RouterInUse(exception.Conflict):
    neutron_type = 'RouterInUse'
    msg_fmt = 'Router %(router_id)s %(reason)s'

    def __init__(self, **kwargs):
        kwargs.setdefault('reason', 'still has ports')
        super().__init__(**kwargs)


class RouterInterfaceNotFound(exception.NotFound):
    neutron_type = 'RouterInterfaceNotFound'
    msg_fmt = 'Router %(router_id)s does not have an interface with id %(port_id)s'


class RouterInterfaceNotFoundForSubnet(exception.NotFound):
    neutron_type = 'RouterInterfaceNotFoundForSubnet'
    msg_fmt = 'Router %(router_id)s has no interface on subnet %(subnet_id)s'


class RouterInterfaceInUseByFloatingIP(exception.Conflict):
    neutron_type = 'RouterInterfaceInUseByFloatingIP'
    msg_fmt = ('Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be '
               'deleted, as it is required by one or more floating IPs.')


class RouterInterfaceInUseByRoute(exception.Conflict):
    neutron_type = 'RouterInterfaceInUseByRoute'
    msg_fmt = ('Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be '
               'deleted, as it is required by one or more routes.')


class RouterExternalGatewayInUseByFloatingIp(exception.Conflict):
    neutron_type = 'RouterExternalGatewayInUseByFloatingIp'
    msg_fmt = ('Gateway cannot be updated for router %(router_id)s, since a gateway to '
               'external network %(net_id)s is required by one or more floating IPs.')


class InvalidRoutes(exception.BadRequest):
    neutron_type = 'InvalidRoutes'
    msg_fmt = 'Invalid format for routes: %(routes)s, %(reason)s'


class RoutesExhausted(exception.BadRequest):
    neutron_type = 'RoutesExhausted'
    msg_fmt = ('Unable to complete operation for %(router_id)s. The number of routes exceeds '
               'the maximum %(quota)s.')


class PortInUse(exception.Conflict):
    neutron_type = 'PortInUse'
    msg_fmt = ('Unable to complete operation on port %(port_id)s for network %(net_id)s. '
               'Port already has an attached device %(device_id)s.')


class ServicePortInUse(exception.Conflict):
    neutron_type = 'ServicePortInUse'
    msg_fmt = ('Port %(port_id)s cannot be deleted directly via the port API: %(reason)s.')


def policy_error(action):
    """Neutron's wording for a refused policy rule."""
    err = exception.PolicyNotAuthorized(action=action)
    err.message = '(rule:%s) is disallowed by policy' % action
    err.args = (err.message,)
    err.neutron_type = 'PolicyNotAuthorized'
    return err
