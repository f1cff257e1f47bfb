"""Errors of routers, with Neutron's types and messages (the L3 and
extraroute exceptions of neutron-lib). api/errors.py renders them as
{"NeutronError": {"type", "message", "detail"}}."""

from common import exception
from common.db import neterrors


def bad_router(msg):
    """Neutron's 'Bad router request: <msg>.'"""
    return neterrors.BadRequest(resource='router', msg=msg)


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
