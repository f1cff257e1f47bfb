"""The instance detail page in a real browser, against one real TCG guest
that every step here shares (booted once for the module with the CLI on the
demo project's shared network ``private``): the overview and its live
status, the serial console (xterm.js straight to the serial proxy) showing
the boot marker and taking a typed command, the console log following the
guest, a volume attached and detached, a floating IP added and removed,
stop and start (and the API's 409 when a click loses a race), resize and
confirm, a snapshot and a server launched from it, the action log with request ids, the graphical
console, and a server the scheduler could place nowhere with its per-filter
explanation. Every effect is checked with the openstack CLI."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx
from tests.fixtures.console import connect
from tests.fixtures.servers import wait_console
from tests.fixtures.servers import wait_server

BOOT_S = 180          # a TCG guest, on a machine shared with other tests
MOVE_MS = 180 * 1000  # resize, stop, start: the guest is really moved or shut down
NAME = 'dash-detail-vm'


@pytest.fixture(scope='module')
def server(dash_cloud, dash_image):
    srv = dash_cloud.openstack('server', 'create', '--image', dash_image['id'], '--flavor',
                               'm1.nano', '--network', 'private', '--wait', NAME,
                               cloud='demo', json_out=True)
    assert srv['status'] == 'ACTIVE', srv
    wait_console(dash_cloud, srv['id'], 'ALTOSTACK-READY', timeout=BOOT_S)
    yield srv
    dash_cloud.openstack('server', 'delete', '--wait', srv['id'], cloud='demo', check=False)


def open_detail(signed_in, server_id, tab=''):
    p = signed_in('demo', next_path='/instances/%s%s' % (server_id, '/' + tab if tab else ''))
    p.on('dialog', lambda d: d.accept())   # the confirmations of destructive actions
    return p


def bar_button(p, action):
    return p.locator('#actions-bar [data-action="%s"] button' % action)


def status_badge(p):
    return p.locator('#detail-status .status-badge')


def until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError('timed out waiting for %s' % what)


def settled(conn, server_id):
    """Wait until the server is ACTIVE with no task in flight."""
    until(lambda: (lambda s: s.status == 'ACTIVE' and not s.task_state)(
        conn.compute.get_server(server_id)), MOVE_MS / 1000, 'the server to settle')


def show(cloud, *args):
    return cloud.openstack(*args, cloud='demo', json_out=True)


def test_overview_and_serial_console(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid)
    expect(p.locator('#instance-name')).to_have_text(NAME)
    expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE')
    expect(p.locator('[data-prop=flavor]')).to_have_text('m1.nano')
    expect(p.locator('[data-prop=image]')).to_have_text('altostack-tiny')
    expect(p.locator('[data-prop=power_state]')).to_have_text('running')
    expect(p.locator('#security-groups')).to_contain_text('default')
    expect(p.locator('#addresses')).to_contain_text('private')
    # What ACTIVE allows, one of each pair, each with its command.
    expect(bar_button(p, 'stop')).to_be_enabled()
    expect(bar_button(p, 'start')).to_have_count(0)
    expect(bar_button(p, 'confirm-resize')).to_have_count(0)
    expect(p.locator('#actions-bar [data-action=stop] [data-cli-out]')).to_have_text(
        'openstack server stop %s' % sid)
    assert not browser_fx.console_errors(p)
    browser_fx.save_screenshot(p, 'instance-overview')

    p.click('#instance-tabs [data-tab=console]')
    expect(p.locator('#serial-console')).to_have_attribute('data-state', 'open')
    rows = p.locator('#terminal .xterm-rows')
    expect(rows).to_contain_text('ALTOSTACK-READY')
    p.locator('#terminal').click()
    p.keyboard.type('echo DASH$((6*7))')
    p.keyboard.press('Enter')
    expect(rows).to_contain_text('DASH42')
    browser_fx.save_screenshot(p, 'instance-serial-console')
    browser_fx.assert_no_console_errors(p)
    p.close()   # the serial console takes one client: let it go


def test_console_log_follows_the_guest(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid, 'console-log')
    log = p.locator('#console-log')
    expect(log).to_contain_text('ALTOSTACK-READY')
    expect(p.locator('.console-log-bar [data-cli-out]')).to_have_text(
        'openstack console log show --lines 200 %s' % sid)
    p.check('#console-follow')
    # Something new on the guest's console, written by another client.
    url = show(dash_cloud, 'console', 'url', 'show', '--serial', sid)['url']
    with connect(url) as ws:
        ws.send(b'echo FOLLOW$((40+2))\n')
        expect(log).to_contain_text('FOLLOW42')
    browser_fx.assert_no_console_errors(p)


def test_attach_and_detach_a_volume(signed_in, dash_cloud, server):
    sid = server['id']
    vol = show(dash_cloud, 'volume', 'create', '--size', '1', 'dash-detail-vol')
    until(lambda: show(dash_cloud, 'volume', 'show', vol['id'])['status'] == 'available',
          60, 'the volume to be available')
    p = open_detail(signed_in, sid, 'volumes')
    bar_button(p, 'attach-volume').click()
    form = p.locator('#form-attach-volume')
    form.locator('select[name=volume]').select_option(vol['id'])
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server add volume %s %s' % (sid, vol['id']))
    form.locator('button[type=submit]').click()
    expect(p.locator('#alerts')).to_contain_text('is being attached')
    row = p.locator('#volumes tr[data-volume="%s"]' % vol['id'])
    expect(row).to_have_attribute('data-status', 'in-use', timeout=60000)
    shown = show(dash_cloud, 'volume', 'show', vol['id'])
    assert shown['status'] == 'in-use', shown
    assert [a['server_id'] for a in shown['attachments']] == [sid], shown

    row.locator('[data-action=detach-volume] button').click()
    expect(p.locator('#alerts')).to_contain_text('is being detached')
    expect(row).to_have_count(0, timeout=60000)
    until(lambda: show(dash_cloud, 'volume', 'show', vol['id'])['status'] == 'available',
          60, 'the volume to be detached')
    dash_cloud.openstack('volume', 'delete', vol['id'], cloud='demo')
    browser_fx.assert_no_console_errors(p)


def test_add_and_remove_a_floating_ip(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid, 'interfaces')
    bar_button(p, 'add-floating-ip').click()
    alloc = p.locator('#form-allocate-floating-ip')
    expect(alloc.locator('[data-cli-out]')).to_contain_text('openstack floating ip create ')
    alloc.locator('button[type=submit]').click()
    expect(p.locator('#action-form .alert.success')).to_contain_text('allocated')
    form = p.locator('#form-add-floating-ip')
    address = form.locator('select[name=floating_ip]').input_value()
    assert re.match(r'^\d+\.\d+\.\d+\.\d+$', address), address
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server add floating ip %s %s' % (sid, address))
    form.locator('button[type=submit]').click()
    fip_cell = p.locator('#interfaces .fip[data-fip="%s"]' % address)
    expect(fip_cell).to_be_visible()
    fip = show(dash_cloud, 'floating', 'ip', 'show', address)
    ports = show(dash_cloud, 'port', 'list', '--server', sid)
    assert fip['port_id'] == ports[0]['ID'], (fip, ports)

    fip_cell.locator('[data-action=remove-floating-ip] button').click()
    expect(p.locator('#alerts')).to_contain_text('removed from the instance')
    expect(fip_cell).to_have_count(0)
    assert show(dash_cloud, 'floating', 'ip', 'show', address)['port_id'] is None
    dash_cloud.openstack('floating', 'ip', 'delete', address, cloud='demo')
    browser_fx.assert_no_console_errors(p)


def test_stop_and_start_and_a_lost_race(signed_in, dash_cloud, server):
    sid = server['id']
    conn = dash_cloud.sdk('demo')
    p = open_detail(signed_in, sid)
    bar_button(p, 'stop').click()
    # The status and the bar follow the server without a reload.
    expect(status_badge(p)).to_have_attribute('data-status', 'SHUTOFF', timeout=MOVE_MS)
    assert conn.compute.get_server(sid).status == 'SHUTOFF'
    expect(bar_button(p, 'start')).to_be_enabled()
    expect(bar_button(p, 'stop')).to_have_count(0)
    pause = bar_button(p, 'pause')
    expect(pause).to_be_disabled()
    assert 'SHUTOFF' in pause.get_attribute('title')
    # A click that loses a race (the button enabled by hand) gets the API's 409.
    pause.evaluate('b => b.disabled = false')
    pause.click()
    alert = p.locator('#alerts .alert.error').first
    expect(alert).to_contain_text('HTTP 409')
    expect(alert).to_contain_text('pause')
    expect(alert.locator('.request-id')).to_contain_text('req-')

    bar_button(p, 'start').click()
    expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE', timeout=MOVE_MS)
    wait_server(conn, sid, {'ACTIVE'})
    wait_console(dash_cloud, sid, 'ALTOSTACK-READY', timeout=BOOT_S)


def test_resize_and_confirm(signed_in, dash_cloud, server):
    sid = server['id']
    tiny = show(dash_cloud, 'flavor', 'show', 'm1.tiny')
    p = open_detail(signed_in, sid)
    bar_button(p, 'resize').click()
    form = p.locator('#form-resize')
    form.locator('select[name=flavor]').select_option(tiny['id'])
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server resize --flavor %s %s' % (tiny['id'], sid))
    form.locator('button[type=submit]').click()
    expect(p.locator('#alerts')).to_contain_text('Resize to flavor')
    expect(status_badge(p)).to_have_attribute('data-status', 'VERIFY_RESIZE', timeout=MOVE_MS)
    expect(bar_button(p, 'confirm-resize')).to_be_enabled()
    expect(bar_button(p, 'revert-resize')).to_be_enabled()
    bar_button(p, 'confirm-resize').click()
    expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE', timeout=MOVE_MS)
    expect(p.locator('[data-prop=flavor]')).to_have_text('m1.tiny')
    shown = show(dash_cloud, 'server', 'show', sid)
    assert shown['status'] == 'ACTIVE', shown
    assert shown['flavor']['name'] == 'm1.tiny', shown['flavor']
    browser_fx.assert_no_console_errors(p)


def test_snapshot(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid)
    bar_button(p, 'snapshot').click()
    form = p.locator('#form-snapshot')
    form.locator('input[name=name]').fill('dash-detail-snap')
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server image create --name dash-detail-snap %s' % sid)
    form.locator('button[type=submit]').click()
    alert = p.locator('#alerts .alert.success').first
    expect(alert).to_contain_text('Snapshot dash-detail-snap is being made')
    image_id = re.search(r'image ([0-9a-f-]{36})', alert.inner_text()).group(1)
    until(lambda: show(dash_cloud, 'image', 'show', image_id)['status'] == 'active',
          BOOT_S, 'the snapshot image to be active')
    browser_fx.assert_no_console_errors(p)
    # Launch from it: the launch form offers it as an instance snapshot.
    flavor = show(dash_cloud, 'flavor', 'show', 'm1.tiny')
    p.goto('/instances/launch')
    p.fill('input[name=name]', 'dash-from-snap')
    p.select_option('#flavor', flavor['id'])
    p.check('input[name=source_type][value=snapshot]')
    p.select_option('#snapshot', image_id)
    expect(p.locator('[data-cli-out]')).to_contain_text(image_id)
    p.click('#launch-submit')
    p.wait_for_url(re.compile(r'/instances/$'))
    badge = p.locator('tr[data-name="dash-from-snap"] .status-badge')
    try:
        expect(badge).to_have_attribute('data-status', 'ACTIVE', timeout=BOOT_S * 1000)
        launched = show(dash_cloud, 'server', 'show', 'dash-from-snap')
        assert image_id in str(launched['image']), launched['image']
    finally:
        dash_cloud.openstack('server', 'delete', '--wait', 'dash-from-snap', cloud='demo',
                             check=False)
        dash_cloud.openstack('image', 'delete', image_id, cloud='demo', check=False)


def test_lock_pause_and_suspend(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid)
    bar_button(p, 'lock').click()
    expect(bar_button(p, 'unlock')).to_be_enabled()
    expect(p.locator('#locked-note')).to_be_visible()
    expect(bar_button(p, 'stop')).to_be_disabled()
    assert 'locked' in bar_button(p, 'stop').get_attribute('title')
    assert show(dash_cloud, 'server', 'show', sid)['locked'] is True
    bar_button(p, 'unlock').click()
    expect(bar_button(p, 'lock')).to_be_enabled()
    expect(bar_button(p, 'stop')).to_be_enabled()
    assert show(dash_cloud, 'server', 'show', sid)['locked'] is False

    for action, status, back in (('pause', 'PAUSED', 'unpause'),
                                 ('suspend', 'SUSPENDED', 'resume')):
        bar_button(p, action).click()
        expect(status_badge(p)).to_have_attribute('data-status', status, timeout=MOVE_MS)
        assert show(dash_cloud, 'server', 'show', sid)['status'] == status
        expect(bar_button(p, action)).to_have_count(0)
        bar_button(p, back).click()
        expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE', timeout=MOVE_MS)
        expect(bar_button(p, action)).to_be_enabled()
    assert show(dash_cloud, 'server', 'show', sid)['status'] == 'ACTIVE'
    browser_fx.assert_no_console_errors(p)


def test_security_group_and_interface(signed_in, dash_cloud, server):
    sid = server['id']
    group = show(dash_cloud, 'security', 'group', 'create', 'dash-detail-sg')
    p = open_detail(signed_in, sid)
    bar_button(p, 'add-security-group').click()
    form = p.locator('#form-add-security-group')
    form.locator('select[name=group]').select_option('dash-detail-sg')
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server add security group %s dash-detail-sg' % sid)
    form.locator('button[type=submit]').click()
    item = p.locator('#security-groups li[data-group=dash-detail-sg]')
    expect(item).to_be_visible()
    groups = show(dash_cloud, 'server', 'show', sid)['security_groups']
    assert {'name': 'dash-detail-sg'} in groups, groups
    item.locator('[data-action=remove-security-group] button').click()
    expect(item).to_have_count(0)
    groups = show(dash_cloud, 'server', 'show', sid)['security_groups']
    assert {'name': 'dash-detail-sg'} not in groups, groups
    dash_cloud.openstack('security', 'group', 'delete', group['id'], cloud='demo')

    private = show(dash_cloud, 'network', 'show', 'private')
    first = show(dash_cloud, 'port', 'list', '--server', sid)
    p.click('#instance-tabs [data-tab=interfaces]')
    rows = p.locator('#interfaces tbody tr[data-port]')
    expect(rows).to_have_count(1)
    bar_button(p, 'attach-interface').click()
    form = p.locator('#form-attach-interface')
    form.locator('select[name=network]').select_option(private['id'])
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server add network %s %s' % (sid, private['id']))
    form.locator('button[type=submit]').click()
    expect(rows).to_have_count(2, timeout=MOVE_MS)
    ports = show(dash_cloud, 'port', 'list', '--server', sid)
    (added,) = [x['ID'] for x in ports if x['ID'] != first[0]['ID']]
    p.locator('#interfaces tr[data-port="%s"] [data-action=detach-interface] button'
              % added).click()
    expect(rows).to_have_count(1, timeout=MOVE_MS)
    assert [x['ID'] for x in show(dash_cloud, 'port', 'list', '--server', sid)] == \
        [first[0]['ID']]
    browser_fx.assert_no_console_errors(p)


def test_hard_reboot_and_rebuild(signed_in, dash_cloud, dash_image, server):
    sid = server['id']
    p = open_detail(signed_in, sid)
    conn = dash_cloud.sdk('demo')
    bar_button(p, 'reboot-hard').click()
    # The API has taken it (the task is set) once the page says so.
    expect(p.locator('#alerts')).to_contain_text('Hard reboot requested')
    settled(conn, sid)
    expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE')
    bar_button(p, 'rebuild').click()
    form = p.locator('#form-rebuild')
    form.locator('select[name=image]').select_option(dash_image['id'])
    expect(form.locator('[data-cli-out]')).to_have_text(
        'openstack server rebuild --image %s %s' % (dash_image['id'], sid))
    form.locator('button[type=submit]').click()
    expect(p.locator('#alerts')).to_contain_text('Rebuild from image')
    settled(conn, sid)
    expect(status_badge(p)).to_have_attribute('data-status', 'ACTIVE')
    events = dash_cloud.openstack('server', 'event', 'list', sid, cloud='demo', json_out=True)
    assert {'reboot_hard', 'rebuild'} <= {e['Action'] for e in events}, events
    browser_fx.assert_no_console_errors(p)


def test_action_log_lists_actions_with_request_ids(signed_in, dash_cloud, server):
    sid = server['id']
    p = open_detail(signed_in, sid, 'log')
    events = dash_cloud.openstack('server', 'event', 'list', sid, cloud='demo', json_out=True)
    by_action = {}
    for e in events:
        by_action.setdefault(e['Action'], []).append(e['Request ID'])
    for action in ('create', 'stop', 'start', 'resize', 'confirmResize', 'createImage',
                   'lock', 'pause', 'suspend', 'rebuild'):
        assert action in by_action, by_action
        for request_id in by_action[action]:
            row = p.locator('#action-log tbody[data-request-id="%s"]' % request_id)
            expect(row).to_have_attribute('data-action', action)
            expect(row.locator('.request-id')).to_have_text(request_id)
    # The newest action's events open by themselves; another's on a click.
    create = p.locator('#action-log tbody[data-action=create]')
    create.locator('button').click()
    expect(create.locator('tr[data-event=compute_build_and_run_instance]')).to_have_attribute(
        'data-result', 'Success')
    browser_fx.save_screenshot(p, 'instance-action-log')
    browser_fx.assert_no_console_errors(p)


def test_graphical_console_connects_in_the_page(signed_in, dash_cloud, server):
    """The graphical tab embeds the noVNC page of the URL the compute API
    gives (remote-consoles vnc/novnc); inside it, noVNC connects through
    altostack-novncproxy to the guest's VNC display (the proxy accepts the
    dashboard's Origin: the same host)."""
    p = open_detail(signed_in, server['id'], 'graphical')
    frame = p.locator('#vnc-frame')
    expect(frame).to_be_visible()
    url = frame.get_attribute('src')
    assert '/vnc_lite.html?path=' in url, url
    state = p.frame_locator('#vnc-frame').locator('#state')
    expect(state).to_have_attribute('data-state', 'connected', timeout=60000)
    expect(state).to_contain_text('Connected to QEMU')
    # The same URL the CLI gets, from the same API.
    cli = dash_cloud.openstack('console', 'url', 'show', '--novnc', server['id'],
                               cloud='demo', json_out=True)
    assert cli['url'].split('?')[0] == url.split('?')[0]
    browser_fx.save_screenshot(p, 'instance-graphical-console')


