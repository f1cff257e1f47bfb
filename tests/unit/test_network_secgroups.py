"""Security groups and rules through the API."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


def _rule(api, group_id, status=201, **kw):
    body = dict(security_group_id=group_id, direction='ingress', **kw)
    r = api.post('/security-group-rules', {'security_group_rule': body}, status=status)
    return r['security_group_rule'] if status == 201 else r['NeutronError']


def _shape(rules):
    return sorted((r['direction'], r['ethertype'], r['remote_group_id'] is not None)
                  for r in rules)


def test_default_group_made_on_list(demo, other):
    groups = demo.get('/security-groups')['security_groups']
    assert [g['name'] for g in groups] == ['default']
    g = groups[0]
    for key, value in {'description': 'Default security group', 'stateful': True,
                       'shared': False, 'tags': [], 'project_id': demo.project_id,
                       'tenant_id': demo.project_id}.items():
        assert g[key] == value, key
    assert _shape(g['security_group_rules']) == [('egress', 'IPv4', False),
                                                 ('egress', 'IPv6', False),
                                                 ('ingress', 'IPv4', True),
                                                 ('ingress', 'IPv6', True)]
    assert all(r['remote_group_id'] in (None, g['id']) for r in g['security_group_rules'])
    assert len(demo.get('/security-groups')['security_groups']) == 1  # made once
    # isolation
    assert demo.get('/security-groups?fields=id&fields=name&fields=description'
                    '&fields=project_id&fields=tags&fields=shared')['security_groups'][0][
        'id'] == g['id']
    other.get('/security-groups/%s' % g['id'], status=404)
    assert other.get('/security-groups')['security_groups'][0]['id'] != g['id']


def test_group_crud(demo, admin):
    g = demo.post('/security-groups', {'security_group': {
        'name': 'web', 'description': 'web'}})['security_group']
    assert _shape(g['security_group_rules']) == [('egress', 'IPv4', False),
                                                 ('egress', 'IPv6', False)]
    g = demo.put('/security-groups/%s' % g['id'], {'security_group': {
        'description': 'the web'}})['security_group']
    assert g['description'] == 'the web' and g['revision_number'] == 2
    err = demo.error('POST', '/security-groups', {'security_group': {'name': 'default'}},
                     status=409)
    assert err['type'] == 'SecurityGroupDefaultAlreadyExists'
    assert [x['name'] for x in demo.get('/security-groups?name=web')['security_groups']] == \
        ['web']
    default = demo.get('/security-groups?name=default')['security_groups'][0]
    err = demo.error('DELETE', '/security-groups/%s' % default['id'], status=409)
    assert err == {'type': 'SecurityGroupCannotRemoveDefault', 'detail': '',
                   'message': 'Insufficient rights for removing default security group.'}
    assert demo.error('PUT', '/security-groups/%s' % default['id'], {'security_group': {
        'name': 'x'}}, status=409)['type'] == 'SecurityGroupCannotUpdateDefault'
    net = demo.network()
    demo.subnet(net['id'])
    port = demo.port(net['id'], security_groups=[g['id']])
    err = demo.error('DELETE', '/security-groups/%s' % g['id'], status=409)
    assert err['type'] == 'SecurityGroupInUse' and g['id'] in err['message']
    demo.delete('/ports/%s' % port['id'])
    demo.delete('/security-groups/%s' % g['id'])
    demo.get('/security-groups/%s' % g['id'], status=404)


def test_rule_create_and_validation(demo):
    g = demo.post('/security-groups', {'security_group': {'name': 'g'}})['security_group']
    r = _rule(demo, g['id'], ethertype='IPv4', protocol='tcp', port_range_min=22,
              port_range_max=22, remote_ip_prefix='0.0.0.0/0')
    for key, value in {'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp',
                       'port_range_min': 22, 'port_range_max': 22,
                       'remote_ip_prefix': '0.0.0.0/0', 'normalized_cidr': '0.0.0.0/0',
                       'remote_group_id': None, 'security_group_id': g['id'],
                       'project_id': demo.project_id}.items():
        assert r[key] == value, key
    # address groups are not offered: no remote_address_group_id, shown or taken
    assert 'remote_address_group_id' not in r
    assert 'remote_address_group_id' in _rule(demo, g['id'], status=400,
                                              remote_address_group_id=None)['message']
    err = _rule(demo, g['id'], status=409, ethertype='IPv4', protocol='6', port_range_min=22,
                port_range_max=22, remote_ip_prefix='0.0.0.0/0')
    assert err == {'type': 'SecurityGroupRuleExists', 'detail': '', 'message':
                   'Security group rule already exists. Rule id is %s.' % r['id']}
    shown = demo.get('/security-groups/%s' % g['id'])['security_group']
    assert r['id'] in [x['id'] for x in shown['security_group_rules']]
    single = _rule(demo, g['id'], protocol='icmp', port_range_min=8, port_range_max=0,
                   remote_ip_prefix='10.0.0.5', ethertype='ipv4')
    assert single['remote_ip_prefix'] == '10.0.0.5/32' and single['ethertype'] == 'IPv4'
    full = _rule(demo, g['id'], protocol='udp', port_range_min=1, port_range_max=65535)
    assert (full['port_range_min'], full['port_range_max']) == (None, None)
    bad = [
        dict(direction='sideways'),
        dict(ethertype='IPv5'),
        dict(protocol='carrier-pigeon'),
        dict(protocol='tcp', port_range_min=30, port_range_max=20),
        dict(protocol='tcp', port_range_min=0, port_range_max=20),
        dict(protocol='tcp', port_range_min=20, port_range_max=70000),
        dict(port_range_min=20, port_range_max=20),
        dict(protocol='icmp', port_range_min=300),
        dict(protocol='icmp', port_range_max=3),
        dict(protocol='gre', port_range_min=1, port_range_max=2),
        dict(remote_ip_prefix='banana'),
        dict(remote_ip_prefix='fd00::/64'),
        dict(remote_ip_prefix='10.0.0.0/8', remote_group_id=g['id']),
    ]
    for extra in bad:
        body = dict(security_group_id=g['id'], direction='ingress')
        body.update(extra)
        r = demo.post('/security-group-rules', {'security_group_rule': body}, status=400)
        assert 'NeutronError' in r, extra
    err = _rule(demo, g['id'], status=400, remote_ip_prefix='10.0.0.0/8',
                remote_group_id=g['id'])
    assert 'remote_ip_prefix or remote_group_id' in err['message']
    assert 'Conflicting value ethertype IPv4' in _rule(
        demo, g['id'], status=400, remote_ip_prefix='fd00::/64')['message']
    _rule(demo, '00000000-0000-0000-0000-000000000000', status=404)


def test_rule_list_delete_and_isolation(demo, other):
    g = demo.post('/security-groups', {'security_group': {'name': 'g'}})['security_group']
    r = _rule(demo, g['id'], protocol='tcp', port_range_min=80, port_range_max=80)
    listed = demo.get('/security-group-rules?security_group_id=%s' % g['id'])[
        'security_group_rules']
    assert len(listed) == 3 and r['id'] in [x['id'] for x in listed]
    assert [x['id'] for x in demo.get('/security-group-rules?protocol=tcp')[
        'security_group_rules']] == [r['id']]
    other.get('/security-group-rules/%s' % r['id'], status=404)
    _rule(other, g['id'], status=404)
    demo.delete('/security-group-rules/%s' % r['id'])
    demo.get('/security-group-rules/%s' % r['id'], status=404)


@pytest.fixture
def small_quota(admin, demo):
    admin.put('/quotas/%s' % demo.project_id, {'quota': {'security_group': 2,
                                                         'security_group_rule': 7}})


def test_group_quotas(demo, small_quota):
    g = demo.post('/security-groups', {'security_group': {'name': 'a'}})['security_group']
    err = demo.error('POST', '/security-groups', {'security_group': {'name': 'b'}},
                     status=409)  # default + a
    assert err['message'] == "Quota exceeded for resources: ['security_group']."
    _rule(demo, g['id'], protocol='tcp')  # 4 default + 2 egress + 1
    assert _rule(demo, g['id'], protocol='udp', status=409)['type'] == 'OverQuota'
