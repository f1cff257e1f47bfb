"""Microversion honesty: every version up to the advertised maximum is
listed with what it changed, no code branches on a version above it, and
the smaller changes behave by version (2.13, 2.15, 2.35, 2.38, 2.57)."""

import pathlib
import re

import pytest

from api.compute import microversion as mv
from tests.unit.test_server_lifecycle_actions import IMAGE
from tests.unit.test_server_lifecycle_actions import nova  # noqa: F401 - a fixture

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


def test_server_groups_by_version(nova):  # noqa: F811
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


def test_keypairs_paging_from_2_35(nova):  # noqa: F811
    for name in ('a', 'b', 'c'):
        nova('POST', '/os-keypairs', {'keypair': {'name': name}}, 201, version=_v('2.35'))

    def names(version, query):
        r = nova('GET', '/os-keypairs' + query, status=200, version=_v(version))
        return [k['keypair']['name'] for k in r.get_json()['keypairs']]
    assert names('2.35', '?limit=1&marker=a') == ['b']
    assert names('2.34', '?limit=1&marker=a') == ['a', 'b', 'c']


def test_unknown_status_filter(nova):  # noqa: F811
    r = nova('GET', '/servers?status=nonsense', status=200, version=_v('2.37'))
    assert r.get_json() == {'servers': []}
    r = nova('GET', '/servers?status=nonsense', status=400, version=_v('2.38'))
    assert r.get_json()['badRequest']['message'] == 'Invalid status value'


@pytest.mark.parametrize('version,status', [('2.1', 202), ('2.56', 202), ('2.57', 400)])
def test_personality_until_2_57(nova, version, status):  # noqa: F811
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none',
                       'personality': [{'path': '/etc/motd', 'contents': 'aGk='}]}}
    nova('POST', '/servers', body, status, version=_v(version))


def _invalid_input(r):
    return r.status_code == 400 and 'Invalid input' in r.get_json()['badRequest']['message']


def test_attach_bodies_by_version(nova):  # noqa: F811
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
