"""lock/unlock, pause/unpause, suspend/resume and rebuild at the compute
API, with the compute agents replaced by a recorder: the state table's
409s, the lock's rules, what is cast and what is recorded."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from common.db import instances

V = {'OpenStack-API-Version': 'compute 2.61'}
IMAGE = {'id': '11111111-2222-4333-8444-555555555555', 'status': 'active', 'size': 1024,
         'virtual_size': 1024, 'min_disk': 0, 'min_ram': 0, 'disk_format': 'qcow2',
         'properties': {}}
IMAGE2 = dict(IMAGE, id='22222222-2222-4333-8444-555555555555')


@pytest.fixture
def nova(client, admin_token, demo_token, monkeypatch):
    from api.compute import bootstrap
    from api.compute import images
    from api.compute import servers
    from compute import rpcapi as compute_rpcapi
    bootstrap.bootstrap()
    casts = []

    class Scheduler:
        def build_instances(self, ctx, uuids):
            pass

        def select_destination(self, ctx, uuid, consumer_uuid, flavor, **kwargs):
            from scheduler import moves  # as the scheduler service would, in process
            return moves.select_destination(ctx, uuid, consumer_uuid, flavor, **kwargs)

    class Compute:
        fail = None

        def __getattr__(self, method):
            def cast(ctx, host, instance, **kwargs):
                if Compute.fail is not None:
                    raise Compute.fail
                casts.append((method, host, instance['uuid'], instance['task_state'],
                              kwargs))
            return cast

    known = {IMAGE['id']: IMAGE, IMAGE2['id']: IMAGE2}

    def get_image(ctx, ref):
        from common import exception
        if ref not in known:
            raise exception.BadRequest('Can not find requested image %s.' % ref)
        return dict(known[ref])
    monkeypatch.setattr(images, 'get', get_image)
    monkeypatch.setattr(servers.scheduler_rpcapi, 'SchedulerAPI', Scheduler)
    monkeypatch.setattr(compute_rpcapi, 'ComputeAPI', Compute)
    tokens = {'admin': admin_token, 'demo': demo_token}

    def call(method, path, body=None, status=None, who='demo', version=V):
        r = client.open('/compute/v2.1' + path, method=method, json=body,
                        headers=dict(version, **{'X-Auth-Token': tokens[who]}))
        if status is not None:
            assert r.status_code == status, r.get_data(as_text=True)
        return r
    call.casts, call.compute, call.client = casts, Compute, client
    return call


@pytest.fixture
def server(nova):
    """A demo server placed on h1 and ACTIVE."""
    body = {'server': {'name': 'vm', 'imageRef': IMAGE['id'], 'flavorRef': '1',
                       'networks': 'none'}}
    sid = nova('POST', '/servers', body, 202).get_json()['server']['id']
    instances.update(sid, {'host': 'h1', 'vm_state': st.ACTIVE, 'task_state': None})
    return sid


def act(nova, sid, body, status, who='demo'):
    return nova('POST', '/servers/%s/action' % sid, body, status, who=who)


def show(nova, sid, who='demo'):
    return nova('GET', '/servers/' + sid, status=200, who=who).get_json()['server']


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
