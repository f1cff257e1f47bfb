"""The Nova side of networking without a bus: server create with networks,
addresses in server views, os-interface, add/remove security group. The
image service, scheduler and compute agent are replaced by recorders."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


V = {'OpenStack-API-Version': 'compute 2.61'}
IMAGE = {'id': '11111111-2222-4333-8444-555555555555', 'status': 'active', 'size': 1024,
         'virtual_size': 1024, 'min_disk': 0, 'min_ram': 0, 'disk_format': 'qcow2',
         'properties': {}}


@pytest.fixture
def nova(client, demo, casts, monkeypatch):
    from api.compute import bootstrap
    from api.compute import images
    from api.compute import interfaces
    from api.compute import servers
    bootstrap.bootstrap()
    built, plugged = [], []

    class Scheduler:
        def build_instances(self, ctx, uuids):
            built.extend(uuids)

    class Compute:
        def attach_interface(self, ctx, host, instance, vif, timeout=None):
            plugged.append(('attach', host, vif['id'], vif['devname']))

        def detach_interface(self, ctx, host, instance, vif, timeout=None):
            plugged.append(('detach', host, vif['id']))

        def refresh_network(self, ctx, host):  # the same module as notify's
            casts.append(host)

    monkeypatch.setattr(images, 'get', lambda ctx, ref: dict(IMAGE))
    monkeypatch.setattr(servers.scheduler_rpcapi, 'SchedulerAPI', Scheduler)
    monkeypatch.setattr(interfaces.compute_rpcapi, 'ComputeAPI', Compute)

    def call(method, path, body=None, status=None):
        r = client.open('/compute/v2.1' + path, method=method, json=body,
                        headers=dict(V, **{'X-Auth-Token': demo.token}))
        if status is not None:
            assert r.status_code == status, r.get_data(as_text=True)
        return r
    call.built, call.plugged = built, plugged
    return call


def _create(nova, networks, name='vm', status=202, **extra):
    body = {'server': dict(name=name, imageRef=IMAGE['id'], flavorRef='1',
                           networks=networks, **extra)}
    return nova('POST', '/servers', body, status)


def _place(uuid, host='h1'):
    from common.db import instances
    from network import ports
    instances.update(uuid, {'host': host})
    return ports.bind_instance_ports(uuid, host)


def test_auto_lands_on_private_then_on_own_network(nova, demo, public):
    sid = _create(nova, 'auto').get_json()['server']['id']
    addrs = nova('GET', '/servers/' + sid, status=200).get_json()['server']['addresses']
    assert list(addrs) == ['private']
    assert addrs['private'][0]['OS-EXT-IPS:type'] == 'fixed'
    net = demo.network('mine')
    demo.subnet(net['id'], '10.5.0.0/24')
    sid2 = _create(nova, 'auto', name='vm2').get_json()['server']['id']
    srv = nova('GET', '/servers/' + sid2, status=200).get_json()['server']
    assert list(srv['addresses']) == ['mine']
    assert srv['addresses']['mine'][0]['addr'].startswith('10.5.0.')
    assert srv['security_groups'] == [{'name': 'default'}]


def test_none_and_explicit_networks(nova, demo, public):
    sid = _create(nova, 'none').get_json()['server']['id']
    srv = nova('GET', '/servers/' + sid, status=200).get_json()['server']
    assert srv['addresses'] == {}
    net = demo.network('n1')
    sub = demo.subnet(net['id'], '10.6.0.0/24')
    sid = _create(nova, [{'uuid': net['id'], 'fixed_ip': '10.6.0.9'}],
                  name='fixed').get_json()['server']['id']
    listed = nova('GET', '/servers/detail', status=200).get_json()['servers']
    mine = [s for s in listed if s['id'] == sid][0]
    assert mine['addresses']['n1'][0]['addr'] == '10.6.0.9'
    # The address is taken now; the port of a user is used as given.
    r = _create(nova, [{'uuid': net['id'], 'fixed_ip': '10.6.0.9'}], name='dup', status=409)
    assert 'already in use' in r.get_json()['conflictingRequest']['message']
    port = demo.port(net['id'], fixed_ips=[{'subnet_id': sub['id'], 'ip_address': '10.6.0.20'}])
    sid = _create(nova, [{'port': port['id']}], name='byport').get_json()['server']['id']
    assert demo.get('/ports/' + port['id'])['port']['device_id'] == sid
    r = _create(nova, [{'port': port['id']}], name='again', status=409)
    assert 'in use' in r.get_json()['conflictingRequest']['message']


def test_bad_network_creates_nothing(nova, demo, admin, public):
    before = demo.get('/ports')['ports']
    missing = '00000000-0000-4000-8000-000000000000'
    r = _create(nova, [{'uuid': missing}], status=400)
    assert 'Network %s could not be found.' % missing in r.get_data(as_text=True)
    anet = admin.network('admins')
    admin.subnet(anet['id'], '10.7.0.0/24')
    _create(nova, [{'uuid': anet['id']}], status=400)  # another project's: not found
    good = demo.network('good')
    demo.subnet(good['id'], '10.8.0.0/24')
    # One good network and one bad one: neither port nor server remains.
    _create(nova, [{'uuid': good['id']}, {'uuid': missing}], status=400)
    assert demo.get('/ports')['ports'] == before
    assert nova('GET', '/servers', status=200).get_json()['servers'] == []
    assert nova.built == []


def test_delete_gives_ports_back(nova, demo, public):
    from conductor import records
    net = demo.network('n1')
    demo.subnet(net['id'], '10.9.0.0/24')
    sid = _create(nova, [{'uuid': net['id']}]).get_json()['server']['id']
    assert len(demo.get('/ports?device_id=' + sid)['ports']) == 1
    records.finish_delete('req-x', sid)
    assert demo.get('/ports?device_id=' + sid)['ports'] == []


def test_interface_attach_detach(nova, demo, public, casts):
    net = demo.network('n1')
    demo.subnet(net['id'], '10.11.0.0/24')
    hot = demo.network('hot')
    demo.subnet(hot['id'], '10.12.0.0/24')
    sid = _create(nova, [{'uuid': net['id']}]).get_json()['server']['id']
    # Not placed yet: 409.
    nova('POST', '/servers/%s/os-interface' % sid,
         {'interfaceAttachment': {'net_id': hot['id']}}, 409)
    from common.db import instances
    _place(sid)
    instances.update(sid, {'vm_state': 'active', 'task_state': None})
    att = nova('POST', '/servers/%s/os-interface' % sid,
               {'interfaceAttachment': {'net_id': hot['id']}}, 200).get_json()
    port_id = att['interfaceAttachment']['port_id']
    assert att['interfaceAttachment']['net_id'] == hot['id']
    assert nova.plugged == [('attach', 'h1', port_id, 'tap' + port_id[:11])]
    listed = nova('GET', '/servers/%s/os-interface' % sid, status=200).get_json()
    assert len(listed['interfaceAttachments']) == 2
    assert demo.get('/ports/' + port_id)['port']['status'] == 'ACTIVE'
    nova('DELETE', '/servers/%s/os-interface/%s' % (sid, port_id), status=202)
    assert nova.plugged[-1] == ('detach', 'h1', port_id)
    assert 'h1' in casts
    demo.get('/ports/' + port_id, status=404)  # the server made it: it is gone
    nova('DELETE', '/servers/%s/os-interface/%s' % (sid, port_id), status=404)
    actions = nova('GET', '/servers/%s/os-instance-actions' % sid,
                   status=200).get_json()['instanceActions']
    assert {'attach_interface', 'detach_interface'} <= {a['action'] for a in actions}


def test_add_and_remove_security_group(nova, demo, public, casts):
    net = demo.network('n1')
    demo.subnet(net['id'], '10.13.0.0/24')
    sid = _create(nova, [{'uuid': net['id']}]).get_json()['server']['id']
    _place(sid)
    demo.post('/security-groups', {'security_group': {'name': 'web'}})
    nova('POST', '/servers/%s/action' % sid, {'addSecurityGroup': {'name': 'web'}}, 202)
    srv = nova('GET', '/servers/' + sid, status=200).get_json()['server']
    assert sorted(g['name'] for g in srv['security_groups']) == ['default', 'web']
    assert 'h1' in casts
    r = nova('POST', '/servers/%s/action' % sid, {'addSecurityGroup': {'name': 'nope'}}, 400)
    assert 'nope' in r.get_data(as_text=True)
    nova('POST', '/servers/%s/action' % sid, {'removeSecurityGroup': {'name': 'web'}}, 202)
    nova('POST', '/servers/%s/action' % sid, {'removeSecurityGroup': {'name': 'web'}}, 404)
    srv = nova('GET', '/servers/' + sid, status=200).get_json()['server']
    assert srv['security_groups'] == [{'name': 'default'}]
