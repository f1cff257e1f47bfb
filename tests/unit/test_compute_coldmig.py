"""Two compute agents (fake drivers) moving a server between them
(compute/coldmig.py), wired to each other in process and to a scheduler
that keeps the records in a dict as conductor.resizes would: the guest
lands on the destination and the source keeps its own until confirm;
revert starts the source's again; a destination that fails or never
answers leaves the server running on the source; a failure report that
comes after the destination's success starts nothing; a restart on the
source never leaves a resize task nor removes the guest it keeps."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from compute import manager as manager_mod
from compute.virt import exception
from compute.virt import fake
from compute.virt import power_state
from tests.fixtures.compute_agent import CTX
from tests.fixtures.compute_agent import Cache
from tests.fixtures.compute_agent import FakeConductor
from tests.fixtures.compute_agent import Images

OLD = {'flavorid': '1', 'name': 'm1.tiny', 'vcpus': 1, 'memory_mb': 512, 'root_gb': 1}
NEW = {'flavorid': '3', 'name': 'm1.medium', 'vcpus': 2, 'memory_mb': 4096, 'root_gb': 40}
UUID = '8f0c6a52-7a4e-4d36-9a5f-000000000001'


class MoveConductor(FakeConductor):
    """The scheduler's resize records for one server."""

    def __init__(self):
        super().__init__()
        self.reports = []
        self.bound = []

    def resize_report(self, ctx, uuid, migration_uuid, step, ok, power, message=None):
        self.reports.append((step, ok, power, message))
        inst = self.instances[uuid]
        mig = self.migration
        resting = st.ACTIVE if power == power_state.RUNNING else st.STOPPED
        if step == 'resize':
            if inst['task_state'] not in (st.RESIZE_PREP, st.RESIZE_MIGRATING):
                return None
            if ok:
                inst.update(host=mig['dest_compute'], vm_state=st.RESIZED, task_state=None,
                            flavor=mig['new_flavor'], power_state=power)
            else:
                inst.update(host=mig['source_compute'], vm_state=resting, task_state=None,
                            power_state=power)
        elif step == 'confirm':
            inst.update(vm_state=resting, task_state=None)
        elif step == 'revert':
            inst.update(host=mig['source_compute'], vm_state=resting, task_state=None,
                        flavor=mig['old_flavor'])
        return dict(inst)

    def bind_moving_ports(self, ctx, uuid, host, timeout=None):
        self.bound.append(host)
        return []

    def get_host_instances(self, ctx, host, timeout=None):
        return [dict(i, migration=self.migration) for i in self.instances.values()]


class Wire:
    """compute rpcapi between the two agents: calls go straight in."""

    def __init__(self, agents):
        self.agents = agents
        self.fail = None
        self.lose_reply = False

    def finish_migration(self, ctx, host, instance, migration, disk_url, timeout):
        if self.fail is not None:
            raise self.fail
        out = self.agents[host].finish_migration(ctx, instance, migration, disk_url)
        if self.lose_reply:
            raise messaging.MessagingTimeout('no reply')
        return out

    def finish_revert_migration(self, ctx, host, instance, migration):
        self.agents[host].finish_revert_migration(ctx, instance, migration)


@pytest.fixture
def pair(conf, monkeypatch):
    conductor_fake = MoveConductor()
    monkeypatch.setattr(manager_mod.scheduler_rpcapi, 'SchedulerAPI', lambda: conductor_fake)
    monkeypatch.setattr(manager_mod.conductor_rpcapi, 'ConductorAPI', lambda: conductor_fake)
    monkeypatch.setattr(manager_mod.image_rpcapi, 'ImageAPI', Images)
    monkeypatch.setattr(manager_mod.imagecache, 'ImageCache', Cache)
    agents = {}
    for host in ('h1', 'h2'):
        mgr = manager_mod.ComputeManager(driver=fake.FakeDriver())
        mgr.host = host
        mgr._reconciled = True
        mgr.netsync.sync = lambda ctx: True
        agents[host] = mgr
    wire = Wire(agents)
    for mgr in agents.values():
        mgr.compute_api = wire
    conductor_fake.migration = {'uuid': 'mig-1', 'old_flavor': OLD, 'new_flavor': NEW,
                       'source_compute': 'h1', 'dest_compute': 'h2',
                       'vm_state_before': st.ACTIVE, 'migration_type': 'resize'}
    inst = {'uuid': UUID, 'name': 'vm', 'flavor': dict(OLD), 'image_ref': 'img-1',
            'vm_state': st.ACTIVE, 'task_state': st.RESIZE_PREP,
            'power_state': power_state.RUNNING, 'host': 'h1', 'block_devices': []}
    agents['h1'].driver.spawn(CTX, inst, {'id': 'img-1'}, '/base', [])
    conductor_fake.instances[UUID] = inst
    return agents['h1'], agents['h2'], conductor_fake, wire


