"""Engine and sessions. SQLite (WAL), MariaDB and PostgreSQL.

``session()`` is the one way to get a transaction that writes, ``reader()``
the one way to get one that only reads:

    with db_api.session() as s:
        s.execute(...)

Both commit on success and roll back on error. On SQLite a writer takes the
write lock at BEGIN (BEGIN IMMEDIATE), so a read-then-write transaction
never fails on a lock upgrade; readers run beside writers under WAL.

This is also where a database that goes away is survived (MariaDB Galera
behind HAProxy, whose writer may die): a pooled connection is pinged when
taken and replaced when dead; a connection that cannot be made is tried
again with a bounded exponential backoff before the transaction starts
(nothing has run yet, so that is always safe); and a transaction lost to a
deadlock or a lost connection raises DBDeadlock or DBConnectionError, which
re-run the whole unit of work (common/unit_of_work.py) while that is safe.
"""

import contextlib
import os
import threading
import time

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from common import exception
from common import unit_of_work
from common.conf import CONF

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_engines = {}
_makers = {}


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute('PRAGMA journal_mode=WAL')
    cur.execute('PRAGMA synchronous=NORMAL')
    cur.execute('PRAGMA foreign_keys=ON')
    cur.execute('PRAGMA busy_timeout=%d' % CONF.database.sqlite_busy_timeout)
    cur.close()


_tls_context = None
_tls_lock = threading.Lock()


def _pymysql_connect(_dialect, _record, cargs, cparams):
    """A PyMySQL connection whose default ("preferred") TLS context is made
    once per process, not once per connection.

    Given no TLS options, PyMySQL offers TLS to a server that has it and
    builds a new default context for every connection it opens, loading the
    system's CA bundle: about 30 ms of CPU, 60 times what the connection
    costs otherwise (even when the server has TLS disabled). A busy service
    opens connections all the time (those above the pool's size are closed
    when returned), so on a loaded scheduler this was the largest CPU
    cost of all. The context is the same each time; one serves every
    connection. Explicit TLS options (in the URL) are left to PyMySQL."""
    import pymysql

    class Connection(pymysql.connections.Connection):
        def _create_ssl_ctx(self, sslp):
            global _tls_context
            if sslp:
                return super()._create_ssl_ctx(sslp)
            with _tls_lock:
                if _tls_context is None:
                    _tls_context = super()._create_ssl_ctx(sslp)
                return _tls_context
    return Connection(*cargs, **cparams)


def create_engine(url=None, immediate=True):
    url = sa.engine.make_url(url or CONF.database.connection)
    kwargs = {'echo': CONF.database.connection_debug, 'future': True}
    if url.get_backend_name() == 'sqlite':
        if url.database:
            os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        kwargs['connect_args'] = {'check_same_thread': False,
                                  'timeout': CONF.database.sqlite_busy_timeout / 1000.0}
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, 'connect', _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locks; take the write lock at
        # BEGIN so read-then-write transactions do not deadlock on upgrade.
        begin = 'BEGIN IMMEDIATE' if immediate else 'BEGIN'
        event.listen(engine, 'begin', lambda conn: conn.exec_driver_sql(begin))

        @event.listens_for(engine, 'connect')
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
        event.listen(engine, 'before_cursor_execute', _note_write)
        return engine
    kwargs.update(pool_size=CONF.database.max_pool_size, pool_pre_ping=True,
                  pool_recycle=CONF.database.pool_recycle)
    if url.get_backend_name() == 'mysql':
        kwargs['isolation_level'] = 'READ COMMITTED'
        # A dead peer is noticed in seconds, not at the kernel's TCP timeout.
        kwargs['connect_args'] = {'connect_timeout': 5, 'read_timeout': 60,
                                  'write_timeout': 60}
    engine = sa.create_engine(url, **kwargs)
    if url.get_driver_name() == 'pymysql':
        event.listen(engine, 'do_connect', _pymysql_connect)
    event.listen(engine, 'before_cursor_execute', _note_write)
    return engine


_WRITES = ('INSERT', 'UPDATE', 'DELETE', 'REPLAC', 'MERGE ')


def _note_write(conn, _cursor, statement, _params, _context, _many):
    if statement.lstrip()[:6].upper() in _WRITES:
        conn.info['altostack_wrote'] = True


