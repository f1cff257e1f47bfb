"""Response shapes against Nova's API samples, microversion by microversion:
the version documents, /limits, os-quota-sets, and the server views (full,
and the shorter one of PUT /servers/{id} and rebuild), with accessIPv4/v6
stored and host_status for admins."""

import pytest

from common import servicegroup
from common.db import instances
from tests.fixtures.nova_api import IMAGE


def _v(version):
    return {'OpenStack-API-Version': 'compute %s' % version}


# -- version documents --------------------------------------------------------

def test_v21_version_document(client):
    v = client.get('/compute/v2.1/').get_json()['version']
    assert sorted(v) == ['id', 'links', 'media-types', 'min_version', 'status', 'updated',
                         'version']
    assert (v['id'], v['status'], v['min_version'], v['version']) == \
        ('v2.1', 'CURRENT', '2.1', '2.61')
    assert v['links'][0] == {'rel': 'self', 'href': 'http://localhost/compute/v2.1/'}
    assert v['links'][1] == {'rel': 'describedby', 'type': 'text/html',
                             'href': 'http://docs.openstack.org/'}
    assert v['media-types'] == [{'base': 'application/json',
                                 'type': 'application/vnd.openstack.compute+json;version=2.1'}]


def test_versions_list(client):
    r = client.get('/compute/')
    assert r.status_code == 200
    v20, v21 = r.get_json()['versions']
    assert sorted(v21) == ['id', 'links', 'min_version', 'status', 'updated', 'version']
    assert v21['links'] == [{'rel': 'self', 'href': 'http://localhost/compute/v2.1/'}]
    assert (v20['id'], v20['status'], v20['version']) == ('v2.0', 'DEPRECATED', '')


# -- limits and quota sets -----------------------------------------------------

_NET_LIMITS = {'maxSecurityGroups', 'maxSecurityGroupRules', 'maxTotalFloatingIps',
               'totalFloatingIpsUsed', 'totalSecurityGroupsUsed'}
_BASE_LIMITS = {'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores',
                'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize', 'totalCoresUsed',
                'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed'}
_PERSONALITY = {'maxPersonality', 'maxPersonalitySize'}


@pytest.mark.parametrize('version,keys', [
    ('2.1', _BASE_LIMITS | _NET_LIMITS | _PERSONALITY | {'maxImageMeta'}),
    ('2.35', _BASE_LIMITS | _NET_LIMITS | _PERSONALITY | {'maxImageMeta'}),
    ('2.36', _BASE_LIMITS | _PERSONALITY | {'maxImageMeta'}),
    ('2.39', _BASE_LIMITS | _PERSONALITY),
    ('2.57', _BASE_LIMITS), ('2.61', _BASE_LIMITS)])
def test_limits_by_microversion(nova, version, keys):
    absolute = nova('GET', '/limits', status=200, version=_v(version)).get_json()['limits']
    assert set(absolute['absolute']) == keys
    assert absolute['rate'] == []
    if 'maxSecurityGroups' in keys:
        assert absolute['absolute']['maxSecurityGroups'] == -1
        assert absolute['absolute']['totalFloatingIpsUsed'] == 0
    if 'maxImageMeta' in keys:
        assert absolute['absolute']['maxImageMeta'] == absolute['absolute']['maxServerMeta']


_BASE_QUOTAS = {'cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_groups',
                'server_group_members'}
_INJECTED = {'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'}
_NET_QUOTAS = {'fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'}


@pytest.mark.parametrize('version,keys', [
    ('2.1', _BASE_QUOTAS | _INJECTED | _NET_QUOTAS), ('2.36', _BASE_QUOTAS | _INJECTED),
    ('2.57', _BASE_QUOTAS)])
def test_quota_sets_by_microversion(nova, version, keys):
    admin = dict(version=_v(version), who='admin', status=200)
    pid = 'p1'
    shown = nova('GET', '/os-quota-sets/' + pid, **admin).get_json()['quota_set']
    assert set(shown) == keys | {'id'}
    defaults = nova('GET', '/os-quota-sets/%s/defaults' % pid, **admin).get_json()
    assert set(defaults['quota_set']) == keys | {'id'}
    detail = nova('GET', '/os-quota-sets/%s/detail' % pid, **admin).get_json()['quota_set']
    assert set(detail) == keys | {'id'}
    assert set(detail['cores']) == {'limit', 'in_use', 'reserved'}
    updated = nova('PUT', '/os-quota-sets/' + pid, {'quota_set': {'cores': 7}},
                   **admin).get_json()['quota_set']
    assert set(updated) == keys and updated['cores'] == 7
    if 'floating_ips' in keys:
        assert shown['floating_ips'] == -1 and shown['injected_files'] == 5


def test_quota_update_takes_what_nova_takes(nova):
    def put(version, quota_set, status):
        return nova('PUT', '/os-quota-sets/p1', {'quota_set': quota_set}, status,
                    who='admin', version=_v(version))
    put('2.1', {'floating_ips': 5, 'injected_files': 3, 'force': 'True'}, 200)
    put('2.35', {'security_groups': 5}, 200)
    put('2.36', {'security_groups': 5}, 400)
    put('2.56', {'injected_files': 2}, 200)
    put('2.57', {'injected_files': 2}, 400)
    shown = nova('GET', '/os-quota-sets/p1', status=200, who='admin',
                 version=_v('2.1')).get_json()['quota_set']
    # the network ones stay unlimited and unused, as in Nova with Neutron
    assert (shown['floating_ips'], shown['injected_files']) == (-1, 2)
    nova('DELETE', '/os-quota-sets/p1', status=202, who='admin')
    shown = nova('GET', '/os-quota-sets/p1', status=200, who='admin',
                 version=_v('2.1')).get_json()['quota_set']
    assert shown['injected_files'] == 5


