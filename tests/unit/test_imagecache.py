"""The base image cache: streamed download from a local HTTP server,
verification, one download for concurrent callers, cleanup of unused bases."""

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest
from oslo_config import cfg

from common.conf import CONF
from common.conf import compute as compute_conf
from common.host import disk
from common.host import images
from compute import imagecache
from compute.virt import exception

try:
    compute_conf.register_opts(CONF)
except cfg.DuplicateOptError:
    pass

pytestmark = pytest.mark.skipif(not shutil.which('qemu-img'), reason='needs qemu-img')


class ImageServer:
    """Serves files of a folder over HTTP on 127.0.0.1, counting GETs;
    ``delay`` slows every response down (to make callers overlap)."""

    def __init__(self, root):
        self.root = root
        self.gets = {}
        self.delay = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip('/').split('?')[0]
                server.gets[name] = server.gets.get(name, 0) + 1
                path = os.path.join(server.root, name)
                if not os.path.isfile(path):
                    self.send_error(404)
                    return
                time.sleep(server.delay)
                with open(path, 'rb') as f:
                    data = f.read()
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={'poll_interval': 0.05}, daemon=True)

    def url(self, name):
        return 'http://127.0.0.1:%d/%s?sig=abc' % (self.httpd.server_address[1], name)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / 'served'
    root.mkdir()
    with ImageServer(str(root)) as s:
        yield s


@pytest.fixture
def cache(tmp_path):
    return imagecache.ImageCache(instances_path=str(tmp_path / 'instances'), subdir='_base',
                                 min_age=3600, enabled=True, timeout=10)


def publish(server, name, data=None, fmt='raw'):
    path = os.path.join(server.root, name)
    if fmt == 'qcow2':
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, '8M'], check=True)
    else:
        with open(path, 'wb') as f:
            f.write(data if data is not None else os.urandom(3 * 1024 * 1024 + 17))
    with open(path, 'rb') as f:
        content = f.read()
    return {'id': name, 'disk_format': fmt, 'size': len(content),
            'checksum': hashlib.md5(content).hexdigest(), 'os_hash_algo': 'sha512',
            'os_hash_value': hashlib.sha512(content).hexdigest(), 'min_disk': 0,
            'properties': {}, 'url': server.url(name)}


def base_files(cache):
    return sorted(os.listdir(cache.base_dir)) if os.path.isdir(cache.base_dir) else []


def test_fetch_streams_verifies_and_caches(server, cache):
    image = publish(server, 'img-raw')
    path = cache.fetch(image)
    assert path == os.path.join(cache.base_dir, 'img-raw')
    with open(path, 'rb') as f, open(os.path.join(server.root, 'img-raw'), 'rb') as g:
        assert f.read() == g.read()
    assert base_files(cache) == ['img-raw']
    assert cache.fetch(image) == path
    assert server.gets == {'img-raw': 1}  # the second fetch used the cache


def test_qcow2_with_md5_only(server, cache):
    image = publish(server, 'img-q', fmt='qcow2')
    image.update(os_hash_algo=None, os_hash_value=None)
    path = cache.fetch(image)
    assert disk.image_info(path, 'qcow2')['format'] == 'qcow2'


@pytest.mark.parametrize('field', ['os_hash_value', 'checksum'])
def test_bad_checksum_removes_the_file_and_raises(server, cache, field):
    image = publish(server, 'img-bad')
    image[field] = ('0' * 128) if field == 'os_hash_value' else ('0' * 32)
    with pytest.raises(exception.ImageChecksumMismatch):
        cache.fetch(image)
    assert base_files(cache) == []  # neither the base nor a partial download


def test_wrong_size_is_refused(server, cache):
    image = publish(server, 'img-size')
    image['size'] += 1
    with pytest.raises(exception.ImageDownloadFailed, match='expected'):
        cache.fetch(image)
    assert base_files(cache) == []


def test_http_error_leaves_nothing(server, cache):
    image = publish(server, 'img-gone')
    image['url'] = server.url('missing')
    with pytest.raises(exception.ImageDownloadFailed, match='404'):
        cache.fetch(image)
    assert base_files(cache) == []


def test_download_without_a_cache(server, tmp_path):
    """What the volume service uses: common.host.images alone, into any
    folder; a failure leaves nothing in it."""
    image = publish(server, 'img-vol')
    dest = tmp_path / 'dest'
    dest.mkdir()
    assert images.download(image, str(dest / 'img-vol'), timeout=10) == image['size']
    assert sorted(os.listdir(dest)) == ['img-vol']
    with pytest.raises(exception.ImageChecksumMismatch):
        images.download(dict(image, checksum='0' * 32), str(dest / 'again'), timeout=10)
    assert sorted(os.listdir(dest)) == ['img-vol']


