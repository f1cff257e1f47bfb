"""GET /servers/{id}/os-security-groups: the groups of a server's ports in
Nova's shape (Ansible's openstack.cloud.server asks for it on every run
that names security groups); ingress rules only, with Nova's port and
range conventions; another project's server is a 404."""

from api.network import bootstrap as net_bootstrap
from tests.fixtures.nova_api import IMAGE


def _token(nova):
    return nova('GET', '/servers').request.headers['X-Auth-Token']


def _net(nova, method, path, body=None):
    r = nova.client.open('/network/v2.0' + path, method=method, json=body,
                         headers={'X-Auth-Token': _token(nova)})
    assert r.status_code < 300, r.get_json()
    return r.get_json()


def test_a_server_without_ports_has_no_groups(nova, server):
    assert nova('GET', '/servers/%s/os-security-groups' % server, status=200).get_json() == \
        {'security_groups': []}


def test_groups_of_a_servers_ports_in_novas_shape(nova):
    net_bootstrap.bootstrap('admin-project')
    web = _net(nova, 'POST', '/security-groups',
               {'security_group': {'name': 'web', 'description': 'web in'}})['security_group']
    _net(nova, 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': web['id'], 'direction': 'ingress', 'protocol': 'tcp',
        'port_range_min': 80, 'port_range_max': 80, 'remote_ip_prefix': '10.0.0.0/8'}})
    _net(nova, 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': web['id'], 'direction': 'ingress', 'protocol': 'udp'}})
    _net(nova, 'POST', '/security-group-rules', {'security_group_rule': {
        'security_group_id': web['id'], 'direction': 'ingress', 'protocol': 'icmp',
        'remote_group_id': web['id']}})
    [private] = _net(nova, 'GET', '/networks?name=private')['networks']
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': [{'uuid': private['id']}],
                       'security_groups': [{'name': 'web'}]}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    [group] = nova('GET', '/servers/%s/os-security-groups' % sid,
                   status=200).get_json()['security_groups']
    assert set(group) == {'id', 'name', 'description', 'tenant_id', 'rules'}
    assert (group['id'], group['name'], group['description']) == (web['id'], 'web', 'web in')
    rules = {r['ip_protocol']: r for r in group['rules']}
    # the group's own egress rules are not shown: Nova's rules have no direction
    assert sorted(rules) == ['icmp', 'tcp', 'udp']
    assert {k: rules['tcp'][k] for k in ('from_port', 'to_port', 'ip_range', 'group')} == \
        {'from_port': 80, 'to_port': 80, 'ip_range': {'cidr': '10.0.0.0/8'}, 'group': {}}
    assert (rules['udp']['from_port'], rules['udp']['to_port']) == (1, 65535)
    assert rules['udp']['ip_range'] == {'cidr': '0.0.0.0/0'}
    assert (rules['icmp']['from_port'], rules['icmp']['to_port']) == (-1, -1)
    assert rules['icmp']['group'] == {'name': 'web', 'tenant_id': web['tenant_id']}
    assert all(r['parent_group_id'] == web['id'] for r in group['rules'])


def test_another_projects_server_is_not_found(nova):
    body = {'server': {'name': 'adm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202, who='admin').get_json()['server']['id']
    r = nova('GET', '/servers/%s/os-security-groups' % sid, status=404)
    assert 'itemNotFound' in r.get_json()
    nova('GET', '/servers/%s/os-security-groups' % sid, status=200, who='admin')
