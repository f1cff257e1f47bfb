"""Compute API pieces that need no bus: flavors, keypairs, quotas, limits,
aggregates, version negotiation, and the instance state table."""

import pytest

from common import instance_states as st
from common import quota
from common.db import api as db_api

V = {'OpenStack-API-Version': 'compute 2.61'}


def H(token):
    return dict(V, **{'X-Auth-Token': token})


@pytest.fixture
def flavors(client):
    from api.compute import bootstrap
    bootstrap.bootstrap()


def test_version_document(client):
    r = client.get('/compute/v2.1')
    v = r.get_json()['version']
    assert (v['min_version'], v['version']) == ('2.1', '2.61')


def test_flavor_list_and_show(client, flavors, demo_token):
    r = client.get('/compute/v2.1/flavors/detail?is_public=None', headers=H(demo_token))
    names = [f['name'] for f in r.get_json()['flavors']]
    assert {'m1.nano', 'm1.tiny', 'm1.small', 'm1.medium'} <= set(names)
    r = client.get('/compute/v2.1/flavors/1', headers=H(demo_token))
    f = r.get_json()['flavor']
    assert (f['name'], f['ram'], f['vcpus'], f['disk'], f['extra_specs']) == \
        ('m1.tiny', 512, 1, 1, {})
    assert client.get('/compute/v2.1/flavors/m1.tiny', headers=H(demo_token)).status_code == 404


def test_flavor_create_errors(client, flavors, admin_token, demo_token):
    body = {'flavor': {'name': 'f1', 'ram': 64, 'vcpus': 1, 'disk': 0, 'id': None}}
    assert client.post('/compute/v2.1/flavors', json=body,
                       headers=H(demo_token)).status_code == 403
    r = client.post('/compute/v2.1/flavors', json=body, headers=H(admin_token))
    assert r.status_code == 200 and r.get_json()['flavor']['id']
    r = client.post('/compute/v2.1/flavors', json=body, headers=H(admin_token))
    assert r.status_code == 409 and 'already exists' in r.get_json()['conflictingRequest'][
        'message']
    bad = {'flavor': {'name': 'f2', 'ram': 'lots', 'vcpus': 1, 'disk': 0}}
    r = client.post('/compute/v2.1/flavors', json=bad, headers=H(admin_token))
    assert r.status_code == 400 and 'badRequest' in r.get_json()
    fid = client.get('/compute/v2.1/flavors/detail', headers=H(admin_token)).get_json()
    fid = next(f['id'] for f in fid['flavors'] if f['name'] == 'f1')
    r = client.post('/compute/v2.1/flavors/%s/os-extra_specs' % fid,
                    json={'extra_specs': {'hw:cpu_policy': 'shared'}}, headers=H(admin_token))
    assert r.status_code == 200
    r = client.get('/compute/v2.1/flavors/%s' % fid, headers=H(admin_token))
    assert r.get_json()['flavor']['extra_specs'] == {'hw:cpu_policy': 'shared'}
    assert client.delete('/compute/v2.1/flavors/%s' % fid,
                         headers=H(admin_token)).status_code == 202


def test_keypairs(client, demo_token):
    r = client.post('/compute/v2.1/os-keypairs', json={'keypair': {'name': 'k1'}},
                    headers=H(demo_token))
    assert r.status_code == 201
    kp = r.get_json()['keypair']
    assert kp['private_key'].startswith('-----BEGIN RSA PRIVATE KEY-----')
    assert len(kp['fingerprint'].split(':')) == 16
    r = client.post('/compute/v2.1/os-keypairs', json={'keypair': {
        'name': 'k2', 'public_key': kp['public_key']}}, headers=H(demo_token))
    assert r.status_code == 201 and 'private_key' not in r.get_json()['keypair']
    r = client.post('/compute/v2.1/os-keypairs', json={'keypair': {'name': 'k1'}},
                    headers=H(demo_token))
    assert r.status_code == 409
    r = client.post('/compute/v2.1/os-keypairs', json={'keypair': {
        'name': 'k3', 'public_key': 'ssh-rsa not-base64'}}, headers=H(demo_token))
    assert r.status_code == 400 and 'public key' in r.get_json()['badRequest']['message']
    r = client.get('/compute/v2.1/os-keypairs', headers=H(demo_token))
    assert sorted(k['keypair']['name'] for k in r.get_json()['keypairs']) == ['k1', 'k2']
    assert client.delete('/compute/v2.1/os-keypairs/k1', headers=H(demo_token)
                         ).status_code == 204
    assert client.get('/compute/v2.1/os-keypairs/k1', headers=H(demo_token)
                      ).status_code == 404


