#!/usr/bin/env bash
# Stop the Altostack services that devstack/stack.sh started (by their pid
# files under $ALTOSTACK_STATE/run). State, libvirtd, RabbitMQ and any guests
# are left alone; stack.sh brings the services back in seconds.
#
#   devstack/unstack.sh            (use the same ALTOSTACK_STATE as stack.sh)
#   devstack/unstack.sh --network  also remove the host's data plane: every
#                                  bridge, namespace, dnsmasq and nft table
#                                  the compute agent made (guests lose their
#                                  network until stack.sh runs again)
#
# Extra compute hosts (ALTOSTACK_COMPUTE_HOSTS > 1, lib/hosts.sh) go away
# entirely: their agents, guests, data plane, libvirtds, namespaces and the
# hosts bridge (their files stay under $ALTOSTACK_STATE/hosts).
set -euo pipefail

DEVSTACK_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
# shellcheck source=devstack/lib/prereqs.sh
source "$DEVSTACK_DIR/lib/prereqs.sh"
# shellcheck source=devstack/lib/altostack.sh
source "$DEVSTACK_DIR/lib/altostack.sh"
# shellcheck source=devstack/lib/hosts.sh
source "$DEVSTACK_DIR/lib/hosts.sh"
ALTOSTACK_LOG_PREFIX=unstack
altostack_settings

main() {
    altostack_hosts_down_above 1
    altostack_stop_services "${ALTOSTACK_SERVICES[@]}"
    altostack_log "services stopped; state kept in $ALTOSTACK_STATE"
    if [ "${1:-}" = --network ]; then
        "$ALTOSTACK_VENV/bin/altostack-network-cleanup" --config-file "$ALTOSTACK_CONF" ||
            altostack_die "network cleanup failed"
    fi
}

main "$@"
