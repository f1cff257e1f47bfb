"""Launching instances, images and key pairs in a real browser against the
real cloud: a launch from the form turns ACTIVE in open lists without a
reload; the form shows the quota left, refuses a count beyond it and shows
the compute API's refusal when sent anyway; a launch from a bootable volume
that goes with its instance; an image uploaded from the browser (streamed:
the dashboard's memory does not grow with the file), edited and deleted;
key pairs created (the private key shown once, kept nowhere), imported and
deleted. Every effect is checked with the openstack CLI."""

import base64
import hashlib
import os
import pathlib
import re
import subprocess
import threading
import time

from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx
from tests.fixtures import servers as servers_fx

BOOT_TIMEOUT_MS = 180 * 1000
MiB = 1024 * 1024


def _flavor(cloud, name='m1.nano'):
    flavors = {f['Name']: f for f in cloud.openstack('flavor', 'list', cloud='demo',
                                                     json_out=True)}
    assert name in flavors, flavors
    return flavors[name]


def _servers(cloud):
    return {s['Name']: s for s in cloud.openstack('server', 'list', cloud='demo',
                                                  json_out=True)}


def _delete_servers(cloud, *names):
    present = [n for n in names if n in _servers(cloud)]
    if present:
        cloud.openstack('server', 'delete', '--wait', *present, cloud='demo')


def _navigations(p):
    """A list that grows with each navigation of ``p``'s main frame."""
    seen = []
    p.on('framenavigated', lambda frame: seen.append(frame.url)
         if frame == p.main_frame else None)
    return seen


