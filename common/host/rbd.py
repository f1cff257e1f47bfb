"""Ceph RBD through the `rbd` and `ceph` command-line tools (JSON output).

python3-rbd exists only for the system Python, not our venv, so the volume
service and the image service speak to Ceph through the CLIs, each as its
own cephx user with its own keyring, on the cluster named by a ceph.conf.
Names are "pool/image" and "pool/image@snap". Every command runs through
common.host.cmd.Runner with its timeout; a failure raises RBDError with the
tool's message (ImageNotFound when the image or snapshot is absent).
"""

import configparser
import json
import re

from common import exception as common_exc
from common.host import cmd as hostcmd
from common.host import exception as host_exc

MiB = 1024 ** 2
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
_URL_RE = re.compile(r'^rbd://([^/]+)/([^/]+)/([^/]+)/([^/]+)$')


class RBDError(host_exc.VirtError):
    msg_fmt = 'Ceph RBD: %(reason)s'


class ImageNotFound(RBDError):
    code = 404
    msg_fmt = 'Ceph RBD: %(reason)s'


def check_name(value, what='name'):
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise common_exc.BadRequest(reason='bad RBD %s %r' % (what, value))
    return value


def parse_url(url):
    """(fsid, pool, image, snapshot) of rbd://fsid/pool/image/snap, or None."""
    m = _URL_RE.match(url or '')
    return m.groups() if m else None


def read_key(keyring_path, user):
    """The secret key of client.``user`` in a keyring file (None if absent)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(keyring_path) as f:
            parser.read_file(f)
    except (OSError, configparser.Error):
        return None
    section = 'client.%s' % user
    if parser.has_section(section) and parser.has_option(section, 'key'):
        return parser.get(section, 'key').strip()
    return None


class Client:
    """One cephx user's view of one cluster."""

    def __init__(self, ceph_conf, user, keyring=None, runner=None, timeout=600):
        self.ceph_conf = ceph_conf
        self.user = user
        self.keyring = keyring
        self.runner = runner or hostcmd.Runner(timeout=timeout)

    def _common(self):
        args = ['-c', self.ceph_conf, '--id', self.user]
        if self.keyring:
            args += ['--keyring', self.keyring]
        return args

    def _run(self, tool, args, as_json=False):
        argv = [tool] + self._common() + list(args)
        if as_json:
            argv += ['--format', 'json']
        res = self.runner.run(argv, check=False)
        if res.returncode != 0:
            msg = (res.stderr or res.stdout or '').strip()[-2000:]
            if '(2) No such file or directory' in msg or 'No such file' in msg:
                raise ImageNotFound(reason='%s: %s' % (' '.join(args[:3]), msg))
            raise RBDError(reason='%s %s failed: %s' % (tool, ' '.join(args[:3]), msg))
        if as_json:
            return json.loads(res.stdout or 'null')
        return res.stdout

    def rbd(self, *args, as_json=False):
        return self._run('rbd', args, as_json)

    def ceph(self, *args, as_json=False):
        return self._run('ceph', args, as_json)

    # -- the cluster ----------------------------------------------------------
    def fsid(self):
        return self.ceph('fsid').strip()

    def monitors(self):
        """[(address, port)] of the monitors' v1 (legacy) addresses, as
        libvirt's <host> elements and Cinder's connection info name them."""
        dump = self.ceph('mon', 'dump', as_json=True)
        out = []
        for mon in dump.get('mons', []):
            addrs = (mon.get('public_addrs') or {}).get('addrvec') or []
            chosen = [a for a in addrs if a.get('type') == 'v1'] or addrs
            if chosen:
                host, _, port = chosen[0]['addr'].rpartition(':')
                out.append((host.strip('[]'), int(port)))
        return out

    # -- images -----------------------------------------------------------------
    def info(self, pool, image):
        return self.rbd('info', '%s/%s' % (pool, image), as_json=True)

    def exists(self, pool, image):
        try:
            self.info(pool, image)
        except ImageNotFound:
            return False
        return True

    def create(self, pool, image, size_bytes):
        self.rbd('create', '--size', '%dM' % _mib(size_bytes), '%s/%s' % (pool, image))

    def import_file(self, path, pool, image):
        """A new image holding the bytes of local file ``path``."""
        self.rbd('import', '--no-progress', path, '%s/%s' % (pool, image))

    def export_to(self, pool, image, snap, path):
        src = '%s/%s' % (pool, image) + ('@%s' % snap if snap else '')
        self.rbd('export', '--no-progress', src, path)

    def resize(self, pool, image, size_bytes):
        self.rbd('resize', '--no-progress', '--size', '%dM' % _mib(size_bytes),
                 '%s/%s' % (pool, image))

    def copy(self, src_pool, src_image, dst_pool, dst_image, snap=None):
        src = '%s/%s' % (src_pool, src_image) + ('@%s' % snap if snap else '')
        self.rbd('cp', '--no-progress', src, '%s/%s' % (dst_pool, dst_image))

    def remove(self, pool, image):
        """Remove an image; absent is not an error."""
        try:
            self.rbd('rm', '--no-progress', '%s/%s' % (pool, image))
        except ImageNotFound:
            pass

    def clone(self, src_pool, src_image, snap, dst_pool, dst_image):
        self.rbd('clone', '%s/%s@%s' % (src_pool, src_image, snap),
                 '%s/%s' % (dst_pool, dst_image))

    def flatten(self, pool, image):
        self.rbd('flatten', '--no-progress', '%s/%s' % (pool, image))

    def listing(self, pool):
        """`rbd ls -l`: one entry per image and per snapshot ('snapshot' key)."""
        return self.rbd('ls', '-l', pool, as_json=True) or []

    # -- snapshots --------------------------------------------------------------
    def snap_create(self, pool, image, snap, protect=False):
        self.rbd('snap', 'create', '--no-progress', '%s/%s@%s' % (pool, image, snap))
        if protect:
            self.snap_protect(pool, image, snap)

    def snap_protect(self, pool, image, snap):
        self.rbd('snap', 'protect', '%s/%s@%s' % (pool, image, snap))

    def snap_list(self, pool, image):
        return self.rbd('snap', 'ls', '%s/%s' % (pool, image), as_json=True) or []

    def children(self, pool, image, snap):
        return self.rbd('children', '%s/%s@%s' % (pool, image, snap), as_json=True) or []

    def snap_remove(self, pool, image, snap):
        """Unprotect (when protected) and remove a snapshot; absent is not an
        error; one with clones raises RBDError (its clones need it)."""
        try:
            snaps = {s['name']: s for s in self.snap_list(pool, image)}
        except ImageNotFound:
            return
        found = snaps.get(snap)
        if found is None:
            return
        if str(found.get('protected')).lower() == 'true':
            self.rbd('snap', 'unprotect', '%s/%s@%s' % (pool, image, snap))
        self.rbd('snap', 'rm', '--no-progress', '%s/%s@%s' % (pool, image, snap))


def _mib(size_bytes):
    """Whole MiB, rounded up (rbd sizes default to MiB)."""
    return max(1, -(-int(size_bytes) // MiB))
