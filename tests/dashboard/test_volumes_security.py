"""Volumes, volume snapshots, floating IPs and security groups in a real
browser against the real cloud; every effect is checked with the openstack
CLI. One tiny guest (demo project) boots while the volume pages are
exercised, takes a volume and a floating IP, and is deleted at the end."""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx
from tests.fixtures import servers as servers_fx

SERVER = 'dash-storage-vm'
UUID_URL = r'/[0-9a-f-]{36}$'
# Every status a volume row shows, in order, per page load: a row that goes
# creating -> available without a reload shows both in one page's list.
RECORD_STATUSES = """
window.__statuses = {};
new MutationObserver(function () {
  document.querySelectorAll('tr[id^="volume-"][data-name]').forEach(function (tr) {
    var seen = window.__statuses[tr.dataset.name] = window.__statuses[tr.dataset.name] || [];
    if (seen[seen.length - 1] !== tr.dataset.status) seen.push(tr.dataset.status);
  });
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


@pytest.fixture(scope='module')
def storage_server(dash_cloud, dash_image):
    """ONE tiny server in the demo project, booting (not waited for) while
    the first test works on volumes; deleted when the module ends, with
    whatever a failed test left behind."""
    sid = dash_cloud.openstack('server', 'create', '--image', dash_image['id'], '--flavor',
                               'm1.nano', '--network', 'private', SERVER, cloud='demo',
                               json_out=True)['id']
    yield sid
    for kind, name in (('floating ip', None), ('volume', 'dash-vol-from-snap'),
                       ('volume', 'dash-vol-image'),
                       ('volume snapshot', 'dash-snap'), ('volume', 'dash-vol')):
        if kind == 'floating ip':
            for fip in dash_cloud.openstack('floating', 'ip', 'list', cloud='demo',
                                            json_out=True):
                dash_cloud.openstack('floating', 'ip', 'delete', fip['ID'], cloud='demo',
                                     check=False)
            continue
        dash_cloud.openstack(*kind.split(), 'delete', name, cloud='demo', check=False)
    dash_cloud.openstack('server', 'delete', '--wait', sid, cloud='demo', check=False)


def _ready(dash_cloud, sid):
    """ACTIVE, and the guest up (its boot marker on the console): a guest
    still booting does not answer the hot-unplug of a detach."""
    servers_fx.wait_server(dash_cloud.sdk('demo'), sid, {'ACTIVE'}, timeout=300)
    servers_fx.wait_console(dash_cloud, SERVER, 'ALTOSTACK-READY', timeout=300)


def _show(dash_cloud, *what):
    """``openstack <kind words> show <name>`` as the demo user, parsed."""
    return dash_cloud.openstack(*what[:-1], 'show', what[-1], cloud='demo', json_out=True)


def _submit(p, form, flash):
    """Send ``form`` (a selector) and wait for the next page's message."""
    p.click('%s button[type=submit]' % form)
    expect(p.locator('#alerts .alert.success')).to_contain_text(flash)


