"""evacuate at the compute API, with the agents replaced by a recorder and
their reports applied as the scheduler applies them: Nova's codes, the
state table, the claims (the destination's under the migration until the
rebuild is done, then the instance's), the ports' host, a failure, and the
source's leftovers completed."""

import oslo_messaging as messaging
import pytest

from common import instance_states as st
from common import servicegroup
from common.context import get_admin_context
from common.db import instances
from conductor import evacuate as scheduler_evacuate
from conductor import evacuations
from conductor import records
from conductor import resizes
from scheduler import claims
from tests.fixtures.nova_api import act
from tests.fixtures.nova_api import show
from tests.fixtures.resize_api import TINY
from tests.fixtures.resize_api import add_host
from tests.fixtures.resize_api import used

CTX = get_admin_context()
RUNNING, SHUTDOWN = 1, 4
NOTHING = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}
V213 = {'OpenStack-API-Version': 'compute 2.13'}
V228 = {'OpenStack-API-Version': 'compute 2.28'}


pytestmark = pytest.mark.usefixtures('no_cache_thread')


@pytest.fixture
def server(claimed_server):
    """A demo m1.tiny server on h1, ACTIVE, with its claim; h2 beside it."""
    add_host('h2')
    return claimed_server


def down(host='h1'):
    rec, = servicegroup.list_services(binary='nova-compute', host=host)
    servicegroup.update_service(rec.uuid, forced_down=True)


def evacuate(nova, sid, status, body=None, version=None):
    kw = {'version': version} if version else {}
    return nova('POST', '/servers/%s/action' % sid, {'evacuate': body or {}}, status,
                who='admin', **kw)


def reports(sid, ok=True, power=RUNNING, message=None):
    mig = resizes.get_open(sid)
    return scheduler_evacuate.report(CTX, sid, mig.uuid, ok, power, message=message)


def test_state_table():
    for vm in (st.ACTIVE, st.STOPPED, st.ERROR):
        assert st.allowed('evacuate', vm, None)
    for vm, task in ((st.PAUSED, None), (st.RESIZED, None), (st.SUSPENDED, None),
                     (st.ACTIVE, st.REBUILDING), (st.BUILDING, st.SCHEDULING)):
        assert not st.allowed('evacuate', vm, task)


def test_refused_while_its_host_is_up_and_for_non_admins(nova, server):
    r = evacuate(nova, server, 400)
    assert r.get_json()['badRequest']['message'] == 'Compute service of h1 is still in use.'
    act(nova, server, {'evacuate': {}}, 403)  # demo: admin only
    down()
    act(nova, server, {'evacuate': {}}, 403)
    assert nova.casts == []


def test_evacuate_then_done_then_source_cleaned(nova, server):
    down()
    r = evacuate(nova, server, 200)
    assert r.get_data() == b''  # 2.14 and later: no body
    method, host, uuid, task, kwargs = nova.casts[-1]
    assert (method, host, uuid, task) == ('evacuate_instance', 'h2', server, st.REBUILDING)
    mig = kwargs['migration']
    assert (mig['migration_type'], mig['source_compute'], mig['dest_compute']) == (
        'evacuation', 'h1', 'h2')
    assert kwargs['network_info'] == []
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('REBUILD', 'h2')
    # Both hosts hold the flavor until it is done: h2 under the migration.
    assert used('h1') == TINY and used('h2') == TINY
    assert claims.held(mig['uuid']) == {claims.node_for_host('h2').id: TINY}
    assert reports(server)['vm_state'] == st.ACTIVE
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', 'h2')
    assert used('h1') == NOTHING and used('h2') == TINY
    assert claims.held(server) == {claims.node_for_host('h2').id: TINY}
    assert resizes.get(mig['uuid']).status == 'done'
    # h1 back: it learns what to remove, then marks it completed.
    left = scheduler_evacuate.leftovers('h1')
    assert left == [{'uuid': mig['uuid'], 'instance_uuid': server, 'dest_compute': 'h2',
                     'instance_host': 'h2'}]
    assert scheduler_evacuate.cleaned(mig['uuid'])
    assert resizes.get(mig['uuid']).status == 'completed'
    assert scheduler_evacuate.leftovers('h1') == []
    actions = nova('GET', '/servers/%s/os-instance-actions' % server, status=200,
                   who='admin').get_json()['instanceActions']
    assert 'evacuate' in [a['action'] for a in actions]


