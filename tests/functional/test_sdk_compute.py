"""The compute API through openstacksdk itself (the conn.compute proxy and
the cloud layer), as Ansible's openstack.cloud and other SDK users drive
it: server metadata, access addresses, action bodies Nova takes, limits,
the version document, tags, a noVNC console URL and a console type that is
not offered. One small guest with no NIC."""

import openstack.exceptions
import pytest
import requests

from tests.fixtures.servers import wait_server


@pytest.fixture(scope='module')
def conn(cloud):
    return cloud.sdk('demo')


@pytest.fixture(scope='module')
def server(cloud, image, conn):
    flavor = conn.compute.find_flavor('m1.nano')
    srv = conn.compute.create_server(name='sdk-vm', image_id=image['id'],
                                     flavor_id=flavor.id, networks='none',
                                     access_ipv4='192.0.2.10', metadata={'made': 'sdk'})
    try:
        yield wait_server(conn, srv.id, {'ACTIVE'})
    finally:
        conn.compute.delete_server(srv.id)
        conn.compute.wait_for_delete(conn.compute.get_server(srv.id), wait=120)


def test_metadata_through_the_cloud_layer(conn, server):
    conn.set_server_metadata('sdk-vm', {'role': 'web', 'tier': '1'})
    assert conn.get_server('sdk-vm').metadata == {'made': 'sdk', 'role': 'web', 'tier': '1'}
    conn.delete_server_metadata('sdk-vm', ['tier'])
    assert conn.get_server(server.id).metadata == {'made': 'sdk', 'role': 'web'}


def test_metadata_through_the_proxy(conn, server):
    conn.compute.set_server_metadata(server, colour='blue')
    assert conn.compute.fetch_server_metadata(server).metadata['colour'] == 'blue'
    res = conn.compute.get_server(server.id)
    res.set_metadata_item(conn.compute, 'size', 'L')
    assert res.get_metadata_item(conn.compute, 'size').metadata['size'] == 'L'
    conn.compute.delete_server_metadata(server.id, ['colour', 'size'])
    with pytest.raises(openstack.exceptions.NotFoundException):
        res.get_metadata_item(conn.compute, 'colour')
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.compute.set_server_metadata(server, **{'bad/key': 'v'})


def test_access_addresses(conn, server):
    assert conn.compute.get_server(server.id).access_ipv4 == '192.0.2.10'
    conn.compute.update_server(server, access_ipv6='2001:db8::10')
    got = conn.compute.get_server(server.id)
    assert (got.access_ipv4, got.access_ipv6) == ('192.0.2.10', '2001:db8::10')


def test_actions_take_an_empty_object(conn, server):
    url = '/servers/%s/action' % server.id
    for body in ({'lock': {}}, {'unlock': {}}):
        r = conn.compute.post(url, json=body, microversion='2.1')
        assert r.status_code == 202, r.text
    r = conn.compute.post(url, json={'reboot': {'type': 'sideways'}}, microversion='2.1')
    assert r.status_code == 400 and 'badRequest' in r.json()


def test_limits_by_microversion(conn):
    old = conn.compute.get('/limits', microversion='2.1').json()['limits']['absolute']
    assert old['maxSecurityGroups'] == -1 and old['maxImageMeta'] == old['maxServerMeta']
    new = conn.compute.get_limits().absolute
    assert new.server_meta == old['maxServerMeta']


def test_version_document(cloud, conn):
    base = 'http://127.0.0.1:%d/compute/' % cloud.api_port
    v = requests.get(base + 'v2.1/', timeout=30).json()['version']
    assert v['media-types'][0]['type'] == 'application/vnd.openstack.compute+json;version=2.1'
    assert [link['rel'] for link in v['links']] == ['self', 'describedby']
    assert conn.compute.get_endpoint_data().max_microversion is not None


def test_consoles(conn, server):
    con = conn.compute.create_console(server, console_type='novnc')
    assert con['type'] == 'novnc' and '/vnc_lite.html?path=%3Ftoken%3D' in con['url'], con
    with pytest.raises(openstack.exceptions.BadRequestException) as e:
        conn.compute.create_console(server, console_type='spice-html5')
    assert 'Unavailable console type spice-html5' in str(e.value)
    assert 'novnc, serial' in str(e.value)


def test_tags(conn, server):
    res = conn.compute.get_server(server.id)
    res.set_tags(conn.compute, ['web', 'blue'])
    res.add_tag(conn.compute, 'prod')
    assert sorted(res.fetch_tags(conn.compute).tags) == ['blue', 'prod', 'web']
    res.remove_tag(conn.compute, 'blue')
    assert [s.id for s in conn.compute.servers(tags='web,prod')] == [server.id]
    assert [s.id for s in conn.compute.servers(tags='blue')] == []
    assert sorted(conn.compute.get_server(server.id).tags) == ['prod', 'web']
