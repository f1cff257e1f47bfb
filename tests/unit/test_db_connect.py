"""New MariaDB connections are cheap: PyMySQL's default ("preferred") TLS
context is made once per process, not once per connection (it cost 30 ms
of CPU each, the largest cost of a busy scheduler; issue 15, scale)."""

from sqlalchemy import event

from common.db import api as db_api


def _connection(**params):
    return db_api._pymysql_connect(None, None, (), dict(params, host='127.0.0.1',
                                                        defer_connect=True))


def test_connections_share_the_default_tls_context():
    first, second = _connection(), _connection()
    assert first.ctx is not None and first.ctx is second.ctx
    # Still "preferred": TLS when the server offers it, plain when not.
    assert not first._ssl_required


def test_explicit_tls_options_get_a_context_of_their_own():
    plain = _connection()
    own = _connection(ssl={'check_hostname': False})
    assert own.ctx is not plain.ctx and own._ssl_required


def test_mysql_engines_connect_that_way(conf):
    engine = db_api.create_engine('mysql+pymysql://u:p@127.0.0.1/x')
    try:
        assert event.contains(engine, 'do_connect', db_api._pymysql_connect)
    finally:
        engine.dispose()