def test_volume_create_live_extend_snapshot_attach(signed_in, dash_cloud, dash_image,
                                                   storage_server):
    p = signed_in('demo', next_path='/volumes/')
    p.context.add_init_script(RECORD_STATUSES)
    p.on('dialog', lambda d: d.accept())

    # An empty volume: the row turns available without a reload.
    p.click('#create-volume')
    p.fill('#volume-name', 'dash-vol')
    p.fill('#volume-size', '1')
    expect(p.locator('#volume-create [data-cli-out]')).to_have_text(
        'openstack volume create --size 1 dash-vol')
    _submit(p, '#volume-create', 'Volume dash-vol is being created')
    expect(p).to_have_url(re.compile(r'/volumes/$'))
    row = p.locator('tr[data-name="dash-vol"]')
    expect(row).to_have_attribute('data-status', 'available')
    # The list came back while the volume was being made (seen 'creating',
    # then 'available' swapped in live) or, on a quick machine, after.
    assert p.evaluate('window.__statuses["dash-vol"]') in (['creating', 'available'],
                                                           ['available'])
    vol = _show(dash_cloud, 'volume', 'dash-vol')
    assert (vol['status'], vol['size']) == ('available', 1), vol
    browser_fx.assert_no_console_errors(p)

    # One from the image: the image's fields replace the others, and so
    # does the command.
    p.click('#create-volume')
    p.fill('#volume-name', 'dash-vol-image')
    p.check('input[name=source][value=image]')
    expect(p.locator('#volume-snapshot')).to_be_hidden()
    p.select_option('#volume-image', dash_image['id'])
    p.fill('#volume-size', '')
    expect(p.locator('#volume-create [data-cli-out]')).to_have_text(
        'openstack volume create --image %s dash-vol-image' % dash_image['id'])
    _submit(p, '#volume-create', 'Volume dash-vol-image is being created')
    expect(p.locator('tr[data-name="dash-vol-image"]')).to_have_attribute(
        'data-status', 'available', timeout=60000)
    from_image = _show(dash_cloud, 'volume', 'dash-vol-image')
    assert from_image['volume_image_metadata']['image_id'] == dash_image['id'], from_image
    dash_cloud.openstack('volume', 'delete', 'dash-vol-image', cloud='demo')

    # Extend it from its page, which follows the volume live.
    row.locator('a').first.click()
    expect(p).to_have_url(re.compile(UUID_URL))
    volume_url = p.url
    p.fill('#extend-size', '2')
    expect(p.locator('#extend-form [data-cli-out]')).to_have_text(
        'openstack volume set --size 2 %s' % vol['id'])
    _submit(p, '#extend-form', 'being extended to 2 GiB')
    expect(p.locator('#volume-size-value')).to_have_text('2 GiB')
    expect(p.locator('#volume-body')).to_have_attribute('data-status', 'available')
    assert _show(dash_cloud, 'volume', 'dash-vol')['size'] == 2

    # Snapshot it; make a volume from the snapshot.
    p.fill('#snapshot-name', 'dash-snap')
    _submit(p, '#snapshot-form', 'Snapshot dash-snap of volume dash-vol is being made')
    snap_item = p.locator('ul.snapshots li', has_text='dash-snap')
    # (a copy of the volume's file: as the volume waits above, a minute)
    try:
        expect(snap_item.locator('.status-badge')).to_have_attribute(
            'data-status', 'available', timeout=60000)
    except AssertionError as e:
        # Twice in CI the badge still said 'creating': say whether the
        # snapshot was, and what the volume service did meanwhile.
        raise AssertionError('%s\nthe snapshot as the API has it: %s\nthe volume service '
                             'said:\n%s' % (e, _show(dash_cloud, 'volume', 'snapshot',
                                                      'dash-snap'),
                                             dash_cloud.log_tail('volume', 80))) from None
    snap = _show(dash_cloud, 'volume', 'snapshot', 'dash-snap')
    assert (snap['status'], snap['volume_id']) == ('available', vol['id']), snap
    snap_item.locator('a').click()
    expect(p).to_have_url(re.compile(r'/volume-snapshots' + UUID_URL))
    p.fill('#from-snapshot-name', 'dash-vol-from-snap')
    expect(p.locator('#from-snapshot-form [data-cli-out]')).to_have_text(
        'openstack volume create --snapshot %s dash-vol-from-snap' % snap['id'])
    _submit(p, '#from-snapshot-form', 'Volume dash-vol-from-snap is being created')
    expect(p.locator('tr[data-name="dash-vol-from-snap"]')).to_have_attribute(
        'data-status', 'available')
    from_snap = _show(dash_cloud, 'volume', 'dash-vol-from-snap')
    assert (from_snap['snapshot_id'], from_snap['size']) == (snap['id'], 2), from_snap

    # Attach the first volume to the guest: in-use, live on its page.
    _ready(dash_cloud, storage_server)
    p.goto(volume_url)
    attach = p.locator('#attach-form select[name=server]')
    attach.select_option(attach.locator('option', has_text=SERVER).get_attribute('value'))
    expect(p.locator('#attach-form [data-cli-out]')).to_have_text(
        'openstack server add volume %s %s' % (storage_server, vol['id']))
    _submit(p, '#attach-form', 'being attached')
    expect(p.locator('#volume-body')).to_have_attribute('data-status', 'in-use', timeout=60000)
    expect(p.locator('#volume-attachments')).to_contain_text(SERVER)
    shown = _show(dash_cloud, 'volume', 'dash-vol')
    assert shown['status'] == 'in-use', shown
    assert [a['server_id'] for a in shown['attachments']] == [storage_server], shown
    p.goto('/volumes/')
    in_use = p.locator('tr[data-name="dash-vol"]')
    expect(in_use).to_have_attribute('data-status', 'in-use')
    expect(in_use.locator('td.attached')).to_contain_text(SERVER)
    browser_fx.save_screenshot(p, 'volumes-list')
    p.goto(volume_url)

    # Deleting it now is refused: the volume API's own answer, in the page.
    p.click('#delete-form button[type=submit]')
    refusal = p.locator('#alerts .alert.error')
    expect(refusal).to_contain_text('The volume (Cinder) service refused this')
    expect(refusal.locator('.api-message')).to_contain_text('Invalid volume')
    expect(refusal.locator('.api-meta')).to_contain_text(re.compile(r'HTTP 4\d\d'))
    expect(refusal.locator('.api-meta')).to_contain_text('req-')
    assert _show(dash_cloud, 'volume', 'dash-vol')['status'] == 'in-use'

    # Detach: available again, live.
    _submit(p, '.detach-form', 'being detached')
    expect(p.locator('#volume-body')).to_have_attribute('data-status', 'available',
                                                        timeout=120000)
    shown = _show(dash_cloud, 'volume', 'dash-vol')
    assert (shown['status'], shown['attachments']) == ('available', []), shown

    # Delete what was made, from the pages: the list drops the rows live.
    p.goto('/volumes/')
    p.locator('tr[data-name="dash-vol-from-snap"] a').first.click()
    _submit(p, '#delete-form', 'Volume dash-vol-from-snap is being deleted')
    expect(p.locator('tr[data-name="dash-vol-from-snap"]')).to_have_count(0)
    p.goto('/volume-snapshots/')
    p.locator('tr[data-name="dash-snap"] a').first.click()
    _submit(p, '#snapshot-delete-form', 'Snapshot dash-snap is being deleted')
    expect(p.locator('tr[data-name="dash-snap"]')).to_have_count(0)
    p.goto(volume_url)
    _submit(p, '#delete-form', 'Volume dash-vol is being deleted')
    expect(p.locator('tr[data-name="dash-vol"]')).to_have_count(0)
    assert dash_cloud.openstack('volume', 'list', cloud='demo', json_out=True) == []
    assert dash_cloud.openstack('volume', 'snapshot', 'list', cloud='demo',
                                json_out=True) == []


