"""Volume (Cinder-compatible) policy defaults, named as Cinder names them."""

from oslo_policy import policy

ADMIN = 'rule:admin_required'
MEMBER = '(role:member and project_id:%(project_id)s) or rule:admin_required'
READER = '(role:reader and project_id:%(project_id)s) or rule:admin_required'

_READ = ('volume:get', 'volume:get_all', 'volume:get_snapshot', 'volume:get_all_snapshots',
         'volume_extension:quotas:show', 'limits_extension:used_limits',
         'volume_extension:type_get', 'volume_extension:type_get_all',
         'message:get', 'message:get_all')
_MEMBER = ('volume:create', 'volume:update', 'volume:delete', 'volume:extend',
           'volume:update_readonly_flag', 'volume_extension:volume_actions:set_bootable',
           'volume:create_snapshot', 'volume:update_snapshot', 'volume:delete_snapshot',
           'volume:update_volume_metadata', 'volume:delete_volume_metadata',
           'message:delete')
_ADMIN_ONLY = ('volume_extension:volume_admin_actions:reset_status',
               'volume_extension:snapshot_admin_actions:reset_status',
               'volume_extension:volume_admin_actions:force_delete',
               'volume_extension:quotas:update', 'volume_extension:quotas:delete',
               'volume_extension:types_manage', 'volume_extension:services:index',
               'volume_extension:volume_host_attribute',
               'volume:get_all_tenants', 'volume_extension:volume_type_encryption:get')

RULES = ([policy.RuleDefault(name, READER) for name in _READ] +
         [policy.RuleDefault(name, MEMBER) for name in _MEMBER] +
         [policy.RuleDefault(name, ADMIN) for name in _ADMIN_ONLY])
