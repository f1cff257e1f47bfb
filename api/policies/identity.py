"""Identity policy defaults. Admins manage; users may see themselves."""

from oslo_policy import policy

ADMIN = 'rule:admin_required'
ANY = ''  # any valid token


def _crud(member, collection, get=ADMIN, list_=ADMIN):
    return [
        policy.RuleDefault('identity:get_%s' % member, get),
        policy.RuleDefault('identity:list_%s' % collection, list_),
        policy.RuleDefault('identity:create_%s' % member, ADMIN),
        policy.RuleDefault('identity:update_%s' % member, ADMIN),
        policy.RuleDefault('identity:delete_%s' % member, ADMIN),
    ]


RULES = (
    _crud('domain', 'domains', get='rule:admin_required or domain_id:%(domain_id)s '
                                  'or project_domain_id:%(domain_id)s')
    + _crud('project', 'projects', get='rule:admin_required or project_id:%(project_id)s')
    + _crud('user', 'users', get='rule:admin_or_self')
    + _crud('group', 'groups')
    + _crud('role', 'roles')
    + _crud('service', 'services')
    + _crud('endpoint', 'endpoints')
    + _crud('region', 'regions', get=ANY, list_=ANY)
    + [
        policy.RuleDefault('identity:list_user_projects', 'rule:admin_or_self'),
        policy.RuleDefault('identity:change_password', 'rule:admin_or_self'),
        policy.RuleDefault('identity:list_groups_for_user', 'rule:admin_or_self'),
        policy.RuleDefault('identity:list_users_in_group', ADMIN),
        policy.RuleDefault('identity:check_user_in_group', ADMIN),
        policy.RuleDefault('identity:add_user_to_group', ADMIN),
        policy.RuleDefault('identity:remove_user_from_group', ADMIN),
        policy.RuleDefault('identity:list_role_assignments', ADMIN),
        policy.RuleDefault('identity:check_grant', ADMIN),
        policy.RuleDefault('identity:list_grants', ADMIN),
        policy.RuleDefault('identity:create_grant', ADMIN),
        policy.RuleDefault('identity:revoke_grant', ADMIN),
        policy.RuleDefault('identity:validate_token',
                           'rule:admin_required or user_id:%(target.token.user_id)s'),
        policy.RuleDefault('identity:revoke_token',
                           'rule:admin_required or user_id:%(target.token.user_id)s'),
    ]
)
