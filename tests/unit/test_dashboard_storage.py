"""The storage and network pages' own logic, without a cloud: what a rule
form sends (typed text left for the API to judge), how a rule's ports read,
the live-list watcher's events (first look, changes, new and gone items, a
service that stops answering), the stream's ?watch= choice, and a create
form refused before any API call. Fakes only stand in for the API here;
tests/dashboard/test_volumes_security.py runs the real thing."""

import pytest
from werkzeug import exceptions as wz_exc

from common.conf import CONF
from dashboard import cloud
from dashboard import live
from dashboard.views import events
from dashboard.views import security_groups
from dashboard.views import volume_snapshots
from dashboard.views import volumes


@pytest.fixture
def app(conf, tmp_path):
    CONF.set_override('state_path', str(tmp_path / 'dashboard'), 'dashboard')
    from dashboard import app as app_mod
    app = app_mod.create_app()
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    yield app
    CONF.clear_override('state_path', 'dashboard')


# -- security group rules ---------------------------------------------------------

def test_rule_body_tcp_range_from_a_cidr():
    rule = security_groups.rule_body('g1', {
        'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp', 'port_min': '80',
        'port_max': '81', 'remote': 'cidr', 'remote_ip': ' 10.0.0.0/8 '})
    assert rule == {'security_group_id': 'g1', 'direction': 'ingress', 'ethertype': 'IPv4',
                    'protocol': 'tcp', 'port_range_min': 80, 'port_range_max': 81,
                    'remote_ip_prefix': '10.0.0.0/8'}


def test_rule_body_one_port_means_that_port():
    rule = security_groups.rule_body('g1', {'protocol': 'udp', 'port_min': '53'})
    assert (rule['port_range_min'], rule['port_range_max']) == (53, 53)
    assert (rule['direction'], rule['ethertype']) == ('ingress', 'IPv4')


def test_rule_body_icmp_type_and_code_and_any_protocol():
    rule = security_groups.rule_body('g1', {'protocol': 'icmp', 'icmp_type': '8',
                                            'icmp_code': '0', 'port_min': '22'})
    assert (rule['port_range_min'], rule['port_range_max']) == (8, 0)
    rule = security_groups.rule_body('g1', {'protocol': 'any', 'direction': 'egress'})
    assert 'protocol' not in rule and 'port_range_min' not in rule
    assert rule['direction'] == 'egress'


def test_rule_body_leaves_bad_input_to_the_api():
    rule = security_groups.rule_body('g1', {'protocol': '6', 'port_min': 'http',
                                            'remote_ip': '10.0.0.300/8'})
    assert rule['protocol'] == 6
    assert rule['port_range_min'] == rule['port_range_max'] == 'http'
    assert rule['remote_ip_prefix'] == '10.0.0.300/8'


def test_rule_body_remote_group(app):
    with app.test_request_context():
        rule = security_groups.rule_body('g1', {'remote': 'group', 'remote_group': 'g2',
                                                'remote_ip': '10.0.0.0/8'})
        assert rule['remote_group_id'] == 'g2' and 'remote_ip_prefix' not in rule
        with pytest.raises(wz_exc.BadRequest):
            security_groups.rule_body('g1', {'remote': 'group'})


@pytest.mark.parametrize('rule, text', [
    ({'protocol': 'tcp', 'port_range_min': 22, 'port_range_max': 22}, '22'),
    ({'protocol': 'tcp', 'port_range_min': 8000, 'port_range_max': 8080}, '8000-8080'),
    ({'protocol': None}, 'any'),
    ({'protocol': 'icmp', 'port_range_min': 8, 'port_range_max': 0}, 'type 8 code 0'),
    ({'protocol': 'icmp'}, 'any'),
])
def test_port_range(rule, text):
    assert security_groups.port_range(rule) == text


# -- the live lists -----------------------------------------------------------------

class FakeWatch(live.ListWatch):
    kind = 'thing'
    service = 'volumev3'
    busy = frozenset({'creating'})

    def __init__(self, answers):
        super().__init__(conn=None)
        self.answers = answers

    def fetch(self):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def row(self, item):
        return 'row %s %s' % (item['id'], item['status'])

    def badge(self, item):
        return 'badge %s' % item['status']


def _events(watch):
    watch.next_at = 0
    out = []
    for chunk in watch.events():
        lines = chunk.strip().splitlines()
        out.append((lines[0][len('event: '):], '\n'.join(x[len('data: '):] for x in lines[1:])))
    return out


