"""The test tree's own rules: no test module imports another test module
(what two share lives in tests/fixtures/, its fixtures registered by
tests/conftest.py), and taking a fixture needs no noqa for a redefinition
(pyflakes' F811)."""

import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parents[1]


def _test_modules():
    return sorted(TESTS.rglob('test_*.py'))


def _imported(tree):
    """Every module named by an import in ``tree`` (at any depth), with
    the names a ``from`` import takes (they may be modules too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, '%s.%s' % (node.module, alias.name)


def _is_test_module(name):
    parts = name.split('.')
    return parts[0] == 'tests' and any(p.startswith('test_') or p == 'conftest'
                                       for p in parts[1:])


def test_there_are_test_modules_to_check():
    assert len(_test_modules()) > 50


def test_no_test_module_imports_another():
    """Nor does a fixture module or a conftest."""
    found = []
    for path in _test_modules() + sorted(TESTS.rglob('conftest.py')) + \
            sorted((TESTS / 'fixtures').glob('*.py')):
        tree = ast.parse(path.read_text(), str(path))
        lines = {}
        for line, name in _imported(tree):
            if _is_test_module(name):
                lines.setdefault(line, name)
        found += ['%s:%d imports %s' % (path.relative_to(TESTS.parent), line, name)
                  for line, name in sorted(lines.items())]
    assert not found, 'move what they share to tests/fixtures/:\n' + '\n'.join(found)


def test_no_test_module_declares_plugins():
    """Fixture modules are registered once, in tests/conftest.py: a
    pytest_plugins in a test module registers them for the whole run, and
    only once that module has been collected."""
    found = [str(p.relative_to(TESTS.parent)) for p in _test_modules()
             if any(isinstance(n, ast.Name) and n.id == 'pytest_plugins'
                    for n in ast.walk(ast.parse(p.read_text())))]
    assert not found, found


def test_no_fixture_needs_a_redefinition_noqa():
    marker = 'noqa: ' + 'F811'  # spelled apart: this file has none either
    found = ['%s:%d' % (p.relative_to(TESTS.parent), n)
             for p in sorted(TESTS.rglob('*.py'))
             for n, line in enumerate(p.read_text().splitlines(), 1) if marker in line]
    assert not found, found


def test_the_rule_catches_what_it_should():
    tree = ast.parse('from tests.unit.test_a import x\n'
                     'from tests.functional import test_b as b\n'
                     'import tests.unit.conftest\n'
                     'from tests.fixtures.servers import api\n'
                     'from tests.functional import cloud\n')
    assert [_is_test_module(n) for _, n in _imported(tree)] == [
        True, True,                # tests.unit.test_a, tests.unit.test_a.x
        False, True,               # tests.functional, tests.functional.test_b
        True,                      # tests.unit.conftest
        False, False,              # tests.fixtures.servers(.api)
        False, False]              # tests.functional(.cloud)
