"""changes-since lists deletions too (Nova's behaviour, which pollers such
as the dashboard's live stream rely on): a deleted server shows with
status DELETED there and nowhere else."""

from tests.fixtures.nova_api import IMAGE


def test_deleted_server_is_listed_only_with_changes_since(nova):
    body = {'server': {'name': 'gone', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    nova('DELETE', '/servers/%s' % sid, status=204)
    assert sid not in [s['id'] for s in nova('GET', '/servers/detail', status=200)
                       .get_json()['servers']]
    since = nova('GET', '/servers/detail?changes-since=2000-01-01T00:00:00Z',
                 status=200).get_json()['servers']
    assert [s['status'] for s in since if s['id'] == sid] == ['DELETED']
    none = nova('GET', '/servers/detail?changes-since=2999-01-01T00:00:00Z',
                status=200).get_json()['servers']
    assert none == []
