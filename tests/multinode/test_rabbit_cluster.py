"""Issue 15, test 3 (first part): a cloud on a 3-node RabbitMQ cluster of
its own (devstack/lib/rabbitmq_cluster.sh) with quorum queues, transient
quorum queues, stream fanout and the queue manager. One cloud for the
module.
"""

import json

import pytest

from tests.fixtures.rabbit_cluster import RabbitCluster
from tests.functional.cloud import LocalCloud


@pytest.fixture(scope='module')
def rmq():
    with RabbitCluster(3) as cluster:
        with LocalCloud(transport=cluster, report_interval=1, service_down_time=10) as cloud:
            cloud.upload_tiny_image()
            yield cloud, cluster


def test_cluster_layout(rmq):
    cloud, cluster = rmq
    assert cluster.alive() == [1, 2, 3]
    status = cluster.ctl(1, 'cluster_status', '--formatter', 'json')
    assert all('rmq-' in n for n in json.loads(status)['running_nodes'])
    assert 'pause_minority' in cluster.ctl(1, 'environment')
    queues = cluster.queues()
    # Work queues and reply queues are quorum queues, fanout is one stream
    # per topic, and reply queues carry the service's name (queue manager).
    assert queues['scheduler'][0] == 'quorum', queues
    assert queues['compute.%s' % cloud.host][0] == 'quorum', queues
    assert queues['scheduler_fanout'][0] == 'stream', queues
    replies = {q: t for q, (t, _) in queues.items() if q.startswith('reply_')}
    assert any(q.startswith('reply_%s:nova-compute:' % cloud.host) for q in replies), \
        sorted(queues)
    assert set(replies.values()) == {'quorum'}, replies
    assert 'classic' not in {t for t, _ in queues.values()}, queues
