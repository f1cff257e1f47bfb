"""Microversion honesty: every version up to the advertised maximum is
listed with what it changed, no code branches on a version above it, and
the smaller changes behave by version (2.13, 2.15, 2.35, 2.38, 2.57)."""

import pathlib
import re

import pytest

from api.compute import microversion as mv
from tests.fixtures.nova_api import IMAGE

COMPUTE = pathlib.Path(mv.__file__).parent


def _minor(text):
    return int(text.split('.')[1])


def test_every_version_is_listed():
    listed = re.findall(r'^2\.(\d+) +- ', mv.__doc__, re.M)
    assert [int(n) for n in listed] == list(range(1, _minor(mv.MAX) + 1))


def test_no_branch_above_the_maximum():
    for path in COMPUTE.glob('*.py'):
        for version in re.findall(r"at_least\('(2\.\d+)'\)", path.read_text()):
            assert _minor(version) <= _minor(mv.MAX), (path.name, version)
        for version in re.findall(r"\('(2\.\d+)', ", path.read_text()):
            assert _minor(version) <= _minor(mv.MAX), (path.name, version)


def _v(version):
    return {'OpenStack-API-Version': 'compute %s' % version}


def test_server_groups_by_version(nova):
    def create(version, policy, status):
        return nova('POST', '/os-server-groups',
                    {'server_group': {'name': 'g', 'policies': [policy]}}, status,
                    version=_v(version))
    create('2.14', 'soft-affinity', 400)
    g = create('2.12', 'affinity', 200).get_json()['server_group']
    assert sorted(g) == ['id', 'members', 'metadata', 'name', 'policies']
    g = create('2.15', 'soft-anti-affinity', 200).get_json()['server_group']
    assert sorted(g) == ['id', 'members', 'metadata', 'name', 'policies', 'project_id',
                         'user_id']


def test_keypairs_paging_from_2_35(nova):
    for name in ('a', 'b', 'c'):
        nova('POST', '/os-keypairs', {'keypair': {'name': name}}, 201, version=_v('2.35'))

    def names(version, query):
        r = nova('GET', '/os-keypairs' + query, status=200, version=_v(version))
        return [k['keypair']['name'] for k in r.get_json()['keypairs']]
    assert names('2.35', '?limit=1&marker=a') == ['b']
    assert names('2.34', '?limit=1&marker=a') == ['a', 'b', 'c']


def test_unknown_status_filter(nova):
    r = nova('GET', '/servers?status=nonsense', status=200, version=_v('2.37'))
    assert r.get_json() == {'servers': []}
    r = nova('GET', '/servers?status=nonsense', status=400, version=_v('2.38'))
    assert r.get_json()['badRequest']['message'] == 'Invalid status value'


@pytest.mark.parametrize('version,status', [('2.1', 202), ('2.56', 202), ('2.57', 400)])
def test_personality_until_2_57(nova, version, status):
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none',
                       'personality': [{'path': '/etc/motd', 'contents': 'aGk='}]}}
    nova('POST', '/servers', body, status, version=_v(version))


def _invalid_input(r):
    return r.status_code == 400 and 'Invalid input' in r.get_json()['badRequest']['message']


def test_attach_bodies_by_version(nova):
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    vol = '/servers/%s/os-volume_attachments' % sid
    tagged = {'volumeAttachment': {'volumeId': 'v1', 'tag': 'disk1'}}
    assert _invalid_input(nova('POST', vol, tagged, version=_v('2.48')))
    assert not _invalid_input(nova('POST', vol, tagged, version=_v('2.49')))
    # delete_on_termination comes with 2.79, beyond what we serve
    dot = {'volumeAttachment': {'volumeId': 'v1', 'delete_on_termination': True}}
    assert _invalid_input(nova('POST', vol, dot, version=_v('2.61')))
    nic = '/servers/%s/os-interface' % sid
    assert not _invalid_input(nova('POST', nic, {}, version=_v('2.1')))
    tagged = {'interfaceAttachment': {'tag': 'nic1'}}
    assert _invalid_input(nova('POST', nic, tagged, version=_v('2.48')))
    assert not _invalid_input(nova('POST', nic, tagged, version=_v('2.49')))


def test_instance_actions_by_version(nova):
    from common.db import api as db_api
    from common.db import compute_models as cm
    from common.db import instances
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    instances.update(sid, {'host': 'h1', 'vm_state': 'active', 'task_state': None})
    nova('POST', '/servers/%s/action' % sid, {'lock': None}, 202)
    path = '/servers/%s/os-instance-actions' % sid

    def listed(version, query=''):
        return nova('GET', path + query, status=200,
                    version=_v(version)).get_json()['instanceActions']
    old, new = listed('2.57'), listed('2.58')
    assert [a['action'] for a in old] == ['lock', 'create']
    assert 'updated_at' not in old[0] and 'updated_at' in new[0]
    assert [a['action'] for a in listed('2.58', '?limit=1')] == ['lock']
    marker = new[0]['request_id']
    assert [a['action'] for a in listed('2.58', '?marker=' + marker)] == ['create']
    assert len(listed('2.57', '?limit=1')) == 2  # not paged before 2.58
    assert listed('2.58', '?changes-since=2999-01-01T00:00:00Z') == []
    # events: an admin's only before 2.51
    req = new[-1]['request_id']
    shown = nova('GET', '%s/%s' % (path, req), status=200, version=_v('2.50')).get_json()
    assert 'events' not in shown['instanceAction']
    shown = nova('GET', '%s/%s' % (path, req), status=200, version=_v('2.51')).get_json()
    assert 'events' in shown['instanceAction']
    shown = nova('GET', '%s/%s' % (path, req), status=200, who='admin',
                 version=_v('2.50')).get_json()
    assert 'events' in shown['instanceAction']
    # a deleted server's actions from 2.21
    with db_api.session() as s:
        s.get(cm.Instance, sid).deleted = True
    nova('GET', path, status=404, version=_v('2.20'))
    nova('GET', path, status=200, version=_v('2.21'))


def test_hypervisor_paging_from_2_33(nova):
    from tests.fixtures.resize_api import add_host
    for host in ('ha', 'hb', 'hc'):
        add_host(host)

    def ids(version, query):
        r = nova('GET', '/os-hypervisors' + query, status=200, who='admin',
                 version=_v(version))
        return [h['id'] for h in r.get_json()['hypervisors']]
    every = ids('2.53', '')
    assert len(every) >= 3
    assert ids('2.53', '?limit=1&marker=%s' % every[0]) == [every[1]]
    assert ids('2.32', '?limit=1') == ids('2.32', '')
