"""GET /servers/{id}/ips and /ips/{network}: a server's addresses by
network in Nova's plain form; a network the server is not on is a 404,
another project's server too."""

from api.network import bootstrap as net_bootstrap
from tests.fixtures.nova_api import IMAGE


def test_a_server_without_networks_has_no_addresses(nova, server):
    assert nova('GET', '/servers/%s/ips' % server, status=200).get_json() == {'addresses': {}}
    r = nova('GET', '/servers/%s/ips/private' % server, status=404)
    assert r.get_json()['itemNotFound']['message'] == \
        'Instance is not a member of specified network'


def test_addresses_by_network(nova):
    net_bootstrap.bootstrap('admin-project')
    token = nova('GET', '/servers').request.headers['X-Auth-Token']
    nets = nova.client.get('/network/v2.0/networks?name=private',
                           headers={'X-Auth-Token': token}).get_json()['networks']
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': [{'uuid': nets[0]['id']}]}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    got = nova('GET', '/servers/%s/ips' % sid, status=200).get_json()
    assert list(got['addresses']) == ['private']
    [entry] = got['addresses']['private']
    assert set(entry) == {'addr', 'version'} and entry['version'] == 4
    assert nova('GET', '/servers/%s/ips/private' % sid, status=200).get_json() == \
        {'private': [entry]}