def test_a_stopped_server_stays_stopped(nova, server):
    instances.update(server, {'vm_state': st.STOPPED, 'power_state': SHUTDOWN})
    down()
    evacuate(nova, server, 200)
    assert nova.casts[-1][4]['migration']['vm_state_before'] == st.STOPPED
    reports(server, power=SHUTDOWN)
    assert show(nova, server, who='admin')['status'] == 'SHUTOFF'


def test_failure_leaves_error_with_a_fault_on_the_source(nova, server):
    down()
    evacuate(nova, server, 200)
    mig = nova.casts[-1][4]['migration']
    reports(server, ok=False, power=0, message='Evacuation to h2 failed: no disk')
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ERROR', 'h1')
    assert srv['fault']['message'] == 'Evacuation to h2 failed: no disk'
    assert used('h1') == TINY and used('h2') == NOTHING
    assert claims.held(mig['uuid']) == {}
    assert resizes.get(mig['uuid']).status == 'failed'
    assert scheduler_evacuate.leftovers('h1') == []
    evacuate(nova, server, 200)  # an ERROR server may be evacuated again
    assert nova.casts[-1][0] == 'evacuate_instance'


def test_no_room_elsewhere_is_a_400_and_nothing_moves(nova, server):
    add_host('h2', memory_mb=256)
    down()
    r = evacuate(nova, server, 400)
    msg = r.get_json()['badRequest']['message']
    assert 'No valid host was found' in msg and 'h2 has 256 MB free' in msg, msg
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ACTIVE', 'h1')
    assert used('h2') == NOTHING and nova.casts == []


def test_target_host(nova, server):
    add_host('h3')
    down()
    r = evacuate(nova, server, 404, {'host': 'nope'})
    assert 'Compute host nope could not be found' in r.get_data(as_text=True)
    evacuate(nova, server, 400, {'host': 'h1'})
    evacuate(nova, server, 200, {'host': 'h3', 'force': False})
    assert nova.casts[-1][1] == 'h3'


def test_microversions(nova, server):
    down()
    evacuate(nova, server, 400, {}, version=V213)  # onSharedStorage is required
    r = evacuate(nova, server, 400, {'onSharedStorage': True}, version=V213)
    assert 'shared storage' in r.get_data(as_text=True)
    evacuate(nova, server, 400, {'onSharedStorage': False, 'force': True}, version=V228)
    evacuate(nova, server, 400, {'onSharedStorage': False})  # gone in 2.14
    r = evacuate(nova, server, 200, {'onSharedStorage': False, 'adminPass': 'pw'},
                 version=V213)
    assert r.get_json() == {'adminPass': 'pw'}


def test_busy_server_is_a_409(nova, server):
    down()
    instances.update(server, {'task_state': st.POWERING_OFF})
    evacuate(nova, server, 409)


def test_agent_unreachable_is_a_503_and_gives_the_claim_back(nova, server):
    down()
    nova.compute.fail = messaging.MessagingTimeout('gone')
    try:
        evacuate(nova, server, 503)
    finally:
        nova.compute.fail = None
    srv = show(nova, server, who='admin')
    assert srv['OS-EXT-SRV-ATTR:host'] == 'h1' and srv['status'] == 'ERROR'
    assert used('h2') == NOTHING


def test_delete_during_evacuation_gives_everything_back(nova, server):
    down()
    evacuate(nova, server, 200)
    mig = nova.casts[-1][4]['migration']
    records.finish_delete(CTX.request_id, server)
    assert used('h1') == NOTHING and used('h2') == NOTHING
    assert resizes.get(mig['uuid']).status == 'error'
    assert evacuations.done(server, mig['uuid'], RUNNING) is None


def test_a_destination_that_goes_down_fails_the_evacuation(nova, server):
    down()
    evacuate(nova, server, 200)
    mig = nova.casts[-1][4]['migration']
    scheduler_evacuate.fail_stranded(CTX)  # h2 is up: nothing to do
    assert show(nova, server, who='admin')['status'] == 'REBUILD'
    down('h2')
    scheduler_evacuate.fail_stranded(CTX)
    srv = show(nova, server, who='admin')
    assert (srv['status'], srv['OS-EXT-SRV-ATTR:host']) == ('ERROR', 'h1')
    assert 'h2 went down during the evacuation' in srv['fault']['message']
    assert used('h2') == NOTHING and resizes.get(mig['uuid']).status == 'failed'
    scheduler_evacuate.fail_stranded(CTX)  # once only
