"""The file volume backend and the libvirt driver's volume attach, for real:
qemu-img, one qemu-storage-daemon serving NBD, libvirtd (qemu:///system)
and the tiny guest image (devstack/lib/guest-image.sh).

One guest writes a marker to a volume hot-plugged over NBD; a second guest
reads it back from the same volume attached as a local file; snapshots,
clones, extend and boot from volume follow. Attach/detach latency and
NBD vs file throughput are measured (ALTOSTACK_TEST_TIMINGS: write them,
JSON, to this file).

Skips when not root, when qemu-img / qemu-storage-daemon are missing or
libvirtd cannot be reached.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid as uuid_mod

import pytest

libvirt = pytest.importorskip('libvirt')

from blockstore import exception as volume_exc  # noqa: E402
from blockstore.backends import file as file_backend  # noqa: E402
from blockstore.backends import load_backend  # noqa: E402
from common.conf import CONF  # noqa: E402
from compute.virt import vif as vif_mod  # noqa: E402
from compute.virt.libvirt import designer  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from tests.fixtures import libvirt_guest as libvirt_tests  # noqa: E402

GiB = 1024 ** 3
ROOT = libvirt_tests.ROOT
IMAGE_CACHE = os.environ.get('ALTOSTACK_GUEST_IMAGE_CACHE', '/var/cache/altostack/guest-image')
URI = libvirt_tests.URI
TIMINGS = {}

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='needs root (libvirtd, qemu-storage-daemon)'),
    pytest.mark.skipif(not (shutil.which('qemu-img') and shutil.which('qemu-storage-daemon')),
                       reason='needs qemu-img and qemu-storage-daemon (Debian: qemu-utils, '
                              'qemu-system-x86)'),
]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def our_daemons(volumes_dir):
    """Pids of qemu-storage-daemons whose command line names our folder or
    its monitor socket."""
    backend = file_backend.FileBackend(volumes_dir=volumes_dir)
    marks = (volumes_dir, backend.qmp_path)
    pids = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if argv and argv[0].endswith(b'qemu-storage-daemon') and \
                any(m.encode() in a for a in argv for m in marks):
            pids.append(int(pid))
    return pids


@pytest.fixture(scope='module')
def tiny_image():
    path = os.path.join(IMAGE_CACHE, 'altostack-tiny.qcow2')
    if not os.path.exists(path):
        subprocess.run(['bash', '-c', 'set -e; source "$0"; altostack_build_guest_image "$1"',
                        str(ROOT / 'devstack' / 'lib' / 'guest-image.sh'), IMAGE_CACHE],
                       check=True, timeout=600, stdout=subprocess.DEVNULL)
    return path


@pytest.fixture(scope='module')
def lab(tmp_path_factory, tiny_image):
    try:
        libvirt.open(URI).close()
    except libvirt.libvirtError as e:
        pytest.skip('libvirtd is not reachable at %s (%s)' % (URI, e))
    work = str(tmp_path_factory.mktemp('volfunc'))
    overrides = {'libvirt_uri': URI, 'instances_path': os.path.join(work, 'instances'),
                 'virt_type': 'qemu', 'shutdown_timeout': 3}
    for k, v in overrides.items():
        CONF.set_override(k, v, 'compute')
    drv = libvirt_driver.LibvirtDriver(vif_driver=vif_mod.NoopVIFDriver())
    drv.init_host('vol-func-host')
    volumes_dir = os.path.join(work, 'volumes')
    backend = load_backend('file', volumes_dir=volumes_dir, volume_format='qcow2',
                           nbd_host='127.0.0.1', nbd_port=free_port())
    backend.start()
    image_meta = {'id': 'tiny', 'disk_format': 'qcow2', 'properties': {}}
    made = []
    lab = {'drv': drv, 'backend': backend, 'made': made, 'image': tiny_image,
           'image_meta': image_meta, 'work': work}
    yield lab
    for inst in made:
        with contextlib.suppress(Exception):
            drv.destroy(None, inst)
    backend.stop(keep_exports=False)
    domains = [i['uuid'] for i in made if drv.instance_exists(i)]
    drv.cleanup_host('vol-func-host')
    for k in overrides:
        CONF.clear_override(k, 'compute')
    daemons = our_daemons(volumes_dir)
    shutil.rmtree(work, ignore_errors=True)
    assert daemons == [], 'a qemu-storage-daemon of ours still runs'
    assert domains == [], 'a test domain is left'
    out = os.environ.get('ALTOSTACK_TEST_TIMINGS')
    if out:
        with open(out, 'w') as f:
            json.dump(TIMINGS, f, indent=1, sort_keys=True)


def boot(lab, block_device_info=None, base=True):
    inst = libvirt_tests.make_instance(image_ref='tiny', user_data=None)
    lab['made'].append(inst)
    lab['drv'].spawn(None, inst, lab['image_meta'] if base else None,
                     lab['image'] if base else None, [], block_device_info=block_device_info)
    libvirt_tests.wait_console(lab['drv'], inst, 'ALTOSTACK-READY')
    return inst


def console_since(drv, inst, offset):
    return drv.get_console_output(inst, max_bytes=10 ** 7)[offset:]


def wait_for(drv, inst, offset, pattern, timeout=30):
    """Seconds until regex ``pattern`` shows on the console after ``offset``."""
    t0 = time.monotonic()
    while True:
        text = console_since(drv, inst, offset)
        m = re.search(pattern, text)
        if m:
            return time.monotonic() - t0, m
        if time.monotonic() - t0 > timeout:
            raise AssertionError('%r not on the console after %ds (offset %d):\n%s'
                                 % (pattern, timeout, offset,
                                    drv.get_console_output(inst)[-3000:]))
        time.sleep(0.05)


def console_len(drv, inst):
    return len(drv.get_console_output(inst, max_bytes=10 ** 7))


def read_head(path, fmt, n=64):
    """The first ``n`` bytes of an image's guest-visible data."""
    out = path + '.head'
    subprocess.run(['qemu-img', 'dd', '-U', '-f', fmt, '-O', 'raw', 'bs=512', 'count=1',
                    'if=%s' % path, 'of=%s' % out], check=True, capture_output=True,
                   timeout=60)
    try:
        with open(out, 'rb') as f:
            return f.read(n)
    finally:
        os.unlink(out)


