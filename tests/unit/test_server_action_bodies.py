"""Every server action's body against Nova's schema for that action and
microversion: the forms Nova takes get through to the action, the ones it
refuses are its 400 (badRequest). The actions themselves are replaced by a
recorder here; their own tests are beside them (test_server_*.py)."""

import pytest

from api.compute import server_actions

IMG = '11111111-2222-4333-8444-555555555555'

# (action, value, microversion) that Nova accepts
ACCEPTED = [
    ('os-stop', None, '2.1'), ('os-stop', {}, '2.1'), ('os-stop', {'x': 1}, '2.61'),
    ('os-start', None, '2.1'), ('os-start', {}, '2.61'),
    ('lock', None, '2.1'), ('lock', {}, '2.1'), ('lock', {'locked_reason': 'r'}, '2.61'),
    ('unlock', None, '2.1'), ('unlock', {}, '2.61'),
    ('pause', {}, '2.1'), ('unpause', {}, '2.1'), ('suspend', {}, '2.1'),
    ('resume', None, '2.1'),
    ('confirmResize', None, '2.1'), ('confirmResize', {}, '2.1'),
    ('revertResize', {}, '2.61'),
    ('reboot', {'type': 'HARD'}, '2.1'), ('reboot', {'type': 'soft'}, '2.1'),
    ('reboot', {'type': 'Soft'}, '2.61'),
    ('os-getConsoleOutput', {}, '2.1'), ('os-getConsoleOutput', {'length': 10}, '2.1'),
    ('os-getConsoleOutput', {'length': '-1'}, '2.1'),
    ('os-getConsoleOutput', {'length': None}, '2.1'),
    ('addSecurityGroup', {'name': 'default'}, '2.1'),
    ('removeSecurityGroup', {'name': 'x' * 300}, '2.1'),
    ('resize', {'flavorRef': '2'}, '2.1'), ('resize', {'flavorRef': 2}, '2.1'),
    ('resize', {'flavorRef': '2', 'OS-DCF:diskConfig': 'AUTO'}, '2.61'),
    ('migrate', None, '2.1'), ('migrate', {}, '2.1'),
    ('migrate', {'host': 'anything at all'}, '2.55'),  # not read before 2.56
    ('migrate', None, '2.56'), ('migrate', {'host': None}, '2.56'),
    ('migrate', {'host': 'h2'}, '2.56'),
    ('os-migrateLive', {'block_migration': False, 'disk_over_commit': 'no',
                        'host': None}, '2.1'),
    ('os-migrateLive', {'block_migration': 'True', 'disk_over_commit': False,
                        'host': 'h2'}, '2.24'),
    ('os-migrateLive', {'block_migration': 'auto', 'host': None}, '2.25'),
    ('os-migrateLive', {'block_migration': True, 'host': 'h2', 'force': 'yes'}, '2.30'),
    ('evacuate', {'onSharedStorage': 'False'}, '2.1'),
    ('evacuate', {'onSharedStorage': False, 'host': 'h2', 'adminPass': 'p'}, '2.13'),
    ('evacuate', {}, '2.14'), ('evacuate', {'host': 'h2', 'force': True}, '2.29'),
    ('os-resetState', {'state': 'active'}, '2.1'), ('os-resetState', {'state': 'error'}, '2.1'),
    ('createImage', {'name': 'snap'}, '2.1'),
    ('createImage', {'name': 'snap', 'metadata': {'a b:c.d-e_f': 'v'}}, '2.61'),
    ('rebuild', {'imageRef': IMG}, '2.1'),
    ('rebuild', {'imageRef': IMG, 'name': 'n', 'adminPass': 'p', 'metadata': {'k': 'v'},
                 'preserve_ephemeral': 'false', 'accessIPv4': '1.2.3.4',
                 'accessIPv6': '80fe::', 'OS-DCF:diskConfig': 'MANUAL',
                 'personality': [{'path': '/f', 'contents': 'eA=='}]}, '2.1'),
    ('rebuild', {'imageRef': IMG, 'description': None}, '2.19'),
    ('rebuild', {'imageRef': IMG, 'key_name': None}, '2.54'),
    ('rebuild', {'imageRef': IMG, 'user_data': None}, '2.57'),
    ('os-getVNCConsole', {'type': 'novnc'}, '2.1'),
    ('os-getSPICEConsole', {'type': 'spice-html5'}, '2.5'),
    ('os-getSerialConsole', {'type': 'serial'}, '2.1'),
    ('os-getRDPConsole', {'type': 'anything'}, '2.1'),
]

