"""The compute agent's pause, suspend and rebuild endpoints with the fake
driver and a scheduler that keeps the records in a dict: each ends in a
resting state with its event finished, on success and on failure; the
restart reconcile and the power sync know the new states."""


import pytest

from common import instance_states as st
from compute.virt import exception
from compute.virt import power_state
from tests.fixtures.compute_agent import CTX
from tests.fixtures.compute_agent import boot


def begin(agent, inst, task):
    agent.conductor_fake.instances[inst['uuid']]['task_state'] = task
    return dict(agent.conductor_fake.instances[inst['uuid']])


def recorded_state(agent, inst):
    i = agent.conductor_fake.instances[inst['uuid']]
    return i['vm_state'], i['task_state'], i['power_state']


@pytest.mark.parametrize('method,task,rests,ps', [
    ('pause_instance', st.PAUSING, st.PAUSED, power_state.PAUSED),
    ('suspend_instance', st.SUSPENDING, st.SUSPENDED, power_state.SUSPENDED)])
def test_pause_and_suspend_and_back(agent, method, task, rests, ps):
    inst = boot(agent)
    getattr(agent, method)(CTX, begin(agent, inst, task))
    assert recorded_state(agent, inst) == (rests, None, ps)
    back, back_task = {'pause_instance': ('unpause_instance', st.UNPAUSING),
                       'suspend_instance': ('resume_instance', st.RESUMING)}[method]
    getattr(agent, back)(CTX, begin(agent, inst, back_task))
    assert recorded_state(agent, inst) == (st.ACTIVE, None, power_state.RUNNING)
    event = 'compute_%s' % method
    assert agent.conductor_fake.events[:2] == [(event, 'start', None), (event, 'finish', None)]


def test_a_failed_pause_rests_where_the_guest_is(agent):
    inst = boot(agent)
    agent.driver.fail_next['pause'] = exception.VirtError(reason='qemu said no')
    agent.pause_instance(CTX, begin(agent, inst, st.PAUSING))
    assert recorded_state(agent, inst) == (st.ACTIVE, None, power_state.RUNNING)
    assert agent.conductor_fake.events[-1] == ('compute_pause_instance', 'finish', 'Error')


def test_a_failed_resume_stays_suspended(agent):
    inst = boot(agent)
    agent.suspend_instance(CTX, begin(agent, inst, st.SUSPENDING))
    agent.driver.fail_next['resume'] = exception.VirtError(reason='no memory')
    agent.resume_instance(CTX, begin(agent, inst, st.RESUMING))
    assert recorded_state(agent, inst) == (st.SUSPENDED, None, power_state.SUSPENDED)


def test_rebuild(agent):
    inst = boot(agent)
    agent.conductor_fake.instances[inst['uuid']]['image_ref'] = 'img-2'  # the API's doing
    agent.rebuild_instance(CTX, begin(agent, inst, st.REBUILDING), 'img-2', 'img-1', [])
    assert recorded_state(agent, inst) == (st.ACTIVE, None, power_state.RUNNING)
    assert agent.conductor_fake.instances[inst['uuid']]['launched_at'] == 'now'
    assert ('rebuild', inst['uuid'], 'img-2') in agent.driver.calls
    assert agent.driver.instances[inst['uuid']]['instance']['image_ref'] == 'img-2'
    assert agent.conductor_fake.events == [('compute_rebuild_instance', 'start', None),
                                  ('compute_rebuild_instance', 'finish', None)]


def test_rebuild_of_a_stopped_server_leaves_it_off(agent):
    inst = boot(agent, vm_state=st.STOPPED)
    agent.driver.power_off(inst)
    agent.rebuild_instance(CTX, begin(agent, inst, st.REBUILDING), 'img-2', 'img-1', [])
    assert recorded_state(agent, inst) == (st.STOPPED, None, power_state.SHUTDOWN)


@pytest.mark.parametrize('how', ['driver', 'image'])
def test_failed_rebuild_puts_the_old_image_back(agent, how):
    inst = boot(agent)
    agent.conductor_fake.instances[inst['uuid']]['image_ref'] = 'img-2'
    image = 'img-2'
    if how == 'driver':
        agent.driver.fail_next['rebuild'] = exception.VirtError(reason='disk full')
    else:
        image = 'gone'
    agent.rebuild_instance(CTX, begin(agent, inst, st.REBUILDING), image, 'img-1', [])
    assert recorded_state(agent, inst) == (st.ACTIVE, None, power_state.RUNNING)
    assert agent.conductor_fake.instances[inst['uuid']]['image_ref'] == 'img-1'
    assert agent.conductor_fake.events[-1] == ('compute_rebuild_instance', 'finish', 'Error')


