import datetime

from common import servicegroup
from common.db import models


def test_report_creates_then_updates(db):
    servicegroup.report('h1', 'nova-compute', 'compute')
    servicegroup.report('h1', 'nova-compute', 'compute')
    (rec,) = servicegroup.list_services()
    assert (rec.host, rec.binary, rec.report_count) == ('h1', 'nova-compute', 2)
    assert servicegroup.is_up(rec)


def test_down_after_service_down_time(db, conf):
    servicegroup.report('h1', 'cinder-volume')
    (rec,) = servicegroup.list_services()
    later = rec.last_seen_up + datetime.timedelta(seconds=conf.service_down_time + 1)
    assert not servicegroup.is_up(rec, now=later)


def test_late_relayed_heartbeat_does_not_move_time_back(db):
    now = models.utcnow()
    servicegroup.report('h1', 'nova-compute', seen_at=now)
    servicegroup.report('h1', 'nova-compute', seen_at=now - datetime.timedelta(minutes=5))
    (rec,) = servicegroup.list_services()
    assert rec.last_seen_up == now


def test_forced_down_and_disable(db):
    servicegroup.report('h1', 'nova-compute')
    (rec,) = servicegroup.list_services()
    rec = servicegroup.update_service(rec.uuid, forced_down=True, disabled=True,
                                      disabled_reason='maint')
    assert not servicegroup.is_up(rec)
    assert servicegroup.get_service(rec.uuid).disabled_reason == 'maint'
    assert servicegroup.get_service(rec.id).uuid == rec.uuid