# (action, value, microversion) that Nova refuses with a 400
REFUSED = [
    ('reboot', None, '2.1'), ('reboot', {}, '2.1'), ('reboot', {'type': 'hArD'}, '2.1'),
    ('reboot', {'type': 'HARD', 'x': 1}, '2.1'),
    ('os-getConsoleOutput', None, '2.1'), ('os-getConsoleOutput', {'length': 'x'}, '2.1'),
    ('os-getConsoleOutput', {'length': -2}, '2.1'),
    ('addSecurityGroup', {}, '2.1'), ('addSecurityGroup', {'name': ''}, '2.1'),
    ('resize', {}, '2.1'), ('resize', {'flavorRef': ''}, '2.1'),
    ('migrate', {'x': 1}, '2.56'), ('migrate', {'host': 'bad host'}, '2.56'),
    ('os-migrateLive', {'block_migration': True, 'host': None}, '2.1'),
    ('os-migrateLive', {'block_migration': 'auto', 'disk_over_commit': False,
                        'host': None}, '2.24'),
    ('os-migrateLive', {'block_migration': True, 'disk_over_commit': False,
                        'host': None}, '2.25'),
    ('os-migrateLive', {'block_migration': True, 'host': None, 'force': True}, '2.29'),
    ('os-migrateLive', {'block_migration': 'maybe', 'host': None}, '2.30'),
    ('evacuate', {}, '2.1'), ('evacuate', {'onSharedStorage': False}, '2.14'),
    ('evacuate', {'force': True}, '2.28'),
    ('os-resetState', {'state': 'stopped'}, '2.1'),
    ('createImage', {}, '2.1'), ('createImage', {'name': 's', 'metadata': {'a/b': 'v'}},
                                 '2.1'),
    ('rebuild', {}, '2.1'), ('rebuild', {'imageRef': IMG, 'colour': 'red'}, '2.1'),
    ('rebuild', {'imageRef': IMG, 'accessIPv4': 'not-an-ip'}, '2.1'),
    ('rebuild', {'imageRef': IMG, 'description': 'd'}, '2.18'),
    ('rebuild', {'imageRef': IMG, 'key_name': 'k'}, '2.53'),
    ('rebuild', {'imageRef': IMG, 'user_data': 'eA=='}, '2.56'),
    ('rebuild', {'imageRef': IMG, 'personality': []}, '2.57'),
    ('os-getVNCConsole', {'type': 'serial'}, '2.1'), ('os-getVNCConsole', {}, '2.5'),
    ('os-getSPICEConsole', {'type': 'spice-direct'}, '2.1'),
    ('os-getSerialConsole', {'type': 'novnc'}, '2.1'),
]


@pytest.fixture
def reached(monkeypatch):
    """The actions that got past validation, with the value they got."""
    seen = []

    def recorder(name):
        def handler(ctx, inst, body):
            seen.append((name, body))
        return handler
    monkeypatch.setattr(server_actions, '_HANDLERS',
                        {name: recorder(name) for name in server_actions._HANDLERS})
    return seen


def _post(nova, sid, action, value, version):
    return nova('POST', '/servers/%s/action' % sid, {action: value}, who='admin',
                version={'OpenStack-API-Version': 'compute %s' % version})


@pytest.mark.parametrize('action,value,version', ACCEPTED)
def test_nova_accepts(nova, server, reached, action, value, version):
    r = _post(nova, server, action, value, version)
    assert r.status_code == 202, r.get_data(as_text=True)
    assert reached == [(action, value)]


@pytest.mark.parametrize('action,value,version', REFUSED)
def test_nova_refuses(nova, server, reached, action, value, version):
    r = _post(nova, server, action, value, version)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()['badRequest']['code'] == 400
    assert reached == []


def test_every_action_served_is_covered():
    assert set(server_actions._HANDLERS) == {a for a, _v, _mv in ACCEPTED}


def test_stop_and_unlock_take_an_empty_object(nova, server):
    # The regression: {"os-stop": {}} was "{} is not of type 'null'".
    nova('POST', '/servers/%s/action' % server, {'lock': {}}, 202)
    nova('POST', '/servers/%s/action' % server, {'unlock': {}}, 202)
    nova('POST', '/servers/%s/action' % server, {'os-stop': {}}, 202)


def test_legacy_console_actions_are_gone_from_2_6(nova, server):
    r = nova('POST', '/servers/%s/action' % server, {'os-getSerialConsole': {'type': 'x'}},
             version={'OpenStack-API-Version': 'compute 2.6'})
    assert r.status_code == 404