def test_rebuild_of_a_server_deleted_meanwhile_does_nothing(agent):
    inst = boot(agent)
    stale = begin(agent, inst, st.REBUILDING)
    begin(agent, inst, st.DELETING)
    agent.rebuild_instance(CTX, stale, 'img-2', 'img-1', [])
    assert not any(c[0] == 'rebuild' for c in agent.driver.calls)
    assert agent.conductor_fake.events[-1] == ('compute_rebuild_instance', 'finish', 'Error')


@pytest.mark.parametrize('task,guest,rests', [
    (st.PAUSING, power_state.PAUSED, st.PAUSED),
    (st.UNPAUSING, power_state.PAUSED, st.PAUSED),
    (st.SUSPENDING, power_state.SUSPENDED, st.SUSPENDED),
    (st.RESUMING, power_state.RUNNING, st.ACTIVE),
    (st.REBUILDING, power_state.RUNNING, st.ERROR),
    (st.REBUILD_SPAWNING, power_state.SHUTDOWN, st.ERROR),
])
def test_restart_settles_interrupted_actions(agent, task, guest, rests):
    inst = boot(agent, task_state=task)
    agent.driver.instances[inst['uuid']]['state'] = guest
    agent.reconcile()
    assert recorded_state(agent, inst) == (rests, None, guest)


def test_restart_finds_a_suspended_guest_gone(agent):
    inst = boot(agent, vm_state=st.SUSPENDED, power_state=power_state.SUSPENDED)
    agent.driver.destroy(CTX, inst)
    agent.reconcile()
    assert recorded_state(agent, inst)[:2] == (st.ERROR, None)


@pytest.mark.parametrize('vm,guest,rests', [
    (st.ACTIVE, power_state.PAUSED, st.PAUSED),
    (st.PAUSED, power_state.RUNNING, st.ACTIVE),
    (st.SUSPENDED, power_state.RUNNING, st.ACTIVE),
    (st.ACTIVE, power_state.SUSPENDED, st.SUSPENDED),
    (st.SUSPENDED, power_state.SUSPENDED, st.SUSPENDED),
    (st.PAUSED, power_state.SHUTDOWN, st.STOPPED),
    (st.ACTIVE, power_state.CRASHED, st.STOPPED),
    (st.STOPPED, power_state.RUNNING, st.ACTIVE),
])
def test_power_sync_follows_the_hypervisor(agent, vm, guest, rests):
    inst = boot(agent, vm_state=vm)
    agent.driver.instances[inst['uuid']]['state'] = guest
    agent.sync_power_states()
    assert recorded_state(agent, inst) == (rests, None, guest)


def test_power_sync_leaves_busy_servers_alone(agent):
    inst = boot(agent, task_state=st.PAUSING)
    agent.driver.instances[inst['uuid']]['state'] = power_state.PAUSED
    agent.sync_power_states()
    assert recorded_state(agent, inst) == (st.ACTIVE, st.PAUSING, power_state.RUNNING)


def test_rebuilt_but_not_started_keeps_the_new_image(agent):
    inst = boot(agent)
    agent.conductor_fake.instances[inst['uuid']]['image_ref'] = 'img-2'
    agent.driver.fail_next['rebuild'] = exception.RebuiltNotStarted(
        instance_id=inst['uuid'], reason='no memory')
    agent.driver.instances[inst['uuid']]['state'] = power_state.SHUTDOWN
    agent.rebuild_instance(CTX, begin(agent, inst, st.REBUILDING), 'img-2', 'img-1', [])
    assert recorded_state(agent, inst)[:2] == (st.STOPPED, None)
    assert agent.conductor_fake.instances[inst['uuid']]['image_ref'] == 'img-2'
    assert agent.conductor_fake.events[-1] == ('compute_rebuild_instance', 'finish', 'Error')


def test_restart_settles_a_rebuild_of_an_error_server_without_guest(agent):
    inst = boot(agent, vm_state=st.ERROR, task_state=st.REBUILDING)
    agent.driver.destroy(CTX, inst)
    agent.reconcile()
    assert recorded_state(agent, inst)[:2] == (st.ERROR, None)


def test_power_sync_records_a_build_whose_end_was_lost(agent):
    """The bus was away as a build ended: the records still say spawning,
    no build of this agent runs. A running guest is recorded ACTIVE; with
    no guest, the build goes back to the scheduler as failed."""
    ran = boot(agent, vm_state=st.BUILDING, task_state=st.SPAWNING)
    gone = boot(agent, vm_state=st.BUILDING, task_state=st.SPAWNING)
    del agent.driver.instances[gone['uuid']]
    failed = []
    agent.conductor_fake.build_failed = lambda ctx, uuid, host, message, **kw: failed.append(
        (uuid, message))
    agent.sync_power_states()
    assert recorded_state(agent, ran) == (st.ACTIVE, None, power_state.RUNNING)
    assert [u for u, _ in failed] == [gone['uuid']] and 'message bus' in failed[0][1]
