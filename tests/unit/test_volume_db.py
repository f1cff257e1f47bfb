"""blockstore's volume records (volumes, attachments, snapshots, quota): the
attach-flow state changes, compare-and-set, stuck volumes, quota counting,
and the 0005 migration's round trip."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from blockstore import attachments
from blockstore import exception as volume_exc
from blockstore import quota as volume_quota
from blockstore import snapshots as volume_snapshots
from blockstore import volumes
from common import exception
from common.db import api as db_api
from common.db import volume_models as vm

P1, P2 = 'p1', 'p2'


@pytest.fixture
def vol(db):
    del db
    v = db_create(P1, 1)
    return db_set_available(v['id'])


def db_create(project, size, **kw):
    return volumes.create(dict(project_id=project, user_id='u', size=size, **kw))


def db_set_available(vid):
    return volumes.set_status(vid, volumes.AVAILABLE, expected=[volumes.CREATING], host='h1')


def test_set_status_is_a_compare_and_set(vol):
    assert volumes.set_status(vol['id'], volumes.EXTENDING, expected=[volumes.CREATING]) is None
    assert volumes.set_status(vol['id'], volumes.EXTENDING,
                              expected=[volumes.AVAILABLE])['status'] == volumes.EXTENDING
    assert volumes.set_status(str(uuid.uuid4()), volumes.ERROR) is None


def test_get_hides_other_projects_and_deleted(vol):
    assert volumes.get(vol['id'], P1)['id'] == vol['id']
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get(vol['id'], P2)
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get('nope')
    volumes.finish_delete(vol['id'])
    volumes.finish_delete(vol['id'])
    with pytest.raises(volume_exc.VolumeNotFound):
        volumes.get(vol['id'])


def test_reserve_attach_detach(vol):
    server = str(uuid.uuid4())
    att = attachments.reserve(vol['id'], P1, server, delete_on_termination=True)
    assert att['status'] == 'reserved' and volumes.get(vol['id'])['status'] == volumes.ATTACHING
    with pytest.raises(volume_exc.VolumeInUse) as e:
        attachments.reserve(vol['id'], P1, str(uuid.uuid4()))
    assert e.value.code == 409
    with pytest.raises(volume_exc.VolumeNotFound):
        attachments.reserve(vol['id'], P2, server)
    got = attachments.attach_complete(att['id'], 'h1', '/dev/vdb')
    assert got['status'] == volumes.IN_USE and got['attachments'][0]['attached_at']
    with pytest.raises(volume_exc.VolumeInUse):
        attachments.reserve(vol['id'], P1, server)
    assert attachments.attachments_of_instance(server) == [{
        'attachment_id': att['id'], 'volume_id': vol['id'], 'device': '/dev/vdb',
        'host_name': 'h1', 'delete_on_termination': True, 'status': 'attached'}]
    with pytest.raises(volume_exc.AttachmentNotFound):
        attachments.begin_detaching(vol['id'], str(uuid.uuid4()))
    assert attachments.begin_detaching(vol['id'], server)['id'] == att['id']
    assert volumes.get(vol['id'])['status'] == volumes.DETACHING
    with pytest.raises(volume_exc.InvalidVolume):
        attachments.begin_detaching(vol['id'], server)
    assert attachments.roll_detaching(vol['id'])['status'] == volumes.IN_USE
    attachments.begin_detaching(vol['id'], server)
    assert attachments.detach_complete(att['id'])['status'] == volumes.AVAILABLE
    assert attachments.attachments_of_instance(server) == []
    assert attachments.detach_complete(att['id']) is None


def test_unreserve(vol):
    att = attachments.reserve(vol['id'], P1, str(uuid.uuid4()))
    assert attachments.unreserve(att['id'])['status'] == volumes.AVAILABLE
    assert volumes.get(vol['id'])['attachments'] == []


def test_stuck(vol):
    volumes.set_status(vol['id'], volumes.DELETING)
    assert volumes.stuck([volumes.DELETING], 60) == []
    old = datetime.datetime(2020, 1, 1)
    with db_api.session() as s:
        s.execute(sa.update(vm.Volume).values(updated_at=old))
    assert [v['id'] for v in volumes.stuck([volumes.DELETING, volumes.CREATING], 60)] == [vol['id']]
    assert volumes.stuck([volumes.EXTENDING], 60) == []


def test_quota_counts_volumes_and_snapshots(vol):
    db_create(P1, 3)
    snap = volume_snapshots.create_snapshot({'project_id': P1, 'user_id': 'u',
                                             'volume_id': vol['id']})
    assert volume_quota.usage(P1)['gigabytes'] == 5 and volume_quota.usage(P1)['snapshots'] == 1
    assert volume_quota.usage(P2)['volumes'] == 0
    volume_snapshots.snapshot_finish_delete(snap['id'])
    volumes.finish_delete(vol['id'])
    assert volume_quota.usage(P1) == dict(volume_quota.usage(P1), volumes=1, gigabytes=3,
                                          snapshots=0)
    volume_quota.set_limits(P1, {'volumes': 1})
    with pytest.raises(volume_exc.VolumeLimitExceeded):
        db_create(P1, 1)
    assert isinstance(volume_exc.VolumeLimitExceeded(allowed=1, name='volumes'),
                      exception.AltostackError)


def test_extend_checks_quota(vol):
    volume_quota.set_limits(P1, {'gigabytes': 2})
    with pytest.raises(volume_exc.VolumeSizeExceedsAvailableQuota):
        volumes.begin_extend(vol['id'], P1, 3)
    assert volumes.begin_extend(vol['id'], P1, 2)['status'] == volumes.EXTENDING
    assert volumes.finish_extend(vol['id'], 2, ok=False)['status'] == volumes.ERROR_EXTENDING


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
    page1 = volumes.list_volumes(P1, filters=want, limit=2)
    assert len(page1) == 2 and {v['id'] for v in page1} <= gold
    page2 = volumes.list_volumes(P1, filters=want, limit=2, marker=page1[-1]['id'])
    assert len(page2) == 1
    assert {v['id'] for v in page1 + page2} == gold
