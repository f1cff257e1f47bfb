"""One real cloud for the whole conformance session (tests/fixtures/cloud.py),
the resources the samples point at, known failures as strict xfails, and the summary printed
at the end of the run (samples served / covered / passing per service)."""

import collections
import fnmatch
import time

import pytest

from tests.conformance import cases as cases_mod
from tests.conformance import client as client_mod
from tests.conformance import upstream

_OUTCOMES = {}          # case id -> 'passed' | 'failed' | 'skipped' | 'xfailed' | 'xpassed'
_CASES = {}             # case id -> Case or SchemaCase
_STARTED = time.monotonic()


def _known(case_id, known):
    for pattern, reason in known.items():
        if fnmatch.fnmatchcase(case_id, pattern):
            return reason
    return None


def pytest_generate_tests(metafunc):
    if 'case' not in metafunc.fixturenames and 'schema_case' not in metafunc.fixturenames:
        return
    try:
        made = (cases_mod.sample_cases() if 'case' in metafunc.fixturenames
                else cases_mod.schema_cases())
    except upstream.Unavailable as e:
        raise pytest.UsageError(str(e)) from None
    known = cases_mod.known_failures()
    params = []
    for c in made:
        _CASES[c.id] = c
        reason = _known(c.id, known)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(c, id=c.id, marks=marks))
    name = 'case' if 'case' in metafunc.fixturenames else 'schema_case'
    metafunc.parametrize(name, params)


@pytest.fixture(scope='session')
def client(cloud):
    return client_mod.Client(cloud)


@pytest.fixture(scope='session')
def res(cloud, client):
    image = cloud.upload_tiny_image()
    return client_mod.make_resources(client, image)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    params = getattr(getattr(item, 'callspec', None), 'params', {})
    c = params.get('case') or params.get('schema_case')
    if c is None:
        return
    if rep.when == 'call' or (rep.when == 'setup' and rep.outcome != 'passed'):
        if hasattr(rep, 'wasxfail'):
            state = 'xfailed' if rep.outcome == 'skipped' else 'xpassed'
        else:
            state = rep.outcome
        _OUTCOMES[c.id] = state


def summary_rows():
    """Per service: (published, served, covered, passing, known failures)."""
    per_sample = collections.defaultdict(list)   # (service, path) -> outcomes
    for case_id, c in _CASES.items():
        if not hasattr(c, 'samples') or case_id not in _OUTCOMES:
            continue
        for path in c.samples:
            per_sample[(c.service, path)].append(_OUTCOMES[case_id])
    rows = []
    for service in cases_mod.PROJECT:
        mine = {p: o for (s, p), o in per_sample.items() if s == service}
        if not mine:
            continue
        published = len(cases_mod.all_sample_files(service))
        covered = [o for o in mine.values() if any(x != 'skipped' for x in o)]
        passing = [o for o in covered if all(x in ('passed', 'skipped') for x in o)]
        known = [o for o in covered if any(x in ('xfailed', 'xpassed') for x in o)]
        rows.append((service, published, len(mine), len(covered), len(passing), len(known)))
    return rows


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return
    tr = terminalreporter
    tr.section('Conformance with the upstream API samples')
    tr.write_line('%-9s %9s %7s %8s %8s %6s' % ('service', 'published', 'served', 'covered',
                                                'passing', 'known'))
    for row in summary_rows():
        tr.write_line('%-9s %9d %7d %8d %8d %6d' % row)
    schema = [o for cid, o in _OUTCOMES.items() if cid.startswith('compute-schema:')]
    if schema:
        tr.write_line('compute action bodies (smallest and largest per Nova request '
                      'schema): %d sent, %d accepted, %d known failures'
                      % (len(schema), schema.count('passed'),
                         schema.count('xfailed') + schema.count('xpassed')))
    counts = collections.Counter(_OUTCOMES.values())
    tr.write_line('cases: %s; %.0f s' % (', '.join('%d %s' % (n, k) for k, n in
                                                   sorted(counts.items())),
                                         time.monotonic() - _STARTED))
    tr.write_line('(samples from %s)' % ', '.join('%s==%s' % kv for kv in
                                                   upstream.PINS.items()))
