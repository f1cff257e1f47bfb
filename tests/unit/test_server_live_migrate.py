"""os-migrateLive at the compute API, with the agents replaced by a
recorder and their reports applied as the scheduler applies them: codes,
the state table, the destination's claim, the records after a move or a
failure, and what a restarting agent learns."""

import pytest

from common import instance_states as st
from common.db import instances
from conductor import live_migration as scheduler_lm
from conductor import records
from conductor import resizes
from scheduler import claims
from tests.fixtures.nova_api import show
from tests.fixtures.resize_api import CTX
from tests.fixtures.resize_api import RUNNING
from tests.fixtures.resize_api import TINY
from tests.fixtures.resize_api import add_host
from tests.fixtures.resize_api import used

pytestmark = pytest.mark.usefixtures('no_cache_thread')

PAUSED = 3
NONE = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
V230 = {'OpenStack-API-Version': 'compute 2.30'}


@pytest.fixture
def server(claimed_server):
    """The servers here hold their claim on h1."""
    return claimed_server


def live(nova, sid, host=None, status=202, block='auto', who='admin', version=V230,
         **extra):
    body = {'os-migrateLive': dict({'host': host, 'block_migration': block}, **extra)}
    return nova('POST', '/servers/%s/action' % sid, body, status, who=who, version=version)


def report(sid, step, ok=True, power=RUNNING):
    mig = resizes.get_open(sid)
    return scheduler_lm.report(CTX, sid, mig.uuid, step, ok, power,
                               message=None if ok else 'it broke')


def test_state_table():
    assert st.allowed('live_migrate', st.ACTIVE, None)
    assert st.allowed('live_migrate', st.PAUSED, None)
    for vm, task in ((st.STOPPED, None), (st.SUSPENDED, None), (st.RESIZED, None),
                     (st.ACTIVE, st.MIGRATING), (st.ACTIVE, st.POWERING_OFF),
                     (st.ERROR, None)):
        assert not st.allowed('live_migrate', vm, task), (vm, task)
    assert st.status(st.ACTIVE, st.MIGRATING) == 'MIGRATING'
    assert st.status(st.PAUSED, st.MIGRATING) == 'MIGRATING'


def test_live_migration_moves_host_and_claims(nova, server):
    add_host('h2')
    live(nova, server)
    srv = show(nova, server, who='admin')
    assert srv['status'] == 'MIGRATING'
    assert srv['OS-EXT-STS:task_state'] == 'migrating'
    checks = [c for c in nova.casts if c[0] == 'check_live_migration_destination']
    assert [c[1] for c in checks] == ['h2']
    method, host, uuid, task, kwargs = nova.casts[-1]
    assert (method, host, uuid, task) == ('live_migration', 'h1', server, st.MIGRATING)
    mig = kwargs['migration']
    assert (mig['migration_type'], mig['source_compute'], mig['dest_compute']) == (
        'live-migration', 'h1', 'h2')
    # Both hosts hold the flavor while it moves.
    assert used('h1') == TINY and used('h2') == TINY
    assert report(server, 'prepare') == {'network_info': [], 'block_devices': []}
    inst = report(server, 'migrate')
    assert (inst['host'], inst['vm_state'], inst['task_state']) == ('h2', st.ACTIVE, None)
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', 'h2')
    assert used('h1') == NONE and used('h2') == TINY
    assert list(claims.held(server)) == [claims.node_for_host('h2').id]
    assert resizes.get(mig['uuid']).status == 'completed'
    assert resizes.get_open(server) is None
    # And back again.
    live(nova, server, host='h1')
    report(server, 'migrate')
    assert used('h1') == TINY and used('h2') == NONE
    assert instances.get(server).host == 'h1'


def test_a_paused_server_moves_and_stays_paused(nova, server):
    add_host('h2')
    instances.update(server, {'vm_state': st.PAUSED, 'power_state': PAUSED})
    live(nova, server)
    inst = report(server, 'migrate', power=PAUSED)
    assert (inst['host'], inst['vm_state']) == ('h2', st.PAUSED)


def test_a_failed_migration_leaves_it_on_its_source(nova, server):
    add_host('h2')
    live(nova, server)
    mig = resizes.get_open(server)
    inst = report(server, 'migrate', ok=False)
    assert (inst['host'], inst['vm_state'], inst['task_state']) == ('h1', st.ACTIVE, None)
    assert used('h1') == TINY and used('h2') == NONE
    assert resizes.get(mig.uuid).status == 'error'
    # A report of the same migration once over changes nothing.
    assert scheduler_lm.report(CTX, server, mig.uuid, 'prepare', True, RUNNING) is None


def test_only_admins(nova, server):
    add_host('h2')
    live(nova, server, who='demo', status=403)
    assert show(nova, server)['status'] == 'ACTIVE'