def state(agent):
    entry = agent.driver.instances.get(UUID)
    return entry and entry['state']


def send(src, conductor_fake):
    src.resize_instance(CTX, dict(conductor_fake.instances[UUID]), conductor_fake.migration)


def test_the_guest_moves_and_the_source_keeps_its_own(pair):
    src, dst, conductor_fake, _wire = pair
    send(src, conductor_fake)
    inst = conductor_fake.instances[UUID]
    assert (inst['host'], inst['vm_state']) == ('h2', st.RESIZED)
    assert state(dst) == power_state.RUNNING and state(src) == power_state.SHUTDOWN
    entry = dst.driver.instances[UUID]
    assert entry['instance']['flavor'] == NEW and entry['disk_from'].startswith('fake://')
    assert conductor_fake.bound == ['h2']
    assert ('end_export', UUID) in src.driver.calls
    # Confirm, on the source: its guest goes; the records keep it running.
    src.confirm_resize(CTX, dict(inst, task_state=st.RESIZE_CONFIRMING), conductor_fake.migration)
    assert state(src) is None and state(dst) == power_state.RUNNING
    assert conductor_fake.reports[-1][:3] == ('confirm', True, power_state.RUNNING)
    assert conductor_fake.instances[UUID]['vm_state'] == st.ACTIVE


def test_revert_starts_the_source_again(pair):
    src, dst, conductor_fake, _wire = pair
    send(src, conductor_fake)
    dst.revert_resize(CTX, dict(conductor_fake.instances[UUID], task_state=st.RESIZE_REVERTING),
                      conductor_fake.migration)
    assert state(dst) is None and state(src) == power_state.RUNNING
    inst = conductor_fake.instances[UUID]
    assert (inst['host'], inst['vm_state'], inst['flavor']) == ('h1', st.ACTIVE, OLD)
    assert conductor_fake.bound == ['h2', 'h1']


def test_a_stopped_server_stays_off(pair):
    src, dst, conductor_fake, _wire = pair
    src.driver.power_off(conductor_fake.instances[UUID])
    conductor_fake.instances[UUID].update(vm_state=st.STOPPED, power_state=power_state.SHUTDOWN)
    conductor_fake.migration['vm_state_before'] = st.STOPPED
    send(src, conductor_fake)
    assert state(dst) == power_state.SHUTDOWN
    assert conductor_fake.reports[-1][:3] == ('resize', True, power_state.SHUTDOWN)
    dst.revert_resize(CTX, dict(conductor_fake.instances[UUID]), conductor_fake.migration)
    assert state(src) == power_state.SHUTDOWN
    assert conductor_fake.instances[UUID]['vm_state'] == st.STOPPED


@pytest.mark.parametrize('how', ['spawn fails', 'no answer'])
def test_a_destination_that_fails_leaves_it_running_on_the_source(pair, how):
    src, dst, conductor_fake, wire = pair
    if how == 'spawn fails':
        dst.driver.fail_next['spawn_migrated'] = exception.VirtError(reason='boom')
    else:
        wire.fail = messaging.MessagingTimeout('no reply')
    send(src, conductor_fake)
    inst = conductor_fake.instances[UUID]
    assert (inst['host'], inst['vm_state'], inst['task_state']) == ('h1', st.ACTIVE, None)
    assert state(src) == power_state.RUNNING and state(dst) is None
    step, ok, power, message = conductor_fake.reports[-1]
    assert (step, ok, power) == ('resize', False, power_state.RUNNING)
    assert 'h2' in message
    assert conductor_fake.bound[-1] == 'h1'
    assert ('compute_resize_instance', 'finish', 'Error') in conductor_fake.events


def test_a_lost_reply_after_success_starts_nothing_on_the_source(pair):
    src, dst, conductor_fake, wire = pair
    wire.lose_reply = True
    send(src, conductor_fake)
    inst = conductor_fake.instances[UUID]
    assert (inst['host'], inst['vm_state']) == ('h2', st.RESIZED)
    assert state(src) == power_state.SHUTDOWN and state(dst) == power_state.RUNNING
    assert conductor_fake.bound == ['h2']