# -- server views --------------------------------------------------------------

_CORE = {'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'addresses', 'created', 'flavor',
         'hostId', 'id', 'image', 'links', 'metadata', 'name', 'progress', 'status',
         'tenant_id', 'updated', 'user_id'}
_FULL = _CORE | {'OS-EXT-AZ:availability_zone', 'OS-EXT-STS:power_state',
                 'OS-EXT-STS:task_state', 'OS-EXT-STS:vm_state', 'OS-SRV-USG:launched_at',
                 'OS-SRV-USG:terminated_at', 'config_drive', 'key_name',
                 'os-extended-volumes:volumes_attached'}
_ADMIN_21 = {'OS-EXT-SRV-ATTR:host', 'OS-EXT-SRV-ATTR:hypervisor_hostname',
             'OS-EXT-SRV-ATTR:instance_name'}
_ADMIN_23 = _ADMIN_21 | {'OS-EXT-SRV-ATTR:hostname', 'OS-EXT-SRV-ATTR:kernel_id',
                         'OS-EXT-SRV-ATTR:launch_index', 'OS-EXT-SRV-ATTR:ramdisk_id',
                         'OS-EXT-SRV-ATTR:reservation_id',
                         'OS-EXT-SRV-ATTR:root_device_name', 'OS-EXT-SRV-ATTR:user_data'}


@pytest.mark.parametrize('version,who,extra', [
    ('2.1', 'demo', set()), ('2.1', 'admin', _ADMIN_21), ('2.3', 'admin', _ADMIN_23),
    ('2.9', 'demo', {'locked'}), ('2.16', 'demo', {'locked'}),
    ('2.16', 'admin', _ADMIN_23 | {'locked', 'host_status'}),
    ('2.19', 'demo', {'locked', 'description'}),
    ('2.26', 'demo', {'locked', 'description', 'tags'}),
    ('2.61', 'admin', _ADMIN_23 | {'locked', 'description', 'tags', 'host_status'})])
def test_get_server_keys(nova, server, version, who, extra):
    srv = nova('GET', '/servers/' + server, status=200, who=who,
               version=_v(version)).get_json()['server']
    assert set(srv) - {'security_groups'} == _FULL | extra


def test_list_is_id_name_links(nova, server):
    for version in ('2.1', '2.61'):
        listed = nova('GET', '/servers', status=200, version=_v(version)).get_json()
        assert [sorted(s) for s in listed['servers']] == [['id', 'links', 'name']]


def test_create_answer(nova):
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none', 'accessIPv4': '1.2.3.4', 'accessIPv6': '80fe::'}}
    out = nova('POST', '/servers', body, 202).get_json()['server']
    assert sorted(out) == ['OS-DCF:diskConfig', 'adminPass', 'id', 'links',
                           'security_groups']
    srv = nova('GET', '/servers/' + out['id'], status=200).get_json()['server']
    assert (srv['accessIPv4'], srv['accessIPv6']) == ('1.2.3.4', '80fe::')


@pytest.mark.parametrize('field,value', [('accessIPv4', '1.2.3'), ('accessIPv6', 'x::y::z')])
def test_access_ips_must_be_addresses(nova, field, value):
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none', field: value}}
    nova('POST', '/servers', body, 400)


@pytest.mark.parametrize('version,extra', [('2.1', set()), ('2.9', {'locked'}),
                                           ('2.19', {'locked', 'description'}),
                                           ('2.61', {'locked', 'description', 'tags'})])
def test_update_answer_is_the_short_view(nova, server, version, extra):
    r = nova('PUT', '/servers/' + server, {'server': {'accessIPv4': '10.0.0.9',
                                                      'accessIPv6': '::1', 'name': 'vm2'}},
             200, who='admin', version=_v(version))
    srv = r.get_json()['server']
    assert set(srv) == _CORE | extra
    assert (srv['accessIPv4'], srv['accessIPv6'], srv['name']) == ('10.0.0.9', '::1', 'vm2')
    assert instances.get(server).access_ip_v4 == '10.0.0.9'


@pytest.mark.parametrize('version,extra', [
    ('2.1', set()), ('2.26', {'locked', 'description', 'tags'}),
    ('2.54', {'locked', 'description', 'tags', 'key_name'}),
    ('2.57', {'locked', 'description', 'tags', 'key_name', 'user_data'})])
def test_rebuild_answer_is_the_short_view(nova, server, version, extra):
    body = {'rebuild': {'imageRef': IMAGE['id'], 'accessIPv4': '1.2.3.4'}}
    r = nova('POST', '/servers/%s/action' % server, body, 202, version=_v(version))
    srv = r.get_json()['server']
    assert set(srv) == _CORE | extra | {'adminPass'}
    assert srv['accessIPv4'] == '1.2.3.4' and srv['status'] == 'REBUILD'


def test_progress_only_where_nova_shows_it(nova, server):
    instances.update(server, {'vm_state': 'stopped'})
    srv = nova('GET', '/servers/' + server, status=200).get_json()['server']
    assert 'progress' not in srv


def test_host_status(nova, server, monkeypatch):
    def status():
        return nova('GET', '/servers/' + server, status=200, who='admin',
                    version=_v('2.16')).get_json()['server']['host_status']
    assert status() == 'UNKNOWN'  # h1 has never reported
    servicegroup.report('h1', 'nova-compute', 'compute')
    assert status() == 'UP'
    rec = servicegroup.list_services(binary='nova-compute', host='h1')[0]
    servicegroup.update_service(rec.uuid, disabled=True)
    assert status() == 'MAINTENANCE'
    servicegroup.update_service(rec.uuid, forced_down=True)
    assert status() == 'DOWN'
    instances.update(server, {'host': None})
    assert status() == ''
