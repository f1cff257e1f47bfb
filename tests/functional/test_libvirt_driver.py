"""LibvirtDriver on the real libvirtd (qemu:///system) with a real tiny guest.

The guest image is built here (devstack/lib/guest-image.sh when the project
has it, else the recipe's build_image.sh), served over HTTP to the image
cache, booted with a config drive, power-cycled, rebooted and destroyed.
The guest prints <PREFIX>-READY hostname=... on its serial console once it
has read the config drive; PREFIX is ALTOSTACK for our image, FEAS for the
recipe's.

Environment (all optional):
  ALTOSTACK_TEST_GUEST_IMAGE   a prebuilt qcow2 to use instead of building one
  ALTOSTACK_TEST_GUEST_MARKER  its marker prefix (default ALTOSTACK)
  ALTOSTACK_TEST_LIBVIRT_URI   default qemu:///system
  ALTOSTACK_TEST_TIMINGS       write the measured timings (JSON) to this file

Skips only when libvirtd cannot be reached.
"""

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid as uuid_mod

import pytest

libvirt = pytest.importorskip('libvirt')

from oslo_config import cfg  # noqa: E402

from common.conf import CONF  # noqa: E402
from common.conf import compute as compute_conf  # noqa: E402
from compute import imagecache  # noqa: E402
from compute.virt import exception  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import ports  # noqa: E402
from tests.fixtures.libvirt_guest import ROOT  # noqa: E402
from tests.fixtures.libvirt_guest import URI  # noqa: E402
from tests.fixtures.libvirt_guest import make_instance  # noqa: E402
from tests.fixtures.libvirt_guest import serial_command  # noqa: E402
from tests.fixtures.libvirt_guest import wait_console  # noqa: E402

try:
    compute_conf.register_opts(CONF)
except cfg.DuplicateOptError:
    pass

GUEST_IMAGE_LIB = ROOT / 'devstack' / 'lib' / 'guest-image.sh'
RECIPE_BUILD = ROOT.parent / 'shared' / 'recipes' / 'build_image.sh'


# -- fixtures ------------------------------------------------------------------

@pytest.fixture(scope='module')
def libvirtd():
    try:
        conn = libvirt.open(URI)
    except libvirt.libvirtError as e:
        pytest.skip('libvirtd is not reachable at %s (%s); start it as in RECIPES.md '
                    '"Starting libvirtd on a machine without systemd" or run ./run_tests.sh'
                    % (URI, e))
    conn.close()
    return URI


@pytest.fixture(scope='module')
def workdir():
    path = tempfile.mkdtemp(prefix='altostack-virt-func-')
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def guest_image(workdir):
    """{'path', 'prefix', 'build_seconds'} of a bootable tiny qcow2."""
    prebuilt = os.environ.get('ALTOSTACK_TEST_GUEST_IMAGE')
    if prebuilt:
        return {'path': prebuilt, 'prefix': os.environ.get('ALTOSTACK_TEST_GUEST_MARKER',
                                                           'ALTOSTACK'), 'build_seconds': 0}
    out = os.path.join(workdir, 'image')
    os.makedirs(out)
    t0 = time.monotonic()
    if GUEST_IMAGE_LIB.exists():
        subprocess.run(['bash', '-c', 'set -e; source "$0"; altostack_build_guest_image "$1"',
                        str(GUEST_IMAGE_LIB), out], check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
        path, prefix = os.path.join(out, 'altostack-tiny.qcow2'), 'ALTOSTACK'
    elif RECIPE_BUILD.exists():
        env = dict(os.environ, RECIPES_WORK=out, OUT=os.path.join(out, 'out'),
                   W=os.path.join(out, 'work'))
        subprocess.run(['bash', str(RECIPE_BUILD)], check=True, timeout=600, env=env,
                       stdout=subprocess.DEVNULL)
        path, prefix = os.path.join(out, 'out', 'feas-base.qcow2'), 'FEAS'
    else:
        pytest.fail('no guest image builder: neither %s nor %s' % (GUEST_IMAGE_LIB,
                                                                   RECIPE_BUILD))
    assert os.path.exists(path), path
    return {'path': path, 'prefix': prefix, 'build_seconds': time.monotonic() - t0}


@pytest.fixture(scope='module')
def image_server(guest_image):
    """The image's bits over HTTP (as the image service's pre-signed URL)."""
    folder = os.path.dirname(guest_image['path'])
    handler = functools.partial(_QuietHandler, directory=folder)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.1},
                              daemon=True)
    thread.start()
    with open(guest_image['path'], 'rb') as f:
        data = f.read()
    name = os.path.basename(guest_image['path'])
    yield {'id': 'img-' + uuid_mod.uuid4().hex[:12], 'disk_format': 'qcow2',
           'size': len(data), 'checksum': hashlib.md5(data).hexdigest(),
           'os_hash_algo': 'sha512', 'os_hash_value': hashlib.sha512(data).hexdigest(),
           'min_disk': 0, 'properties': {},
           'url': 'http://127.0.0.1:%d/%s?X-Signature=test' % (httpd.server_address[1], name)}
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args):
        pass