def bench(target, fmt, write, count=2000, size=65536):
    """MiB/s of qemu-img bench (direct I/O, queue depth 16, 64 KiB)."""
    args = ['qemu-img', 'bench', '-f', fmt, '-t', 'none', '-c', str(count), '-s', str(size),
            '-d', '16'] + (['-w'] if write else []) + [target]
    res = subprocess.run(args, capture_output=True, text=True, timeout=300, check=True)
    secs = float(re.search(r'Run completed in ([0-9.]+) seconds', res.stdout).group(1))
    return round(count * size / (1024 * 1024) / secs, 1)


def test_volume_over_nbd_and_file_with_real_guests(lab):
    drv, backend = lab['drv'], lab['backend']
    vol = str(uuid_mod.uuid4())
    backend.create(vol, 1)
    assert backend.virtual_size(vol) == GiB

    # guest A gets it over NBD from the daemon
    a = boot(lab)
    ci = backend.initialize_connection(vol, {'host': 'remote-host', 'ip': '192.0.2.10'})
    assert ci['driver_volume_type'] == 'nbd' and ci['data']['name'] == vol
    assert backend.daemon_pid() is not None
    # a second connection reuses the export: the daemon opens the volume once
    assert backend.initialize_connection(vol, {'host': 'remote-host'}) == ci
    assert len(backend.daemon_exports()) == 1

    off = console_len(drv, a)
    t0 = time.monotonic()
    dev = drv.attach_volume(None, a, ci, vol)
    TIMINGS['attach_call_nbd'] = time.monotonic() - t0
    assert dev == 'vdb'
    secs, m = wait_for(drv, a, off, r'ALTOSTACK-BLK-CHANGE [^\n]*vdb[^\n]*\n\s*(?:\S+ size=\d+ '
                                    r'serial=\S*\s*)*vdb size=(\d+) serial=(\S*)')
    TIMINGS['attach_to_guest_sees_it_nbd'] = TIMINGS['attach_call_nbd'] + secs
    assert int(m.group(1)) == GiB // 512
    # libvirt keeps the whole id; virtio-blk gives the guest its first 20 bytes
    assert m.group(2) == vol[:20] == designer.guest_serial(vol)
    assert drv.list_volume_attachments(a) == [{'volume_id': vol, 'device': 'vdb'}]
    assert drv.attach_volume(None, a, ci, vol) == 'vdb'  # again: same answer

    port = drv.get_serial_console(a)['port']
    out = libvirt_tests.serial_command('127.0.0.1', port,
                                       "printf 'ALTOSTACK-VOLMARK-42' > /dev/vdb; sync; "
                                       "cat /sys/block/vdb/serial; echo")
    assert vol[:20] in out, out

    off = console_len(drv, a)
    t0 = time.monotonic()
    drv.detach_volume(None, a, vol)
    TIMINGS['detach_call_nbd'] = time.monotonic() - t0
    secs, _m = wait_for(drv, a, off, r'ALTOSTACK-BLK-CHANGE (?![^\n]*vdb)')
    TIMINGS['detach_to_guest_sees_it_gone_nbd'] = TIMINGS['detach_call_nbd'] + secs
    assert drv.list_volume_attachments(a) == []
    drv.detach_volume(None, a, vol)  # absent: fine
    backend.terminate_connection(vol, {'host': 'remote-host'})
    assert backend.list_exports() == {} and backend.daemon_exports() == []

    path, fmt = backend.find_volume(vol)
    assert read_head(path, fmt, 19) == b'ALTOSTACK-VOLMARK-42'[:19]

    # guest B on this host gets the same volume as a file and reads the marker
    b = boot(lab)
    local = backend.initialize_connection(vol, {'host': CONF.host, 'ip': '127.0.0.1'})
    assert local == {'driver_volume_type': 'file', 'data': {'path': path, 'format': 'qcow2'}}
    off = console_len(drv, b)
    t0 = time.monotonic()
    assert drv.attach_volume(None, b, local, vol) == 'vdb'
    TIMINGS['attach_call_file'] = time.monotonic() - t0
    secs, _m = wait_for(drv, b, off, r'vdb size=\d+ serial=')
    TIMINGS['attach_to_guest_sees_it_file'] = TIMINGS['attach_call_file'] + secs
    out = libvirt_tests.serial_command('127.0.0.1', drv.get_serial_console(b)['port'],
                                       'head -c 20 /dev/vdb; echo')
    assert 'ALTOSTACK-VOLMARK-42' in out.replace("printf 'ALTOSTACK-VOLMARK-42'", ''), out
    # while a guest has the file, qemu's image lock keeps the daemon from
    # opening it too
    with pytest.raises(volume_exc.BackendError):
        backend.initialize_connection(vol, {'host': 'remote-host'})
    assert backend.list_exports() == {}
    off = console_len(drv, b)
    t0 = time.monotonic()
    drv.detach_volume(None, b, vol)
    TIMINGS['detach_call_file'] = time.monotonic() - t0
    # the guest's watcher looks once a second: let it see the disk go before
    # the next one comes, or it sees no change
    secs, _m = wait_for(drv, b, off, r'ALTOSTACK-BLK-CHANGE (?![^\n]*vdb)')
    TIMINGS['detach_to_guest_sees_it_gone_file'] = TIMINGS['detach_call_file'] + secs

    # snapshot -> new volume: same bytes; the source may go first
    snap, clone = str(uuid_mod.uuid4()), str(uuid_mod.uuid4())
    t0 = time.monotonic()
    backend.create_snapshot(snap, vol)
    TIMINGS['snapshot_1g'] = time.monotonic() - t0
    backend.create_from_snapshot(clone, snap, 2)
    assert backend.virtual_size(clone) == 2 * GiB
    cpath, cfmt = backend.find_volume(clone)
    assert read_head(cpath, cfmt, 20) == b'ALTOSTACK-VOLMARK-42'

    # extend 1 -> 2 GiB; the guest sees the new size when it is attached again
    with pytest.raises(volume_exc.InvalidSize):
        backend.extend(vol, 0)
    backend.extend(vol, 2)
    assert backend.virtual_size(vol) == 2 * GiB
    with pytest.raises(volume_exc.InvalidSize):
        backend.extend(vol, 1)
    off = console_len(drv, b)
    assert drv.attach_volume(None, b, local, vol, device='/dev/vdc') == 'vdc'
    # (the guest's kernel names virtio disks in the order it finds them:
    # libvirt's target 'vdc' is vdb inside; the serial tells which is which)
    _secs, m = wait_for(drv, b, off, r'vd[a-z]+ size=(\d+) serial=%s' % vol[:20])
    assert int(m.group(1)) == 2 * GiB // 512
    drv.detach_volume(None, b, vol)

    backend.delete(vol)
    backend.delete_snapshot(snap)
    backend.delete(clone)
    assert backend.find_volume(vol) is None and backend.find_volume(clone) is None