def test_unsupported_format_and_unsafe_ids_are_refused_without_download(server, cache):
    image = publish(server, 'img-iso')
    with pytest.raises(exception.ImageUnacceptable):
        cache.fetch(dict(image, disk_format='iso'))
    with pytest.raises(exception.ImageUnacceptable):
        cache.fetch(dict(image, id='../etc'))
    with pytest.raises(exception.ImageDownloadFailed):
        cache.fetch(dict(image, url='file:///etc/passwd'))
    assert server.gets == {}


def test_bits_that_are_not_the_declared_format_are_refused(server, cache):
    image = publish(server, 'img-liar', data=b'not a qcow2' * 1000)
    with pytest.raises(exception.ImageUnacceptable):
        cache.fetch(dict(image, disk_format='qcow2'))
    assert base_files(cache) == []


def test_qcow2_with_a_backing_file_is_refused(server, cache, tmp_path):
    path = os.path.join(server.root, 'img-backed')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw',
                    path, '1M'], check=True)
    with open(path, 'rb') as f:
        content = f.read()
    image = {'id': 'img-backed', 'disk_format': 'qcow2', 'size': len(content),
             'os_hash_algo': 'sha512', 'os_hash_value': hashlib.sha512(content).hexdigest(),
             'url': server.url('img-backed')}
    with pytest.raises(exception.ImageUnacceptable, match='backing'):
        cache.fetch(image)
    assert base_files(cache) == []


def test_concurrent_fetches_download_once(server, cache):
    image = publish(server, 'img-conc')
    server.delay = 0.5
    paths, errors = [], []

    def go():
        try:
            paths.append(cache.fetch(image))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(paths) == 6 and len(set(paths)) == 1
    assert server.gets == {'img-conc': 1}


def make_overlay(cache, image_id, name='inst-1'):
    inst_dir = os.path.join(cache.instances_path, name)
    os.makedirs(inst_dir, exist_ok=True)
    disk.create_overlay(cache.path_for(image_id), 'raw', os.path.join(inst_dir, 'disk'))
    return inst_dir


def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_used_base_images_follows_backing_files(server, cache):
    cache.fetch(publish(server, 'img-a'))
    cache.fetch(publish(server, 'img-b'))
    d1 = make_overlay(cache, 'img-a', 'inst-1')
    d2 = make_overlay(cache, 'img-a', 'inst-2')
    assert cache.used_base_images() == {'img-a': [d1, d2]}
    assert cache.used_base_images([d2]) == {'img-a': [d2]}
    assert cache.instance_dirs() == [d1, d2]


def test_cleanup_removes_only_old_unused_bases(server, cache):
    for name in ('used', 'young', 'old', 'active', 'pinned'):
        cache.fetch(publish(server, name))
    make_overlay(cache, 'used')
    with cache.using({'id': 'pinned', 'disk_format': 'raw'}):
        for name in ('used', 'old', 'active', 'pinned'):
            age(cache.path_for(name), 7200)
        removed = cache.cleanup_unused(active_image_ids=['active'])
    assert removed == ['old']
    assert base_files(cache) == ['active', 'pinned', 'used', 'young']
    # unpinned and no longer active: old enough to go; a fetch of a cached
    # base refreshes its age and does not download it again
    cache.fetch({'id': 'pinned', 'disk_format': 'raw', 'url': 'http://unused/'})
    assert cache.cleanup_unused() == ['active']
    assert base_files(cache) == ['pinned', 'used', 'young']


def test_cleanup_after_the_overlay_is_gone(server, cache):
    cache.fetch(publish(server, 'img-x'))
    inst_dir = make_overlay(cache, 'img-x')
    age(cache.path_for('img-x'), 7200)
    assert cache.cleanup_unused() == []
    shutil.rmtree(inst_dir)
    assert cache.cleanup_unused() == ['img-x']
    assert base_files(cache) == []


def test_cleanup_disabled_and_min_age_zero(server, tmp_path):
    off = imagecache.ImageCache(instances_path=str(tmp_path / 'i'), enabled=False, min_age=0)
    assert off.cleanup_unused() == []
    now = imagecache.ImageCache(instances_path=str(tmp_path / 'i'), enabled=True, min_age=0)
    now.fetch(publish(server, 'img-now'))
    assert now.cleanup_unused() == ['img-now']


def test_stale_partial_downloads_are_removed(cache):
    os.makedirs(cache.base_dir)
    part = os.path.join(cache.base_dir, '.img%sabc' % imagecache.PART_MARK)
    fresh = os.path.join(cache.base_dir, '.img2%sdef' % imagecache.PART_MARK)
    for p in (part, fresh):
        with open(p, 'w') as f:
            f.write('x')
    age(part, 10 * 3600)
    cache.cleanup_unused()
    assert os.listdir(cache.base_dir) == [os.path.basename(fresh)]


def test_defaults_come_from_config(tmp_path):
    CONF.set_override('instances_path', str(tmp_path / 'inst'), 'compute')
    try:
        c = imagecache.ImageCache()
        assert c.base_dir == str(tmp_path / 'inst' / '_base')
        assert c.min_age == 3600 and c.enabled is True
    finally:
        CONF.clear_override('instances_path', 'compute')
