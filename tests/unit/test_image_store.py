"""The file store (streaming, hashing), format inspection with the real
qemu-img, the status state machine and URL signing."""

import hashlib
import io
import os
import time

import pytest

from common import exception
from imagestore import exception as img_exc
from imagestore import formats
from imagestore import signing
from imagestore import states
from imagestore import store
from tests.fixtures.images import qemu_img

ID = '11111111-2222-3333-4444-555555555555'


class Trickle(io.RawIOBase):
    """A stream that hands out a few bytes at a time and counts its reads."""

    def __init__(self, data, step=1000):
        self.data, self.pos, self.step, self.reads = data, 0, step, 0

    def readable(self):
        return True

    def read(self, n=-1):
        self.reads += 1
        n = min(n if n > 0 else self.step, self.step)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class Broken(io.RawIOBase):
    def readable(self):
        return True

    def read(self, n=-1):
        raise ConnectionResetError('peer went away')


# --- store ----------------------------------------------------------------------

def test_stage_hashes_while_streaming_and_commits(tmp_path):
    fs = store.FileStore(str(tmp_path / 'images'))
    data = os.urandom(300 * 1024)
    src = Trickle(data, step=store.CHUNK)
    staged = fs.stage(ID, src, max_size=10 ** 9)
    assert src.reads >= len(data) // store.CHUNK  # read chunk by chunk, not at once
    assert staged.size == len(data)
    assert staged.checksum == hashlib.md5(data).hexdigest()
    assert staged.os_hash_algo == 'sha512'
    assert staged.os_hash_value == hashlib.sha512(data).hexdigest()
    assert not fs.exists(ID)  # staged only
    assert os.path.basename(staged.path).endswith('.part')
    staged.commit()
    assert fs.exists(ID)
    with fs.open(ID) as f:
        assert f.read() == data
    assert os.listdir(fs.root) == [ID]
    fs.delete(ID)
    fs.delete(ID)  # twice is fine
    assert os.listdir(fs.root) == []


def test_stage_refuses_too_much_and_leaves_nothing(tmp_path):
    fs = store.FileStore(str(tmp_path))
    with pytest.raises(img_exc.RequestEntityTooLarge):
        fs.stage(ID, Trickle(b'x' * 5000), max_size=4096)
    assert os.listdir(tmp_path) == []


def test_stage_broken_stream_is_a_client_error(tmp_path):
    fs = store.FileStore(str(tmp_path))
    with pytest.raises(exception.BadRequest) as e:
        fs.stage(ID, Broken(), max_size=100)
    assert 'peer went away' in str(e.value)
    assert os.listdir(tmp_path) == []


def test_discard_and_bad_ids(tmp_path):
    fs = store.FileStore(str(tmp_path))
    staged = fs.stage(ID, io.BytesIO(b'abc'), max_size=100)
    staged.discard()
    assert os.listdir(tmp_path) == []
    for bad in ('../etc/passwd', '', 'a/b'):
        with pytest.raises(exception.BadRequest):
            fs.path(bad)


def test_missing_file_is_a_store_error(tmp_path):
    with pytest.raises(img_exc.StoreError):
        store.FileStore(str(tmp_path)).open(ID)


