"""A full disk under the image store: the upload is answered 413 "Image
storage media is full" (Glance's answer), the image goes back to queued and
nothing half-written stays; whether the disk fills while waitress spools the
body (common/spool.py) or while the store writes it. The kernel's own
ENOSPC comes from /dev/full."""

import errno
import io
import os
import tempfile

import pytest
from waitress import adjustments

from common import spool
from imagestore import exception as img_exc
from imagestore import store
from tests.fixtures.images import OCTET
from tests.fixtures.images import create
from tests.fixtures.images import upload

ID = '11111111-2222-3333-4444-555555555555'



def _dev_full(*_a, **_k):
    return open('/dev/full', 'w+b')


@pytest.fixture
def full_spool(monkeypatch):
    """waitress's body spool files are on a full disk."""
    monkeypatch.setattr(tempfile, 'TemporaryFile', _dev_full)


def _parse(body, **adj):
    parser = spool.SpoolParser(adjustments.Adjustments(inbuf_overflow=1024, **adj))
    data = b'PUT /v2/images/x/file HTTP/1.1\r\nContent-Length: %d\r\n\r\n' % len(body) + body
    while data and not parser.completed:
        data = data[parser.received(data):]
    return parser


def test_spool_reads_the_whole_body_when_the_disk_is_full(full_spool):
    parser = _parse(os.urandom(64 * 1024))
    assert parser.completed and parser.error is None  # answered, not dropped
    body = parser.get_body_stream()
    assert body.storage_full
    with pytest.raises(OSError) as e:
        body.read(100)
    assert e.value.errno == errno.ENOSPC
    parser.close()


def test_spool_still_refuses_a_body_over_the_limit(full_spool):
    parser = _parse(os.urandom(8 * 1024), max_request_body_size=4096)
    assert parser.completed and parser.error.code == 413


def test_spool_with_room_keeps_the_body():
    body = os.urandom(8 * 1024)
    parser = _parse(body)
    assert parser.get_body_stream().read() == body
    parser.close()


def test_store_full_while_writing_is_storage_full(tmp_path, monkeypatch):
    written = []

    def fill(out, data):
        if written:
            out.write(data[:100])  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(out.write(data))
    monkeypatch.setattr(store, '_write_all', fill)
    fs = store.FileStore(str(tmp_path))
    with pytest.raises(img_exc.StorageFull) as e:
        fs.stage(ID, io.BytesIO(os.urandom(256 * 1024)), max_size=1 << 30)
    assert e.value.code == 413
    assert 'Image storage media is full' in str(e.value)
    assert os.listdir(tmp_path) == []  # no partial file


def test_store_full_while_spooling_is_storage_full(tmp_path):
    with pytest.raises(img_exc.StorageFull):
        store.FileStore(str(tmp_path)).stage(ID, spool.FullBody(), max_size=1 << 30)
    assert os.listdir(tmp_path) == []


def test_other_store_errors_stay_503(tmp_path, monkeypatch):
    def eio(out, data):
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(store, '_write_all', eio)
    with pytest.raises(img_exc.StoreError) as e:
        store.FileStore(str(tmp_path)).stage(ID, io.BytesIO(b'abc'), max_size=100)
    assert e.value.code == 503


def test_upload_into_a_full_store_is_413_and_the_image_stays_queued(
        image_client, people, raw_bytes, image_conf):
    img = create(image_client, people.demo, disk_format='raw')
    r = image_client.put('/v2/images/%s/file' % img['id'], headers={**people.demo.h, **OCTET},
                         data=raw_bytes, environ_overrides={'wsgi.input': spool.FullBody()})
    assert r.status_code == 413, r.get_data(as_text=True)
    assert r.headers['Content-Type'].startswith('text/html')
    assert 'Image storage media is full' in r.get_data(as_text=True)
    shown = image_client.get('/v2/images/%s' % img['id'], headers=people.demo.h).get_json()
    assert shown['status'] == 'queued'
    assert [n for n in os.listdir(image_conf.image.store_path) if not n.startswith('.inc')] == []
    upload(image_client, people.demo, img['id'], raw_bytes)  # room again: it goes up
