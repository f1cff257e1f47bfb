"""The compute agent's side of evacuations with the fake driver, a
scheduler that records reports and a volume service that records calls:
the destination builds the server with its volumes (taken from the
source first) and reports; a failed spawn is reported with nothing left;
a stopped server ends stopped; a restart mid-evacuation reports it failed;
the source, back, removes leftovers and completes their evacuations."""

import pytest

from common import instance_states as st
from compute.virt import exception
from compute.virt import power_state
from tests.fixtures.compute_agent import CTX
from tests.fixtures.compute_agent import boot

SID = '8f0c6a52-7a4e-4d36-9a5f-00000000e0a1'


class Volumes:
    def __init__(self):
        self.calls = []

    def terminate_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('terminate', volume['id'], connector['host']))

    def initialize_connection(self, ctx, volume, connector, timeout=None):
        self.calls.append(('initialize', volume['id'], connector['host']))
        return {'driver_volume_type': 'file', 'data': {'path': '/v/%s' % volume['id']}}

    def attach_complete(self, ctx, volume, attachment_id, host_name, device):
        self.calls.append(('attached', volume['id'], host_name))
        return dict(volume, status='in-use')


@pytest.fixture
def conductor_fake(agent, monkeypatch):
    reports, cleaned = [], []

    def evacuate_report(ctx, uuid, migration_uuid, ok, power, message=None):
        reports.append((migration_uuid, ok, power, message))
        inst = agent.conductor_fake.instances[uuid]
        inst['task_state'] = None
        return dict(inst)
    agent.conductor_fake.evacuate_report = evacuate_report
    agent.conductor_fake.evacuation_cleaned = lambda ctx, mig: cleaned.append(mig) or True
    agent.conductor_fake.reports, agent.conductor_fake.cleaned = reports, cleaned
    agent.block.volumes = Volumes()
    monkeypatch.setattr(agent.netsync, 'sync', lambda ctx: True)
    return agent.conductor_fake


def migration(vm_state_before=st.ACTIVE):
    return {'uuid': 'mig-e', 'migration_type': 'evacuation', 'source_compute': 'h2',
            'dest_compute': 'h1', 'vm_state_before': vm_state_before}


def evacuated(agent, vm_state=st.ACTIVE, block_devices=()):
    """The server as the API casts it: in the records of this host, not yet
    in its hypervisor."""
    inst = {'uuid': SID, 'name': 'vm', 'flavor': {'vcpus': 1, 'memory_mb': 64, 'root_gb': 1},
            'image_ref': 'img-1', 'vm_state': vm_state, 'task_state': st.REBUILDING,
            'power_state': power_state.RUNNING, 'host': 'h1'}
    agent.conductor_fake.instances[SID] = inst
    return dict(inst, block_devices=[dict(bd) for bd in block_devices])


VOLUME = {'attachment_id': 'att-1', 'volume': {'id': 'vol-1', 'status': 'in-use'},
          'device': 'vdb', 'boot_index': None, 'status': 'attached'}


def test_rebuilt_here_with_its_volume(agent, conductor_fake):
    inst = evacuated(agent, block_devices=[VOLUME])
    agent.evacuate_instance(CTX, inst, migration(), [])
    guest = agent.driver.instances[SID]
    assert guest['state'] == power_state.RUNNING
    assert conductor_fake.reports == [('mig-e', True, power_state.RUNNING, None)]
    # The source's connection ends before this host's begins.
    assert agent.block.volumes.calls[:2] == [('terminate', 'vol-1', 'h2'),
                                             ('initialize', 'vol-1', agent.host)]
    assert agent.block.volumes.calls[-1] == ('attached', 'vol-1', agent.host)
    assert conductor_fake.events == [('compute_rebuild_instance', 'start', None),
                            ('compute_rebuild_instance', 'finish', None)]


def test_a_stopped_server_ends_stopped(agent, conductor_fake):
    inst = evacuated(agent, vm_state=st.STOPPED)
    agent.evacuate_instance(CTX, inst, migration(st.STOPPED), [])
    assert agent.driver.instances[SID]['state'] == power_state.SHUTDOWN
    assert conductor_fake.reports == [('mig-e', True, power_state.SHUTDOWN, None)]


def test_a_failed_spawn_is_reported_and_leaves_nothing(agent, conductor_fake):
    inst = evacuated(agent)
    agent.driver.fail_next_spawn = exception.InstanceSpawnFailure(instance_id=SID,
                                                                  reason='no disk')
    agent.evacuate_instance(CTX, inst, migration(), [])
    assert SID not in agent.driver.instances
    (mig, ok, _power, message), = conductor_fake.reports
    assert (mig, ok) == ('mig-e', False)
    assert message.startswith('Evacuation to %s failed' % agent.host) and 'no disk' in message
    assert conductor_fake.events[-1] == ('compute_rebuild_instance', 'finish', 'Error')


def test_a_server_that_changed_is_left_alone(agent, conductor_fake):
    inst = evacuated(agent)
    conductor_fake.instances[SID]['task_state'] = st.DELETING
    agent.evacuate_instance(CTX, inst, migration(), [])
    assert SID not in agent.driver.instances and conductor_fake.reports == []


@pytest.mark.parametrize('made', [True, False])
def test_restart_mid_evacuation_reports_it_failed(agent, conductor_fake, made):
    inst = evacuated(agent)
    conductor_fake.instances[SID].update(task_state=st.REBUILD_SPAWNING, migration=migration(),
                                block_devices=[])
    if made:
        agent.driver.spawn(CTX, inst, {'id': 'img-1'}, '/base', [])
    agent.reconcile()
    assert SID not in agent.driver.instances
    (mig, ok, _power, message), = conductor_fake.reports
    assert (mig, ok) == ('mig-e', False) and 'restarted during the evacuation' in message


def test_source_back_removes_leftovers_and_completes(agent, conductor_fake):
    gone = boot(agent)  # evacuated away: still in this hypervisor
    back = boot(agent)  # evacuated away and back here since
    del conductor_fake.instances[gone['uuid']]
    conductor_fake.get_host_evacuations = lambda ctx, host, timeout=None: [
        {'uuid': 'mig-1', 'instance_uuid': gone['uuid'], 'dest_compute': 'h9',
         'instance_host': 'h9'},
        {'uuid': 'mig-2', 'instance_uuid': back['uuid'], 'dest_compute': 'h9',
         'instance_host': agent.host}]
    agent.reconcile()
    assert gone['uuid'] not in agent.driver.instances
    assert back['uuid'] in agent.driver.instances
    assert conductor_fake.cleaned == ['mig-1', 'mig-2']


def test_a_server_booted_from_a_volume_boots_from_it_again(agent, conductor_fake):
    root = dict(VOLUME, attachment_id='att-0', volume={'id': 'vol-0', 'status': 'in-use'},
                device='vda', boot_index=0)
    inst = evacuated(agent, block_devices=[root])
    inst['image_ref'] = ''
    conductor_fake.instances[SID]['image_ref'] = ''
    agent.evacuate_instance(CTX, inst, migration(), [])
    assert agent.driver.instances[SID]['volumes'] == {'vol-0': 'vda'}
    assert conductor_fake.reports == [('mig-e', True, power_state.RUNNING, None)]
    assert agent.block.volumes.calls == [('terminate', 'vol-0', 'h2'),
                                         ('initialize', 'vol-0', agent.host),
                                         ('attached', 'vol-0', agent.host)]
