"""The compute agents' live migration flow with two fake drivers (source
and destination agents sharing a scheduler that keeps the records in a
dict): the guest moves and the source reports it done; a failure anywhere
leaves it on its source, rolled back on the destination, reported; an
agent that restarts mid-migration settles by where the guest is."""

import pytest

from common import instance_states as st
from compute import manager as manager_mod
from compute.virt import exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures.compute_agent import CTX
from tests.fixtures.compute_agent import boot

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


class Volumes:
    """The volume service: who is connected to which volume."""

    def __init__(self):
        self.calls = []

    def initialize_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('connect', volume['id'], connector['host']))
        return {'driver_volume_type': 'nbd', 'data': {'host': 'vol', 'name': volume['id']}}

    def terminate_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('disconnect', volume['id'], connector['host']))

    def attach_complete(self, ctx, volume, attachment_id, host_name, device):
        self.calls.append(('attached', volume['id'], host_name, device))


VOLUME = {'attachment_id': 'att-1', 'volume': {'id': 'vol-1'}, 'device': '/dev/vdb',
          'status': 'attached'}


@pytest.fixture
def pair(agent):
    """(source agent, destination agent), one fake conductor."""
    dest = manager_mod.ComputeManager(driver=fake.FakeDriver())
    dest.host, dest.conductor_fake = 'h2', agent.conductor_fake
    dest.scheduler = agent.conductor_fake
    dest.conductor = agent.conductor_fake
    dest.images, dest.cache = agent.images, agent.cache
    agent.live_migrations.compute = Agents(dest)
    reports = []
    volumes = Volumes()
    agent.block.volumes = dest.block.volumes = volumes
    agent.conductor_fake.block_devices = []

    def live_migration_report(ctx, uuid, migration_uuid, step, ok, power, message=None):
        reports.append((step, ok, power, message))
        inst = agent.conductor_fake.instances[uuid]
        if step == 'prepare':
            return {'network_info': [], 'block_devices': agent.conductor_fake.block_devices}
        inst.update(task_state=None, host='h2' if ok else 'h1')
        return dict(inst)
    agent.conductor_fake.live_migration_report = live_migration_report
    agent.conductor_fake.reports = reports
    for mgr in (agent, dest):
        mgr.netsync.sync = lambda ctx: True
    return agent, dest


def start(agent):
    inst = boot(agent)
    agent.conductor_fake.instances[inst['uuid']]['task_state'] = st.MIGRATING
    return dict(agent.conductor_fake.instances[inst['uuid']])


def test_the_guest_moves_and_the_records_follow(pair):
    src, dest = pair
    inst = start(src)
    src.live_migration(CTX, inst, MIG)
    assert inst['uuid'] not in src.driver.instances
    assert dest.driver.instances[inst['uuid']]['state'] == power_state.RUNNING
    assert src.conductor_fake.reports == [('prepare', True, power_state.RUNNING, None),
                                 ('migrate', True, power_state.RUNNING, None)]
    assert ('cleanup_live_migration_source', inst['uuid']) in src.driver.calls
    assert src.conductor_fake.instances[inst['uuid']]['host'] == 'h2'
    assert [e for e in src.conductor_fake.events if e[0] == 'compute_live_migration'] == [
        ('compute_live_migration', 'start', None), ('compute_live_migration', 'finish', None)]


def test_a_failed_move_leaves_the_guest_on_its_source(pair):
    src, dest = pair
    inst = start(src)
    src.driver.fail_next['live_migration'] = exception.VirtError(reason='link down')
    src.live_migration(CTX, inst, MIG)
    assert src.driver.instances[inst['uuid']]['state'] == power_state.RUNNING
    assert inst['uuid'] not in dest.driver.instances
    assert ('rollback_live_migration', inst['uuid']) in dest.driver.calls
    step, ok, power, message = src.conductor_fake.reports[-1]
    assert (step, ok, power) == ('migrate', False, power_state.RUNNING)
    assert 'link down' in message and 'h2' in message
    assert src.conductor_fake.events[-1] == ('compute_live_migration', 'finish', 'Error')
    assert src.conductor_fake.instances[inst['uuid']]['host'] == 'h1'


def test_a_destination_that_cannot_prepare_fails_the_move(pair):
    src, dest = pair
    inst = start(src)
    dest.driver.instances[inst['uuid']] = dict(src.driver.instances[inst['uuid']])
    src.live_migration(CTX, inst, MIG)
    step, ok, _power, message = src.conductor_fake.reports[-1]
    assert (step, ok) == ('migrate', False) and 'exists' in message
    assert ('live_migration', inst['uuid']) not in src.driver.calls
    assert ('compute_pre_live_migration', 'finish', 'Error') in src.conductor_fake.events


@pytest.mark.parametrize('here', [True, False])
def test_a_restarted_source_settles_by_where_the_guest_is(pair, here):
    src, dest = pair
    inst = start(src)
    if not here:  # it moved before the agent died
        dest.driver.instances[inst['uuid']] = src.driver.instances.pop(inst['uuid'])
    src.conductor_fake.instances[inst['uuid']]['migration'] = MIG
    src.reconcile()
    step, ok, _power, message = src.conductor_fake.reports[-1]
    assert (step, ok) == ('migrate', not here)
    assert src.conductor_fake.instances[inst['uuid']]['task_state'] is None
    if here:
        assert ('abort_live_migration', inst['uuid']) in src.driver.calls
        assert 'restarted' in message


def test_the_destination_check(pair):
    src, dest = pair
    assert dest.check_live_migration_destination(CTX, {'uuid': 'x'}) is None
    dest.driver.live_migration.refuse = 'host h2 does not accept live migrations'
    assert 'does not accept' in dest.check_live_migration_destination(CTX, {'uuid': 'x'})


def test_volumes_are_connected_on_the_destination_and_handed_over(pair, monkeypatch):
    src, dest = pair
    hosts = iter(['h2', 'h1', 'h1'])  # who asks: the destination, then the source
    monkeypatch.setattr(manager_mod.live_migration.blockdev, 'connector',
                        lambda: {'host': next(hosts)})
    inst = start(src)
    src.conductor_fake.block_devices = [VOLUME]
    src.live_migration(CTX, inst, MIG)
    assert src.block.volumes.calls == [('connect', 'vol-1', 'h2'),
                                       ('disconnect', 'vol-1', 'h1'),
                                       ('attached', 'vol-1', 'h2', '/dev/vdb')]


def test_a_failed_move_drops_the_destinations_volume_connections(pair, monkeypatch):
    src, dest = pair
    monkeypatch.setattr(manager_mod.live_migration.blockdev, 'connector',
                        lambda: {'host': 'h2'})
    inst = start(src)
    src.conductor_fake.block_devices = [VOLUME]
    src.driver.fail_next['live_migration'] = exception.VirtError(reason='link down')
    src.live_migration(CTX, inst, MIG)
    assert src.block.volumes.calls == [('connect', 'vol-1', 'h2'),
                                       ('disconnect', 'vol-1', 'h2')]
