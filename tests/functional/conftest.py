import pytest

from tests.functional import cloud as cloud_mod


@pytest.fixture(scope='session')
def cloud():
    with cloud_mod.LocalCloud() as c:
        yield c
