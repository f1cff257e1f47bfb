"""Every tier's skip policy: a skipped test is a failure of the run when
ALTOSTACK_TEST_STRICT_SKIPS is set (./run_tests.sh sets it, so CI does),
unless tests/skip_allowlist.txt names it with its reason.

A test that CI would skip proves nothing; the project's own set-up starts
what the tests need (RabbitMQ, libvirtd, MariaDB, PostgreSQL), so a skip
there means a missing install step, not a missing feature.
"""

import fnmatch
import os
import pathlib

ALLOWLIST = pathlib.Path(__file__).with_name('skip_allowlist.txt')

# The fixtures the test modules share, by name (tests/fixtures/__init__.py).
pytest_plugins = [
    'tests.fixtures.browser',
    'tests.fixtures.cloud',
    'tests.fixtures.compute_agent',
    'tests.fixtures.dashboard',
    'tests.fixtures.host_network',
    'tests.fixtures.images',
    'tests.fixtures.libvirt_test',
    'tests.fixtures.network_api',
    'tests.fixtures.node_broker',
    'tests.fixtures.nova_api',
    'tests.fixtures.resize_api',
    'tests.fixtures.volume_api',
]

_skipped = []


def _allowlist():
    """[(nodeid pattern, reason)] from the allow list; '#' starts a comment."""
    entries = []
    for line in ALLOWLIST.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        pattern, _, reason = line.partition(' ')
        if not reason.strip():
            raise ValueError('%s: %r has no reason' % (ALLOWLIST, pattern))
        entries.append((pattern, reason.strip()))
    return entries


def _allowed(nodeid, entries):
    return any(fnmatch.fnmatchcase(nodeid, pattern) for pattern, _ in entries)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, 'wasxfail'):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get('ALTOSTACK_TEST_STRICT_SKIPS') or not _skipped:
        return
    entries = _allowlist()
    bad = [(n, r) for n, r in _skipped if not _allowed(n, entries)]
    if not bad:
        return
    session.config._altostack_bad_skips = bad
    session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    bad = getattr(config, '_altostack_bad_skips', None)
    if not bad:
        return
    terminalreporter.section('skips not on tests/skip_allowlist.txt', sep='=', red=True)
    for nodeid, reason in bad:
        terminalreporter.line('%s: %s' % (nodeid, reason))
    terminalreporter.line('%d test(s) skipped that must run here (ALTOSTACK_TEST_STRICT_SKIPS)'
                          % len(bad), red=True)
