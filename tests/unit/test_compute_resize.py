"""The compute agent's resize endpoints with the fake driver and a
scheduler that records what it is told: each ends reported, with its event
finished, on success and on failure; the restart reconcile settles the
resize task states; the XML of a resized domain keeps everything else."""

import pytest

from common import instance_states as st
from compute.virt import exception
from compute.virt import power_state
from compute.virt.libvirt import config as config_mod
from tests.fixtures.compute_agent import CTX
from tests.fixtures.compute_agent import boot

OLD = {'flavorid': '1', 'name': 'm1.tiny', 'vcpus': 1, 'memory_mb': 512, 'root_gb': 1}
NEW = {'flavorid': '3', 'name': 'm1.medium', 'vcpus': 2, 'memory_mb': 4096, 'root_gb': 40}


@pytest.fixture
def conductor_fake(agent):
    reports = []

    def resize_report(ctx, uuid, migration_uuid, step, ok, power, message=None):
        reports.append((step, ok, power, message))
        inst = agent.conductor_fake.instances[uuid]
        inst['task_state'] = None
        return dict(inst)
    agent.conductor_fake.resize_report = resize_report
    agent.conductor_fake.reports = reports
    return agent.conductor_fake


def migration(vm_state_before=st.ACTIVE):
    return {'uuid': 'mig-1', 'old_flavor': OLD, 'new_flavor': NEW,
            'vm_state_before': vm_state_before}


def start(agent, task=st.RESIZE_PREP, **kw):
    inst = boot(agent, flavor=dict(OLD), **kw)
    agent.conductor_fake.instances[inst['uuid']]['task_state'] = task
    return dict(agent.conductor_fake.instances[inst['uuid']])


def test_resize_of_a_running_server(agent, conductor_fake):
    inst = start(agent)
    agent.resize_instance(CTX, inst, migration())
    guest = agent.driver.instances[inst['uuid']]
    assert guest['instance']['flavor'] == NEW
    assert guest['state'] == power_state.RUNNING
    assert guest['root_gb'] == 40
    assert conductor_fake.reports == [('resize', True, power_state.RUNNING, None)]
    assert conductor_fake.events == [('compute_resize_instance', 'start', None),
                            ('compute_resize_instance', 'finish', None)]


def test_resize_of_a_stopped_server_leaves_it_off(agent, conductor_fake):
    inst = start(agent, vm_state=st.STOPPED)
    agent.driver.instances[inst['uuid']]['state'] = power_state.SHUTDOWN
    agent.resize_instance(CTX, inst, migration(st.STOPPED))
    assert agent.driver.instances[inst['uuid']]['state'] == power_state.SHUTDOWN
    assert conductor_fake.reports == [('resize', True, power_state.SHUTDOWN, None)]


def test_failed_resize_is_reported_with_the_guest_running_again(agent, conductor_fake):
    inst = start(agent)
    agent.driver.fail_next['resize'] = exception.VirtError(reason='no room')
    agent.resize_instance(CTX, inst, migration())
    guest = agent.driver.instances[inst['uuid']]
    assert guest['instance']['flavor'] == OLD
    assert guest['state'] == power_state.RUNNING
    (step, ok, power, message), = conductor_fake.reports
    assert (step, ok, power) == ('resize', False, power_state.RUNNING)
    assert 'no room' in message
    assert conductor_fake.events[-1] == ('compute_resize_instance', 'finish', 'Error')


def test_resize_of_a_server_that_changed_does_nothing(agent, conductor_fake):
    inst = start(agent)
    conductor_fake.instances[inst['uuid']]['task_state'] = st.DELETING
    agent.resize_instance(CTX, inst, migration())
    assert ('resize', inst['uuid'], '3') not in agent.driver.calls
    assert conductor_fake.reports == []
    assert conductor_fake.events[-1] == ('compute_resize_instance', 'finish', 'Error')


def test_confirm_reports(agent, conductor_fake):
    inst = start(agent, task=st.RESIZE_CONFIRMING, vm_state=st.RESIZED)
    agent.confirm_resize(CTX, inst, migration())
    assert conductor_fake.reports == [('confirm', True, power_state.RUNNING, None)]
    assert conductor_fake.events[-1] == ('compute_confirm_resize', 'finish', None)


