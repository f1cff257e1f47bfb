"""Compute (Nova-compatible) policy defaults."""

from oslo_policy import policy

ADMIN = 'rule:admin_required'
OWNER = 'rule:admin_or_owner'
MEMBER = '(role:member and project_id:%(project_id)s) or rule:admin_required'
READER = '(role:reader and project_id:%(project_id)s) or rule:admin_required'

_ADMIN_ONLY = (
    'os-services:list', 'os-services:update', 'os-services:delete',
    'os-flavor-manage:create', 'os-flavor-manage:update', 'os-flavor-manage:delete',
    'os-flavor-extra-specs:create', 'os-flavor-extra-specs:update',
    'os-flavor-extra-specs:delete', 'os-flavor-access',
    'os-flavor-access:add_tenant_access', 'os-keypairs:index', 'os-keypairs:create',
    'os-hypervisors:list', 'os-hypervisors:list-detail', 'os-hypervisors:show',
    'os-aggregates:index', 'os-aggregates:create', 'os-aggregates:show',
    'os-aggregates:update', 'os-aggregates:delete', 'os-aggregates:add_host',
    'os-availability-zone:detail', 'os-quota-sets:show', 'os-quota-sets:update',
    'os-quota-sets:delete',
    'os-simple-tenant-usage:list', 'os-simple-tenant-usage:show', 'limits:other_project',
    'servers:index:get_all_tenants', 'servers:detail',
    'servers:action:unlock:unlock_override', 'servers:create:forced_host',
    'servers:action:os-resetState', 'servers:action:migrate',
    'os-migrations:index', 'servers:migrations:index', 'servers:action:evacuate',
    'servers:action:os-migrateLive', 'servers:show:host_status',
)
_MEMBER = (
    'servers:create', 'servers:update', 'servers:delete', 'servers:action:os-stop',
    'servers:action:os-start',
    'servers:action:reboot', 'servers:action:os-getConsoleOutput',
    'servers:action:addSecurityGroup', 'servers:action:removeSecurityGroup',
    'servers:action:lock', 'servers:action:unlock', 'servers:action:pause',
    'servers:action:unpause', 'servers:action:suspend', 'servers:action:resume',
    'servers:action:rebuild', 'servers:action:resize', 'servers:action:confirmResize',
    'servers:action:revertResize',
    'os-attach-interfaces:list', 'os-attach-interfaces:show',
    'os-attach-interfaces:create', 'os-attach-interfaces:delete',
    'os-volumes-attachments:index', 'os-volumes-attachments:show',
    'os-volumes-attachments:create', 'os-volumes-attachments:delete',
    'os-remote-consoles', 'servers:action:os-getSerialConsole',
    'servers:action:os-getVNCConsole', 'servers:action:os-getSPICEConsole',
    'servers:action:os-getRDPConsole', 'servers:action:createImage',
    'server-metadata:create', 'server-metadata:update', 'server-metadata:update_all',
    'server-metadata:delete', 'os-server-tags:update', 'os-server-tags:update_all',
    'os-server-tags:delete', 'os-server-tags:delete_all',
    'os-server-groups:create', 'os-server-groups:delete',
)
_READER = ('ips:index', 'ips:show', 'server-metadata:index', 'server-metadata:show',
           'os-server-tags:index', 'os-server-tags:show', 'os-security-groups:list')

RULES = ([policy.RuleDefault('os_compute_api:' + name, ADMIN) for name in _ADMIN_ONLY] +
         [policy.RuleDefault('os_compute_api:' + name, MEMBER) for name in _MEMBER] +
         [policy.RuleDefault('os_compute_api:' + name, READER) for name in _READER])
