"""migrate (cold migration) and resize to another host at the compute API,
with the agents replaced by a recorder and their reports applied as the
scheduler applies them: Nova's codes, where each step is sent, the claims
on both hosts, and a source that keeps hearing of the server it sent."""

import pytest

from common import instance_states as st
from common.conf import CONF
from common.db import instances
from conductor import manager as conductor_manager
from conductor import records
from conductor import resizes
from scheduler import claims
from tests.fixtures.nova_api import V
from tests.fixtures.nova_api import act
from tests.fixtures.nova_api import show
from tests.fixtures.resize_api import CTX
from tests.fixtures.resize_api import TINY
from tests.fixtures.resize_api import add_host
from tests.fixtures.resize_api import agent_reports
from tests.fixtures.resize_api import used

pytestmark = pytest.mark.usefixtures('no_cache_thread')

ZERO = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
SMALL = {'vcpus': 1, 'memory_mb': 2048, 'disk_gb': 20}


@pytest.fixture
def server(claimed_server):
    """The servers here hold their claim on h1."""
    return claimed_server


def migrate(nova, sid, body=None, status=202, who='admin'):
    return act(nova, sid, {'migrate': body}, status, who=who)


@pytest.fixture
def h2():
    return add_host('h2')


def test_migrate_is_the_admins(nova, server, h2):
    migrate(nova, server, who='demo', status=403)
    assert show(nova, server)['status'] == 'ACTIVE'


def test_migrate_then_confirm(nova, server, h2):
    migrate(nova, server)
    method, host, uuid, task, kwargs = nova.casts[-1]
    assert (method, host, task) == ('resize_instance', 'h1', st.RESIZE_PREP)
    mig = kwargs['migration']
    assert (mig['source_compute'], mig['dest_compute']) == ('h1', 'h2')
    assert mig['migration_type'] == 'migration'
    assert mig['old_flavor'] == mig['new_flavor']
    assert show(nova, server)['status'] == 'RESIZE'
    assert used('h1') == TINY and used('h2') == TINY
    # The destination reports: the server is there now.
    inst = agent_reports(server, 'resize')
    assert (inst['host'], inst['vm_state']) == ('h2', st.RESIZED)
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('VERIFY_RESIZE', 'h2')
    # Its source still hears of it (it keeps the old guest), with the move.
    mgr = conductor_manager.ConductorManager()
    entry, = mgr.get_host_instances(CTX, 'h1')
    assert entry['uuid'] == server and entry['host'] == 'h2'
    assert entry['migration']['dest_compute'] == 'h2'
    assert [i['uuid'] for i in mgr.get_host_instances(CTX, 'h2')] == [server]
    # Confirm goes to the source, which drops its old guest.
    act(nova, server, {'confirmResize': None}, 204)
    assert nova.casts[-1][:2] == ('confirm_resize', 'h1')
    agent_reports(server, 'confirm')
    assert used('h1') == ZERO and used('h2') == TINY
    assert show(nova, server)['status'] == 'ACTIVE'
    assert mgr.get_host_instances(CTX, 'h1') == []
    assert resizes.get(mig['uuid']).status == resizes.CONFIRMED


def test_migrate_then_revert(nova, server, h2):
    migrate(nova, server, {'host': 'h2'})
    agent_reports(server, 'resize')
    act(nova, server, {'revertResize': None}, 202)
    assert nova.casts[-1][:2] == ('revert_resize', 'h2')  # the destination first
    inst = agent_reports(server, 'revert')
    assert (inst['host'], inst['vm_state']) == ('h1', st.ACTIVE)
    assert used('h1') == TINY and used('h2') == ZERO


@pytest.mark.parametrize('body,message', [
    ({'host': 'nowhere'}, 'Compute host nowhere could not be found.'),
    ({'host': 'h1'}, "The target host can't be the same one."),
])
def test_bad_hosts_are_400(nova, server, h2, body, message):
    r = migrate(nova, server, body, status=400)
    assert r.get_json()['badRequest']['message'] == message
    assert show(nova, server)['status'] == 'ACTIVE'
    assert used('h2') == ZERO


def test_before_2_56_the_body_is_not_read(nova, server, h2):
    # As Nova: before 2.56 the value is ignored, an unknown host too.
    nova('POST', '/servers/%s/action' % server, {'migrate': {'host': 'nowhere'}}, 202,
         who='admin', version={'OpenStack-API-Version': 'compute 2.55'})
    assert instances.get(server).task_state == 'resize_prep'
    assert V  # the default version of these tests is newer


