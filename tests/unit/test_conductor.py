"""The conductor keeps the compute agents' records (conductor.manager and
conductor.records); the scheduler's endpoints of the same names stay one
release for agents of the previous release, and do the same."""

import inspect
import uuid

import pytest

from common import instance_states as st
from common import servicegroup
from common.context import get_admin_context
from common.db import api as db_api
from common.db import compute_models as cm
from common.db import instances
from compute import manager as compute_manager
from conductor import manager as conductor_manager
from conductor import records
from conductor import rpcapi as conductor_rpcapi
from scheduler import claims
from scheduler import manager as scheduler_manager
from scheduler import rpcapi as scheduler_rpcapi

CTX = get_admin_context()
TINY = {'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'flavorid': '1'}
# What the conductor took from the scheduler (scheduler 1.8 -> conductor 1.0).
RECORD_KEEPING = ('instance_event', 'build_failed', 'instance_update', 'instance_deleted',
                  'get_host_instances', 'get_host_network_state', 'resize_report',
                  'bind_moving_ports', 'evacuate_report', 'get_host_evacuations',
                  'evacuation_cleaned', 'live_migration_report')

pytestmark = pytest.mark.usefixtures('no_cache_thread')


def add_host(name):
    claims.update_node(name, {'hypervisor_hostname': name, 'hypervisor_type': 'QEMU',
                              'hypervisor_version': 7002000, 'vcpus': 4, 'memory_mb': 4096,
                              'local_gb': 100, 'reserved_memory_mb': 0, 'reserved_vcpus': 0,
                              'reserved_disk_gb': 0})
    servicegroup.report(name, 'nova-compute', 'compute')


def server(host='a', vm_state=st.ACTIVE, task_state=None, tried=()):
    sid = str(uuid.uuid4())
    with db_api.session() as s:
        s.add(cm.Instance(uuid=sid, display_name='vm', hostname='vm', project_id='p',
                          user_id='u', flavor=dict(TINY), vcpus=1, memory_mb=512, root_gb=1,
                          vm_state=vm_state, task_state=task_state, host=host, node=host,
                          image_ref='img',
                          request_spec={'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1,
                                        'tried_hosts': list(tried)}))
    assert claims.claim(claims.node_for_host(host).id, sid,
                        {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1})
    return sid


def _params(fn):
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize('name', RECORD_KEEPING)
def test_the_conductor_answers_what_the_scheduler_did(name):
    """Same arguments at both ends, so an agent of either release finds
    what it sends (the scheduler's shims stay for one release)."""
    conductor_end = getattr(conductor_manager.ConductorManager, name)
    scheduler_end = getattr(scheduler_manager.SchedulerManager, name)
    assert _params(conductor_end) == _params(scheduler_end)
    client = getattr(conductor_rpcapi.ConductorAPI, name)
    old_client = getattr(scheduler_rpcapi.SchedulerAPI, name)
    assert _params(client) == _params(old_client)


def test_the_scheduler_keeps_no_periodic_records():
    assert not hasattr(scheduler_manager.SchedulerManager, 'fail_stranded_evacuations')
    assert hasattr(conductor_manager.ConductorManager, 'fail_stranded_evacuations')


def test_instance_update_sets_only_what_agents_may(db):
    add_host('a')
    sid = server(task_state=st.SPAWNING, vm_state=st.BUILDING)
    got = conductor_manager.ConductorManager().instance_update(
        CTX, sid, {'vm_state': st.ACTIVE, 'task_state': None, 'launched_at': 'now',
                   'host': 'elsewhere'}, expected_task_states=[st.SPAWNING])
    assert (got['vm_state'], got['task_state'], got['host']) == (st.ACTIVE, None, 'a')
    assert instances.get(sid).launched_at is not None
    # Another task meanwhile, or gone: None, nothing changed.
    assert conductor_manager.ConductorManager().instance_update(
        CTX, sid, {'vm_state': st.ERROR}, expected_task_states=[st.SPAWNING]) is None
    assert conductor_manager.ConductorManager().instance_update(
        CTX, str(uuid.uuid4()), {'vm_state': st.ERROR}) is None


def test_get_host_instances_lists_the_hosts_servers(db):
    add_host('a')
    add_host('b')
    sid = server('a')
    server('b')
    got = conductor_manager.ConductorManager().get_host_instances(CTX, 'a')
    assert [(i['uuid'], i['block_devices'], i['migration']) for i in got] == [(sid, [], None)]


def test_instance_deleted_gives_claim_back(db, monkeypatch):
    monkeypatch.setattr(records.notify, 'refresh_hosts', lambda ctx, hosts: None)
    add_host('a')
    sid = server('a')
    assert conductor_manager.ConductorManager().instance_deleted(CTX, sid, 'a') is True
    assert claims.held(sid) == {}
    assert instances.get(sid, deleted=True).vm_state == st.DELETED
    # Twice is harmless.
    assert conductor_manager.ConductorManager().instance_deleted(CTX, sid, 'a') is True


class Scheduler:
    built = []

    def build_instances(self, context, uuids):
        self.built.append(list(uuids))


def test_build_failed_frees_the_claim_and_asks_the_scheduler_again(db, monkeypatch):
    monkeypatch.setattr(conductor_manager.scheduler_rpcapi, 'SchedulerAPI', Scheduler)
    Scheduler.built = []
    add_host('a')
    sid = server('a', vm_state=st.BUILDING, task_state=st.SPAWNING)
    conductor_manager.ConductorManager().build_failed(CTX, sid, 'a', 'no disk')
    assert claims.held(sid) == {}
    inst = instances.get(sid)
    assert (inst.task_state, inst.host) == (st.SCHEDULING, None)
    assert inst.request_spec['tried_hosts'] == ['a']
    assert Scheduler.built == [[sid]]


def test_build_failed_too_often_is_an_error(db, monkeypatch, conf):
    monkeypatch.setattr(conductor_manager.scheduler_rpcapi, 'SchedulerAPI', Scheduler)
    Scheduler.built = []
    conf.set_override('max_attempts', 2, group='scheduler')
    add_host('a')
    sid = server('a', vm_state=st.BUILDING, task_state=st.SPAWNING, tried=['b'])
    conductor_manager.ConductorManager().build_failed(CTX, sid, 'a', 'no disk')
    inst = instances.get(sid)
    assert inst.vm_state == st.ERROR and 'no disk' in inst.fault['message']
    assert Scheduler.built == []


def test_the_deprecated_scheduler_endpoint_reschedules_itself(db, monkeypatch):
    """An agent of the previous release reports a failed build to the
    scheduler: the same records, and the scheduler places it again."""
    add_host('a')
    add_host('b')
    sid = server('a', vm_state=st.BUILDING, task_state=st.SPAWNING)
    built = []
    monkeypatch.setattr(scheduler_manager.build, 'build', lambda ctx, uuid: built.append(uuid))
    scheduler_manager.SchedulerManager().build_failed(CTX, sid, 'a', 'no disk')
    assert claims.held(sid) == {}
    assert instances.get(sid).task_state == st.SCHEDULING
    assert built == [sid]


class NoConductor:
    """A scheduler that keeps no records: the agent must not ask it."""

    def __getattr__(self, name):
        if name in RECORD_KEEPING:
            raise AssertionError('%s sent to the scheduler' % name)
        return lambda *a, **kw: None


def test_the_compute_agent_reports_to_the_conductor(monkeypatch):
    sent = []

    class Conductor:
        def __getattr__(self, name):
            return lambda *a, **kw: sent.append(name)

    monkeypatch.setattr(compute_manager.scheduler_rpcapi, 'SchedulerAPI', NoConductor)
    monkeypatch.setattr(compute_manager.conductor_rpcapi, 'ConductorAPI', Conductor)
    from compute.virt import fake
    mgr = compute_manager.ComputeManager(driver=fake.FakeDriver())
    mgr.conductor.instance_event(CTX, 'u', 'e', 'start')
    assert sent == ['instance_event']
    assert isinstance(mgr.scheduler, NoConductor)


def test_put_no_data_sends_zero_bytes_to_the_signed_url():
    import http.server
    import threading

    from conductor import snapshots

    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802 - http.server's name
            got.append((self.path, self.headers['Content-Length'],
                        self.headers['X-OpenStack-Image-Size'], self.headers['Content-Type']))
            self.send_response(204 if len(got) == 1 else 403)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = 'http://127.0.0.1:%d/internal/images/i1/file?expires=1&sig=s' % (
            server.server_address[1])
        snapshots.put_no_data(url, 5)
        assert got == [('/internal/images/i1/file?expires=1&sig=s', '0', '0',
                        'application/octet-stream')]
        with pytest.raises(snapshots.SnapshotFailed):
            snapshots.put_no_data(url, 5)
    finally:
        server.shutdown()
        server.server_close()