@pytest.fixture
def compute(libvirtd, workdir):
    inst_path = os.path.join(workdir, 'instances')
    overrides = {'libvirt_uri': libvirtd, 'instances_path': inst_path,
                 'virt_type': 'qemu', 'shutdown_timeout': 3}
    for k, v in overrides.items():
        CONF.set_override(k, v, 'compute')
    drv = libvirt_driver.LibvirtDriver()
    drv.init_host('func-host')
    cache = imagecache.ImageCache(min_age=0)
    made = []
    yield drv, cache, made
    for inst in made:  # whatever a failed test left: remove it
        with contextlib.suppress(Exception):
            drv.destroy(None, inst)
    cache.cleanup_unused()
    drv.cleanup_host('func-host')
    for k in overrides:
        CONF.clear_override(k, 'compute')


# -- helpers -------------------------------------------------------------------------

def virsh_state(name):
    res = subprocess.run(['virsh', '-c', URI, 'dominfo', name], capture_output=True,
                         text=True, timeout=30)
    if res.returncode:
        return None
    for line in res.stdout.splitlines():
        if line.startswith('State:'):
            return line.split(':', 1)[1].strip()
    return ''


# -- tests ---------------------------------------------------------------------------

def test_boot_power_cycle_reboot_destroy(compute, guest_image, image_server, workdir):
    drv, cache, made = compute
    prefix = guest_image['prefix']
    ready = '%s-READY' % prefix
    timings = {'image_build': guest_image['build_seconds']}

    t0 = time.monotonic()
    base = cache.fetch(image_server)
    timings['image_fetch'] = time.monotonic() - t0
    assert base == cache.path_for(image_server['id'])

    inst = make_instance(image_ref=image_server['id'])
    made.append(inst)
    t0 = time.monotonic()
    drv.spawn(None, inst, image_server, base, [])
    timings['spawn_total'] = time.monotonic() - t0
    timings['spawn_define_start'] = drv.timings['define_start']
    timings['spawn_overlay'] = drv.timings['overlay']
    timings['spawn_config_drive'] = drv.timings['config_drive']
    name = 'altostack-' + inst['uuid']

    timings['boot_to_ready'] = wait_console(drv, inst, ready)
    console = drv.get_console_output(inst)
    assert 'hostname=vm-func' in console, console[-2000:]
    assert inst['uuid'] in console  # the guest read our meta_data.json
    assert drv.get_info(inst) == {'state': power_state.RUNNING}
    assert virsh_state(name) == 'running'
    assert sorted(os.listdir(drv.instance_dir(inst))) == ['console.log', 'disk', 'disk.config']

    # the serial console is a live shell, and the config drive carried user_data
    console_ep = drv.get_serial_console(inst)
    assert console_ep['host'] == '127.0.0.1'
    assert CONF.compute.console_port_min <= console_ep['port'] <= CONF.compute.console_port_max
    t0 = time.monotonic()
    out = serial_command(console_ep['host'], console_ep['port'],
                         'hostname; cat /mnt/config/openstack/latest/user_data')
    timings['serial_round_trip'] = time.monotonic() - t0
    assert 'echo hello-userdata' in out and 'vm-func' in out, out

    # reconcile sees it, with what we recorded
    assert inst['uuid'] in drv.list_instance_uuids()
    md = drv.get_instance_metadata(inst['uuid'])
    assert md['project_id'] == 'proj-func' and md['image_id'] == image_server['id']
    assert md['flavor']['memory_mb'] == 192
    res = drv.get_available_resource()
    assert res['hypervisor_type'] == 'QEMU' and res['vcpus_used'] >= 1
    json.loads(res['cpu_info'])

    # the base stays while an overlay uses it, even with min age 0
    assert cache.cleanup_unused() == []
    assert os.path.exists(base)

    # power off: the tiny guest has no ACPI daemon, so after the grace it is forced
    t0 = time.monotonic()
    how = drv.power_off(inst, timeout=3)
    timings['power_off'] = time.monotonic() - t0
    timings['power_off_how'] = how
    assert drv.get_info(inst) == {'state': power_state.SHUTDOWN}
    assert virsh_state(name) == 'shut off'

    t0 = time.monotonic()
    drv.power_on(None, inst, [])
    timings['power_on'] = time.monotonic() - t0
    assert drv.get_info(inst) == {'state': power_state.RUNNING}
    assert virsh_state(name) == 'running'
    timings['power_on_to_ready'] = wait_console(drv, inst, ready, count=2)

    t0 = time.monotonic()
    assert drv.reboot(None, inst, [], 'HARD') == 'hard'
    timings['reboot_hard'] = time.monotonic() - t0
    assert drv.get_info(inst) == {'state': power_state.RUNNING}
    timings['reboot_hard_to_ready'] = wait_console(drv, inst, ready, count=3)

    t0 = time.monotonic()
    timings['reboot_soft_how'] = drv.reboot(None, inst, [], 'SOFT')
    timings['reboot_soft'] = time.monotonic() - t0
    assert drv.get_info(inst) == {'state': power_state.RUNNING}
    wait_console(drv, inst, ready, count=4)
    # console.log is appended across boots
    assert drv.get_console_output(inst, 10 ** 6).count(ready) == 4

    port = console_ep['port']
    t0 = time.monotonic()
    drv.destroy(None, inst)
    timings['destroy'] = time.monotonic() - t0
    assert not drv.instance_exists(inst)
    assert virsh_state(name) is None
    assert not os.path.exists(drv.instance_dir(inst))
    assert port not in drv.ports.in_use()
    assert ports.port_is_free('127.0.0.1', port)

    # the base outlives the instance, until cleanup finds nobody uses it
    assert os.path.exists(base)
    assert cache.cleanup_unused() == [image_server['id']]
    assert not os.path.exists(base)

    report = ', '.join('%s=%s' % (k, ('%.2fs' % v) if isinstance(v, float) else v)
                       for k, v in timings.items())
    print('\nLIBVIRT-TIMINGS (%s guest) %s' % (prefix, report))
    if os.environ.get('ALTOSTACK_TEST_TIMINGS'):
        with open(os.environ['ALTOSTACK_TEST_TIMINGS'], 'w') as f:
            json.dump(timings, f, indent=1)


def test_failed_spawn_on_real_libvirt_leaves_nothing(compute, image_server):
    drv, cache, made = compute
    base = cache.fetch(image_server)
    # QEMU's 'pc' machine takes at most 255 vCPUs: libvirt refuses to start it
    inst = make_instance(flavor={'name': 'huge', 'vcpus': 4096, 'memory_mb': 192,
                                 'root_gb': 1, 'ephemeral_gb': 0, 'swap': 0})
    made.append(inst)
    before = drv.ports.in_use()
    with pytest.raises(exception.InstanceSpawnFailure, match='(?i)vcpu|cpus'):
        drv.spawn(None, inst, image_server, base, [])
    assert not drv.instance_exists(inst)
    assert virsh_state('altostack-' + inst['uuid']) is None
    assert not os.path.exists(drv.instance_dir(inst))
    assert drv.ports.in_use() == before and drv.ports.reserved == set()
