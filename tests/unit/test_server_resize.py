"""resize, confirmResize and revertResize at the compute API, with the
agents replaced by a recorder and their reports applied as the scheduler
applies them: codes, the state table, both claims on the host's records
while VERIFY_RESIZE, and quota."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from common import quota
from common.db import instances
from conductor import records
from conductor import resizes
from scheduler import claims
from tests.fixtures.nova_api import act
from tests.fixtures.nova_api import show
from tests.fixtures.resize_api import CTX
from tests.fixtures.resize_api import SHUTDOWN
from tests.fixtures.resize_api import TINY
from tests.fixtures.resize_api import add_host
from tests.fixtures.resize_api import agent_reports
from tests.fixtures.resize_api import used

SMALL = {'vcpus': 1, 'memory_mb': 2048, 'disk_gb': 20}
MEDIUM = {'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 40}


pytestmark = pytest.mark.usefixtures('no_cache_thread')


@pytest.fixture
def server(claimed_server):
    """The servers here hold their claim on h1."""
    return claimed_server


def plus(a, b):
    return {k: a[k] + b[k] for k in a}


def usage(sid):
    u = quota.usage(instances.get(sid).project_id)
    return u['cores'], u['ram']


def resize(nova, sid, flavor='2', status=202):
    return act(nova, sid, {'resize': {'flavorRef': flavor}}, status)


@pytest.mark.parametrize('action,vm,task,ok', [
    ('resize', st.ACTIVE, None, True), ('resize', st.STOPPED, None, True),
    ('resize', st.PAUSED, None, False), ('resize', st.RESIZED, None, False),
    ('resize', st.ACTIVE, st.POWERING_OFF, False), ('resize', st.ERROR, None, False),
    ('confirmResize', st.RESIZED, None, True), ('confirmResize', st.ACTIVE, None, False),
    ('revertResize', st.RESIZED, None, True),
    ('revertResize', st.RESIZED, st.RESIZE_CONFIRMING, False),
    ('delete', st.ACTIVE, st.RESIZE_MIGRATING, True),
    ('delete', st.RESIZED, st.RESIZE_REVERTING, True),
])
def test_state_table(action, vm, task, ok):
    assert st.allowed(action, vm, task) is ok


def test_statuses():
    assert st.status(st.ACTIVE, st.RESIZE_PREP) == 'RESIZE'
    assert st.status(st.STOPPED, st.RESIZE_MIGRATING) == 'RESIZE'
    assert st.status(st.RESIZED, None) == 'VERIFY_RESIZE'
    assert st.status(st.RESIZED, st.RESIZE_CONFIRMING) == 'VERIFY_RESIZE'
    assert st.status(st.RESIZED, st.RESIZE_REVERTING) == 'REVERT_RESIZE'
    assert st.STATUS_TO_VM_STATES['RESIZE'] == {st.ACTIVE, st.STOPPED}


def test_resize_then_confirm(nova, server):
    resize(nova, server)
    method, host, uuid, task, kwargs = nova.casts[-1]
    assert (method, host, uuid, task) == ('resize_instance', 'h1', server, st.RESIZE_PREP)
    assert kwargs['migration']['new_flavor']['name'] == 'm1.small'
    assert kwargs['migration']['old_flavor']['name'] == 'm1.tiny'
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('RESIZE', 'resize_prep')
    # Both claims held, and quota counts the larger flavor.
    assert used() == plus(TINY, SMALL)
    assert usage(server) == (1, 2048)
    assert agent_reports(server, 'resize')['vm_state'] == st.RESIZED
    srv = show(nova, server)
    assert srv['status'] == 'VERIFY_RESIZE'
    assert srv['flavor']['original_name'] == 'm1.small'
    resize(nova, server, '3', status=409)  # busy until confirmed or reverted
    r = act(nova, server, {'confirmResize': None}, 204)
    assert r.get_data() == b''
    assert nova.casts[-1][0] == 'confirm_resize'
    assert show(nova, server)['status'] == 'VERIFY_RESIZE'
    agent_reports(server, 'confirm')
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert used() == SMALL
    assert claims.held(server) == {claims.node_for_host('h1').id: SMALL}
    assert usage(server) == (1, 2048)
    assert resizes.get_open(server) is None
    act(nova, server, {'confirmResize': None}, 409)


def test_resize_then_revert(nova, server):
    resize(nova, server, '3')
    agent_reports(server, 'resize')
    assert used() == plus(TINY, MEDIUM)
    assert usage(server) == (2, 4096)
    act(nova, server, {'revertResize': None}, 202)
    assert nova.casts[-1][0] == 'revert_resize'
    srv = show(nova, server)
    assert srv['status'] == 'REVERT_RESIZE'
    agent_reports(server, 'revert')
    srv = show(nova, server)
    assert (srv['status'], srv['flavor']['original_name']) == ('ACTIVE', 'm1.tiny')
    assert used() == TINY
    assert usage(server) == (1, 512)
    inst = instances.get(server)
    assert (inst.vcpus, inst.memory_mb, inst.root_gb) == (1, 512, 1)


def test_a_stopped_server_is_resized_and_stays_off(nova, server):
    instances.update(server, {'vm_state': st.STOPPED, 'power_state': SHUTDOWN})
    resize(nova, server)
    agent_reports(server, 'resize', power=SHUTDOWN)
    assert show(nova, server)['status'] == 'VERIFY_RESIZE'
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm', power=SHUTDOWN)
    assert show(nova, server)['status'] == 'SHUTOFF'


def test_a_failed_resize_gives_everything_back(nova, server):
    resize(nova, server, '3')
    agent_reports(server, 'resize', ok=False, message='Resize failed on h1: boom')
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert srv['flavor']['original_name'] == 'm1.tiny'
    assert instances.get(server).fault['message'] == 'Resize failed on h1: boom'
    assert used() == TINY
    assert usage(server) == (1, 512)


@pytest.mark.parametrize('flavor,message', [
    ('1', 'same flavor'), ('42', 'Resize error: Unable to resize disk down.'),
    ('nope', 'Unable to find flavor nope')])
def test_bad_flavors_are_400(nova, server, flavor, message):
    if flavor == '42':  # m1.nano has a 1 GB disk like tiny: grow the server's first
        resize(nova, server, '2')
        agent_reports(server, 'resize')
        act(nova, server, {'confirmResize': None}, 204)
        agent_reports(server, 'confirm')
    r = resize(nova, server, flavor, status=400)
    assert message in r.get_data(as_text=True)


def test_body_is_checked(nova, server):
    act(nova, server, {'resize': {}}, 400)
    act(nova, server, {'resize': {'flavorRef': '2', 'junk': 1}}, 400)
    # confirmResize takes any value, as in Nova: here the state refuses it.
    act(nova, server, {'confirmResize': {'x': 1}}, 409)


def test_over_quota_is_403_and_takes_nothing(nova, server):
    quota.set_limits(instances.get(server).project_id, {'cores': 1})
    r = resize(nova, server, '3', status=403)
    assert 'cores' in r.get_data(as_text=True)
    assert show(nova, server)['status'] == 'ACTIVE'
    assert used() == TINY
    assert usage(server) == (1, 512)


def test_wrong_states_are_409(nova, server):
    act(nova, server, {'confirmResize': None}, 409)
    act(nova, server, {'revertResize': None}, 409)
    instances.update(server, {'vm_state': st.PAUSED})
    resize(nova, server, status=409)


def test_no_room_on_the_host_leaves_the_server_active(nova, server):
    add_host(memory_mb=2048)  # tiny (512) + medium (4096) cannot both be held
    resize(nova, server, '3')
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert not [c for c in nova.casts if c[0] == 'resize_instance']
    assert used() == TINY
    assert usage(server) == (1, 512)
    assert 'No valid host was found' in instances.get(server).fault['message']
    actions = nova('GET', '/servers/%s/os-instance-actions' % server,
                   status=200).get_json()['instanceActions']
    assert actions[0]['action'] == 'resize'
    detail = nova('GET', '/servers/%s/os-instance-actions/%s' % (
        server, actions[0]['request_id']), status=200, who='admin').get_json()
    events = detail['instanceAction']['events']
    assert [(e['event'], e['result']) for e in events] == [('compute_prep_resize', 'Error')]
    assert 'No valid host was found' in events[0]['traceback']


def test_an_unreachable_agent_gives_everything_back(nova, server):
    nova.compute.fail = messaging.MessagingTimeout('no')
    try:
        resize(nova, server, '3', status=503)
    finally:
        nova.compute.fail = None
    srv = show(nova, server)
    assert (srv['status'], srv['OS-EXT-STS:task_state']) == ('ACTIVE', None)
    assert used() == TINY
    assert usage(server) == (1, 512)


@pytest.mark.parametrize('stage', ['migrating', 'resized'])
def test_delete_mid_resize_frees_both_claims(nova, server, stage):
    resize(nova, server, '3')
    if stage == 'resized':
        agent_reports(server, 'resize')
    project = instances.get(server).project_id
    records.finish_delete('req', server)
    assert used() == {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
    assert quota.usage(project) == {'instances': 0, 'cores': 0, 'ram': 0}


def test_resize_down_in_memory_gives_quota_back_on_confirm(nova, server):
    resize(nova, server, '3')
    agent_reports(server, 'resize')
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm')
    assert usage(server) == (2, 4096)
    # medium -> a flavor with the same disk but less memory and fewer vCPUs
    nova('POST', '/flavors', {'flavor': {'name': 'lean', 'id': 'lean', 'vcpus': 1,
                                         'ram': 1024, 'disk': 40}}, 200, who='admin')
    resize(nova, server, 'lean')
    assert usage(server) == (2, 4096)
    agent_reports(server, 'resize')
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm')
    assert usage(server) == (1, 1024)
    assert used() == {'vcpus': 1, 'memory_mb': 1024, 'disk_gb': 40}


def test_a_failed_revert_can_be_tried_again_or_confirmed(nova, server):
    resize(nova, server, '3')
    agent_reports(server, 'resize')
    act(nova, server, {'revertResize': None}, 202)
    agent_reports(server, 'revert', ok=False, message='Revert failed on h1: boom')
    srv = show(nova, server)
    assert (srv['status'], srv['flavor']['original_name']) == ('VERIFY_RESIZE', 'm1.medium')
    assert used() == plus(TINY, MEDIUM)
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm')
    assert used() == MEDIUM
    assert show(nova, server)['status'] == 'ACTIVE'


def test_agents_restarting_learn_of_the_open_resize(nova, server):
    from conductor import manager as conductor_manager
    resize(nova, server, '3')
    mgr = conductor_manager.ConductorManager()
    inst, = mgr.get_host_instances(CTX, 'h1')
    assert inst['migration']['new_flavor']['name'] == 'm1.medium'
    assert inst['migration']['vm_state_before'] == st.ACTIVE
    agent_reports(server, 'resize')
    act(nova, server, {'confirmResize': None}, 204)
    agent_reports(server, 'confirm')
    inst, = mgr.get_host_instances(CTX, 'h1')
    assert inst['migration'] is None
