"""The dashboard's vendored JavaScript and CSS are what VENDOR.json says:
each file's sha256 matches, each package keeps its licence, nothing is
there that the manifest does not name, and no template loads a script or
stylesheet from another origin (the dashboard works with no internet)."""

import hashlib
import json
import pathlib
import re

import dashboard

STATIC = pathlib.Path(dashboard.__file__).parent / 'static'
VENDOR = STATIC / 'vendor'
TEMPLATES = pathlib.Path(dashboard.__file__).parent / 'templates'


def _manifest():
    return json.loads((VENDOR / 'VENDOR.json').read_text())


def test_every_vendored_file_matches_its_checksum():
    for pkg in _manifest():
        folder = VENDOR / pkg['dir']
        assert 'LICENSE' in pkg['files'], pkg['dir']
        assert pkg['version'] in pkg['dir'] and pkg['license'], pkg
        for name, digest in pkg['files'].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, \
                '%s/%s changed: update it the documented way' % (pkg['dir'], name)


def test_nothing_vendored_is_unlisted():
    listed = {(p['dir'], f) for p in _manifest() for f in p['files']}
    found = {(f.parent.relative_to(VENDOR).parts[0], str(f.relative_to(VENDOR / f.relative_to(
        VENDOR).parts[0]))) for f in VENDOR.rglob('*') if f.is_file() and f.name != 'VENDOR.json'}
    assert found <= listed, found - listed


def test_templates_load_nothing_from_another_origin():
    remote = re.compile(r'''(src|href)=["'](https?:)?//''')
    for tpl in TEMPLATES.rglob('*.html'):
        assert not remote.search(tpl.read_text()), tpl