def test_boot_from_volume_made_from_the_image(lab):
    drv, backend = lab['drv'], lab['backend']
    root, extra = str(uuid_mod.uuid4()), str(uuid_mod.uuid4())
    t0 = time.monotonic()
    backend.create_from_image(root, lab['image'], 1)
    TIMINGS['create_from_image'] = time.monotonic() - t0
    backend.create(extra, 1)
    mapping = [
        {'volume_id': root, 'boot_index': 0, 'device': 'vda',
         'connection_info': backend.initialize_connection(root, {'host': CONF.host})},
        {'volume_id': extra, 'boot_index': None, 'device': None,
         'connection_info': backend.initialize_connection(extra, {'host': 'remote-host'})},
    ]
    inst = boot(lab, {'mapping': mapping}, base=False)
    assert not os.path.exists(os.path.join(drv.instance_dir(inst), 'disk'))  # no overlay
    console = drv.get_console_output(inst)
    assert re.search(r'ALTOSTACK-BLK [^\n]*vdb', console), console[-2000:]
    assert sorted(drv.list_volume_attachments(inst), key=lambda a: a['device']) == [
        {'volume_id': root, 'device': 'vda'}, {'volume_id': extra, 'device': 'vdb'}]
    drv.destroy(None, inst)
    backend.terminate_connection(extra, {'host': 'remote-host'})
    backend.delete(root)
    backend.delete(extra)


def test_nbd_and_file_throughput(lab):
    backend = lab['backend']
    vol = str(uuid_mod.uuid4())
    backend.create(vol, 1)
    path, fmt = backend.find_volume(vol)
    # write first (allocates the qcow2 clusters), then read the same range
    TIMINGS['bench_file_write_MiBps'] = bench(path, fmt, write=True)
    TIMINGS['bench_file_read_MiBps'] = bench(path, fmt, write=False)
    ci = backend.initialize_connection(vol, {'host': 'remote-host'})
    url = 'nbd://%s:%d/%s' % (ci['data']['host'], ci['data']['port'], ci['data']['name'])
    TIMINGS['bench_nbd_write_MiBps'] = bench(url, 'raw', write=True)
    TIMINGS['bench_nbd_read_MiBps'] = bench(url, 'raw', write=False)
    backend.terminate_connection(vol, {'host': 'remote-host'})
    backend.delete(vol)
    assert all(v > 0 for k, v in TIMINGS.items() if k.startswith('bench_'))