def test_floating_ip_allocate_associate_release(signed_in, dash_cloud, storage_server):
    _ready(dash_cloud, storage_server)
    p = signed_in('demo', next_path='/floating-ips/')
    p.on('dialog', lambda d: d.accept())
    expect(p.locator('#allocate-form [data-cli-out]')).to_contain_text(
        'openstack floating ip create ')
    _submit(p, '#allocate-form', 'allocated')
    fips = dash_cloud.openstack('floating', 'ip', 'list', cloud='demo', json_out=True)
    assert len(fips) == 1, fips
    address = fips[0]['Floating IP Address']
    row = p.locator('tr[data-address="%s"]' % address)
    expect(row.locator('td.bound')).to_contain_text('nothing')

    port = dash_cloud.openstack('port', 'list', '--server', storage_server, cloud='demo',
                                json_out=True)[0]
    select = row.locator('.associate-form select[name=port]')
    option = select.locator('option', has_text=SERVER)
    expect(option).to_have_count(1)
    assert option.get_attribute('value') == port['ID']
    select.select_option(port['ID'])
    expect(row.locator('.associate-form [data-cli-out]')).to_have_text(
        'openstack floating ip set --port %s %s' % (port['ID'], address))
    row.locator('.associate-form button[type=submit]').click()
    expect(p.locator('#alerts .alert.success')).to_contain_text('%s associated' % address)
    expect(row.locator('td.bound')).to_contain_text(SERVER)
    shown = _show(dash_cloud, 'floating', 'ip', address)
    assert shown['port_id'] == port['ID'], shown

    row.locator('.disassociate-form button[type=submit]').click()
    expect(p.locator('#alerts .alert.success')).to_contain_text('%s disassociated' % address)
    expect(row.locator('td.bound')).to_contain_text('nothing')
    assert _show(dash_cloud, 'floating', 'ip', address)['port_id'] is None
    browser_fx.assert_no_console_errors(p)

    row.locator('.release-form button[type=submit]').click()
    expect(p.locator('#alerts .alert.success')).to_contain_text('%s released' % address)
    expect(row).to_have_count(0)
    assert dash_cloud.openstack('floating', 'ip', 'list', cloud='demo', json_out=True) == []


