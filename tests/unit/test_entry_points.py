"""Every console script setup.cfg declares names a module of this tree and
a callable in it (devstack and the functional tests run them; a module that
moved must take its entry point along)."""

import configparser
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def console_scripts():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    for line in cfg['options.entry_points']['console_scripts'].strip().splitlines():
        name, _, target = (p.strip() for p in line.partition('='))
        yield name, target


def test_there_are_console_scripts():
    assert 'altostack-manage' in dict(console_scripts())


@pytest.mark.parametrize('name,target', list(console_scripts()))
def test_console_script_resolves(name, target):
    module, _, func = target.partition(':')
    assert (ROOT / (module.replace('.', '/') + '.py')).is_file(), (name, target)
    assert callable(getattr(importlib.import_module(module), func)), (name, target)


def test_every_top_level_package_is_installed():
    """A package setup.cfg does not include is missing from an installed
    (or editable) tree: its console script dies with ModuleNotFoundError
    on a fresh machine while this checkout, run from its root, still works."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    include = set(cfg['options.packages.find']['include'].split())
    packages = {p.parent.name for p in ROOT.glob('*/__init__.py')} - {'tests', 'benchmarks'}
    assert not {p for p in packages if p not in include or p + '.*' not in include}
