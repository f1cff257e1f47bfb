import pytest

from api import microversion
from common import exception

N = microversion.Negotiator('compute', '2.1', '2.53',
                            legacy_header='X-OpenStack-Nova-API-Version')


@pytest.mark.parametrize('headers,expected', [
    ({}, (2, 1)),
    ({'OpenStack-API-Version': 'compute 2.10'}, (2, 10)),
    ({'OpenStack-API-Version': 'volume 3.5, compute 2.53'}, (2, 53)),
    ({'X-OpenStack-Nova-API-Version': '2.11'}, (2, 11)),
    ({'OpenStack-API-Version': 'compute latest'}, (2, 53)),
])
def test_negotiate(headers, expected):
    assert N.negotiate(headers) == expected


def test_out_of_range_is_406():
    with pytest.raises(exception.NotAcceptable) as e:
        N.negotiate({'OpenStack-API-Version': 'compute 2.100'})
    assert e.value.code == 406 and 'maximum is 2.53' in e.value.message


def test_garbage_is_400():
    with pytest.raises(exception.BadRequest):
        N.negotiate({'OpenStack-API-Version': 'compute two'})


def test_ordering_is_numeric():
    assert microversion.Version.parse('2.10') > microversion.Version.parse('2.9')
