"""Engine and sessions. SQLite (WAL), MariaDB and PostgreSQL.

``session()`` is the one way to get a transaction that writes, ``reader()``
the one way to get one that only reads:

    with db_api.session() as s:
        s.execute(...)

Both commit on success and roll back on error. On SQLite a writer takes the
write lock at BEGIN (BEGIN IMMEDIATE), so a read-then-write transaction
never fails on a lock upgrade; readers run beside writers under WAL.
"""

import contextlib
import os
import threading

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm

from common.conf import CONF

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
        return engine
    kwargs.update(pool_size=CONF.database.max_pool_size, pool_pre_ping=True,
                  pool_recycle=3600)
    if url.get_backend_name() == 'mysql':
        kwargs['isolation_level'] = 'READ COMMITTED'
    return sa.create_engine(url, **kwargs)


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


@contextlib.contextmanager
def _session(kind):
    get_engine(kind)
    s = _makers[kind]()
    try:
        with s.begin():
            yield s
    finally:
        s.close()


def session():
    """A transaction that may write."""
    return _session('writer')


def reader():
    """A transaction that only reads."""
    return _session('reader')
