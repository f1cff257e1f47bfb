"""lock/unlock, pause/unpause, suspend/resume and rebuild at the compute
API, with the compute agents replaced by a recorder: the state table's
409s, the lock's rules, what is cast and what is recorded."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from common.db import instances
from tests.fixtures.nova_api import IMAGE
from tests.fixtures.nova_api import IMAGE2
from tests.fixtures.nova_api import act
from tests.fixtures.nova_api import show


def rest(sid, vm_state):
    """What the agent would report once done."""
    instances.update(sid, {'vm_state': vm_state, 'task_state': None})


@pytest.mark.parametrize('action,vm,task,ok', [
    ('pause', st.ACTIVE, None, True), ('pause', st.STOPPED, None, False),
    ('pause', st.ACTIVE, st.POWERING_OFF, False), ('unpause', st.PAUSED, None, True),
    ('unpause', st.ACTIVE, None, False), ('suspend', st.ACTIVE, None, True),
    ('suspend', st.PAUSED, None, False), ('resume', st.SUSPENDED, None, True),
    ('resume', st.STOPPED, None, False), ('rebuild', st.STOPPED, None, True),
    ('rebuild', st.ERROR, None, True), ('rebuild', st.PAUSED, None, False),
    ('rebuild', st.BUILDING, st.SCHEDULING, False), ('stop', st.PAUSED, None, False),
    ('delete', st.SUSPENDED, None, True), ('delete', st.ACTIVE, st.REBUILD_SPAWNING, True),
    ('reboot_hard', st.PAUSED, None, True), ('reboot', st.SUSPENDED, None, False),
])
def test_state_table(action, vm, task, ok):
    assert st.allowed(action, vm, task) is ok


def test_statuses():
    assert st.status(st.PAUSED, None) == 'PAUSED'
    assert st.status(st.SUSPENDED, None) == 'SUSPENDED'
    assert st.status(st.ACTIVE, st.PAUSING) == 'ACTIVE'
    for vm in (st.ACTIVE, st.STOPPED, st.ERROR):
        for task in (st.REBUILDING, st.REBUILD_SPAWNING):
            assert st.status(vm, task) == 'REBUILD'
    assert st.STATUS_TO_VM_STATES['REBUILD'] == {st.ACTIVE, st.STOPPED, st.ERROR}


@pytest.mark.parametrize('action,task,rests', [
    ('pause', st.PAUSING, st.PAUSED), ('suspend', st.SUSPENDING, st.SUSPENDED)])
def test_pause_and_suspend_round_trip(nova, server, action, task, rests):
    undo = {'pause': 'unpause', 'suspend': 'resume'}[action]
    act(nova, server, {action: None}, 202)
    assert nova.casts[-1][:4] == ('%s_instance' % action, 'h1', server, task)
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', task)
    # Busy: a second request is a 409 from the table.
    r = act(nova, server, {action: None}, 409)
    assert ("Cannot '%s' instance %s while it is in vm_state active and task_state %s"
            % (action, server, task)) in r.get_json()['conflictingRequest']['message']
    rest(server, rests)
    assert show(nova, server)['status'] == rests.upper()
    act(nova, server, {action: None}, 409)
    act(nova, server, {'os-stop': None}, 409)
    act(nova, server, {undo: None}, 202)
    assert nova.casts[-1][0] == '%s_instance' % undo
    actions = nova('GET', '/servers/%s/os-instance-actions' % server,
                   status=200).get_json()['instanceActions']
    assert [a['action'] for a in actions][:2] == [undo, action]


def test_nova_message_for_a_stopped_server(nova, server):
    rest(server, st.STOPPED)
    r = act(nova, server, {'pause': None}, 409)
    assert r.get_json()['conflictingRequest']['message'] == \
        "Cannot 'pause' instance %s while it is in vm_state stopped" % server
    assert nova.casts == []


def test_bodies_are_checked(nova, server):
    # (pause and lock take any value, as in Nova: test_server_action_bodies.py)
    act(nova, server, {'rebuild': {}}, 400)
    act(nova, server, {'rebuild': {'imageRef': IMAGE2['id'], 'colour': 'red'}}, 400)
    r = act(nova, server, {'rebuild': {'imageRef': IMAGE2['id'], 'key_name': 'k'}}, 400)
    assert 'key_name' in r.get_data(as_text=True)  # 2.54 is needed, this is 2.1
    r = act(nova, server, {'shelve': None}, 400)
    assert 'not supported yet' in r.get_data(as_text=True)


def test_an_unreachable_agent_leaves_no_task_state(nova, server):
    nova.compute.fail = messaging.MessagingTimeout('no broker')
    try:
        act(nova, server, {'suspend': None}, 503)
    finally:
        nova.compute.fail = None
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)


def test_admin_lock_holds_the_owner_off(nova, server):
    assert show(nova, server)['locked'] is False
    act(nova, server, {'lock': None}, 202, who='admin')
    assert show(nova, server)['locked'] is True
    r = act(nova, server, {'os-stop': None}, 409)
    assert r.get_json()['conflictingRequest']['message'] == 'Instance %s is locked' % server
    for body in ({'pause': None}, {'reboot': {'type': 'HARD'}},
                 {'rebuild': {'imageRef': IMAGE2['id']}}):
        act(nova, server, body, 409)
    nova('DELETE', '/servers/' + server, status=409)
    assert instances.get(server).task_state is None and nova.casts == []
    # The owner may not lift an admin's lock; the admin may act and unlock.
    act(nova, server, {'unlock': None}, 403)
    act(nova, server, {'pause': None}, 202, who='admin')
    rest(server, st.PAUSED)
    act(nova, server, {'unlock': None}, 202, who='admin')
    assert show(nova, server)['locked'] is False
    act(nova, server, {'unpause': None}, 202)


def test_owner_lock(nova, server):
    act(nova, server, {'lock': None}, 202)
    assert instances.get(server).locked_by == 'owner'
    act(nova, server, {'suspend': None}, 409)
    act(nova, server, {'lock': None}, 202)  # again: fine
    act(nova, server, {'unlock': None}, 202)
    act(nova, server, {'unlock': None}, 202)  # not locked: fine
    act(nova, server, {'suspend': None}, 202)
    actions = [a['action'] for a in nova('GET', '/servers/%s/os-instance-actions' % server,
                                         status=200).get_json()['instanceActions']]
    assert actions[:5] == ['suspend', 'unlock', 'unlock', 'lock', 'lock']


def test_locked_is_shown_from_2_9(nova, server):
    old = nova('GET', '/servers/' + server, status=200,
               version={'OpenStack-API-Version': 'compute 2.8'})
    assert 'locked' not in old.get_json()['server']
    assert show(nova, server)['locked'] is False


def test_rebuild(nova, server):
    r = act(nova, server, {'rebuild': {'imageRef': IMAGE2['id'], 'name': 'vm2',
                                       'metadata': {'k': 'v'}}}, 202)
    srv = r.get_json()['server']
    assert (srv['status'], srv['image']['id'], srv['name'], srv['metadata']) == \
        ('REBUILD', IMAGE2['id'], 'vm2', {'k': 'v'})
    method, host, uuid, task, kwargs = nova.casts[-1]
    assert (method, host, uuid, task) == ('rebuild_instance', 'h1', server, st.REBUILDING)
    assert kwargs == {'image_ref': IMAGE2['id'], 'orig_image_ref': IMAGE['id'],
                      'network_info': []}
    act(nova, server, {'rebuild': {'imageRef': IMAGE['id']}}, 409)  # already rebuilding
    rest(server, st.ACTIVE)
    r = act(nova, server, {'rebuild': {'imageRef': 'no-such-image'}}, 400)
    assert 'no-such-image' in r.get_data(as_text=True)
    assert instances.get(server).image_ref == IMAGE2['id']  # nothing changed


def test_rebuild_with_key_and_user_data_at_2_57(nova, server):
    nova('POST', '/os-keypairs', {'keypair': {'name': 'k1'}}, 201)
    v257 = {'OpenStack-API-Version': 'compute 2.57'}
    r = nova('POST', '/servers/%s/action' % server, {'rebuild': {
        'imageRef': IMAGE['id'], 'key_name': 'k1', 'user_data': 'aGk='}}, 202, version=v257)
    assert r.get_json()['server']['key_name'] == 'k1'
    inst = instances.get(server)
    assert inst.user_data == 'aGk=' and inst.key_data.startswith('ssh-rsa')
    rest(server, st.ACTIVE)
    nova('POST', '/servers/%s/action' % server, {'rebuild': {
        'imageRef': IMAGE['id'], 'key_name': 'nope'}}, 400, version=v257)


def test_rebuild_of_an_unplaced_server_is_409(nova):
    body = {'server': {'name': 'lost', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    instances.update(sid, {'vm_state': st.ERROR, 'task_state': None})
    act(nova, sid, {'rebuild': {'imageRef': IMAGE['id']}}, 409)
    assert instances.get(sid).task_state is None


def test_an_admin_resets_the_state_of_a_stuck_server(nova, server):
    instances.update(server, {'task_state': st.POWERING_OFF, 'locked': True})
    r = act(nova, server, {'os-resetState': {'state': 'error'}}, 403)
    assert 'os-resetState' in r.get_data(as_text=True)
    act(nova, server, {'os-resetState': {'state': 'stopped'}}, 400, who='admin')
    act(nova, server, {'os-resetState': {'state': 'error'}}, 202, who='admin')
    srv = show(nova, server, who='admin')
    assert srv['status'] == 'ERROR' and srv['OS-EXT-STS:task_state'] is None
    act(nova, server, {'os-resetState': {'state': 'active'}}, 202, who='admin')
    assert show(nova, server, who='admin')['status'] == 'ACTIVE'
    actions = nova('GET', '/servers/%s/os-instance-actions' % server, who='admin').get_json()
    assert [a['action'] for a in actions['instanceActions']].count('resetState') == 2
