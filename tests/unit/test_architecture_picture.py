"""docs/architecture.dot (and the SVG drawn from it) says what the code says:
services from setup.cfg, RPC arrows from rpcapi imports, SQL from common.db."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_committed_picture_matches_the_code():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'draw_architecture.py'), '--check'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_picture_names_every_service_package():
    dot = (ROOT / 'docs' / 'architecture.dot').read_text()
    for pkg in ('api', 'scheduler', 'conductor', 'compute', 'blockstore', 'imagestore'):
        assert '  %s [label=' % pkg in dot
