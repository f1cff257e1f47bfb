"""What the control plane does per compute host must not grow with the
number of hosts (issue 15, scale by simulation): the SQL statements of one
heartbeat, one resource report and one hypervisor list are counted with a
few hosts and with many, and must be the same."""

import sqlalchemy as sa

from common.db import api as db_api
from tests.fixtures.scheduler_nodes import add_host
from tests.fixtures.scheduler_nodes import counted
from tests.fixtures.scheduler_nodes import resources as _resources


def _per_host_statements(mgr, hosts):
    """Statements of a heartbeat and of a resource report of a host that
    joins a cloud of ``hosts`` hosts (its first report), and of its next
    report."""
    for i in range(hosts):
        add_host('old-%d' % i)
    out = {}
    with counted() as out['first heartbeat']:
        mgr.report_state(None, 'new', 'nova-compute', 'compute')
        mgr.write_heartbeats()
    with counted() as out['heartbeat']:
        mgr.report_state(None, 'new', 'nova-compute', 'compute')
        mgr.write_heartbeats()
    with counted() as out['first report']:
        mgr.update_compute_node(None, 'new', _resources('new'))
    with counted() as out['report']:
        mgr.update_compute_node(None, 'new', _resources('new'))
    return {k: len(v) for k, v in out.items()}


def test_a_hosts_reports_cost_the_same_with_3_or_60_hosts(db, conf, monkeypatch):
    from scheduler import host_cache
    from scheduler import manager
    monkeypatch.setattr(host_cache, 'BACKGROUND', False)
    host_cache.reset()
    casts = []
    monkeypatch.setattr(manager.notify, 'refresh_hosts', lambda ctx, h: casts.append(h))
    mgr = manager.SchedulerManager()
    few = _per_host_statements(mgr, 3)
    db_api.dispose()
    conf.set_override('connection', conf.database.connection + '.2', 'database')
    db_api.dispose()
    host_cache.reset()
    from common.db import migration
    migration.db_sync()
    many = _per_host_statements(mgr, 60)
    host_cache.reset()
    assert few == many
    # A heartbeat is part of one UPDATE (of all written that second), a
    # report that changes nothing one UPDATE.
    assert many['heartbeat'] == 1 and many['report'] == 1, many
    assert many['first report'] <= 8, many


def test_a_new_host_without_external_gateway_does_not_rebind_snat(db, monkeypatch):
    """A rebind reads every node and port: with every new host joining it
    made a cloud of N hosts coming up cost N squared."""
    from scheduler import host_cache
    from scheduler import manager
    monkeypatch.setattr(host_cache, 'BACKGROUND', False)
    host_cache.reset()
    called = []
    monkeypatch.setattr(manager.snat, 'rebind', lambda: called.append(1) or set())
    mgr = manager.SchedulerManager()
    mgr.update_compute_node(None, 'h1', _resources('h1'))
    mgr.update_compute_node(None, 'h2', _resources('h2'))
    assert called == []
    mgr.update_compute_node(None, 'h2', dict(_resources('h2'), external_gateway=True))
    assert called == [1]
    host_cache.reset()


def test_hypervisor_list_is_one_query_for_any_number_of_hosts(nova):
    def listed(n):
        for i in range(n):
            add_host('hv-%d-%d' % (n, i))
        with counted() as statements:
            r = nova('GET', '/os-hypervisors/detail', status=200, who='admin',
                     version={'OpenStack-API-Version': 'compute 2.53'})
        hv = r.get_json()['hypervisors']
        assert all(h['state'] == 'up' and h['service']['id'] for h in hv)
        # (The request's other statements, its token's checks, vary.)
        return len(hv), sum(1 for q in statements if 'FROM services' in q)
    n3, few = listed(3)
    n40, many = listed(40)
    assert (n3, n40) == (3, 43)
    assert few == many == 1, (few, many)


def test_two_first_reports_of_a_host_at_once_make_one_node(db, monkeypatch):
    """An agent whose first report timed out at a busy scheduler sends it
    again while the first is still being handled: both found no node; the
    second insert must turn into an update, not an error to the agent."""
    from scheduler import claims
    real_select = claims.sa.select
    raced = []

    def select(*args, **kw):
        # The first look finds no node, as if the other report had not
        # committed yet when it looked (it has by the insert).
        stmt = real_select(*args, **kw)
        if not raced and args and args[0] is claims.N:
            raced.append(1)
            return stmt.where(claims.N.host == '(none)')
        return stmt
    # The other report: committed before this one's insert. (Committed
    # first rather than from inside this one's transaction: a writer holds
    # SQLite's write lock from its start.)
    claims.update_node('hx', dict(_resources('hx'), vcpus=4))
    monkeypatch.setattr(claims.sa, 'select', select)
    claims.update_node('hx', _resources('hx'))
    monkeypatch.undo()
    node = claims.node_for_host('hx')
    assert raced and node.vcpus == 8
    with db_api.reader() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(claims.N)) == 1


def test_an_agents_first_report_waits_longer_each_try(agent):
    """At a scheduler busy with many agents joining, every try is one more
    report in its queue: the tries wait 3, 6, 12, then 24 s, not 3 s each."""
    import oslo_messaging as messaging
    waited = []

    def update_compute_node(ctx, host, resources, timeout=None):
        waited.append(timeout)
        if len(waited) < 6:
            raise messaging.MessagingTimeout()
    agent.scheduler.update_compute_node = update_compute_node
    agent._reconciled = True
    agent.update_available_resource()
    assert waited == [3, 6, 12, 24, 24, 24]
    agent.update_available_resource()  # reported: one try from now on
    assert len(waited) == 7
