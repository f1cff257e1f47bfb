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
    cfg.IntOpt('sqlite_busy_timeout', default=30000, min=0,
               help='Milliseconds SQLite waits for a lock before it gives up.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
