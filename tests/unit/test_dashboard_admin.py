"""The admin pages' own logic, without a cloud: who may open them, the
request bodies and equivalent commands their forms make, input the
dashboard refuses before asking an API, and how a migration's status
reads as progress. (The pages against the real APIs: tests/dashboard.)"""

import datetime

import pytest
from werkzeug.datastructures import MultiDict

from common.conf import CONF
from dashboard import app as dash_app
from dashboard.views.admin import flavors
from dashboard.views.admin import instances
from dashboard.views.admin import migrations
from dashboard.views.admin import quotas
from dashboard.views.admin import services

PAGES = ('/admin/hypervisors/', '/admin/services/', '/admin/aggregates/', '/admin/flavors/',
         '/admin/instances/', '/admin/migrations/', '/admin/projects/', '/admin/users/',
         '/admin/groups/', '/admin/roles/', '/admin/quotas/', '/admin/instances/x/',
         '/admin/flavors/1/', '/admin/projects/p/', '/admin/users/u/', '/admin/groups/g/')


@pytest.fixture
def client(tmp_path):
    CONF.set_override('state_path', str(tmp_path / 'dashboard'), 'dashboard')
    app = dash_app.create_app()
    app.testing = True
    app.config['WTF_CSRF_ENABLED'] = False
    yield app.test_client()
    CONF.clear_override('state_path', 'dashboard')


def _sign_in(client, roles):
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 'not-a-real-token', 'body': {}}
        sess['me'] = {'user_id': 'u', 'user_name': 'someone', 'domain': 'Default',
                      'project_id': 'p', 'project_name': 'demo', 'roles': roles}


def test_a_member_gets_the_403_page_on_every_admin_page(client):
    _sign_in(client, ['member', 'reader'])
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 403, path
        assert b'for cloud administrators' in r.data and b'demo' in r.data, path
    r = client.post('/admin/services/x', data={'action': 'disable'})
    assert r.status_code == 403


def test_signed_out_goes_to_the_login_page(client):
    r = client.get('/admin/hypervisors/')
    assert r.status_code == 302 and '/login?next=/admin/hypervisors/' in r.location


def test_each_admin_page_is_one_blueprint_and_admin_menu_entry():
    from dashboard.views import admin
    names = [mod.bp.name for mod in admin.modules()]
    assert len(names) == len(set(names)) == 11
    assert all(mod.ADMIN_NAV and not getattr(mod, 'NAV', None) for mod in admin.modules())


@pytest.mark.parametrize('path,data,message', [
    ('/admin/services/x', {'action': 'reboot'}, b'Unknown action'),
    ('/admin/flavors/', MultiDict([('name', 'f'), ('vcpus', '1'), ('ram', '1'), ('disk', '1'),
                                   ('property', 'no-equals-sign')]), b'is not'),
    ('/admin/instances/x/action', {'action': 'shelve'}, b'Unknown action'),
    ('/admin/quotas/p/compute', {'instances': 'ten'}, b'Instances: '),
    ('/admin/quotas/p/network', {}, b'Nothing to change'),
    ('/admin/roles/grant', {'role': 'r', 'project': 'p', 'user': 'u', 'group': 'g'},
     b'either a user or a group'),
    ('/admin/roles/grant', {'role': 'r', 'user': 'u'}, b'a role and a project'),
    ('/admin/users/', {'name': 'x', 'password': ''}, b'password'),
    ('/admin/groups/g/members', {'user': ''}, b'Choose a user'),
    ('/admin/aggregates/1/hosts', {'host': ''}, b'Choose a host'),
])
def test_input_refused_before_any_api_call(client, path, data, message):
    _sign_in(client, ['admin'])
    r = client.post(path, data=data, headers={'HX-Request': 'true'})
    assert r.status_code == 400, r.data
    assert message in r.data
    assert r.headers['HX-Retarget'] == '#alerts'    # an alert in the page, the form kept


def test_quota_form_for_an_unknown_service_is_404(client):
    _sign_in(client, ['admin'])
    assert client.post('/admin/quotas/p/images', data={'x': '1'}).status_code == 404


def test_service_bodies_and_commands():
    assert services.body_for('disable', 'disk swap') == {
        'status': 'disabled', 'disabled_reason': 'disk swap'}
    assert services.body_for('disable', '') == {'status': 'disabled'}
    assert services.body_for('enable', 'ignored') == {'status': 'enabled'}
    assert services.body_for('down', '') == {'forced_down': True}
    assert services.body_for('up', '') == {'forced_down': False}
    assert services.cli_for('disable', 'h1', 'nova-compute', 'disk swap') == (
        "openstack compute service set --disable --disable-reason 'disk swap' h1 "
        "nova-compute")
    assert services.cli_for('up', 'h1', 'nova-compute') == \
        'openstack compute service set --up h1 nova-compute'