def test_quota_consume_is_atomic_and_bounded(cloud_db, conf):
    conf.set_override('instances', 2, 'quota')
    try:
        limits = quota.prepare('p1')
        with db_api.session() as s:
            quota.consume(s, 'p1', {'instances': 2, 'cores': 2, 'ram': 1024}, limits)
        with pytest.raises(quota.OverQuota, match='Quota exceeded for instances: Requested 1,'
                           ' but already used 2 of 2 instances'):
            with db_api.session() as s:
                quota.consume(s, 'p1', {'cores': 1, 'instances': 1, 'ram': 1}, limits)
        # The failed transaction consumed nothing, not even the cores.
        assert quota.usage('p1') == {'instances': 2, 'cores': 2, 'ram': 1024}
        with db_api.session() as s:
            quota.release(s, 'p1', {'instances': 2, 'cores': 2, 'ram': 1024})
        assert quota.usage('p1') == {'instances': 0, 'cores': 0, 'ram': 0}
    finally:
        conf.clear_override('instances', 'quota')


def test_limits_and_quota_sets(client, admin_token, demo_token):
    r = client.get('/compute/v2.1/limits', headers={'X-Auth-Token': demo_token})
    absolute = r.get_json()['limits']['absolute']
    assert absolute['maxTotalInstances'] == 10 and absolute['totalInstancesUsed'] == 0
    pid = client.get('/identity/v3/projects?name=demo', headers={'X-Auth-Token': admin_token}
                     ).get_json()['projects'][0]['id']
    r = client.put('/compute/v2.1/os-quota-sets/%s' % pid,
                   json={'quota_set': {'instances': 3}}, headers=H(admin_token))
    assert r.status_code == 200 and r.get_json()['quota_set']['instances'] == 3
    assert client.put('/compute/v2.1/os-quota-sets/%s' % pid,
                      json={'quota_set': {'instances': 3}}, headers=H(demo_token)
                      ).status_code == 403
    r = client.get('/compute/v2.1/os-quota-sets/%s' % pid, headers=H(demo_token))
    assert r.get_json()['quota_set']['instances'] == 3


def test_aggregates_and_zones(client, admin_token):
    r = client.post('/compute/v2.1/os-aggregates', json={'aggregate': {
        'name': 'agg1', 'availability_zone': 'az1'}}, headers=H(admin_token))
    assert r.status_code == 200 and r.get_json()['aggregate']['availability_zone'] == 'az1'
    # Nova's create response has neither hosts nor metadata (show has both).
    assert not {'hosts', 'metadata'} & set(r.get_json()['aggregate'])
    agg_id = r.get_json()['aggregate']['id']
    shown = client.get('/compute/v2.1/os-aggregates/%s' % agg_id, headers=H(admin_token))
    assert {'hosts', 'metadata'} <= set(shown.get_json()['aggregate'])
    r = client.post('/compute/v2.1/os-aggregates', json={'aggregate': {'name': 'agg1'}},
                    headers=H(admin_token))
    assert r.status_code == 409
    r = client.get('/compute/v2.1/os-availability-zone', headers=H(admin_token))
    assert r.status_code == 200 and 'availabilityZoneInfo' in r.get_json()


@pytest.mark.parametrize('action,vm,task,ok', [
    ('stop', st.ACTIVE, None, True), ('stop', st.STOPPED, None, False),
    ('start', st.STOPPED, None, True), ('start', st.ACTIVE, None, False),
    ('reboot', st.ACTIVE, st.POWERING_OFF, False), ('reboot_hard', st.ACTIVE, st.REBOOTING, True),
    ('delete', st.BUILDING, st.SCHEDULING, True), ('delete', st.DELETED, None, False),
])
def test_state_table(action, vm, task, ok):
    assert st.allowed(action, vm, task) is ok


def test_status_mapping():
    assert st.status(st.ACTIVE, None) == 'ACTIVE'
    assert st.status(st.ACTIVE, st.REBOOTING_HARD) == 'HARD_REBOOT'
    assert st.status(st.STOPPED, None) == 'SHUTOFF'
    assert st.status(st.BUILDING, st.SCHEDULING) == 'BUILD'
