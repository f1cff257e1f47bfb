"""altostack-manage: database schema, bootstrap, token keys, service list,
compute nodes (list; add and remove: cli/node_admin.py).

A command-line tool, not a service: it lives in cli/ because bootstrap
runs the API service's set-up code (api.*/bootstrap), which common/ may
not import.
"""

import sys

from oslo_config import cfg

from common import config
from common import servicegroup
from common import tokens
from common.conf import CONF
from common.db import migration


def _db_sync():
    migration.db_sync()
    print('Database schema is at revision %s.' % migration.db_version())


def _db_version():
    print(migration.db_version())


def _bootstrap():
    # Identity and flavors belong to the API service; bootstrap is their
    # one-time set-up, run from here.
    from api.compute import bootstrap as compute_bootstrap
    from api.identity import bootstrap
    from api.network import bootstrap as network_bootstrap
    from api.volume import bootstrap as volume_bootstrap
    tokens.setup_keys()
    bootstrap.bootstrap(CONF.command.admin_password, CONF.command.demo_password)
    compute_bootstrap.bootstrap()
    network_bootstrap.bootstrap(network_bootstrap.admin_project_id())
    volume_bootstrap.bootstrap()
    print('Bootstrap done: users admin%s, roles admin/member/reader, catalog in %s, '
          'flavors %s, networks %s (external, %s) and %s (shared, %s), volume type %s.'
          % (', demo' if CONF.command.demo_password else '', bootstrap.REGION,
             ', '.join(f[1] for f in compute_bootstrap.FLAVORS),
             CONF.network.public_network_name, CONF.network.public_cidr,
             CONF.network.private_network_name, CONF.network.private_cidr,
             CONF.volume.default_volume_type))


def _fernet_setup():
    made = tokens.setup_keys()
    print('Token keys %s in %s.' % ('created' if made else 'already present',
                                     CONF.identity.key_repository))


def _fernet_rotate():
    tokens.rotate_keys()
    print('Token keys rotated in %s.' % CONF.identity.key_repository)


def _service_list():
    for rec in servicegroup.list_services():
        print('%s %s %s %s %s' % (rec.binary, rec.host,
                                  'up' if servicegroup.is_up(rec) else 'down',
                                  'disabled' if rec.disabled else 'enabled',
                                  rec.last_seen_up.isoformat() if rec.last_seen_up else '-'))


def _node_list():
    # Compute nodes the scheduler knows (a host can take servers once
    # listed), with the state of the ones that joined with a token.
    from cli import node_admin
    node_admin.cmd_list()


def _node_add():
    from cli import node_admin
    node_admin.cmd_add()


def _node_remove():
    from cli import node_admin
    node_admin.cmd_remove()


def _add_parsers(subparsers):
    db = subparsers.add_parser('db', help='database schema')
    dbsub = db.add_subparsers(dest='action')
    dbsub.required = True
    dbsub.add_parser('sync', help='migrate the schema to the newest revision'
                     ).set_defaults(func=_db_sync)
    dbsub.add_parser('version', help='print the schema revision').set_defaults(func=_db_version)

    boot = subparsers.add_parser('bootstrap', help='admin, roles, catalog (idempotent)')
    boot.add_argument('--admin-password', required=True)
    boot.add_argument('--demo-password', default=None)
    boot.set_defaults(func=_bootstrap)

    subparsers.add_parser('fernet-setup', help='create the token key repository'
                          ).set_defaults(func=_fernet_setup)
    subparsers.add_parser('fernet-rotate', help='rotate the token keys'
                          ).set_defaults(func=_fernet_rotate)

    svc = subparsers.add_parser('service', help='service records')
    svcsub = svc.add_subparsers(dest='action')
    svcsub.required = True
    svcsub.add_parser('list', help='binary host up|down enabled|disabled last-heartbeat'
                      ).set_defaults(func=_service_list)

    node = subparsers.add_parser('node', help='compute nodes')
    nodesub = node.add_subparsers(dest='action')
    nodesub.required = True
    nodesub.add_parser('list', help='host hypervisor_hostname vcpus memory_mb local_gb '
                       'join-state (token-issued|joined|removed, or - for other hosts)'
                       ).set_defaults(func=_node_list)
    add = nodesub.add_parser('add', help='print a single-use token for '
                             '"altostack-node join" on a new node')
    add.add_argument('node_name', metavar='NAME',
                     help='the new node\'s name (its host name in the cloud)')
    add.add_argument('--role', default='compute',
                     help='what it joins as: compute (default) or control (a controller: '
                          'a Galera and a RabbitMQ node, the control services, a server '
                          'of the load balancer\'s fronts)')
    add.set_defaults(func=_node_add)
    rm = nodesub.add_parser('remove', help='forget a compute node that has no servers left '
                            '(its records, claims and broker user)')
    rm.add_argument('node_name', metavar='NAME')
    rm.set_defaults(func=_node_remove)


def main(argv=None):
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=_add_parsers))
    config.parse_args(sys.argv[1:] if argv is None else argv)
    CONF.command.func()
    return 0


if __name__ == '__main__':
    sys.exit(main())
