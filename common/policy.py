"""Policy enforcement with oslo.policy; rules are defaults in code.

Defaults live in code; a policy.yaml in the config folder may override them
(read at start-up).
Base rules here; each API registers its own rule list (api/policies/...).
Roles come expanded in the context: admin implies member implies reader.
"""

import threading

from oslo_policy import policy

from common import exception
from common.conf import CONF

BASE_RULES = [
    policy.RuleDefault('admin_required', 'role:admin', 'Any admin.'),
    policy.RuleDefault('member_required', 'role:member', 'A member (or admin).'),
    policy.RuleDefault('reader_required', 'role:reader', 'A reader (or member or admin).'),
    policy.RuleDefault('owner', 'project_id:%(project_id)s', 'The owning project.'),
    policy.RuleDefault('admin_or_owner', 'rule:admin_required or rule:owner',
                       'An admin, or anyone in the owning project.'),
    policy.RuleDefault('admin_or_self', 'rule:admin_required or user_id:%(user_id)s',
                       'An admin, or the user itself.'),
]

_lock = threading.Lock()
_enforcer = None
_extra_rules = []


def register_rules(rules):
    """Add an API's rule defaults; call before the first enforce."""
    _extra_rules.extend(rules)
    if _enforcer is not None:
        _enforcer.register_defaults(rules)


def get_enforcer():
    global _enforcer
    with _lock:
        if _enforcer is None:
            enf = policy.Enforcer(CONF)
            enf.register_defaults(BASE_RULES)
            enf.register_defaults(_extra_rules)
            # Read policy.yaml once; oslo.policy would otherwise look for
            # changed policy files on every check (a restart applies edits).
            enf.load_rules()
            enf.use_conf = False
            _enforcer = enf
    return _enforcer


def reset():
    global _enforcer
    with _lock:
        _enforcer = None


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized unless the context may do ``action``."""
    if target is None:
        target = {'project_id': context.project_id, 'user_id': context.user_id}
    creds = {'roles': context.roles or [], 'project_id': context.project_id,
             'user_id': context.user_id, 'domain_id': getattr(context, 'domain_id', None)}
    enf = get_enforcer()
    if not enf.enforce(action, target, creds):
        raise exception.PolicyNotAuthorized(action=action)
    return True


def list_rules():
    return BASE_RULES
