"""Transactions lost to a deadlock or a lost connection: the error is
classified, the connection is tried again before a transaction starts, and
the whole unit of work runs again only while that cannot do anything twice
(SQLite, with the driver errors of MariaDB and PostgreSQL injected)."""

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common import exception
from common import unit_of_work
from common.db import api as db_api
from common.db import compute_models as cm


class _MySQLError(Exception):
    pass


class _PGError(Exception):
    def __init__(self, msg, pgcode):
        super().__init__(msg)
        self.pgcode = pgcode


def _op(orig, cls=sa_exc.OperationalError):
    return cls('SELECT 1', {}, orig)


@pytest.mark.parametrize('orig,expected', [
    (_MySQLError(1213, 'Deadlock found when trying to get lock'), exception.DBDeadlock),
    (_MySQLError(1205, 'Lock wait timeout exceeded'), exception.DBDeadlock),
    (_MySQLError(2013, 'Lost connection to MySQL server during query'),
     exception.DBConnectionError),
    (_MySQLError(2006, 'MySQL server has gone away'), exception.DBConnectionError),
    (_MySQLError(2003, "Can't connect to MySQL server (111 Connection refused)"),
     exception.DBConnectionError),
    (_MySQLError(1047, 'WSREP has not yet prepared node for application use'),
     exception.DBConnectionError),
    (_PGError('deadlock detected', '40P01'), exception.DBDeadlock),
    (_PGError('could not serialize access', '40001'), exception.DBDeadlock),
    (_PGError('terminating connection due to administrator command', '57P01'),
     exception.DBConnectionError),
    (_PGError('server closed the connection unexpectedly', None),
     exception.DBConnectionError),
    (_MySQLError(1062, 'Duplicate entry'), None),
    (_PGError('duplicate key value', '23505'), None),
])
def test_classify(orig, expected):
    assert db_api.classify(_op(orig)) is expected


def test_classify_ignores_ours_and_integrity():
    assert db_api.classify(exception.NotFound()) is None
    assert db_api.classify(_op(_MySQLError(1062, 'dup'), sa_exc.IntegrityError)) is None


def _flavor(name):
    return cm.Flavor(flavorid=name, name=name, vcpus=1, memory_mb=64, root_gb=1)


def _flavors():
    with db_api.reader() as s:
        return sorted(s.scalars(sa.select(cm.Flavor.name)))


def test_lost_transaction_raises_retryable_and_rolls_back(fast):
    with pytest.raises(exception.DBConnectionError), db_api.session() as s:
        s.add(_flavor('f1'))
        s.flush()
        raise _op(_MySQLError(2013, 'Lost connection to MySQL server during query'))
    assert 'f1' not in _flavors()


def test_unit_runs_again_until_the_transaction_commits(fast):
    calls = []

    def make():
        calls.append(1)
        with db_api.session() as s:
            s.add(_flavor('f-once'))
            s.flush()
            if len(calls) < 3:  # the writer dies twice in the middle
                raise _op(_MySQLError(1213, 'Deadlock found'))
        return 'made'

    assert unit_of_work.run('test', make) == 'made'
    assert len(calls) == 3
    assert _flavors().count('f-once') == 1


def test_unit_is_not_run_again_after_a_committed_write(fast):
    calls = []

    def make():
        calls.append(1)
        with db_api.session() as s:
            s.add(_flavor('f-first'))
        with db_api.session() as s:
            s.add(_flavor('f-second'))
            s.flush()
            raise _op(_MySQLError(2006, 'MySQL server has gone away'))

    with pytest.raises(exception.DBConnectionError):
        unit_of_work.run('test', make)
    assert len(calls) == 1
    assert _flavors().count('f-first') == 1 and 'f-second' not in _flavors()


def test_reads_committed_before_do_not_stop_a_retry(fast):
    calls = []

    def make():
        calls.append(1)
        _flavors()
        with db_api.session() as s:
            s.scalars(sa.select(cm.Flavor)).all()  # a writer session that only read
        with db_api.session() as s:
            s.add(_flavor('f-after-reads'))
            s.flush()
            if len(calls) == 1:
                raise _op(_MySQLError(2013, 'Lost connection'))

    unit_of_work.run('test', make)
    assert len(calls) == 2 and _flavors().count('f-after-reads') == 1


