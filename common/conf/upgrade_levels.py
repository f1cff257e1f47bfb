"""[upgrade_levels]: the highest RPC version each client may send.

During a rolling upgrade the upgraded services keep speaking the version the
not yet upgraded ones understand: set the option of that service's topic to
the version of the old release's rpcapi (its ``VERSION``). Unset, a client
sends what it knows. common.rpc.get_client reads the option of its topic.
"""

from oslo_config import cfg

GROUP = 'upgrade_levels'

# A version as oslo.messaging compares them: MAJOR.MINOR.
_VERSION = cfg.types.String(regex=r'^\d+\.\d+$')


def _opt(topic, service):
    return cfg.Opt(topic, type=_VERSION, default=None,
                   help='Highest RPC version the clients of the %s service send '
                        '(e.g. 1.4). Set it to the old release\'s version while '
                        'some %s services are not upgraded yet; unset sends the '
                        'newest this release knows.' % (service, service))


opts = [
    _opt('compute', 'compute'),
    _opt('scheduler', 'scheduler'),
    _opt('conductor', 'conductor'),
    _opt('volume', 'volume'),
    _opt('image', 'image'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
