"""JSON Schemas of identity request bodies (plain dicts)."""

_name = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_id = {'type': 'string', 'minLength': 1, 'maxLength': 64}
_opt_str = {'type': ['string', 'null']}
_bool = {'type': 'boolean'}
_tags = {'type': 'array', 'items': {'type': 'string'}, 'maxItems': 0}
_options = {'type': 'object', 'maxProperties': 0}


def wrap(key, props, required=()):
    return {
        'type': 'object',
        'properties': {key: {'type': 'object', 'properties': props,
                             'required': list(required), 'additionalProperties': False}},
        'required': [key], 'additionalProperties': False,
    }


domain = {'name': _name, 'description': _opt_str, 'enabled': _bool, 'id': _id,
          'tags': _tags, 'options': _options, 'explicit_domain_id': _id}
project = {'name': _name, 'description': _opt_str, 'enabled': _bool, 'domain_id': _id,
           'parent_id': {'type': ['string', 'null']}, 'is_domain': {'enum': [False]},
           'tags': _tags, 'options': _options}
# Keystone's user resource options: null unsets one.
_opt_bool = {'type': ['boolean', 'null']}
_mfa_rules = {'type': ['array', 'null'], 'items': {
    'type': 'array', 'minItems': 1, 'uniqueItems': True,
    'items': {'type': 'string', 'minLength': 1, 'maxLength': 255}}}
USER_OPTIONS = ('ignore_change_password_upon_first_use', 'ignore_password_expiry',
                'ignore_lockout_failure_attempts', 'lock_password', 'ignore_user_inactivity',
                'multi_factor_auth_enabled', 'multi_factor_auth_rules')
_user_options = {'type': 'object', 'additionalProperties': False, 'properties': dict(
    {name: _opt_bool for name in USER_OPTIONS}, multi_factor_auth_rules=_mfa_rules)}
user = {'name': _name, 'password': {'type': ['string', 'null'], 'maxLength': 4096},
        'enabled': _bool, 'domain_id': _id, 'default_project_id': {'type': ['string', 'null']},
        'email': _opt_str, 'description': _opt_str, 'options': _user_options,
        'federated': {'type': 'array', 'maxItems': 0}}
group = {'name': _name, 'description': _opt_str, 'domain_id': _id}
role = {'name': _name, 'description': _opt_str, 'domain_id': {'type': 'null'},
        'options': _options}
service = {'type': _name, 'name': _opt_str, 'description': _opt_str, 'enabled': _bool}
endpoint = {'service_id': _id, 'interface': {'enum': ['public', 'internal', 'admin']},
            'url': {'type': 'string', 'minLength': 1, 'maxLength': 1024},
            'region_id': {'type': ['string', 'null']}, 'region': {'type': ['string', 'null']},
            'enabled': _bool}
region = {'id': {'type': 'string', 'minLength': 1, 'maxLength': 255},
          'description': _opt_str, 'parent_region_id': {'type': ['string', 'null']}}

password_change = wrap('user', {'password': {'type': 'string'},
                                'original_password': {'type': 'string'}},
                       required=('password', 'original_password'))

_ident = {'type': 'object',
          'properties': {'id': _id, 'name': _name},
          'additionalProperties': False}
_scoped_ident = {'type': 'object',
                 'properties': {'id': _id, 'name': _name, 'domain': _ident},
                 'additionalProperties': False}

auth = {
    'type': 'object',
    'required': ['auth'],
    'additionalProperties': False,
    'properties': {'auth': {
        'type': 'object',
        'required': ['identity'],
        'additionalProperties': False,
        'properties': {
            'identity': {
                'type': 'object',
                'required': ['methods'],
                'properties': {
                    'methods': {'type': 'array', 'minItems': 1,
                                'items': {'type': 'string'}},
                    'password': {
                        'type': 'object', 'required': ['user'],
                        'properties': {'user': {
                            'type': 'object', 'required': ['password'],
                            'properties': {'id': _id, 'name': _name,
                                           'password': {'type': 'string'},
                                           'domain': _ident},
                            'additionalProperties': False}}},
                    'token': {'type': 'object', 'required': ['id'],
                              'properties': {'id': {'type': 'string'}}},
                },
            },
            'scope': {
                'oneOf': [
                    {'type': 'string', 'enum': ['unscoped']},
                    {'type': 'object',
                     'properties': {'project': _scoped_ident, 'domain': _ident,
                                    'system': {'type': 'object'}},
                     'additionalProperties': False}]},
        }}},
}
