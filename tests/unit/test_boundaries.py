import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_boundary_lint_passes():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'check_boundaries.py')],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_boundary_lint_catches_compute_using_db(tmp_path):
    sys.path.insert(0, str(ROOT / 'tools'))
    try:
        import check_boundaries
    finally:
        sys.path.pop(0)
    bad = tmp_path / 'x.py'
    bad.write_text('from common.db import api\nfrom scheduler import manager\nprint(1)\n')
    errs = [m for _l, m in check_boundaries.check(bad, 'compute/x.py')]
    assert any(e.startswith('B1') for e in errs)
    assert any(e.startswith('B2') for e in errs)
    assert any(e.startswith('B5') for e in errs)


def test_boundary_lint_keeps_compute_off_the_network_books(tmp_path):
    sys.path.insert(0, str(ROOT / 'tools'))
    try:
        import check_boundaries
    finally:
        sys.path.pop(0)
    bad = tmp_path / 'x.py'
    bad.write_text('from network import state\nfrom compute.network import plane\n')
    errs = [(line, m) for line, m in check_boundaries.check(bad, 'compute/x.py')]
    assert {line for line, m in errs if m.startswith('B1')} == {1}