def test_security_group_rules_and_a_bad_cidr(signed_in, dash_cloud):
    p = signed_in('demo', next_path='/security-groups/')
    p.on('dialog', lambda d: d.accept())
    p.fill('#group-name', 'dash-web')
    p.fill('#group-create input[name=description]', 'web servers')
    expect(p.locator('#group-create [data-cli-out]')).to_have_text(
        "openstack security group create --description 'web servers' dash-web")
    _submit(p, '#group-create', 'Security group dash-web created')
    expect(p).to_have_url(re.compile(r'/security-groups' + UUID_URL))
    group = _show(dash_cloud, 'security', 'group', 'dash-web')
    assert group['description'] == 'web servers', group

    # A TCP port range from a CIDR.
    p.fill('#rule-protocol', 'tcp')
    p.fill('#rule-port-min', '8080')
    p.fill('#rule-port-max', '8081')
    p.fill('#rule-remote-ip', '10.20.0.0/16')
    expect(p.locator('#rule-form [data-cli-out]')).to_have_text(
        'openstack security group rule create --ingress --ethertype IPv4 --protocol tcp '
        '--dst-port 8080:8081 --remote-ip 10.20.0.0/16 %s' % group['id'])
    _submit(p, '#rule-form', 'Rule added')
    expect(p.locator('#rules tr[data-ports="8080-8081"]')).to_contain_text('10.20.0.0/16')
    rules = dash_cloud.openstack('security', 'group', 'rule', 'list', 'dash-web',
                                 cloud='demo', json_out=True)
    added = [r for r in rules if r['IP Protocol'] == 'tcp']
    assert len(added) == 1 and added[0]['Port Range'] == '8080:8081', rules
    assert added[0]['IP Range'] == '10.20.0.0/16', rules
    browser_fx.save_screenshot(p, 'security-group')
    browser_fx.assert_no_console_errors(p)

    # A bad CIDR: the network API's 400, in the page; the form keeps it.
    p.fill('#rule-port-min', '22')
    p.fill('#rule-port-max', '')
    p.fill('#rule-remote-ip', '10.0.0.300/8')
    p.click('#rule-form button[type=submit]')
    refusal = p.locator('#alerts .alert.error')
    expect(refusal).to_contain_text('The network (Neutron) service refused this')
    expect(refusal.locator('.api-message')).to_contain_text('10.0.0.300/8')
    expect(refusal.locator('.api-meta')).to_contain_text('HTTP 400')
    expect(refusal.locator('.api-meta')).to_contain_text('req-')
    expect(p.locator('#rule-remote-ip')).to_have_value('10.0.0.300/8')
    assert len(dash_cloud.openstack('security', 'group', 'rule', 'list', 'dash-web',
                                    cloud='demo', json_out=True)) == len(rules)

    # Rename it, then delete it.
    p.fill('#group-edit-form input[name=name]', 'dash-web2')
    _submit(p, '#group-edit-form', 'Security group dash-web2 saved')
    expect(p.locator('#group-title')).to_have_text('dash-web2')
    _submit(p, '#group-delete-form', 'Security group dash-web2 deleted')
    expect(p).to_have_url(re.compile(r'/security-groups/$'))
    r = dash_cloud.openstack('security', 'group', 'show', group['id'], cloud='demo',
                             check=False)
    assert r.returncode != 0, r.stdout
