"""[database] options: where the SQL state lives."""

from oslo_config import cfg

group = cfg.OptGroup('database', title='Database options')

opts = [
    cfg.StrOpt('connection', secret=True,
               default='sqlite:///$state_path/altostack.sqlite',
               help='SQLAlchemy URL: sqlite:///path (default, WAL mode), '
                    'mysql+pymysql://user:pw@host/db or postgresql+psycopg2://user@host/db.'),
    cfg.BoolOpt('connection_debug', default=False, help='Log every SQL statement.'),
    cfg.IntOpt('max_pool_size', default=10, min=1,
               help='Connections kept open to MariaDB or PostgreSQL.'),
    cfg.FloatOpt('db_retry_interval', default=0.25, min=0.0,
                 help='Seconds before the first retry of a unit of work (an API '
                      'request, an RPC call) whose transaction was lost to a deadlock '
                      'or a lost connection, or of a connection that could not be '
                      'made; doubled at each retry.'),
    cfg.FloatOpt('db_max_retry_interval', default=2.0, min=0.0,
                 help='The longest wait between two of those retries.'),
    cfg.IntOpt('db_max_retries', default=10, min=0,
               help='Retries of a lost transaction or connection before the error is '
                    'returned (the defaults cover about 16 s, a Galera writer failover).'),
    cfg.IntOpt('pool_recycle', default=3600, min=-1,
               help='Seconds after which a pooled connection is replaced (-1: never); '
                    'every connection is also pinged when taken from the pool.'),
    cfg.IntOpt('sqlite_busy_timeout', default=30000, min=0,
               help='Milliseconds SQLite waits for a lock before it gives up.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
