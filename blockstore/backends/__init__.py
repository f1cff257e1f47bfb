"""Volume backends of the volume service: one interface (base.VolumeBackend)
and an explicit registry, like compute.virt.driver.load_driver.

    file   volumes as qcow2 (or raw) files; NBD exports from one
           qemu-storage-daemon for other hosts (blockstore.backends.file)
    rbd    volumes as Ceph RBD images, opened by the compute hosts' QEMU
           itself (blockstore.backends.rbd)

LVM or iSCSI backends add an entry here and nothing else.
"""

import importlib

from blockstore import exception

BACKENDS = {
    'file': 'blockstore.backends.file.FileBackend',
    'rbd': 'blockstore.backends.rbd.RBDBackend',
}


def load_backend(name, **kwargs):
    """Instantiate the backend called ``name`` ([volume] backend)."""
    try:
        path = BACKENDS[name]
    except KeyError:
        raise exception.BackendError(reason='unknown volume backend %r (known: %s)'
                                     % (name, ', '.join(sorted(BACKENDS)))) from None
    module, _, cls = path.rpartition('.')
    return getattr(importlib.import_module(module), cls)(**kwargs)