# MySQL/MariaDB error numbers. Deadlock: 1213, and 1205 (lock wait timeout),
# which is how Galera's certification failures and brute-force aborts
# reach a client too. Connection: 2002/2003 cannot connect, 2006 gone
# away, 2013 lost during a query, 2055 lost at handshake, 1047 a Galera
# node not ready (joining or not primary), 1053 shutting down, 1927 killed,
# 4031 disconnected for inactivity.
_MYSQL_DEADLOCK = {1205, 1213}
_MYSQL_CONNECTION = {1047, 1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
# PostgreSQL SQLSTATEs: deadlock and serialization failure; class 08 is a
# connection exception, 57P01..03 an administrator's or crash shutdown.
_PG_DEADLOCK = {'40P01', '40001'}
_PG_CONNECTION_PREFIXES = ('08', '57P01', '57P02', '57P03')
_LOST_WORDS = ('server closed the connection', 'could not connect', 'connection refused',
               'connection reset', 'terminating connection', 'lost connection',
               'gone away', 'broken pipe', 'connection timed out')


def classify(err):
    """DBDeadlock or DBConnectionError for a driver error that loses the
    transaction but may succeed when tried again, else None."""
    if not isinstance(err, sa_exc.DBAPIError):
        return None
    orig = err.orig
    code = orig.args[0] if getattr(orig, 'args', None) else None
    pgcode = getattr(orig, 'pgcode', None)
    if code in _MYSQL_DEADLOCK or pgcode in _PG_DEADLOCK:
        return exception.DBDeadlock
    if err.connection_invalidated or code in _MYSQL_CONNECTION \
            or (pgcode and pgcode.startswith(_PG_CONNECTION_PREFIXES)):
        return exception.DBConnectionError
    if isinstance(err, (sa_exc.OperationalError, sa_exc.InterfaceError)) and not pgcode \
            and any(w in str(orig).lower() for w in _LOST_WORDS):
        return exception.DBConnectionError
    return None


def _is_sqlite():
    return sa.engine.make_url(CONF.database.connection).get_backend_name() == 'sqlite'


def get_engine(kind='writer'):
    with _lock:
        if kind not in _engines:
            if kind == 'reader' and not _is_sqlite():
                _engines[kind] = _engines.get('writer') or create_engine()
                _engines.setdefault('writer', _engines[kind])
            else:
                _engines[kind] = create_engine(immediate=(kind == 'writer'))
            for k, eng in _engines.items():
                _makers.setdefault(k, orm.sessionmaker(bind=eng, expire_on_commit=False))
    return _engines[kind]


def dispose():
    with _lock:
        for eng in set(_engines.values()):
            eng.dispose()
        _engines.clear()
        _makers.clear()


def _with_backoff(begin, undo):
    """``begin()`` (which takes a connection and starts a transaction) again
    while the connection cannot be made (the database or its front is down,
    a Galera node is not ready), with backoff; nothing has run yet, so this
    is always safe. ``undo()`` drops a half-begun try."""
    attempt = 0
    while True:
        try:
            return begin()
        except sa_exc.DBAPIError as e:
            kind = classify(e)
            with contextlib.suppress(Exception):
                undo()
            if kind is None:
                raise
            if attempt >= CONF.database.db_max_retries:
                raise kind() from e
            delay = unit_of_work.backoff(attempt)
            attempt += 1
            LOG.warning('No database connection (%s); trying again in %.2fs (%d of %d)',
                        e.orig, delay, attempt, CONF.database.db_max_retries)
            time.sleep(delay)


def _begin(s):
    """Begin the session's transaction on a live connection."""
    def begin():
        s.begin()
        info = s.connection().info
        info.pop('altostack_wrote', None)
        return info
    return _with_backoff(begin, s.rollback)


@contextlib.contextmanager
def lost_as_retryable():
    """A driver error in the block that lost the transaction (``classify``)
    raises DBDeadlock or DBConnectionError, which the unit of work may run
    again; for code with an engine of its own (the scheduler's host cache)."""
    try:
        yield
    except sa_exc.DBAPIError as e:
        lost = classify(e)
        if lost is None:
            raise
        raise lost() from e


@contextlib.contextmanager
def _ending(info):
    """The transaction of the block (committed by the caller at the end of
    it): lost, it raises as ``lost_as_retryable``; a committed write is
    noted for the unit of work."""
    with lost_as_retryable():
        yield
    if info.pop('altostack_wrote', False):
        unit_of_work.note_committed_write()


@contextlib.contextmanager
def _committed(info, commit, rollback):
    """The block's transaction committed at its end, rolled back if it
    raises; a loss raises as ``lost_as_retryable`` (``_ending``)."""
    with _ending(info):
        try:
            yield
            commit()
        except Exception:
            with contextlib.suppress(Exception):
                rollback()
            raise


@contextlib.contextmanager
def _session(kind):
    get_engine(kind)
    s = _makers[kind]()
    try:
        with _committed(_begin(s), s.commit, s.rollback):
            yield s
    finally:
        s.close()


@contextlib.contextmanager
def connection():
    """A Core connection in a transaction that may write, for the hot paths
    that skip the ORM (a claim): begun, committed and its losses told apart
    as ``session()``'s are."""
    engine = get_engine('writer')
    held = []

    def begin():
        conn = engine.connect()
        held.append(conn)
        trans = conn.begin()
        conn.info.pop('altostack_wrote', None)
        return conn, trans

    def undo():
        while held:
            held.pop().close()

    conn, trans = _with_backoff(begin, undo)
    try:
        with _committed(conn.info, trans.commit, trans.rollback):
            yield conn
    finally:
        conn.close()


def session():
    """A transaction that may write."""
    return _session('writer')


def reader():
    """A transaction that only reads."""
    return _session('reader')
