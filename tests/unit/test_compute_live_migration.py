"""The compute agents' live migration flow with two fake drivers (source
and destination agents sharing a scheduler that keeps the books in a
dict): the guest moves and the source reports it done; a failure anywhere
leaves it on its source, rolled back on the destination, reported; an
agent that restarts mid-migration settles by where the guest is."""

import pytest

from common import instance_states as st
from compute import manager as manager_mod
from compute.virt import exception
from compute.virt import fake
from compute.virt import power_state
from tests.unit.test_compute_lifecycle_actions import CTX
from tests.unit.test_compute_lifecycle_actions import agent  # noqa: F401 - a fixture
from tests.unit.test_compute_lifecycle_actions import boot

MIG = {'uuid': 'mig-1', 'migration_type': 'live-migration', 'source_compute': 'h1',
       'dest_compute': 'h2'}


class Agents:
    """compute rpcapi: calls go straight to the destination's manager."""

    def __init__(self, dest):
        self.dest = dest

    def pre_live_migration(self, ctx, host, instance, migration, source, timeout=None):
        return self.dest.pre_live_migration(ctx, instance, migration, source)

    def rollback_live_migration_at_destination(self, ctx, host, instance, timeout=None):
        return self.dest.rollback_live_migration_at_destination(ctx, instance)


@pytest.fixture
def pair(agent):  # noqa: F811
    """(source agent, destination agent), one scheduler's books."""
    dest = manager_mod.ComputeManager(driver=fake.FakeDriver())
    dest.host, dest.books, dest.scheduler = 'h2', agent.books, agent.books
    dest.images, dest.cache = agent.images, agent.cache
    agent.live_migrations.compute = Agents(dest)
    reports = []

    def live_migration_report(ctx, uuid, migration_uuid, step, ok, power, message=None):
        reports.append((step, ok, power, message))
        inst = agent.books.instances[uuid]
        if step == 'prepare':
            return {'network_info': []}
        inst.update(task_state=None, host='h2' if ok else 'h1')
        return dict(inst)
    agent.books.live_migration_report = live_migration_report
    agent.books.reports = reports
    for mgr in (agent, dest):
        mgr._sync_network = lambda ctx: True
    return agent, dest


def start(agent):  # noqa: F811
    inst = boot(agent)
    agent.books.instances[inst['uuid']]['task_state'] = st.MIGRATING
    return dict(agent.books.instances[inst['uuid']])


def test_the_guest_moves_and_the_books_follow(pair):
    src, dest = pair
    inst = start(src)
    src.live_migration(CTX, inst, MIG)
    assert inst['uuid'] not in src.driver.instances
    assert dest.driver.instances[inst['uuid']]['state'] == power_state.RUNNING
    assert src.books.reports == [('prepare', True, power_state.RUNNING, None),
                                 ('migrate', True, power_state.RUNNING, None)]
    assert ('cleanup_live_migration_source', inst['uuid']) in src.driver.calls
    assert src.books.instances[inst['uuid']]['host'] == 'h2'
    assert [e for e in src.books.events if e[0] == 'compute_live_migration'] == [
        ('compute_live_migration', 'start', None), ('compute_live_migration', 'finish', None)]


def test_a_failed_move_leaves_the_guest_on_its_source(pair):
    src, dest = pair
    inst = start(src)
    src.driver.fail_next['live_migration'] = exception.VirtError(reason='link down')
    src.live_migration(CTX, inst, MIG)
    assert src.driver.instances[inst['uuid']]['state'] == power_state.RUNNING
    assert inst['uuid'] not in dest.driver.instances
    assert ('rollback_live_migration', inst['uuid']) in dest.driver.calls
    step, ok, power, message = src.books.reports[-1]
    assert (step, ok, power) == ('migrate', False, power_state.RUNNING)
    assert 'link down' in message and 'h2' in message
    assert src.books.events[-1] == ('compute_live_migration', 'finish', 'Error')
    assert src.books.instances[inst['uuid']]['host'] == 'h1'


def test_a_destination_that_cannot_prepare_fails_the_move(pair):
    src, dest = pair
    inst = start(src)
    dest.driver.instances[inst['uuid']] = dict(src.driver.instances[inst['uuid']])
    src.live_migration(CTX, inst, MIG)
    step, ok, _power, message = src.books.reports[-1]
    assert (step, ok) == ('migrate', False) and 'exists' in message
    assert ('live_migration', inst['uuid']) not in src.driver.calls
    assert ('compute_pre_live_migration', 'finish', 'Error') in src.books.events


@pytest.mark.parametrize('here', [True, False])
def test_a_restarted_source_settles_by_where_the_guest_is(pair, here):
    src, dest = pair
    inst = start(src)
    if not here:  # it moved before the agent died
        dest.driver.instances[inst['uuid']] = src.driver.instances.pop(inst['uuid'])
    src.books.instances[inst['uuid']]['migration'] = MIG
    src.reconcile()
    step, ok, _power, message = src.books.reports[-1]
    assert (step, ok) == ('migrate', not here)
    assert src.books.instances[inst['uuid']]['task_state'] is None
    if here:
        assert ('abort_live_migration', inst['uuid']) in src.driver.calls
        assert 'restarted' in message


def test_the_destination_check(pair):
    src, dest = pair
    assert dest.check_live_migration_destination(CTX, {'uuid': 'x'}) is None
    dest.driver.live_migration.refuse = 'host h2 does not accept live migrations'
    assert 'does not accept' in dest.check_live_migration_destination(CTX, {'uuid': 'x'})
