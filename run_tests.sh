#!/usr/bin/env bash
# The whole test suite: lint, unit tests, then functional tests that start
# the real services on RabbitMQ and drive them with the openstack CLI, then
# the conformance suite (upstream API samples; fetches pinned sdists from PyPI).
# Installs what it needs (Debian packages, a broker and the MariaDB and
# PostgreSQL servers if none answers, tox); a skip not on
# tests/skip_allowlist.txt fails the run.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
# shellcheck source=devstack/lib/prereqs.sh
source devstack/lib/prereqs.sh
# shellcheck source=devstack/lib/testdbs.sh
source devstack/lib/testdbs.sh
altostack_install_debs
altostack_ensure_rabbitmq 127.0.0.1 5672
altostack_start_libvirtd
altostack_ensure_mariadb
altostack_ensure_postgresql

# A test skipped here fails the run unless tests/skip_allowlist.txt names it.
export ALTOSTACK_TEST_STRICT_SKIPS=1

TOOLS=${ALTOSTACK_TOOLS_VENV:-/opt/altostack/tools-venv}
if [ ! -x "$TOOLS/bin/tox" ]; then
    echo "[tests] installing tox into $TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --upgrade pip tox
fi
exec "$TOOLS/bin/tox" -e pep8,py3,functional,dashboard,multinode,faults,conformance "$@"
