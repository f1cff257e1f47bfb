"""The instance detail page's own logic, without a cloud: the scheduler's
explanation read out of a fault, the console log's length from the URL,
the checks of the action forms, which actions the bar offers in which
state, and a refused form's answer through Flask's test client."""

import html
import types

import flask
import pytest

from dashboard import errors
from dashboard.views import instance_actions as actions
from dashboard.views import instance_detail as detail

SID = '0c4b64e5-2fde-4a07-9b4f-3c4d4e8e5a10'
URL = '/instances/%s/do/' % SID
NO_HOST = ('No valid host was found. CoreFilter removed 1 of 3 hosts: h1 has 0 vCPUs free, '
           'needs 2; RamFilter removed 2 of 2 hosts: h2 has 100 MB free, needs 4096; h3 has '
           '200 MB free, needs 4096')


def test_fault_of_no_valid_host_is_split_per_filter():
    out = detail.explain_fault(NO_HOST)
    assert out['summary'] == 'No valid host was found.'
    assert out['earlier'] is None and out['rest'] is None
    assert [(f['name'], f['removed'], f['of']) for f in out['filters']] == [
        ('CoreFilter', 1, 3), ('RamFilter', 2, 2)]
    assert out['filters'][0]['reasons'] == ['h1 has 0 vCPUs free, needs 2']
    assert out['filters'][1]['reasons'] == ['h2 has 100 MB free, needs 4096',
                                            'h3 has 200 MB free, needs 4096']


def test_fault_with_earlier_attempts_and_more_hosts():
    message = ('No valid host was found. Earlier attempts failed (last: libvirt said (no)). '
               'DiskFilter removed 7 of 7 hosts: a has 1 GB disk free, needs 9; b has 1 GB '
               'disk free, needs 9 and 5 more')
    out = detail.explain_fault(message)
    assert out['earlier'] == 'libvirt said (no)'
    (f,) = out['filters']
    assert f['name'] == 'DiskFilter' and f['more'] == 5
    assert f['reasons'] == ['a has 1 GB disk free, needs 9', 'b has 1 GB disk free, needs 9']


def test_fault_without_filters_keeps_its_words():
    assert detail.explain_fault('No valid host was found. There are no compute hosts.') == {
        'summary': 'No valid host was found.', 'earlier': None, 'filters': [],
        'rest': 'There are no compute hosts.'}
    plain = detail.explain_fault('libvirt: domain failed to start')
    assert plain['summary'] == 'libvirt: domain failed to start' and not plain['filters']
    assert detail.explain_fault(None)['summary'] == ''


@pytest.mark.parametrize('arg, lines', [
    (None, 200), ('50', 50), ('all', None), ('0', 200), ('-3', 200), ('10001', 200),
    ('10000', 10000), ('abc', 200), ('', 200)])
def test_console_lines(arg, lines):
    assert detail.console_lines(arg) == lines


@pytest.mark.parametrize('kind, value, expected', [
    ('text', '  snap-1 ', 'snap-1'),
    ('uuid', '0c4b64e5-2fde-4a07-9b4f-3c4d4e8e5a10', '0c4b64e5-2fde-4a07-9b4f-3c4d4e8e5a10'),
    ('id', '42', '42'), ('id', 'm1.tiny-x_2', 'm1.tiny-x_2'),
    ('ip', '172.24.4.10', '172.24.4.10'), ('ip', '2001:DB8::1', '2001:db8::1')])
def test_field_accepts(kind, value, expected):
    assert actions.field({'f': value}, 'f', 'Field', kind) == expected


@pytest.mark.parametrize('kind, value, words', [
    ('text', '', 'Name is required'), ('text', '   ', 'Name is required'),
    ('text', 'x' * 256, 'longer than 255'), ('text', 'a\nb', 'control characters'),
    ('uuid', 'not-a-uuid', 'must be an id'), ('id', '../1', 'is not an id'),
    ('id', 'a b', 'is not an id'), ('ip', '300.1.1.1', 'not an IP address'),
    ('ip', 'host.example', 'not an IP address')])
def test_field_refuses(kind, value, words):
    with pytest.raises(actions.FormError) as e:
        actions.field({'f': value}, 'f', 'Name', kind)
    assert words in str(e.value)


def test_optional_field_may_be_empty():
    assert actions.field({}, 'f', 'Fixed IP', 'ip', required=False) is None


PORTS = [{'id': 'p6', 'fixed_ips': [{'ip_address': 'fd00::5'}]},
         {'id': 'p1', 'fixed_ips': [{'ip_address': '10.0.0.5'}]},
         {'id': 'p2', 'fixed_ips': [{'ip_address': '10.1.0.7'}]}]


def test_floating_ip_port_is_the_first_ipv4_or_the_one_asked_for():
    assert actions.server_port(PORTS) == ('p1', '10.0.0.5')
    assert actions.server_port(PORTS, '10.1.0.7') == ('p2', '10.1.0.7')
    with pytest.raises(actions.FormError, match='no port with address 10.9.9.9'):
        actions.server_port(PORTS, '10.9.9.9')
    with pytest.raises(actions.FormError, match='no port with an IPv4 address'):
        actions.server_port(PORTS[:1])


