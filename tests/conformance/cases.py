"""Cases of the conformance suite, made from operations.yaml and the
samples of the pinned sdists: one case per operation and sample
microversion, plus the request-schema cases of Nova's server actions."""

import dataclasses
import json
import pathlib
import re

import yaml

from tests.conformance import upstream

HERE = pathlib.Path(__file__).parent
PROJECT = {'compute': 'nova', 'volume': 'cinder', 'identity': 'keystone',
           'image': 'glance', 'network': 'neutron-lib'}


def table():
    with open(HERE / 'operations.yaml') as f:
        return yaml.safe_load(f)


def known_failures():
    with open(HERE / 'known_failures.yaml') as f:
        return yaml.safe_load(f) or {}


def vkey(text):
    major, minor = text.split('.')
    return int(major), int(minor)


@dataclasses.dataclass
class Case:
    service: str
    op: dict
    version: str            # the microversion sent ('' for none)
    req: pathlib.Path = None
    resp: pathlib.Path = None
    spec: dict = dataclasses.field(default=None, repr=False)

    @property
    def id(self):
        return '%s:%s%s' % (self.service, self.op['op'], '@' + self.version if self.version
                            else '')

    @property
    def samples(self):
        return [p for p in (self.req, self.resp) if p is not None]

    def load(self, which):
        """The sample's JSON (None when the case has none); raises
        ValueError when upstream published a sample that is not JSON."""
        path = getattr(self, which)
        return None if path is None else json.loads(path.read_text())


def _versions_of(folder, rel, low, high):
    """{microversion: path} of every copy of sample ``rel`` in range."""
    rel = pathlib.PurePosixPath(rel)
    parent, name = folder / rel.parent, rel.name
    m = re.match(r'^v(\d+\.\d+)$', rel.parent.name)
    if m:  # the table names a versioned sample: that version only
        path = parent / name
        return {m.group(1): path} if path.exists() and _in(m.group(1), low, high) else {}
    found = {}
    if (parent / name).exists():
        found[low] = parent / name
    if parent.is_dir():
        for sub in parent.iterdir():
            m = re.match(r'^v(\d+\.\d+)$', sub.name)
            if m and (sub / name).exists() and _in(m.group(1), low, high):
                found[m.group(1)] = sub / name
    return found


def _in(version, low, high):
    return vkey(low) <= vkey(version) <= vkey(high)


def _newest_at(found, version):
    keys = [v for v in found if vkey(v) <= vkey(version)]
    return found[max(keys, key=vkey)] if keys else None


def sample_cases():
    cases = []
    for service, spec in table().items():
        folder = upstream.source(PROJECT[service]) / spec['samples']
        low, high = (spec.get('versions') or ['', ''])
        for op in spec['ops']:
            if not low:
                req = folder / op['req'] if op.get('req') else None
                resp = folder / op['resp'] if op.get('resp') else None
                if all(p is None or p.exists() for p in (req, resp)):
                    cases.append(Case(service, op, '', req, resp, spec))
                continue
            top = op.get('until', high)
            reqs = _versions_of(folder, op['req'], low, top) if op.get('req') else {}
            resps = _versions_of(folder, op['resp'], low, top) if op.get('resp') else {}
            for version in sorted(set(reqs) | set(resps), key=vkey):
                req = _newest_at(reqs, version) if op.get('req') else None
                resp = _newest_at(resps, version) if op.get('resp') else None
                if (op.get('req') and req is None) or (op.get('resp') and resp is None):
                    continue
                cases.append(Case(service, op, version, req, resp, spec))
    return cases


def all_sample_files(service):
    """Every JSON sample the sdist publishes for ``service`` (for context)."""
    spec = table()[service]
    folder = upstream.source(PROJECT[service]) / spec['samples']
    return [p for p in folder.rglob('*.json')]


# -- request schemas of Nova's server actions ---------------------------
# (schema module, attribute, lowest microversion, highest) for each action
# body form we claim, as Nova's controllers bind them (a schema named _v20
# is for the v2.0 API only; `migrate` has a body schema from 2.56 only);
# every form is sent smallest and largest. Remote consoles have a path of
# their own.
ACTION_SCHEMAS = [
    ('servers', 'reboot', '2.1', '2.61'),
    ('servers', 'resize', '2.1', '2.61'),
    ('servers', 'confirm_resize', '2.1', '2.61'),
    ('servers', 'revert_resize', '2.1', '2.61'),
    ('servers', 'start_server', '2.1', '2.61'),
    ('servers', 'stop_server', '2.1', '2.61'),
    ('servers', 'rebuild', '2.1', '2.18'),
    ('servers', 'rebuild_v219', '2.19', '2.53'),
    ('servers', 'rebuild_v254', '2.54', '2.56'),
    ('servers', 'rebuild_v257', '2.57', '2.61'),
    ('servers', 'create_image', '2.1', '2.61'),
    ('pause_server', 'pause', '2.1', '2.61'),
    ('pause_server', 'unpause', '2.1', '2.61'),
    ('suspend_server', 'suspend', '2.1', '2.61'),
    ('suspend_server', 'resume', '2.1', '2.61'),
    ('lock_server', 'lock', '2.1', '2.61'),
    ('lock_server', 'unlock', '2.1', '2.61'),
    ('admin_actions', 'reset_state', '2.1', '2.61'),
    ('console_output', 'get_console_output', '2.1', '2.61'),
    ('remote_consoles', 'get_serial_console', '2.1', '2.5'),
    ('remote_consoles', 'get_vnc_console', '2.1', '2.5'),
    ('remote_consoles', 'create_v26', '2.6', '2.7'),
    ('remote_consoles', 'create_v28', '2.8', '2.61'),
    ('security_groups', 'add_security_group', '2.1', '2.61'),
    ('security_groups', 'remove_security_group', '2.1', '2.61'),
    ('migrate_server', 'migrate', '2.56', '2.61'),
    ('migrate_server', 'migrate_live', '2.1', '2.24'),
    ('migrate_server', 'migrate_live_v2_25', '2.25', '2.29'),
    ('migrate_server', 'migrate_live_v2_30', '2.30', '2.61'),
    ('evacuate', 'evacuate', '2.1', '2.13'),
    ('evacuate', 'evacuate_v214', '2.14', '2.28'),
    ('evacuate', 'evacuate_v229', '2.29', '2.61'),
]


@dataclasses.dataclass
class SchemaCase:
    module: str
    attr: str
    version: str
    size: str    # 'minimal' or 'maximal'

    @property
    def id(self):
        return 'compute-schema:%s.%s@%s:%s' % (self.module, self.attr, self.version, self.size)

    @property
    def path(self):
        return '/remote-consoles' if self.attr.startswith('create_v2') else '/action'


def schema_cases():
    out = []
    for module, attr, low, high in ACTION_SCHEMAS:
        for version in sorted({low, high}, key=vkey):
            for size in ('minimal', 'maximal'):
                out.append(SchemaCase(module, attr, version, size))
    return out