def test_a_source_that_restarts_mid_move_takes_the_server_back(pair):
    src, _dst, conductor_fake, _wire = pair
    conductor_fake.instances[UUID]['task_state'] = st.RESIZE_MIGRATING
    src.driver.power_off(conductor_fake.instances[UUID])
    src.reconcile()
    inst = conductor_fake.instances[UUID]
    assert (inst['host'], inst['vm_state'], inst['task_state']) == ('h1', st.ACTIVE, None)
    assert state(src) == power_state.RUNNING


def test_a_source_that_restarts_keeps_the_guest_of_a_server_moved_away(pair):
    src, dst, conductor_fake, _wire = pair
    send(src, conductor_fake)
    src.reconcile()
    assert state(src) == power_state.SHUTDOWN  # kept for a revert, not an orphan
    assert conductor_fake.instances[UUID]['vm_state'] == st.RESIZED
    # A confirm the restart cut short is finished.
    conductor_fake.instances[UUID]['task_state'] = st.RESIZE_CONFIRMING
    src.reconcile()
    assert state(src) is None and state(dst) == power_state.RUNNING
    assert conductor_fake.instances[UUID]['vm_state'] == st.ACTIVE


def test_a_call_that_comes_too_late_takes_nothing(pair):
    """The source gave up (the destination's agent was away) and the call
    reaches the destination later: it must not take the server's ports."""
    src, dst, conductor_fake, _wire = pair
    conductor_fake.instances[UUID]['task_state'] = None
    out = dst.finish_migration(CTX, dict(conductor_fake.instances[UUID]), conductor_fake.migration,
                               'fake://h1/x')
    assert out['ok'] is False and state(dst) is None and conductor_fake.bound == []


class Volumes:
    """One agent's volume service client: what it connects and drops."""

    def __init__(self):
        self.calls = []

    def initialize_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('connect', volume['id']))
        return {'driver_volume_type': 'file', 'data': {'path': '/v/' + volume['id']}}

    def terminate_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('disconnect', volume['id']))


def with_volumes(pair, boot_from_volume=False):
    src, dst, conductor_fake, _wire = pair
    src.block.volumes, dst.block.volumes = Volumes(), Volumes()
    devices = [{'volume': {'id': 'data', 'status': 'in-use'}, 'attachment_id': 'a1',
                'device': '/dev/vdb', 'boot_index': None, 'delete_on_termination': False,
                'status': 'attached'}]
    if boot_from_volume:
        devices.insert(0, dict(devices[0], volume={'id': 'root', 'status': 'in-use'},
                               attachment_id='a0', device='/dev/vda', boot_index=0))
        conductor_fake.instances[UUID]['image_ref'] = None
        src.driver.instances[UUID]['instance']['image_ref'] = None
    conductor_fake.instances[UUID]['block_devices'] = devices
    return src, dst, conductor_fake


@pytest.mark.parametrize('boot_from_volume', [False, True])
def test_volumes_follow_the_guest(pair, boot_from_volume):
    src, dst, conductor_fake = with_volumes(pair, boot_from_volume)
    send(src, conductor_fake)
    vols = ['root', 'data'] if boot_from_volume else ['data']
    assert dst.block.volumes.calls == [('connect', v) for v in vols]
    assert src.block.volumes.calls == []  # kept until confirm: a revert needs them
    entry = dst.driver.instances[UUID]
    assert sorted(entry['volumes']) == sorted(vols)
    assert (entry['disk_from'] is None) is boot_from_volume  # no disk to copy
    src.confirm_resize(CTX, dict(conductor_fake.instances[UUID], task_state=st.RESIZE_CONFIRMING),
                       conductor_fake.migration)
    assert src.block.volumes.calls == [('disconnect', v) for v in vols]


def test_a_revert_drops_the_destinations_volume_connections(pair):
    src, dst, conductor_fake = with_volumes(pair)
    send(src, conductor_fake)
    dst.revert_resize(CTX, dict(conductor_fake.instances[UUID], task_state=st.RESIZE_REVERTING),
                      conductor_fake.migration)
    assert dst.block.volumes.calls == [('connect', 'data'), ('disconnect', 'data')]
    assert src.block.volumes.calls == [] and state(src) == power_state.RUNNING
