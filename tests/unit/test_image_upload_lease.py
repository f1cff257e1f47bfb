"""An upload whose image service died (the faults tier's kill -9 of the
image service mid-upload left the image 'saving' for ever): an upload in
progress renews its lease ([image] upload_lease); a lapsed one is put back
to queued by any image service; at start-up an image service removes the
staged files and spooled bodies a killed one left."""

import datetime
import io

import sqlalchemy as sa

from common.db import api as db_api
from common.db import image_models as m
from common.db.models import utcnow
from imagestore import data
from imagestore import images
from imagestore import manager
from imagestore import states
from imagestore import store
from tests.fixtures.images import create


def _age(image_id, seconds):
    with db_api.session() as s:
        s.execute(sa.update(m.Image).where(m.Image.id == image_id).values(
            updated_at=utcnow() - datetime.timedelta(seconds=seconds)))


def _status(image_id):
    with db_api.reader() as s:
        return s.get(m.Image, image_id).status


def test_a_lapsed_upload_is_queued_again_and_a_live_one_is_left(image_client, people,
                                                                image_conf):
    dead = create(image_client, people.demo)['id']
    live = create(image_client, people.demo)['id']
    for iid in (dead, live):
        images.transition(iid, 'upload')
    lease = image_conf.image.upload_lease
    _age(dead, lease + 5)
    _age(live, lease + 5)
    images.renew_upload(live)   # its stream was read a moment ago
    assert manager.ImageManager().give_up_lapsed_uploads() == [dead]
    assert (_status(dead), _status(live)) == (states.QUEUED, states.SAVING)


def test_reading_the_stream_renews_the_lease(image_client, people, image_conf, monkeypatch):
    iid = create(image_client, people.demo)['id']
    images.transition(iid, 'upload')
    _age(iid, 3600)
    monkeypatch.setattr(data.time, 'monotonic', iter([0.0, 1000.0, 1000.5]).__next__)
    stream = data._Renewing(io.BytesIO(b'abc'), iid)
    assert stream.read(2) == b'ab'
    assert images.lapsed_uploads(image_conf.image.upload_lease) == []
    assert stream.read() == b'c'


def test_start_up_removes_what_a_killed_upload_left(tmp_path):
    root, incoming = tmp_path / 'images', tmp_path / 'images' / '.incoming'
    incoming.mkdir(parents=True)
    (root / '.abc.x1.part').write_bytes(b'half')
    (root / 'abc').write_bytes(b'an image')
    (incoming / 'tmpq1').write_bytes(b'body')
    gone = store.remove_leftovers(str(root), str(incoming))
    assert sorted(gone) == sorted([str(root / '.abc.x1.part'), str(incoming / 'tmpq1')])
    assert (root / 'abc').read_bytes() == b'an image'
