"""altostack-network-cleanup: remove everything a compute agent's data plane
made (bridges, veths, VXLAN devices, namespaces, dnsmasq processes, nft
tables, files), as listed in its registry, and nothing else.

    altostack-network-cleanup --config-file /etc/altostack/altostack.conf
    altostack-network-cleanup --state-dir /var/lib/altostack/network

Run it with the agent stopped (devstack/unstack.sh, tests). Exit status 0
when everything listed is gone.
"""

import argparse
import sys

from oslo_log import log as logging

from common import config
from common.conf import CONF
from compute.network import plane
from compute.virt import exception

LOG = logging.getLogger(__name__)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog='altostack-network-cleanup',
        description='Remove the bridges, VXLAN devices, namespaces, dnsmasq processes '
                    'and nft tables a compute agent made (per its registry in [network] '
                    'state_dir).')
    parser.add_argument('--state-dir', help='the data plane folder (default: [network] '
                                            'state_dir of the configuration)')
    args, rest = parser.parse_known_args(argv)
    config.parse_args(rest)
    state_dir = args.state_dir or CONF.network.state_dir
    hn = plane.HostNetwork(state_dir)
    try:
        removed = hn.teardown()
    except exception.NetworkApplyFailed as e:
        sys.stderr.write('altostack-network-cleanup: %s\n' % e)
        return 1
    sys.stdout.write('altostack-network-cleanup: %s: removed %d item(s)%s\n' % (
        state_dir, len(removed), (': ' + ', '.join(removed)) if removed else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
