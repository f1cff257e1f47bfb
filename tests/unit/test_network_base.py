"""The network tests' shared pieces (tests/fixtures/network_api.py: a small
client that speaks to /network/v2.0 with a token, a third project, and the
bootstrap networks) work."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


def test_helpers_work(demo):
    assert demo.get('/networks') == {'networks': []}
