"""Download an image from the signed URL the image service hands out and
verify it before anyone uses it: size, os_hash_algo/os_hash_value, the md5
checksum and the format (qemu-img reads it as the declared one; a qcow2
must stand alone). The bytes stream into a temporary file beside the final
path and are renamed into place only once verified, so a file at the final
path is always a verified image.

The compute agent's base image cache (compute.imagecache) and the volume
service (a volume made from an image) both fetch through here.
"""

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from oslo_log import log as logging

from common.host import disk
from common.host import exception

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
PART_MARK = '.part-'
SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$')
HASH_ALGOS = ('sha256', 'sha384', 'sha512', 'sha3_256', 'sha3_384', 'sha3_512', 'md5')


def check_id(image_id):
    """``image_id`` if it is safe as a file name, else ImageUnacceptable."""
    if not isinstance(image_id, str) or not SAFE_ID.match(image_id) or '..' in image_id:
        raise exception.ImageUnacceptable(image_id=image_id, reason='unsafe image id')
    return image_id


def check_disk_format(image):
    """Refuse (before any download) a format we do not take as a base."""
    fmt = image.get('disk_format')
    if fmt not in disk.SUPPORTED_BASE_FORMATS:
        raise exception.ImageUnacceptable(
            image_id=image.get('id'), reason='disk format %s is not supported (only %s)'
            % (fmt, ', '.join(disk.SUPPORTED_BASE_FORMATS)))


def _hashers(image):
    image_id = image['id']
    hashers = []
    algo, value = image.get('os_hash_algo'), image.get('os_hash_value')
    if algo and value:
        if algo not in HASH_ALGOS:
            raise exception.ImageUnacceptable(image_id=image_id,
                                              reason='unknown hash algorithm %s' % algo)
        hashers.append((algo, hashlib.new(algo), value))
    if image.get('checksum') and algo != 'md5':
        hashers.append(('md5', hashlib.md5(usedforsecurity=False), image['checksum']))
    if not hashers:
        LOG.warning('Image %s has no checksum; it is taken unverified', image_id)
    return hashers


def download(image, path, timeout):
    """Fetch ``image`` (a get_image_for_download answer: id, url,
    disk_format, size, hashes) to ``path``, verified; returns its size.
    ``timeout``: seconds a download may stall. Nothing is left behind when
    it fails."""
    image_id = check_id(image.get('id'))
    check_disk_format(image)
    url = image.get('url')
    if not url or urllib.parse.urlsplit(url).scheme not in ('http', 'https'):
        raise exception.ImageDownloadFailed(image_id=image_id,
                                            reason='no http(s) URL to fetch it from')
    hashers = _hashers(image)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path),
                               prefix='.%s%s' % (image_id, PART_MARK))
    try:
        size = 0
        with os.fdopen(fd, 'wb') as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    while True:
                        chunk = resp.read(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        size += len(chunk)
                        for _name, h, _expected in hashers:
                            h.update(chunk)
            except (urllib.error.URLError, OSError) as e:
                raise exception.ImageDownloadFailed(image_id=image_id,
                                                    reason=str(e)) from e
            out.flush()
            os.fsync(out.fileno())
        if image.get('size') is not None and int(image['size']) != size:
            raise exception.ImageDownloadFailed(
                image_id=image_id, reason='got %d bytes, expected %s' % (size, image['size']))
        for name, h, expected in hashers:
            if h.hexdigest() != expected.lower():
                raise exception.ImageChecksumMismatch(image_id=image_id, algo=name,
                                                      actual=h.hexdigest(),
                                                      expected=expected)
        _check_format(image, tmp)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
        return size
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _check_format(image, path):
    """The bits must be what the record says; a qcow2 must stand alone (no
    backing or external data file that could name host files)."""
    fmt = image['disk_format']
    try:
        info = disk.image_info(path, fmt)
    except exception.VirtError as e:
        raise exception.ImageUnacceptable(image_id=image['id'], reason=e.message) from e
    if fmt == 'qcow2':
        data = (info.get('format-specific') or {}).get('data') or {}
        if info.get('backing-filename') or data.get('data-file'):
            raise exception.ImageUnacceptable(
                image_id=image['id'], reason='qcow2 image has a backing or data file')