def test_unit_is_not_run_again_after_a_message_sent(fast):
    from common import rpc
    calls = []

    def make():
        calls.append(1)
        rpc.ContextSerializer().serialize_context(_Ctx())
        with db_api.session() as s:
            s.add(_flavor('f-sent'))
            s.flush()
            raise _op(_MySQLError(1213, 'Deadlock found'))

    with pytest.raises(exception.DBDeadlock):
        unit_of_work.run('test', make)
    assert len(calls) == 1


class _Ctx:
    def to_dict(self):
        return {}


def test_retries_are_bounded(fast):
    calls = []

    def make():
        calls.append(1)
        with db_api.session():
            raise _op(_MySQLError(1213, 'Deadlock found'))

    with pytest.raises(exception.DBDeadlock):
        unit_of_work.run('test', make)
    assert len(calls) == 4  # the first try and db_max_retries = 3


def test_backoff_doubles_up_to_the_cap(conf):
    conf.set_override('db_retry_interval', 0.5, 'database')
    conf.set_override('db_max_retry_interval', 2.0, 'database')
    try:
        waits = [unit_of_work.backoff(a) for a in range(5)]
    finally:
        conf.clear_override('db_retry_interval', 'database')
        conf.clear_override('db_max_retry_interval', 'database')
    for wait, full in zip(waits, [0.5, 1.0, 2.0, 2.0, 2.0], strict=True):
        assert 0.8 * full <= wait <= full


def test_connection_is_tried_again_before_the_transaction(fast, monkeypatch):
    """A connection that cannot be made (the front has no writer yet) is
    tried again; nothing of the transaction ran, so no unit is needed."""
    real = sa.orm.Session.connection
    failures = [2]

    def connection(self, *a, **kw):
        if failures[0]:
            failures[0] -= 1
            raise _op(_MySQLError(2003, "Can't connect to MySQL server"))
        return real(self, *a, **kw)

    monkeypatch.setattr(sa.orm.Session, 'connection', connection)
    with db_api.session() as s:
        s.add(_flavor('f-conn'))
    monkeypatch.undo()
    assert failures == [0] and 'f-conn' in _flavors()


def test_our_errors_pass_through_and_roll_back(fast):
    with pytest.raises(exception.Conflict), db_api.session() as s:
        s.add(_flavor('f-conflict'))
        s.flush()
        raise exception.Conflict(reason='no')
    assert 'f-conflict' not in _flavors()


def test_rpc_endpoints_run_as_units(fast):
    import oslo_messaging as messaging

    class Manager:
        target = messaging.Target(version='1.0')

        def __init__(self):
            self.calls = 0

        def act(self, ctxt):
            self.calls += 1
            with db_api.session() as s:
                s.add(_flavor('f-rpc-%d' % self.calls))
                s.flush()
                if self.calls == 1:
                    raise _op(_MySQLError(2013, 'Lost connection'))
            return self.calls

    m = Manager()
    ep = unit_of_work.Endpoints(m)
    assert ep.target is m.target
    # What oslo.messaging's dispatcher checks when a server is made.
    from oslo_messaging.rpc import dispatcher
    dispatcher.RPCDispatcher([ep], None)
    assert ep.act({}) == 2
    assert 'f-rpc-1' not in _flavors() and 'f-rpc-2' in _flavors()


def test_api_request_runs_again(fast, client, monkeypatch):
    """A flavor create whose transaction is lost once answers 200 and makes
    one flavor."""
    from tests.fixtures.identity import ADMIN_PW
    from tests.fixtures.identity import issue
    token, _ = issue(client, 'admin', ADMIN_PW, project='admin')
    real = sa.orm.Session.commit
    lost = [1]

    def commit(self):
        if lost[0] and any(isinstance(o, cm.Flavor) for o in self.new):
            lost[0] = 0
            raise _op(_MySQLError(2013, 'Lost connection to MySQL server during query'))
        return real(self)

    monkeypatch.setattr(sa.orm.Session, 'commit', commit)
    r = client.post('/compute/v2.1/flavors', headers={'X-Auth-Token': token},
                    json={'flavor': {'name': 'f-api', 'ram': 64, 'vcpus': 1, 'disk': 1}})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert lost == [0] and _flavors().count('f-api') == 1


def test_a_unit_passes_on_keyword_arguments_named_like_its_own():
    # RPC endpoints take keyword arguments; one called ``name`` or ``fn``
    # (conductor register_node has ``name``) must reach the method.
    def endpoint(ctxt, name=None, fn=None):
        return (ctxt, name, fn)

    assert unit_of_work.wrap('endpoint', endpoint)('c', name='n1', fn='f') == ('c', 'n1', 'f')
