"""common.db.volumes: the attach-flow state changes, compare-and-set,
stuck volumes, quota counting, and the 0005 migration's round trip."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from common import exception
from common.db import api as db_api
from common.db import volume_models as vm
from common.db import volumes as db

P1, P2 = 'p1', 'p2'


@pytest.fixture
def vol(db):
    del db
    v = db_create(P1, 1)
    return db_set_available(v['id'])


def db_create(project, size, **kw):
    return db.create(dict(project_id=project, user_id='u', size=size, **kw))


def db_set_available(vid):
    return db.set_status(vid, db.AVAILABLE, expected=[db.CREATING], host='h1')


def test_set_status_is_a_compare_and_set(vol):
    assert db.set_status(vol['id'], db.EXTENDING, expected=[db.CREATING]) is None
    assert db.set_status(vol['id'], db.EXTENDING, expected=[db.AVAILABLE])['status'] == \
        db.EXTENDING
    assert db.set_status(str(uuid.uuid4()), db.ERROR) is None


def test_get_hides_other_projects_and_deleted(vol):
    assert db.get(vol['id'], P1)['id'] == vol['id']
    with pytest.raises(db.VolumeNotFound):
        db.get(vol['id'], P2)
    with pytest.raises(db.VolumeNotFound):
        db.get('nope')
    db.finish_delete(vol['id'])
    db.finish_delete(vol['id'])
    with pytest.raises(db.VolumeNotFound):
        db.get(vol['id'])


def test_reserve_attach_detach(vol):
    server = str(uuid.uuid4())
    att = db.reserve(vol['id'], P1, server, delete_on_termination=True)
    assert att['status'] == 'reserved' and db.get(vol['id'])['status'] == db.ATTACHING
    with pytest.raises(db.VolumeInUse) as e:
        db.reserve(vol['id'], P1, str(uuid.uuid4()))
    assert e.value.code == 409
    with pytest.raises(db.VolumeNotFound):
        db.reserve(vol['id'], P2, server)
    got = db.attach_complete(att['id'], 'h1', '/dev/vdb')
    assert got['status'] == db.IN_USE and got['attachments'][0]['attached_at']
    with pytest.raises(db.VolumeInUse):
        db.reserve(vol['id'], P1, server)
    assert db.attachments_of_instance(server) == [{
        'attachment_id': att['id'], 'volume_id': vol['id'], 'device': '/dev/vdb',
        'host_name': 'h1', 'delete_on_termination': True, 'status': 'attached'}]
    with pytest.raises(db.AttachmentNotFound):
        db.begin_detaching(vol['id'], str(uuid.uuid4()))
    assert db.begin_detaching(vol['id'], server)['id'] == att['id']
    assert db.get(vol['id'])['status'] == db.DETACHING
    with pytest.raises(db.InvalidVolume):
        db.begin_detaching(vol['id'], server)
    assert db.roll_detaching(vol['id'])['status'] == db.IN_USE
    db.begin_detaching(vol['id'], server)
    assert db.detach_complete(att['id'])['status'] == db.AVAILABLE
    assert db.attachments_of_instance(server) == []
    assert db.detach_complete(att['id']) is None


def test_unreserve(vol):
    att = db.reserve(vol['id'], P1, str(uuid.uuid4()))
    assert db.unreserve(att['id'])['status'] == db.AVAILABLE
    assert db.get(vol['id'])['attachments'] == []


def test_stuck(vol):
    db.set_status(vol['id'], db.DELETING)
    assert db.stuck([db.DELETING], 60) == []
    old = datetime.datetime(2020, 1, 1)
    with db_api.session() as s:
        s.execute(sa.update(vm.Volume).values(updated_at=old))
    assert [v['id'] for v in db.stuck([db.DELETING, db.CREATING], 60)] == [vol['id']]
    assert db.stuck([db.EXTENDING], 60) == []


def test_quota_counts_volumes_and_snapshots(vol):
    db_create(P1, 3)
    snap = db.create_snapshot({'project_id': P1, 'user_id': 'u', 'volume_id': vol['id']})
    assert db.usage(P1)['gigabytes'] == 5 and db.usage(P1)['snapshots'] == 1
    assert db.usage(P2)['volumes'] == 0
    db.snapshot_finish_delete(snap['id'])
    db.finish_delete(vol['id'])
    assert db.usage(P1) == dict(db.usage(P1), volumes=1, gigabytes=3, snapshots=0)
    db.set_limits(P1, {'volumes': 1})
    with pytest.raises(db.VolumeLimitExceeded):
        db_create(P1, 1)
    assert isinstance(db.VolumeLimitExceeded(allowed=1, name='volumes'),
                      exception.AltostackError)


def test_extend_checks_quota(vol):
    db.set_limits(P1, {'gigabytes': 2})
    with pytest.raises(db.VolumeSizeExceedsAvailableQuota):
        db.begin_extend(vol['id'], P1, 3)
    assert db.begin_extend(vol['id'], P1, 2)['status'] == db.EXTENDING
    assert db.finish_extend(vol['id'], 2, ok=False)['status'] == db.ERROR_EXTENDING


def test_migration_0005_round_trip(db):
    from alembic import command

    from common.db import migration
    engine = db_api.get_engine()
    with engine.begin() as conn:
        command.downgrade(migration._config(conn), '0004')
    assert 'volumes' not in sa.inspect(db_api.get_engine()).get_table_names()
    migration.db_sync()
    assert 'volumes' in sa.inspect(db_api.get_engine()).get_table_names()
    assert migration.db_version() == migration.head()


def test_metadata_filter_pages_over_the_matches(vol):
    """A page holds `limit` matches (the filter runs before paging), and a
    marker among the matches gives the next ones."""
    made = [db_create(P1, 1, metadata={'tier': 'gold' if i % 2 else 'lead'}) for i in range(6)]
    gold = {v['id'] for v in made if v['metadata'] == {'tier': 'gold'}}
    want = {'metadata': {'tier': 'gold'}}
    page1 = db.list_volumes(P1, filters=want, limit=2)
    assert len(page1) == 2 and {v['id'] for v in page1} <= gold
    page2 = db.list_volumes(P1, filters=want, limit=2, marker=page1[-1]['id'])
    assert len(page2) == 1
    assert {v['id'] for v in page1 + page2} == gold