def test_revert_gives_the_old_size_back_and_keeps_the_disk(agent, conductor_fake):
    inst = start(agent)
    agent.resize_instance(CTX, inst, migration())
    conductor_fake.instances[inst['uuid']].update(vm_state=st.RESIZED, flavor=NEW,
                                         task_state=st.RESIZE_REVERTING)
    agent.revert_resize(CTX, dict(conductor_fake.instances[inst['uuid']]), migration())
    guest = agent.driver.instances[inst['uuid']]
    assert guest['instance']['flavor'] == OLD
    assert guest['root_gb'] == 40  # never shrinks
    assert guest['state'] == power_state.RUNNING
    assert conductor_fake.reports[-1] == ('revert', True, power_state.RUNNING, None)


def test_failed_revert_is_reported(agent, conductor_fake):
    inst = start(agent, task=st.RESIZE_REVERTING, vm_state=st.RESIZED)
    agent.driver.fail_next['resize'] = exception.VirtError(reason='boom')
    agent.revert_resize(CTX, inst, migration())
    assert conductor_fake.reports[-1][:2] == ('revert', False)
    assert conductor_fake.events[-1] == ('compute_revert_resize', 'finish', 'Error')


@pytest.mark.parametrize('task,step,ok,flavor', [
    (st.RESIZE_PREP, 'resize', False, OLD),
    (st.RESIZE_MIGRATING, 'resize', False, OLD),
    (st.RESIZE_CONFIRMING, 'confirm', True, NEW),
    (st.RESIZE_REVERTING, 'revert', True, OLD),
])
def test_restart_settles_resizes(agent, conductor_fake, task, step, ok, flavor):
    inst = start(agent, task=task)
    agent.driver.instances[inst['uuid']]['instance']['flavor'] = dict(NEW)
    conductor_fake.instances[inst['uuid']]['migration'] = migration()
    agent.reconcile()
    assert conductor_fake.reports[-1][:2] == (step, ok)
    assert agent.driver.instances[inst['uuid']]['instance']['flavor'] == flavor


def test_restart_without_an_open_migration_just_settles(agent, conductor_fake):
    inst = start(agent, task=st.RESIZE_MIGRATING)
    conductor_fake.instances[inst['uuid']]['migration'] = None
    agent.reconcile()
    assert conductor_fake.instances[inst['uuid']]['task_state'] is None
    assert conductor_fake.reports == []


XML = """<domain type='qemu'>
  <name>altostack-x</name><uuid>x</uuid>
  <memory unit='KiB'>524288</memory><currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static' current='1'>1</vcpu>
  <devices>
    <disk type='file' device='disk'><source file='/i/disk'/><target dev='vda'/></disk>
    <interface type='bridge'><mac address='fa:16:3e:00:00:01'/></interface>
    <serial type='tcp'><source mode='bind' host='127.0.0.1' service='10001'/></serial>
  </devices>
</domain>"""


def test_domain_xml_gets_the_new_size_and_keeps_the_rest():
    out = config_mod.parse_domain(config_mod.with_size(XML, 2, 2048))
    before = config_mod.parse_domain(XML)
    assert (out['vcpus'], out['memory_kib']) == (2, 2048 * 1024)
    for key in ('disks', 'interfaces', 'serial_tcp', 'name', 'uuid'):
        assert out[key] == before[key]
    assert 'current=' not in config_mod.with_size(XML, 2, 2048)


def test_disk_grows_and_never_shrinks(tmp_path):
    import shutil
    import subprocess

    from common.host import disk
    if shutil.which('qemu-img') is None:
        pytest.skip('qemu-img is not installed')
    path = str(tmp_path / 'disk')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '1M'], check=True)
    assert disk.grow(path, 2 * 1024 * 1024) is True
    assert disk.read_qcow2_header(path)['virtual_size'] == 2 * 1024 * 1024
    assert disk.grow(path, 1024 * 1024) is False
    assert disk.read_qcow2_header(path)['virtual_size'] == 2 * 1024 * 1024
