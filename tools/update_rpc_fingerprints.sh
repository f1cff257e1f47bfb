#!/bin/sh
# Rewrite tests/unit/rpc_fingerprints.txt after an RPC interface changed with
# its version bumped (a change whose version stayed is not recorded).
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python3}
ALTOSTACK_UPDATE_FINGERPRINTS=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
    exec "$PYTHON" -m pytest -q -p no:cacheprovider tests/unit/test_rpc_fingerprints.py "$@"
