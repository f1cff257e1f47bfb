"""altostack-host-evacuate: evacuate every server of a compute host that is
down, through the compute API, like `nova host-evacuate` (the openstack CLI
has no such command).

It is a client: it authenticates as the openstack CLI does (--os-cloud and
clouds.yaml, or the OS_* variables; see openstacksdk), lists the servers on
HOST in all projects and posts an `evacuate` action for each, printing one
line per server: its id, its name, 'accepted' or 'refused' and the API's
message. With --wait it then waits for each accepted server to finish and
prints where it ended. The exit status is 0 only when every server was
accepted (and, with --wait, ended ACTIVE or SHUTOFF).
"""

import argparse
import sys
import time

MICROVERSION = '2.29'  # the target host is named without onSharedStorage


def _parser():
    p = argparse.ArgumentParser(
        prog='altostack-host-evacuate',
        description='Evacuate every server of a compute host that is down.')
    p.add_argument('host', help='the compute host (its service must be down)')
    p.add_argument('--target-host', metavar='HOST',
                   help='rebuild them all on this host (default: the scheduler chooses)')
    p.add_argument('--wait', action='store_true',
                   help='wait until each accepted evacuation has finished')
    p.add_argument('--wait-timeout', type=float, default=600, metavar='SECONDS',
                   help='how long --wait waits for all of them (default 600)')
    return p


def _error_message(resp):
    try:
        body = resp.json()
        (inner,) = body.values()
        return inner.get('message') or str(body)
    except (ValueError, AttributeError, TypeError):
        return resp.text.strip() or 'HTTP %d' % resp.status_code


def evacuate_host(conn, host, target=None, out=sys.stdout):
    """Post an evacuate action for each server on ``host``; [(server,
    accepted)]."""
    results = []
    servers = list(conn.compute.servers(details=True, all_projects=True, compute_host=host))
    if not servers:
        print('No servers on %s.' % host, file=out)
    for server in servers:
        body = {'host': target} if target else {}
        resp = conn.compute.post('/servers/%s/action' % server.id, json={'evacuate': body},
                                 microversion=MICROVERSION, raise_exc=False)
        accepted = resp.status_code < 300
        message = 'evacuating to %s' % (target or 'a host the scheduler chooses') \
            if accepted else _error_message(resp)
        print('%s %s %s %s' % (server.id, server.name, 'accepted' if accepted else 'refused',
                               message), file=out, flush=True)
        results.append((server, accepted))
    return results


def wait(conn, servers, timeout, out=sys.stdout):
    """Wait for each server to leave REBUILD; True if all ended well."""
    deadline = time.monotonic() + timeout
    ok = True
    for server in servers:
        while True:
            now = conn.compute.get_server(server.id)
            if now.status != 'REBUILD' or time.monotonic() > deadline:
                break
            time.sleep(2)
        good = now.status in ('ACTIVE', 'SHUTOFF')
        ok = ok and good
        fault = '' if good else ' %s' % ((now.fault or {}).get('message') or '')
        print('%s %s %s on %s%s' % (now.id, now.name, now.status, now.compute_host, fault),
              file=out, flush=True)
    return ok


def parse_args(argv, config=None):
    """Our options and openstacksdk's (--os-cloud, --os-auth-url, ...)."""
    import openstack.config

    parser = _parser()
    (config or openstack.config.OpenStackConfig()).register_argparse_arguments(parser, argv)
    return parser.parse_args(argv)


def main(argv=None):
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig()
    args = parse_args(sys.argv[1:] if argv is None else argv, config)
    conn = openstack.connection.Connection(config=config.get_one(argparse=args))
    results = evacuate_host(conn, args.host, args.target_host)
    ok = all(accepted for _server, accepted in results)
    if args.wait:
        ok = wait(conn, [s for s, accepted in results if accepted], args.wait_timeout) and ok
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