def test_unwritable_store_is_a_store_error(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a folder')
    with pytest.raises(img_exc.StoreError):
        store.FileStore(str(blocker / 'images')).stage(ID, io.BytesIO(b'x'), 10)


# --- formats (real qemu-img) ------------------------------------------------------

@pytest.fixture(scope='module')
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp('formats')
    for fmt, name in (('qcow2', 'a.qcow2'), ('vmdk', 'a.vmdk'), ('vpc', 'a.vhd'),
                      ('vhdx', 'a.vhdx'), ('vdi', 'a.vdi')):
        qemu_img(d / name, fmt, '1M')
    qemu_img(d / 'flat.vmdk', 'vmdk', '1M', '-o', 'subformat=monolithicFlat')
    qemu_img(d / 'fixed.vhd', 'vpc', '1M', '-o', 'subformat=fixed')
    qemu_img(d / 'child.qcow2', 'qcow2', '1M', '-b', str(d / 'a.qcow2'), '-F', 'qcow2')
    (d / 'a.raw').write_bytes(os.urandom(8192))
    (d / 'empty.raw').write_bytes(b'')
    (d / 'short.qcow2').write_bytes((d / 'a.qcow2').read_bytes()[:100])
    return d


@pytest.mark.parametrize('name,declared', [
    ('a.qcow2', 'qcow2'), ('a.vmdk', 'vmdk'), ('a.vhd', 'vhd'), ('fixed.vhd', 'vhd'),
    ('a.vhdx', 'vhdx'), ('a.vdi', 'vdi'), ('a.raw', 'raw'), ('a.raw', 'iso'),
    ('empty.raw', 'raw'), ('a.raw', 'aki'),
])
def test_matching_formats_pass(image_conf, samples, name, declared):
    path = str(samples / name)
    found = formats.inspect(path)
    formats.check(declared, found, path)
    assert found.virtual_size >= (0 if name == 'empty.raw' else 8192)


def test_virtual_size_comes_from_qemu_img(image_conf, samples):
    assert formats.inspect(str(samples / 'a.qcow2')).virtual_size == 1024 * 1024
    found = formats.inspect(str(samples / 'a.raw'))
    assert (found.format, found.virtual_size) == ('raw', 8192)


@pytest.mark.parametrize('name,declared,fragment', [
    ('a.raw', 'qcow2', 'disk_format is qcow2 but the data is raw'),
    ('a.raw', 'vmdk', 'disk_format is vmdk but the data is raw'),
    ('a.raw', 'vhdx', 'but the data is raw'),
    ('a.raw', 'vdi', 'but the data is raw'),
    ('a.vmdk', 'qcow2', 'the data is vmdk'),
    ('a.vhd', 'vhdx', 'the data is vhd'),
    ('a.qcow2', 'raw', 'disk_format is raw but the data is a qcow2 image'),
    ('a.qcow2', 'iso', 'disk_format is iso but the data is a qcow2 image'),
    ('a.vdi', 'raw', 'the data is a vdi image'),
    ('child.qcow2', 'qcow2', 'backing file'),
    ('flat.vmdk', 'vmdk', 'monolithicFlat'),
])
def test_contradicting_formats_are_refused(image_conf, samples, name, declared, fragment):
    path = str(samples / name)
    with pytest.raises(img_exc.InvalidImageData) as e:
        formats.check(declared, formats.inspect(path), path)
    assert fragment in str(e.value)


def test_unreadable_image_is_refused(image_conf, samples):
    with pytest.raises(img_exc.InvalidImageData) as e:
        formats.inspect(str(samples / 'short.qcow2'))
    assert 'qemu-img cannot read it' in str(e.value)
    assert str(samples) not in str(e.value)  # no server paths in messages


def test_qcow2_data_file_is_refused():
    found = formats.parse('{"format": "qcow2", "virtual-size": 1, "format-specific": '
                          '{"type": "qcow2", "data": {"data-file": "/dev/sda"}}}', '/x')
    with pytest.raises(img_exc.InvalidImageData):
        formats.check('qcow2', found)


def test_missing_qemu_img_is_a_503(image_conf, monkeypatch, samples):
    monkeypatch.setattr(formats.shutil, 'which', lambda _name: None)
    with pytest.raises(img_exc.StoreError):
        formats.inspect(str(samples / 'a.raw'))


# --- state machine -------------------------------------------------------------------

def test_state_machine():
    assert states.next_status(ID, 'queued', 'upload') == 'saving'
    assert states.next_status(ID, 'saving', 'finish') == 'active'
    assert states.next_status(ID, 'saving', 'fail') == 'queued'
    assert states.next_status(ID, 'saving', 'kill') == 'killed'
    assert states.next_status(ID, 'active', 'deactivate') == 'deactivated'
    assert states.next_status(ID, 'deactivated', 'reactivate') == 'active'
    for status in ('queued', 'saving', 'active', 'killed', 'deactivated'):
        assert states.next_status(ID, status, 'delete') == 'deleted'
    for status, event in (('active', 'upload'), ('saving', 'upload'), ('killed', 'upload'),
                          ('queued', 'finish'), ('deleted', 'delete'),
                          ('queued', 'deactivate'), ('killed', 'reactivate')):
        with pytest.raises(states.InvalidImageStatus) as e:
            states.next_status(ID, status, event)
        assert e.value.code == 409 and status in str(e.value)


# --- signed URLs ------------------------------------------------------------------------

def test_signed_urls(image_conf):
    url = signing.sign_url('GET', ID, 600)
    assert url.startswith('http://%s:%d/internal/images/%s/file?expires='
                          % (image_conf.image.public_host, image_conf.image.bind_port, ID))
    q = dict(p.split('=') for p in url.split('?')[1].split('&'))
    signing.verify('GET', ID, q['expires'], q['sig'])
    with pytest.raises(exception.Forbidden):
        signing.verify('PUT', ID, q['expires'], q['sig'])  # a download URL cannot upload
    with pytest.raises(exception.Forbidden):
        signing.verify('GET', ID.replace('1', '9'), q['expires'], q['sig'])
    with pytest.raises(exception.Forbidden):
        signing.verify('GET', ID, int(q['expires']) + 1, q['sig'])
    with pytest.raises(exception.Forbidden):
        signing.verify('GET', ID, q['expires'], None)
    with pytest.raises(exception.Forbidden) as e:
        signing.verify('GET', ID, q['expires'], q['sig'], now=time.time() + 601)
    assert 'expired' in str(e.value)


def test_signing_key_file_is_private_and_shared(image_conf):
    signing.sign_url('GET', ID, 10)
    path = os.path.join(image_conf.state_path, signing.KEY_FILE)
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    first = signing.signature('GET', ID, 1)
    signing.forget()  # another process reads the same file: same signatures
    assert signing.signature('GET', ID, 1) == first
    assert [n for n in os.listdir(image_conf.state_path) if n.startswith('image-url')] == [
        signing.KEY_FILE]
