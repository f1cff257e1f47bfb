"""Workers show up/down in `openstack compute service list` by heartbeat."""

import time


def _states(cloud):
    rows = cloud.openstack('compute', 'service', 'list', json_out=True)
    return {r['Binary']: r for r in rows}


def test_every_worker_is_up(cloud):
    rows = _states(cloud)
    for binary in ('nova-scheduler', 'nova-conductor', 'nova-compute', 'cinder-volume',
                   'altostack-image', 'altostack-api'):
        assert rows[binary]['State'] == 'up', rows
        assert rows[binary]['Status'] == 'enabled'
        assert rows[binary]['Host'] == cloud.host
    assert rows['nova-compute']['Zone'] == 'nova'


def test_filter_by_binary(cloud):
    rows = cloud.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                           json_out=True)
    assert [r['Binary'] for r in rows] == ['nova-compute']


def test_disable_and_enable(cloud):
    cloud.openstack('compute', 'service', 'set', '--disable', '--disable-reason', 'maint',
                    cloud.host, 'nova-compute')
    row = _states(cloud)['nova-compute']
    assert row['Status'] == 'disabled'
    cloud.openstack('compute', 'service', 'set', '--enable', cloud.host, 'nova-compute')
    assert _states(cloud)['nova-compute']['Status'] == 'enabled'


def test_killed_service_goes_down_then_up_again(cloud):
    cloud.kill_service('volume')  # SIGKILL: no goodbye
    started = time.monotonic()
    cloud.wait_for(lambda: _states(cloud)['cinder-volume']['State'] == 'down',
                   timeout=30, what='cinder-volume down')
    assert time.monotonic() - started >= cloud.service_down_time - 2
    cloud.start_service('volume')
    cloud.wait_for(lambda: _states(cloud)['cinder-volume']['State'] == 'up',
                   timeout=30, what='cinder-volume up')


def test_compute_heartbeat_travels_over_the_bus(cloud):
    # The compute agent has no database: when the scheduler is gone its
    # heartbeats wait on the bus, and the agent shows down until it is back.
    cloud.kill_service('scheduler')
    cloud.wait_for(lambda: _states(cloud)['nova-compute']['State'] == 'down',
                   timeout=30, what='nova-compute down without a scheduler')
    cloud.start_service('scheduler')
    cloud.wait_for(lambda: _states(cloud)['nova-compute']['State'] == 'up',
                   timeout=30, what='nova-compute up again')