def test_fault_explains_each_scheduler_filter(signed_in, dash_cloud, dash_image):
    dash_cloud.openstack('flavor', 'create', '--public', '--vcpus', '1', '--ram', '128',
                         '--disk', '5000', 'dash-too-big')
    srv = show(dash_cloud, 'server', 'create', '--image', dash_image['id'], '--flavor',
               'dash-too-big', '--network', 'private', 'dash-nowhere')
    try:
        wait_server(dash_cloud.sdk('demo'), srv['id'], {'ERROR'})
        p = open_detail(signed_in, srv['id'])
        expect(status_badge(p)).to_have_attribute('data-status', 'ERROR')
        fault = p.locator('#fault')
        expect(fault).to_contain_text('No valid host was found.')
        hosts = len(dash_cloud.openstack('hypervisor', 'list', json_out=True))
        row = fault.locator('#fault-filters tr[data-filter=DiskFilter]')
        expect(row).to_contain_text('%d of %d' % (hosts, hosts))
        expect(row.locator('li')).to_have_count(hosts)
        expect(row).to_contain_text('needs 5000')
        expect(bar_button(p, 'delete')).to_be_enabled()
        expect(bar_button(p, 'stop')).to_be_enabled()     # the state table allows it
        expect(bar_button(p, 'pause')).to_be_disabled()
        browser_fx.save_screenshot(p, 'instance-fault')
        bar_button(p, 'delete').click()
        expect(p).to_have_url(re.compile(r'/instances/$'))
        until(lambda: dash_cloud.openstack('server', 'show', srv['id'], cloud='demo',
                                           check=False).returncode != 0,
              60, 'the server to be deleted')
        browser_fx.assert_no_console_errors(p)
    finally:
        dash_cloud.openstack('server', 'delete', '--wait', srv['id'], cloud='demo',
                             check=False)
        dash_cloud.openstack('flavor', 'delete', 'dash-too-big')