def test_no_other_host_is_400_with_the_reason(nova, server):
    r = live(nova, server, status=400)
    msg = r.get_json()['badRequest']['message']
    assert 'No valid host was found' in msg and "h1 is the server's own host" in msg, msg
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert used('h1') == TINY


def test_named_hosts_unknown_full_or_own_are_400(nova, server):
    add_host('h2', memory_mb=256)
    msg = live(nova, server, host='nosuch', status=400).get_json()['badRequest']['message']
    assert 'nosuch is not known' in msg, msg
    msg = live(nova, server, host='h2', status=400).get_json()['badRequest']['message']
    assert 'h2 has 256 MB free, needs 512' in msg, msg
    msg = live(nova, server, host='h1', status=400).get_json()['badRequest']['message']
    assert "server's own host" in msg, msg
    assert used('h1') == TINY and used('h2') == NONE
    assert show(nova, server)['status'] == 'ACTIVE'


def test_a_destination_that_refuses_is_400_and_gives_its_claim_back(nova, server):
    add_host('h2')
    nova.compute.check_live_migration_destination = (
        lambda self, ctx, host, instance, timeout=None: 'host h2 does not accept live '
        'migrations: its libvirtd does not answer')
    msg = live(nova, server, status=400).get_json()['badRequest']['message']
    assert 'does not accept live migrations' in msg, msg
    assert not [c for c in nova.casts if c[0] == 'live_migration']
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host'] if 'OS-EXT-SRV-ATTR:host' in srv
            else 'h1') == ('ACTIVE', 'h1')
    assert used('h1') == TINY and used('h2') == NONE
    assert resizes.get_open(server) is None
    actions = nova('GET', '/servers/%s/os-instance-actions' % server,
                   status=200, who='admin').get_json()['instanceActions']
    detail = nova('GET', '/servers/%s/os-instance-actions/%s' % (
        server, actions[0]['request_id']), status=200, who='admin').get_json()
    events = [(e['event'], e['result']) for e in detail['instanceAction']['events']]
    assert events == [('compute_prep_resize', 'Error')]
    assert 'does not accept' in detail['instanceAction']['events'][0]['traceback']


def test_a_destination_that_refuses_makes_way_for_the_next(nova, server):
    add_host('h2', memory_mb=16384)  # the best by weight: tried first
    add_host('h3')
    asked = []

    def check(self, ctx, host, instance, timeout=None):
        asked.append(host)
        return 'its libvirtd does not listen' if host == 'h2' else None
    nova.compute.check_live_migration_destination = check
    live(nova, server)
    assert asked == ['h2', 'h3']
    method, host, _uuid, _task, kwargs = nova.casts[-1]
    assert (method, host, kwargs['migration']['dest_compute']) == ('live_migration', 'h1',
                                                                   'h3')
    assert used('h2') == NONE and used('h3') == TINY and used('h1') == TINY


def test_wrong_states_are_409(nova, server):
    add_host('h2')
    for vm, task in ((st.STOPPED, None), (st.ACTIVE, st.POWERING_OFF), (st.SUSPENDED, None)):
        instances.update(server, {'vm_state': vm, 'task_state': task})
        live(nova, server, status=409)
    assert used('h2') == NONE


@pytest.mark.parametrize('body,version', [
    ({'block_migration': False}, V230),                               # not shared here
    ({'block_migration': 'auto'}, {'OpenStack-API-Version': 'compute 2.24'}),
    ({'block_migration': True, 'disk_over_commit': False}, V230),   # gone in 2.25
    ({'block_migration': 'auto', 'force': True},
     {'OpenStack-API-Version': 'compute 2.29'}),                      # from 2.30
    ({'block_migration': 'sometimes'}, V230),
])
def test_body_is_checked(nova, server, body, version):
    add_host('h2')
    nova('POST', '/servers/%s/action' % server, {'os-migrateLive': dict(host=None, **body)},
         400, who='admin', version=version)
    assert used('h2') == NONE


def test_old_microversions_take_disk_over_commit(nova, server):
    add_host('h2')
    live(nova, server, block=True, disk_over_commit=False,
         version={'OpenStack-API-Version': 'compute 2.1'})
    assert show(nova, server)['status'] == 'MIGRATING'


def test_restarting_agents_learn_of_the_open_migration(nova, server):
    from conductor import manager as conductor_manager
    add_host('h2')
    live(nova, server)
    inst, = conductor_manager.ConductorManager().get_host_instances(CTX, 'h1')
    assert inst['task_state'] == st.MIGRATING
    assert inst['migration']['migration_type'] == 'live-migration'
    assert inst['migration']['dest_compute'] == 'h2'


def test_delete_waits_for_the_move_then_frees_its_claim(nova, server):
    add_host('h2')
    live(nova, server)
    nova('DELETE', '/servers/' + server, status=409)  # the state table: not mid-move
    report(server, 'migrate')
    nova('DELETE', '/servers/' + server, status=204)
    records.finish_delete(CTX.request_id, server)
    assert used('h1') == NONE and used('h2') == NONE