def test_no_other_host_is_400_with_the_reason(nova, server):
    r = migrate(nova, server, status=400)
    assert 'No valid host was found' in r.get_json()['badRequest']['message']
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert used('h1') == TINY


def test_a_failure_on_the_way_puts_it_back_on_the_source(nova, server, h2):
    migrate(nova, server)
    inst = agent_reports(server, 'resize', ok=False, message='Starting on h2 failed')
    assert (inst['host'], inst['vm_state']) == ('h1', st.ACTIVE)
    assert used('h1') == TINY and used('h2') == ZERO
    assert 'h2' in instances.get(server).fault['message']  # shown in ERROR only


def test_a_late_failure_report_changes_nothing(nova, server, h2):
    """The destination finished, but the source never heard (a lost reply):
    its failure report must not take the destination's claim away."""
    migrate(nova, server)
    mig = resizes.get_open(server)
    agent_reports(server, 'resize')
    from conductor import resize as scheduler_resize
    assert scheduler_resize.report(CTX, server, mig.uuid, 'resize', False, 1,
                                   message='timed out') is None
    assert instances.get(server).host == 'h2'
    assert used('h1') == TINY and used('h2') == TINY
    assert resizes.get(mig.uuid).status == resizes.FINISHED


def test_delete_in_verify_resize_cleans_both_hosts(nova, server, h2):
    migrate(nova, server)
    agent_reports(server, 'resize')
    nova('DELETE', '/servers/' + server, status=204)
    sent = {c[0]: c[1] for c in nova.casts}
    assert sent['terminate_instance'] == 'h2' and sent['cleanup_migration'] == 'h1'
    records.finish_delete('req', server)
    assert used('h1') == ZERO and used('h2') == ZERO


def test_delete_while_the_host_looks_down_still_tells_the_host(nova, server, monkeypatch):
    # Regression (faults suite, broker outage): the records were deleted here
    # and the guest of a host that only looked down leaked for ever.
    from api.compute import servers
    monkeypatch.setattr(servers, 'host_up', lambda host: False)
    nova('DELETE', '/servers/' + server, status=204)
    assert used('h1') == ZERO  # the records are settled at once
    assert [c[1] for c in nova.casts if c[0] == 'terminate_instance'] == ['h1']


def test_resize_goes_elsewhere_when_the_same_host_is_not_allowed(nova, server,
                                                                  h2, monkeypatch):
    monkeypatch.setattr(CONF, 'allow_resize_to_same_host', False)
    act(nova, server, {'resize': {'flavorRef': '2'}}, 202)
    mig = nova.casts[-1][4]['migration']
    assert (mig['dest_compute'], mig['migration_type']) == ('h2', 'resize')
    assert used('h1') == TINY and used('h2') == SMALL
    agent_reports(server, 'resize')
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm')
    assert used('h1') == ZERO and used('h2') == SMALL
    assert claims.node_for_host('h2').vcpus_used == 1


def test_os_migrations_lists_the_moves(nova, server, h2):
    migrate(nova, server)
    agent_reports(server, 'resize')
    r = nova('GET', '/os-migrations', status=200, who='admin')
    mig, = r.get_json()['migrations']
    assert (mig['instance_uuid'], mig['status'], mig['migration_type']) == (
        server, 'finished', 'migration')
    assert (mig['source_compute'], mig['dest_compute']) == ('h1', 'h2')
    assert mig['old_instance_type_id'] == mig['new_instance_type_id'] is not None
    assert mig['uuid'] == resizes.get_open(server).uuid  # 2.59
    old = nova('GET', '/os-migrations', status=200, who='admin',
               version={'OpenStack-API-Version': 'compute 2.1'}).get_json()['migrations'][0]
    assert 'migration_type' not in old and 'uuid' not in old
    for query, count in (('?instance_uuid=' + server, 1), ('?migration_type=resize', 0),
                         ('?host=h2', 1), ('?status=error', 0), ('?limit=0', 0)):
        got = nova('GET', '/os-migrations' + query, status=200, who='admin')
        assert len(got.get_json()['migrations']) == count, query
    nova('GET', '/os-migrations', status=403)
    assert nova('GET', '/servers/%s/migrations' % server, status=200,
                who='admin').get_json() == {'migrations': []}