def test_watch_first_look_sends_only_what_may_have_moved():
    watch = FakeWatch([[{'id': 'a', 'status': 'creating'},
                        {'id': 'b', 'status': 'available', 'updated_at': '2000-01-01T00:00:00'}]])
    assert _events(watch) == [('thing-a', 'row a creating'), ('thing-a-status', 'badge creating')]


def test_watch_changes_new_and_gone(app):
    watch = FakeWatch([
        [{'id': 'a', 'status': 'creating'}, {'id': 'b', 'status': 'available'}],
        [{'id': 'a', 'status': 'available'}, {'id': 'b', 'status': 'available'},
         {'id': 'c', 'status': 'creating'}],
        [{'id': 'c', 'status': 'creating'}],
    ])
    with app.test_request_context():
        _events(watch)
        assert _events(watch) == [
            ('thing-a', 'row a available'), ('thing-a-status', 'badge available'),
            ('thing-c', 'row c creating'), ('thing-c-status', 'badge creating'),
            ('thing-new', 'row c creating')]
        assert watch.next_at > 0   # c is in transition: look again at the next poll
        assert _events(watch) == [('thing-a', ''), ('thing-a-status', 'badge deleted'),
                                  ('thing-b', ''), ('thing-b-status', 'badge deleted')]


def test_watch_says_once_that_its_service_is_down_and_when_it_is_back(app):
    down = cloud.APIError('volume (Cinder)', 'The volume (Cinder) service does not answer.',
                          down=True)
    watch = FakeWatch([[{'id': 'a', 'status': 'available'}], down, down,
                       [{'id': 'a', 'status': 'available'}]])
    with app.test_request_context():
        _events(watch)
        first = _events(watch)
        assert [e for e, _d in first] == ['things-down']
        assert 'does not answer' in first[0][1] and 'Live things paused' in first[0][1]
        assert _events(watch) == []
        assert _events(watch) == [('things-down', '')]


def test_stream_watches_what_the_page_asks_for(app):
    with app.test_request_context('/events?watch=volumes&watch=snapshots&watch=bogus'
                                  '&watch=volumes'):
        found = events.page_watchers(conn='conn')
    assert [type(w) for w in found] == [volumes.VolumeWatch, volume_snapshots.SnapshotWatch]
    assert all(w.conn == 'conn' for w in found)


def test_live_time_reads_the_apis_formats():
    assert live.parse_time('2026-12-06T20:11:37.680891').second == 37
    assert live.parse_time('2026-12-06T20:11:37Z').minute == 11
    assert live.parse_time('2026-12-06T20:11:37+00:00').hour == 20
    assert live.parse_time('soon') is None and live.parse_time(None) is None


# -- a form refused before the API is asked ------------------------------------------

def _sign_in(client):
    with client.session_transaction() as sess:
        sess['scoped'] = {'token': 'not-used', 'body': {}}
        sess['me'] = {'project_id': 'p', 'project_name': 'demo', 'roles': ['member']}


def test_create_from_an_image_without_one_says_so(app):
    client = app.test_client()
    _sign_in(client)
    r = client.post('/volumes/create', data={'source': 'image', 'size': '1'})
    assert r.status_code == 400
    assert b'Choose the image to create the volume from.' in r.data
    r = client.post('/volumes/create', data={'source': 'snapshot'},
                    headers={'HX-Request': 'true'})
    assert r.status_code == 400 and r.headers['HX-Retarget'] == '#alerts'
    assert b'Choose the volume snapshot' in r.data


def test_forms_need_a_signed_in_user(app):
    r = app.test_client().post('/floating-ips/allocate', data={'network': 'n'})
    assert r.status_code == 302 and '/login' in r.headers['Location']


def test_a_slow_request_does_not_write_back_a_stale_session(app):
    """A fragment or the event stream that read the session before a page
    consumed its flash messages must not bring them back when it ends."""
    client = app.test_client()
    _sign_in(client)
    with client.session_transaction() as sess:
        sess['_flashes'] = [('success', 'Volume v is being extended.')]
    cookie = client.get_cookie('altostack_session').value
    iface = app.session_interface
    headers = {'Cookie': 'altostack_session=%s' % cookie}
    with app.test_request_context('/volumes/v/part', headers=headers) as slow:
        stale = iface.open_session(app, slow.request)
    with app.test_request_context('/volumes/v', headers=headers) as page:
        fresh = iface.open_session(app, page.request)
        fresh.pop('_flashes')
        iface.save_session(app, fresh, app.response_class())
    with app.test_request_context('/volumes/v/part', headers=headers):
        iface.save_session(app, stale, app.response_class())
    with app.test_request_context('/', headers=headers) as later:
        assert '_flashes' not in iface.open_session(app, later.request)
