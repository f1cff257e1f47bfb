"""What an uploaded file really is, and whether it may be what it claims.

``inspect`` runs ``qemu-img info --output=json`` (under CPU and memory
limits and a timeout) on the staged file and reports the format qemu
detects, the virtual size and anything that would make a guest open
another file on the compute host. ``check`` refuses:

* a declared container format (qcow2, vmdk, vhd, vhdx, vdi, ploop) that
  qemu-img does not recognise as that format;
* a file declared raw-like (raw, iso, ami, aki, ari) that qemu-img sees as
  a structured image (e.g. a qcow2 uploaded as raw: booted as raw it is
  harmless, but anything that later probes the format would follow it);
* any image with a backing file, a qcow2 external data file, or a vmdk
  whose extents are other files (a descriptor, monolithicFlat, ...):
  booting it would read files of the compute host.

qemu-img reports an ISO as raw, so iso declared and raw detected is fine.
"""

import json
import os
import shutil
import subprocess

from oslo_log import log as logging

from common.conf import CONF
from imagestore import exception as img_exc

LOG = logging.getLogger(__name__)

DISK_FORMATS = ('ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso',
                'ploop')
CONTAINER_FORMATS = ('ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed')

# Our disk_format -> the name qemu-img gives the format.
QEMU_NAMES = {'qcow2': 'qcow2', 'vmdk': 'vmdk', 'vhd': 'vpc', 'vhdx': 'vhdx', 'vdi': 'vdi',
              'ploop': 'parallels'}
RAW_LIKE = ('raw', 'iso', 'ami', 'aki', 'ari')
VMDK_ALLOWED_TYPES = ('monolithicSparse', 'streamOptimized')

_AS_LIMIT = 1024 * 1024 * 1024  # address space for qemu-img, bytes
_CPU_LIMIT = 30  # seconds of CPU for qemu-img


class Inspection:
    def __init__(self, fmt, virtual_size, backing_file=None, data_file=None,
                 vmdk_type=None, extents=()):
        self.format = fmt
        self.virtual_size = virtual_size
        self.backing_file = backing_file
        self.data_file = data_file
        self.vmdk_type = vmdk_type
        self.extents = list(extents)

    def __repr__(self):
        return '<Inspection %s virtual_size=%s>' % (self.format, self.virtual_size)


def _command(path):
    cmd = ['qemu-img', 'info', '--output=json', path]
    prlimit = shutil.which('prlimit')
    if prlimit:
        cmd = [prlimit, '--as=%d' % _AS_LIMIT, '--cpu=%d' % _CPU_LIMIT, '--'] + cmd
    return cmd


def parse(raw, path):
    """An Inspection from the JSON qemu-img printed for ``path``."""
    info = json.loads(raw)
    specific = (info.get('format-specific') or {}).get('data') or {}
    extents = []
    for ext in specific.get('extents') or ():
        name = ext.get('filename')
        if name and os.path.basename(name) != os.path.basename(path):
            extents.append(name)
    return Inspection(
        info.get('format'), info.get('virtual-size'),
        backing_file=info.get('backing-filename') or info.get('full-backing-filename'),
        data_file=specific.get('data-file'),
        vmdk_type=specific.get('create-type'), extents=extents)


def inspect(path):
    """Run qemu-img info on ``path``; InvalidImageData if it cannot read it."""
    if not shutil.which('qemu-img'):
        raise img_exc.StoreError(reason='qemu-img is not installed, so uploads cannot be '
                                        'inspected')
    try:
        proc = subprocess.run(_command(path), capture_output=True, text=True,
                              timeout=CONF.image.inspect_timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise img_exc.InvalidImageData(reason='inspecting it took longer than %d seconds'
                                       % CONF.image.inspect_timeout) from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ['qemu-img failed'])[-1]
        detail = detail.replace(path, 'the image')
        raise img_exc.InvalidImageData(reason='qemu-img cannot read it (%s)' % detail)
    try:
        return parse(proc.stdout, path)
    except (ValueError, TypeError):
        LOG.error('qemu-img printed output we cannot parse: %r', proc.stdout[:500])
        raise img_exc.StoreError(reason='the image could not be inspected') from None


def _fixed_vhd(path):
    """A fixed-size VHD has only a footer, so qemu-img calls it raw."""
    try:
        with open(path, 'rb') as f:
            f.seek(-512, os.SEEK_END)
            return f.read(8) == b'conectix'
    except OSError:
        return False


def check(declared, found, path=None):
    """Raise InvalidImageData unless ``found`` (an Inspection) may be ``declared``."""
    fmt = found.format
    if found.backing_file:
        raise img_exc.InvalidImageData(reason='it has a backing file (%s); upload a '
                                              'self-contained image' % found.backing_file)
    if found.data_file:
        raise img_exc.InvalidImageData(reason='it is a qcow2 image with an external data '
                                              'file')
    if fmt == 'vmdk' and (found.vmdk_type not in VMDK_ALLOWED_TYPES or found.extents):
        raise img_exc.InvalidImageData(
            reason='vmdk images of type %s (or with extents in other files) are not allowed; '
                   'use %s' % (found.vmdk_type, ' or '.join(VMDK_ALLOWED_TYPES)))
    if declared in QEMU_NAMES:
        expected = QEMU_NAMES[declared]
        if fmt == expected:
            return
        if declared == 'vhd' and fmt == 'raw' and path and _fixed_vhd(path):
            return
        raise img_exc.InvalidImageData(
            reason='its disk_format is %s but the data is %s' % (declared, _name(fmt)))
    if declared in RAW_LIKE and fmt != 'raw':
        raise img_exc.InvalidImageData(
            reason='its disk_format is %s but the data is a %s image' % (declared,
                                                                          _name(fmt)))


def _name(qemu_fmt):
    for ours, theirs in QEMU_NAMES.items():
        if theirs == qemu_fmt:
            return ours
    return qemu_fmt or 'unknown'