def test_flavor_create_body():
    body, props = flavors.create_body(MultiDict([
        ('name', ' small '), ('vcpus', '2'), ('ram', '512'), ('disk', '0'), ('swap', ''),
        ('ephemeral', '1'), ('private', '--private'), ('id', ''),
        ('property', 'hw:cpu_policy=shared'), ('property', '')]))
    assert body == {'flavor': {'name': 'small', 'vcpus': 2, 'ram': 512, 'disk': 0,
                               'OS-FLV-EXT-DATA:ephemeral': 1,
                               'os-flavor-access:is_public': False}}
    assert props == {'hw:cpu_policy': 'shared'}
    # What is not a whole number goes as typed: the API says what is wrong.
    body, _ = flavors.create_body(MultiDict([('name', 'x'), ('vcpus', 'two'), ('ram', ''),
                                             ('disk', '1'), ('id', 'my-id')]))
    assert body['flavor']['vcpus'] == 'two' and body['flavor']['ram'] == ''
    assert body['flavor']['id'] == 'my-id' and body['flavor']['os-flavor-access:is_public']


def test_server_move_bodies():
    assert instances.action_body('live', '') == {
        'os-migrateLive': {'host': None, 'block_migration': 'auto'}}
    assert instances.action_body('live', 'h2') == {
        'os-migrateLive': {'host': 'h2', 'block_migration': 'auto'}}
    assert instances.action_body('migrate', '') == {'migrate': None}
    assert instances.action_body('migrate', 'h2') == {'migrate': {'host': 'h2'}}
    assert instances.action_body('evacuate', '') == {'evacuate': {}}
    assert instances.action_body('confirm', '') == {'confirmResize': None}
    assert instances.action_body('revert', '') == {'revertResize': None}


def test_migration_progress():
    assert migrations.progress({'status': 'migrating'}) == (50, 'ok', True)
    assert migrations.progress({'status': 'finished'}) == (90, 'wait', False)
    assert migrations.progress({'status': 'completed'}) == (100, 'done', False)
    assert migrations.progress({'status': 'error'}) == (100, 'full', False)
    rows = migrations.decorate(
        [{'status': 'completed', 'instance_uuid': 'i', 'created_at': '2026-01-01T10:00:00.5',
          'updated_at': '2026-01-01T10:00:12.0'},
         {'status': 'migrating', 'instance_uuid': 'j', 'created_at': '2026-01-01T10:00:00',
          'updated_at': None}], {'i': 'web-1'},
        now=datetime.datetime(2026, 1, 1, 10, 1, 0))
    assert (rows[0]['server_name'], rows[0]['seconds'], rows[0]['active']) == ('web-1', 12,
                                                                             False)
    assert (rows[1]['server_name'], rows[1]['seconds'], rows[1]['active']) == ('', 60, True)


def test_quota_bodies_and_command():
    limits = quotas.parse_limits('network', MultiDict([('router', '3'), ('port', ''),
                                                       ('network', '-1')]))
    assert limits == {'router': 3, 'network': -1}
    assert quotas.update_body('network', limits) == {
        'quota': {'router': 3, 'network': -1, 'check_limit': True}}
    assert quotas.update_body('compute', {'cores': 4}) == {'quota_set': {'cores': 4}}
    assert quotas.update_path('volume', 'p1') == '/os-quota-sets/p1'
    cli = quotas.cli_template('compute', "a b")
    assert cli.startswith('openstack quota set [--instances {instances}] [--cores {cores}]')
    assert cli.endswith("[--properties {metadata_items}] 'a b'")
    rows = quotas.rows('volume', {'quota_set': {'volumes': {'limit': 10, 'in_use': 2},
                                                'volumes___DEFAULT__': {'limit': -1}}})
    assert [(r['key'], r['limit'], r['used']) for r in rows] == [('volumes', 10, 2)]


def test_a_failed_live_poll_says_so_once_and_slows_down(client, monkeypatch):
    from dashboard import cloud
    from dashboard import rest
    err = cloud.APIError('compute (Nova)', 'The compute (Nova) service does not answer.',
                         down=True)
    monkeypatch.setattr(rest, 'attempt', lambda *a, **kw: (None, err))
    _sign_in(client, ['admin'])
    r = client.get('/admin/instances/changes?since=2026-01-01T00:00:00Z&ids=a,b',
                   headers={'HX-Request': 'true'})
    assert r.status_code == 200          # not an alert swapped in every few seconds
    html = r.get_data(as_text=True)
    assert 'Live updates paused' in html and 'does not answer' in html
    assert 'every 10s' in html and 'since=2026-01-01T00:00:00Z' in html and 'ids=a,b' in html
