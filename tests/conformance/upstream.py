"""The upstream projects' published API samples and request schemas,
obtained at test time from the package index (never copied into this
repository).

Each project's source distribution on PyPI carries its API reference
samples (and Nova's its request schemas). ``source(project)`` downloads the
pinned sdist once with pip, unpacks only the folders we read into a cache
directory, and returns that directory; later runs reuse it without asking
the index. ``ALTOSTACK_CONFORMANCE_CACHE`` moves the cache (default
``~/.cache/altostack-conformance``).
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

# A recent release of each; bump deliberately (the samples change with them).
PINS = {
    'nova': '33.0.0',
    'cinder': '28.0.0',
    'glance': '32.0.0',
    'keystone': '29.1.0',
    'neutron-lib': '4.2.0',
}

# The folders of each sdist we read, relative to its top folder.
FOLDERS = {
    'nova': ('doc/api_samples/', 'nova/api/validation/', 'nova/api/openstack/compute/schemas/'),
    'cinder': ('api-ref/source/v3/samples/',),
    'glance': ('api-ref/source/v2/samples/', 'api-ref/source/versions/samples/'),
    'keystone': ('api-ref/source/v3/samples/',),
    'neutron-lib': ('api-ref/source/v2/samples/',),
}

_MARKER = '.complete'


class Unavailable(RuntimeError):
    """The samples cannot be had: no cache and no package index."""


def cache_root():
    return pathlib.Path(os.environ.get('ALTOSTACK_CONFORMANCE_CACHE') or
                        os.path.expanduser('~/.cache/altostack-conformance'))


def source(project):
    """The unpacked folders of ``project``'s pinned sdist (cached)."""
    version = PINS[project]
    dest = cache_root() / ('%s-%s' % (project, version))
    if (dest / _MARKER).exists():
        return dest
    cache_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root()) as tmp:
        sdist = _download(project, version, pathlib.Path(tmp))
        unpacked = pathlib.Path(tmp) / 'unpacked'
        _unpack(sdist, unpacked, FOLDERS[project])
        (unpacked / _MARKER).write_text('%s==%s from %s\n' % (project, version, sdist.name))
        if dest.exists():
            shutil.rmtree(dest)
        unpacked.rename(dest)
    return dest


def _download(project, version, where):
    cmd = [sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps',
           '--no-binary', ':all:', '--no-build-isolation', '--dest', str(where),
           '%s==%s' % (project, version)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Unavailable('cannot run pip to fetch %s==%s: %s' % (project, version, e)) from e
    sdists = sorted(where.glob('*.tar.gz'))
    if r.returncode != 0 or not sdists:
        raise Unavailable(
            'could not download the sdist of %s==%s from the package index (is PyPI '
            'reachable?); the conformance suite reads the upstream API samples from it '
            'and caches them in %s.\npip said:\n%s' % (
                project, version, cache_root(), (r.stderr or r.stdout)[-2000:]))
    return sdists[0]


def _unpack(sdist, dest, folders):
    """Regular files under ``folders`` only, with no path leaving ``dest``."""
    dest.mkdir()
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split('/', 1)
            if len(parts) != 2 or not member.isfile():
                continue
            rel = parts[1]
            if not rel.startswith(folders) or '..' in rel.split('/') or rel.startswith('/'):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, 'wb') as out:
                shutil.copyfileobj(src, out)