def _rss(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise AssertionError('no VmRSS for %d' % pid)


def _fill_launch(p, name, flavor_id, image_id):
    p.fill('input[name=name]', name)
    p.select_option('#flavor', flavor_id)
    p.check('input[name=source_type][value=image]')
    p.select_option('#image', image_id)


def test_launch_turns_active_in_open_lists_without_reload(signed_in, dash_cloud, dash_image):
    name = 'dash-launch-1'
    flavor = _flavor(dash_cloud)
    user_data = '#!/bin/sh\necho launched-from-the-dashboard\n'
    # An instances list opened before the launch: the new row must arrive.
    watcher = signed_in('demo', next_path='/instances/')
    expect(watcher.locator('h1')).to_contain_text('Instances')
    watcher.evaluate('window.__altostackMarker = "watcher"')
    watcher_navs = _navigations(watcher)
    p = signed_in('demo', next_path='/instances/launch')
    try:
        _fill_launch(p, name, flavor['ID'], dash_image['id'])
        p.fill('#user_data', user_data)
        # The only network of the project is chosen; the command follows the form.
        cli = p.locator('[data-cli-out]')
        expect(cli).to_contain_text('openstack server create --flavor m1.nano --image %s'
                                    % dash_image['id'])
        expect(cli).to_contain_text('--network ')
        expect(cli).to_contain_text('--security-group default')
        expect(cli).to_contain_text('--user-data user-data.txt %s' % name)
        expect(p.locator('#quota-instances .need')).to_have_text('1')
        browser_fx.save_screenshot(p, 'launch-form')
        browser_fx.assert_no_console_errors(p)
        p.click('#launch-submit')
        p.wait_for_url(re.compile(r'/instances/$'))
        expect(p.locator('#alerts')).to_contain_text('Launching %s' % name)
        p.evaluate('window.__altostackMarker = "launcher"')
        navs = _navigations(p)
        badge = p.locator('tr[data-name="%s"] .status-badge' % name)
        expect(badge).to_have_attribute('data-status', 'BUILD')
        # BUILD -> ACTIVE on the page that launched and on the one already open.
        expect(badge).to_have_attribute('data-status', 'ACTIVE', timeout=BOOT_TIMEOUT_MS)
        new_row = watcher.locator('tr[data-name="%s"] .status-badge' % name)
        expect(new_row).to_have_attribute('data-status', 'ACTIVE', timeout=30 * 1000)
        assert p.evaluate('window.__altostackMarker') == 'launcher'
        assert watcher.evaluate('window.__altostackMarker') == 'watcher'
        assert navs == [] and watcher_navs == [], (navs, watcher_navs)
        server = dash_cloud.openstack('server', 'show', name, cloud='demo', json_out=True)
        assert server['status'] == 'ACTIVE', server
        assert 'm1.nano' in str(server['flavor']), server['flavor']
        assert 'private' in server['addresses'], server['addresses']
        body = servers_fx.api(dash_cloud, 'GET', '/servers/%s' % server['id'],
                              cloud_name='admin').json()['server']
        assert base64.b64decode(body['OS-EXT-SRV-ATTR:user_data']).decode() == user_data
        browser_fx.assert_no_console_errors(p)
        browser_fx.assert_no_console_errors(watcher)
    finally:
        _delete_servers(dash_cloud, name)
    # The deletion reaches the open list too: the row goes.
    expect(watcher.locator('tr[data-name="%s"]' % name)).to_have_count(0, timeout=30 * 1000)


def test_launch_form_shows_quota_left_and_refuses_beyond_it(signed_in, dash_cloud, dash_image):
    limits = {row['Name']: row['Value'] for row in dash_cloud.openstack(
        'limits', 'show', '--absolute', cloud='demo', json_out=True)}
    left = limits['max_total_instances'] - limits['total_instances_used']
    cores_left = limits['max_total_cores'] - limits['total_cores_used']
    flavor = _flavor(dash_cloud)
    p = signed_in('demo', next_path='/instances/launch')
    expect(p.locator('#quota-instances .left')).to_have_text(str(left))
    expect(p.locator('#quota-cores .left')).to_have_text(str(cores_left))
    _fill_launch(p, 'dash-too-many', flavor['ID'], dash_image['id'])
    p.fill('#min_count', '2')
    expect(p.locator('#quota-instances .after')).to_have_text(str(left - 2))
    expect(p.locator('#quota-ram .need')).to_have_text(str(2 * flavor['RAM']))
    expect(p.locator('[data-cli-out]')).to_contain_text('--min 2 --max 2')
    expect(p.locator('#launch-submit')).to_be_enabled()
    p.fill('#min_count', str(left + 1))
    refusal = p.locator('#quota-error')
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text('needs %d instances and %d are left' % (left + 1, left))
    expect(p.locator('#quota-instances')).to_have_class(re.compile('over'))
    expect(p.locator('#launch-submit')).to_be_disabled()
    # A bigger upper bound alone is not refused: Nova then launches the least.
    p.fill('#min_count', '1')
    p.fill('#max_count', str(left + 5))
    expect(refusal).to_be_hidden()
    expect(p.locator('#quota-note')).to_contain_text('launches 1')
    # Sent anyway (no script check): the compute API's own refusal, on the form.
    p.fill('#max_count', '')
    p.fill('#min_count', str(left + 1))
    p.evaluate('document.getElementById("launch-form").submit()')
    p.wait_for_load_state()
    error = p.locator('#launch-error')
    expect(error).to_contain_text('HTTP 403')
    expect(error).to_contain_text(re.compile('[Qq]uota exceeded'))
    expect(error).to_contain_text('request req-')
    expect(p.locator('input[name=name]')).to_have_value('dash-too-many')
    assert not [n for n in _servers(dash_cloud) if n.startswith('dash-too-many')]


def test_launch_from_bootable_volume_deleted_with_instance(signed_in, dash_cloud, dash_image):
    name = 'dash-from-volume'
    vol = dash_cloud.openstack('volume', 'create', '--image', dash_image['id'], '--size', '1',
                               '--bootable', 'dash-boot-volume', cloud='demo', json_out=True)
    dash_cloud.wait_for(lambda: dash_cloud.openstack(
        'volume', 'show', vol['id'], cloud='demo', json_out=True)['status'] == 'available',
        timeout=120, what='volume %s available' % vol['id'])
    flavor = _flavor(dash_cloud)
    p = signed_in('demo', next_path='/instances/launch')
    try:
        p.fill('input[name=name]', name)
        p.select_option('#flavor', flavor['ID'])
        p.check('input[name=source_type][value=volume]')
        p.select_option('#volume', vol['id'])
        expect(p.locator('#image')).to_be_hidden()
        p.check('#delete_on_termination')
        expect(p.locator('#quota-volumes .need')).to_have_text('0')
        expect(p.locator('[data-cli-out]')).to_contain_text(
            '--block-device uuid=%s,source_type=volume,destination_type=volume,boot_index=0,'
            'delete_on_termination=true' % vol['id'])
        # A volume boot is one instance at a time: refused before sending.
        p.fill('#min_count', '2')
        expect(p.locator('#quota-error')).to_contain_text('one at a time')
        p.fill('#min_count', '1')
        p.click('#launch-submit')
        p.wait_for_url(re.compile(r'/instances/$'))
        badge = p.locator('tr[data-name="%s"] .status-badge' % name)
        expect(badge).to_have_attribute('data-status', 'ACTIVE', timeout=BOOT_TIMEOUT_MS)
        expect(p.locator('tr[data-name="%s"]' % name)).to_contain_text('boot volume')
        shown = dash_cloud.openstack('volume', 'show', vol['id'], cloud='demo', json_out=True)
        assert shown['status'] == 'in-use', shown
    finally:
        _delete_servers(dash_cloud, name)
    # delete_on_termination: the volume went with the instance.
    dash_cloud.wait_for(lambda: vol['id'] not in {
        v['ID'] for v in dash_cloud.openstack('volume', 'list', cloud='demo', json_out=True)},
        timeout=60, what='volume %s deleted with its instance' % vol['id'])


def _upload(p, path, name, **fields):
    p.goto('/images/upload')
    p.set_input_files('#image-file', str(path))
    p.fill('#upload-form input[name=name]', name)
    for key, value in fields.items():
        p.select_option('#upload-form select[name=%s]' % key, value)
    p.click('#upload-submit')
    p.wait_for_url(re.compile(r'/images/[0-9a-f-]{36}$'), timeout=120 * 1000)
    return p.url.rsplit('/', 1)[1]


def test_image_upload_edit_delete(signed_in, dash_cloud, dash_image, tmp_path):
    path = tmp_path / 'dash-upload.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(path), '64M'], check=True)
    md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    p = signed_in('demo', next_path='/images/upload')
    p.set_input_files('#image-file', str(path))
    # The file's extension picks the format; the command follows the form.
    expect(p.locator('#disk_format')).to_have_value('qcow2')
    p.fill('#upload-form input[name=name]', 'dash-uploaded')
    p.locator('#upload-form input[name=property]').first.fill('os_distro=altostack')
    expect(p.locator('[data-cli-out]')).to_have_text(
        'openstack image create --disk-format qcow2 --container-format bare --private '
        '--property os_distro=altostack --file dash-upload.qcow2 dash-uploaded')
    p.click('#upload-submit')
    p.wait_for_url(re.compile(r'/images/[0-9a-f-]{36}$'), timeout=120 * 1000)
    image_id = p.url.rsplit('/', 1)[1]
    try:
        expect(p.locator('#image-status')).to_have_text('active')
        shown = dash_cloud.openstack('image', 'show', image_id, cloud='demo', json_out=True)
        assert shown['status'] == 'active' and shown['disk_format'] == 'qcow2', shown
        assert shown['checksum'] == md5 and shown['size'] == path.stat().st_size, shown
        assert shown['properties']['os_distro'] == 'altostack', shown['properties']

        # The list: own, public, and the tabs.
        p.goto('/images/')
        expect(p.locator('#image-%s' % image_id)).to_contain_text('private')
        expect(p.locator('#image-%s' % dash_image['id'])).to_contain_text('public')
        p.click('.tabs a[data-tab=project]')
        expect(p.locator('#image-%s' % image_id)).to_be_visible()
        expect(p.locator('#image-%s' % dash_image['id'])).to_have_count(0)
        p.click('.tabs a[data-tab=public]')
        expect(p.locator('#image-%s' % dash_image['id'])).to_be_visible()
        expect(p.locator('#image-%s' % image_id)).to_have_count(0)
        p.click('.tabs a[data-tab=all]')
        browser_fx.save_screenshot(p, 'images-list')
        browser_fx.assert_no_console_errors(p)

        # Public is for admins here: the image service's answer, on the form.
        p.goto('/images/%s/edit' % image_id)
        p.select_option('#visibility', 'public')
        p.click('#save-image')
        error = p.locator('#edit-error')
        expect(error).to_contain_text('HTTP 403')
        expect(error).to_contain_text('publicize_image')
        # Community, a new property, the old one removed, a minimum disk.
        p.select_option('#visibility', 'community')
        p.locator('#edit-form input[name=property]').first.fill('')
        p.locator('#edit-form input[name=property]').last.fill('hw_disk_bus=virtio')
        p.fill('#edit-form input[name=min_disk]', '1')
        expect(p.locator('[data-cli-out]')).to_contain_text(
            '--community --unprotected --min-disk 1 --min-ram 0 --property hw_disk_bus=virtio '
            '%s && openstack image unset --property os_distro %s' % (image_id, image_id))
        p.click('#save-image')
        expect(p.locator('#alerts')).to_contain_text('Saved image dash-uploaded')
        expect(p.locator('#image-props .visibility')).to_have_text('community')
        shown = dash_cloud.openstack('image', 'show', image_id, cloud='demo', json_out=True)
        assert shown['visibility'] == 'community' and shown['min_disk'] == 1, shown
        assert shown['properties'].get('hw_disk_bus') == 'virtio', shown['properties']
        assert 'os_distro' not in shown['properties'], shown['properties']

        # Delete from the list, after a confirm.
        p.goto('/images/?tab=project')
        dialogs = []
        p.on('dialog', lambda d: (dialogs.append(d.message), d.accept()))
        p.locator('#image-%s button.delete' % image_id).click()
        expect(p.locator('#image-%s' % image_id)).to_have_count(0)
        expect(p.locator('#alerts')).to_contain_text('Deleted image dash-uploaded')
        assert dialogs and 'openstack image delete %s' % image_id in dialogs[0], dialogs
        gone = dash_cloud.openstack('image', 'show', image_id, cloud='demo', check=False)
        assert gone.returncode != 0, gone.stdout
    finally:
        dash_cloud.openstack('image', 'delete', image_id, cloud='demo', check=False)


def test_image_upload_is_streamed_not_held_in_memory(signed_in, dash_cloud, tmp_path):
    """A 50 MiB upload through the dashboard: its RSS, sampled every 20 ms
    during the upload, does not grow by anything like the file's size."""
    size = 50 * MiB
    path = tmp_path / 'dash-big.raw'
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, 'wb') as f:
        for _ in range(size // MiB):
            block = os.urandom(MiB)
            md5.update(block)
            f.write(block)
    pid = dash_cloud.procs['dashboard'].pid
    p = signed_in('demo', next_path='/images/upload')
    before = _rss(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    image_id = None
    try:
        image_id = _upload(p, path, 'dash-big', disk_format='raw')
        seconds = time.monotonic() - started
    finally:
        done.set()
        sampler.join()
    try:
        growth = peak[0] - before
        report = ('upload of %d MiB through the dashboard in %.1f s: dashboard RSS %.1f MiB '
                  'before, %.1f MiB at its peak (growth %.1f MiB)'
                  % (size // MiB, seconds, before / MiB, peak[0] / MiB, growth / MiB))
        out = browser_fx.ARTIFACTS / 'upload-memory.txt'
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report + '\n')
        print(report)
        assert growth < size / 5, report
        shown = dash_cloud.openstack('image', 'show', image_id, cloud='demo', json_out=True)
        assert shown['status'] == 'active' and shown['size'] == size, shown
        assert shown['checksum'] == md5.hexdigest(), shown
    finally:
        if image_id:
            dash_cloud.openstack('image', 'delete', image_id, cloud='demo', check=False)


def test_key_pairs_create_shows_private_key_once_import_delete(signed_in, dash_cloud, tmp_path):
    p = signed_in('demo', next_path='/keypairs/')
    try:
        p.fill('#create-keypair input[name=name]', 'dash-made')
        expect(p.locator('#create-keypair [data-cli-out]')).to_have_text(
            'openstack keypair create dash-made > dash-made.pem')
        p.click('#create-keypair button')
        key = p.locator('#private-key')
        expect(key).to_contain_text('PRIVATE KEY-----')
        private = key.inner_text().strip()
        with p.expect_download() as download:
            p.click('#download-key')
        assert download.value.suggested_filename == 'dash-made.pem'
        assert pathlib.Path(download.value.path()).read_text().strip() == private
        browser_fx.save_screenshot(p, 'keypair-created')
        browser_fx.assert_no_console_errors(p)
        made = dash_cloud.openstack('keypair', 'show', 'dash-made', cloud='demo',
                                    json_out=True)
        expect(p.locator('main')).to_contain_text(made['fingerprint'])
        # Shown once: the list has no private key, and the dashboard kept none.
        p.goto('/keypairs/')
        expect(p.locator('tr[data-name="dash-made"]')).to_contain_text(made['fingerprint'])
        assert 'PRIVATE KEY' not in p.content()
        body_line = private.splitlines()[1]
        for stored in (pathlib.Path(dash_cloud.workdir) / 'dashboard').rglob('*'):
            if stored.is_file():
                assert body_line.encode() not in stored.read_bytes(), stored

        # Import: a bad key gets the compute API's answer; a good one its fingerprint.
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'dash@test',
                        '-f', str(tmp_path / 'id')], check=True)
        public = (tmp_path / 'id.pub').read_text().strip()
        p.fill('#import-keypair input[name=name]', 'dash-imported')
        p.fill('#import-keypair textarea[name=public_key]', 'ssh-ed25519 not-a-key')
        p.click('#import-keypair button')
        error = p.locator('#keypair-error')
        expect(error).to_contain_text('HTTP 400')
        expect(error).to_contain_text('not an SSH public key')
        p.set_input_files('#public-key-file', str(tmp_path / 'id.pub'))
        expect(p.locator('#import-keypair textarea[name=public_key]')).to_have_value(public)
        expect(p.locator('#import-keypair [data-cli-out]')).to_have_text(
            'openstack keypair create --public-key id.pub dash-imported')
        p.click('#import-keypair button')
        expect(p.locator('#alerts')).to_contain_text('Imported key pair dash-imported')
        imported = dash_cloud.openstack('keypair', 'show', 'dash-imported', cloud='demo',
                                        json_out=True)
        expect(p.locator('tr[data-name="dash-imported"]')).to_contain_text(
            imported['fingerprint'])
        shown_key = dash_cloud.openstack('keypair', 'show', '--public-key', 'dash-imported',
                                         cloud='demo')
        assert shown_key.strip() == public

        # Delete both from the list (confirmed), without a reload.
        p.on('dialog', lambda d: d.accept())
        for name in ('dash-made', 'dash-imported'):
            p.locator('tr[data-name="%s"] button.delete' % name).click()
            expect(p.locator('tr[data-name="%s"]' % name)).to_have_count(0)
            expect(p.locator('#alerts')).to_contain_text('Deleted key pair %s' % name)
        names = [k['Name'] for k in dash_cloud.openstack('keypair', 'list', cloud='demo',
                                                         json_out=True)]
        assert 'dash-made' not in names and 'dash-imported' not in names, names
    finally:
        for name in ('dash-made', 'dash-imported'):
            dash_cloud.openstack('keypair', 'delete', name, cloud='demo', check=False)