def server(vm='active', task=None, locked=False, status='ACTIVE'):
    return {'id': 'S', 'status': status, 'OS-EXT-STS:vm_state': vm,
            'OS-EXT-STS:task_state': task, 'locked': locked}


def offered(srv, admin=False):
    return {a.name: ok for group in actions.bar(srv, admin) for a, ok, _why in group}


def test_bar_of_an_active_server():
    bar = offered(server())
    assert bar['stop'] and bar['reboot'] and bar['pause'] and bar['suspend']
    assert bar['resize'] and bar['rebuild'] and bar['snapshot'] and bar['delete']
    for hidden in ('start', 'unpause', 'resume', 'unlock', 'confirm-resize', 'revert-resize'):
        assert hidden not in bar
    assert bar['lock'] and bar['add-floating-ip'] and bar['attach-volume']


def test_bar_of_a_stopped_server():
    bar = offered(server('stopped', status='SHUTOFF'))
    assert bar['start'] and 'stop' not in bar
    assert not bar['pause'] and not bar['suspend']
    assert bar['resize'] and bar['reboot-hard'] and bar['attach-volume']
    ok, why = actions.allowed(actions.ACTIONS['pause'], server('stopped', status='SHUTOFF'))
    assert not ok and 'SHUTOFF' in why


def test_bar_in_verify_resize_and_while_busy():
    bar = offered(server('resized', status='VERIFY_RESIZE'))
    assert bar['confirm-resize'] and bar['revert-resize']
    assert not bar['resize'] and not bar['stop']
    busy = offered(server(task='rebooting', status='REBOOT'))
    assert not busy['stop'] and not busy['reboot'] and busy['reboot-hard'] and busy['delete']
    ok, why = actions.allowed(actions.ACTIONS['stop'], server(task='rebooting',
                                                              status='REBOOT'))
    assert why == 'Not while the instance is REBOOT (rebooting).'


def test_locked_server_takes_only_unlock_from_a_member():
    bar = offered(server(locked=True))
    assert bar['unlock'] and 'lock' not in bar
    assert not bar['stop'] and not bar['delete'] and not bar['resize']
    ok, why = actions.allowed(actions.ACTIONS['stop'], server(locked=True))
    assert 'locked' in why
    assert offered(server(locked=True), admin=True)['stop']


def test_command_and_hint():
    add_fip = actions.ACTIONS['add-floating-ip']
    assert add_fip.command('S') == ('openstack server add floating ip '
                                    '[--fixed-ip-address {fixed_ip}] S {floating_ip}')
    assert add_fip.hint('S') == 'openstack server add floating ip S <floating_ip>'
    assert actions.ACTIONS['stop'].hint('S') == 'openstack server stop S'


@pytest.fixture
def app():
    app = flask.Flask(__name__, template_folder='../../dashboard/templates')
    app.secret_key = 'test'
    app.jinja_env.globals['csrf_token'] = lambda: 'token'
    errors.register(app)
    app.register_blueprint(actions.bp)
    app.add_url_rule('/instances/<server_id>', 'instances.detail', lambda server_id: '')
    app.add_url_rule('/instances/', 'instances.index', lambda: '')
    app.add_url_rule('/', 'overview.index', lambda: '')
    return app


def test_refused_form_says_why_and_sends_nothing(app, monkeypatch):
    sent = []
    monkeypatch.setattr('dashboard.cloud.conn', lambda: types.SimpleNamespace(
        compute=types.SimpleNamespace(request=lambda *a, **k: sent.append(a))))
    client = app.test_client()
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 't', 'body': {}}
    r = client.post(URL + 'resize', data={'flavor': '../x'},
                    headers={'HX-Request': 'true'})
    assert r.status_code == 422
    assert r.headers['HX-Retarget'] == '#alerts'
    assert "Flavor '../x' is not an id." in html.unescape(r.get_data(as_text=True))
    r = client.post(URL + 'nope', data={})
    assert r.status_code == 404
    r = client.post('/instances/not-an-id/do/stop', data={})
    assert r.status_code == 404
    assert sent == []


def test_accepted_action_answers_with_its_request_id(app, monkeypatch):
    sent = []

    def request(path, method, json=None, **kw):
        sent.append((method, path, json))
        return types.SimpleNamespace(status_code=202,
                                     headers={'x-openstack-request-id': 'req-1'})
    monkeypatch.setattr('dashboard.cloud.conn', lambda: types.SimpleNamespace(
        compute=types.SimpleNamespace(request=request)))
    client = app.test_client()
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 't', 'body': {}}
    r = client.post(URL + 'reboot-hard', headers={'HX-Request': 'true'})
    assert r.status_code == 200 and r.headers['HX-Trigger'] == 'instance-changed'
    body = r.get_data(as_text=True)
    assert 'Hard reboot requested.' in body and 'req-1' in body
    assert sent == [('POST', '/servers/%s/action' % SID, {'reboot': {'type': 'HARD'}})]
    # Without htmx: the message is flashed and the page comes back.
    r = client.post(URL + 'stop', data={'back': '/instances/%s/volumes' % SID})
    assert r.status_code == 302 and r.headers['Location'].endswith('/instances/%s/volumes' % SID)
    r = client.post(URL + 'stop', data={'back': 'https://elsewhere/'})
    assert r.headers['Location'].endswith('/instances/%s' % SID)
