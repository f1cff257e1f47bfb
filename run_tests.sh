#!/usr/bin/env bash
# The whole test suite: lint, unit tests, then functional tests that start
# the real services on RabbitMQ and drive them with the openstack CLI, then
# the conformance suite (upstream API samples; fetches pinned sdists from PyPI).
# Installs what it needs (Debian packages, a broker if none answers, tox).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
# shellcheck source=devstack/lib/prereqs.sh
source devstack/lib/prereqs.sh
altostack_install_debs
altostack_ensure_rabbitmq 127.0.0.1 5672
altostack_start_libvirtd

TOOLS=${ALTOSTACK_TOOLS_VENV:-/opt/altostack/tools-venv}
if [ ! -x "$TOOLS/bin/tox" ]; then
    echo "[tests] installing tox into $TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --upgrade pip tox
fi
exec "$TOOLS/bin/tox" -e pep8,py3,functional,conformance "$@"
