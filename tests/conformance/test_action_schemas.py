"""Every server action body form Nova's request schemas accept, at the
lowest and highest microversion of each form we claim, smallest and
largest (bodies.py), is accepted: not refused as invalid input.

The bodies go to a server of their own, set to ERROR before each call, so
most actions are refused for its state (409) or for what they ask (a 400
or 404 that is not about the body, such as evacuating from a host that is
up, or removing a security group the server does not have): these mean the
body passed validation. A 400 that says "Invalid input" (our
and Nova's wording for a body the schema refuses), an unknown or
unsupported action, or a 5xx fails the case.
"""

import jsonschema
import pytest

from tests.conformance import bodies
from tests.conformance import nova_schemas
from tests.conformance import runner

REFUSED = runner.REFUSED


@pytest.fixture(scope='module')
def target(client, res):
    sid = client.ok('compute', 'POST', '/servers', {'server': {
        'name': 'conf-schemas', 'imageRef': res['image_id'], 'flavorRef': res['flavor_id'],
        'networks': 'none'}}, version='2.37')['server']['id']
    client.wait_server(sid, 'ACTIVE')
    yield sid
    client.call('compute', 'DELETE', '/servers/%s' % sid)


def test_action_body(client, res, target, schema_case):
    c = schema_case
    schema = nova_schemas.schema(c.module, c.attr)
    values = {'host': res['host'], 'flavorRef': res['resize_flavor_id'],
              'imageRef': res['image_id'], 'name': 'default', 'key_name': res['keypair_name'],
              'user_data': 'dGVzdA==', 'state': 'error'}
    make = bodies.maximal if c.size == 'maximal' else bodies.minimal
    body = make(schema, values)
    jsonschema.Draft4Validator(schema).validate(body)  # the generator's own check
    client.ok('compute', 'POST', '/servers/%s/action' % target,
              {'os-resetState': {'state': 'error'}})
    r = client.call('compute', 'POST', '/servers/%s%s' % (target, c.path), body,
                    version=c.version)
    text = r.text[:600]
    assert r.status_code < 500, 'server error %d for %s: %s' % (r.status_code, body, text)
    # A 404 about what the body names (a security group not on the server)
    # is an answer to a valid body; one about the path or server is not.
    assert not (r.status_code == 404 and ('The resource could not be found' in text or
                                          'Instance %s could not be found' % target in text)), (
        'unknown path or server for %s: %s' % (body, text))
    assert not (r.status_code == 400 and any(m in text for m in REFUSED)), (
        'refused %s at %s: %s' % (body, c.version, text))
