"""network/exception.py: each Neutron error defined once, on the common
bases where one exists, with Neutron's code."""

import inspect

from common import exception
from common import quota
from network import exception as ne


def test_quota_and_input_errors_share_the_common_bases():
    over = ne.OverQuota(overs="['port']")
    assert isinstance(over, exception.OverQuota) and isinstance(over, exception.Conflict)
    assert over.code == 409 and over.message == "Quota exceeded for resources: ['port']."
    nova = quota.OverQuota(resource='ram', requested=1, used=2, limit=2)
    assert isinstance(nova, exception.OverQuota) and nova.code == 403
    bad = ne.InvalidInput(error_message='no')
    assert isinstance(bad, exception.InvalidInput) and bad.code == 400
    assert bad.message == 'Invalid input for operation: no.'


def test_every_error_names_its_neutron_type():
    errors = [c for _n, c in inspect.getmembers(ne, inspect.isclass)
              if c.__module__ == ne.__name__]
    assert len(errors) > 40
    for cls in errors:
        assert cls.neutron_type == cls.__name__, cls
