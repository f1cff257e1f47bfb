"""Compute (Nova-compatible) policy defaults."""

from oslo_policy import policy

ADMIN = 'rule:admin_required'

RULES = [
    policy.RuleDefault('os_compute_api:os-services:list', ADMIN),
    policy.RuleDefault('os_compute_api:os-services:update', ADMIN),
    policy.RuleDefault('os_compute_api:os-services:delete', ADMIN),
]
