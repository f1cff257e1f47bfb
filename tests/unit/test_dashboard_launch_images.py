"""The dashboard's launch, image and error-message logic that needs no
cloud: the POST /servers body a launch form makes, the JSON patch an image
edit makes, and the message of an image service error page."""

import base64

import pytest
import requests
from werkzeug.datastructures import MultiDict

from dashboard import cloud
from dashboard.views import images
from dashboard.views import launch


def _form(**fields):
    pairs = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return MultiDict(pairs)


def test_image_launch_body():
    body = launch.build_request(_form(
        name=' web ', flavor='42', source_type='image', image='img-1', networks=['n1', 'n2'],
        security_groups=['default', 'web'], key_name='k', user_data='#!/bin/sh\r\necho hi\r\n',
        min_count='2', max_count='3', volume='ignored'))['server']
    assert body == {
        'name': 'web', 'flavorRef': '42', 'min_count': 2, 'max_count': 3, 'imageRef': 'img-1',
        'networks': [{'uuid': 'n1'}, {'uuid': 'n2'}],
        'security_groups': [{'name': 'default'}, {'name': 'web'}], 'key_name': 'k',
        'user_data': base64.b64encode(b'#!/bin/sh\necho hi\n').decode()}
    assert launch.decode_user_data(body['user_data']) == '#!/bin/sh\necho hi\n'


def test_no_network_chosen_is_auto_and_ports_are_nics():
    body = launch.build_request(_form(name='a', flavor='1', image='i'))['server']
    assert body['networks'] == 'auto' and body['max_count'] == 1
    body = launch.build_request(_form(name='a', flavor='1', image='i', ports='p1'))['server']
    assert body['networks'] == [{'port': 'p1'}]


@pytest.mark.parametrize('source,bdm', [
    ('volume', {'uuid': 'x', 'source_type': 'volume', 'destination_type': 'volume',
                'boot_index': 0, 'delete_on_termination': True}),
    ('volume_snapshot', {'uuid': 'x', 'source_type': 'snapshot',
                         'destination_type': 'volume', 'boot_index': 0,
                         'delete_on_termination': True, 'volume_size': 3}),
])
def test_volume_sources(source, bdm):
    body = launch.build_request(_form(name='a', flavor='1', source_type=source,
                                      **{source: 'x'}, volume_size='3',
                                      delete_on_termination='yes'))['server']
    assert 'imageRef' not in body
    assert body['block_device_mapping_v2'] == [bdm]


def test_boot_from_new_volume():
    body = launch.build_request(_form(name='a', flavor='1', source_type='snapshot',
                                      snapshot='s', boot_from_volume='yes'))['server']
    assert body['imageRef'] == ''
    assert body['block_device_mapping_v2'] == [{
        'uuid': 's', 'source_type': 'image', 'destination_type': 'volume', 'boot_index': 0,
        'delete_on_termination': False}]


@pytest.mark.parametrize('fields,field', [
    ({'flavor': '1', 'image': 'i'}, 'name'),
    ({'name': 'a', 'image': 'i'}, 'flavor'),
    ({'name': 'a', 'flavor': '1'}, 'image'),
    ({'name': 'a', 'flavor': '1', 'image': 'i', 'min_count': 'two'}, 'min_count'),
    ({'name': 'a', 'flavor': '1', 'image': 'i', 'min_count': '0'}, 'min_count'),
    ({'name': 'a', 'flavor': '1', 'image': 'i', 'min_count': '3', 'max_count': '2'},
     'max_count'),
    ({'name': 'a', 'flavor': '1', 'source_type': 'volume', 'volume': 'v', 'min_count': '2'},
     'max_count'),
    ({'name': 'a', 'flavor': '1', 'source_type': 'volume_snapshot', 'volume_snapshot': 's',
      'volume_size': 'big'}, 'volume_size'),
    ({'name': 'a', 'flavor': '1', 'image': 'i', 'user_data': 'x' * 60000}, 'user_data'),
    ({'name': 'a', 'flavor': '1', 'source_type': 'disk', 'image': 'i'}, 'source_type'),
])
def test_bad_launch_input_names_the_field(fields, field):
    with pytest.raises(launch.FormError) as caught:
        launch.build_request(_form(**fields))
    assert caught.value.field == field


IMAGE = {'id': 'i', 'name': 'old', 'visibility': 'private', 'protected': False,
         'min_disk': 0, 'min_ram': 0, 'status': 'active', 'os_distro': 'ubuntu',
         'a/b': '1', 'checksum': 'c'}


def test_image_patch_has_only_what_changed():
    ops = images.patch_ops(IMAGE, _form(name='new', visibility='private',
                                        protection='protected', min_disk='2', min_ram='',
                                        property=['os_distro=ubuntu', 'hw_disk_bus=virtio ']))
    assert ops == [{'op': 'replace', 'path': '/name', 'value': 'new'},
                   {'op': 'replace', 'path': '/protected', 'value': True},
                   {'op': 'replace', 'path': '/min_disk', 'value': 2},
                   {'op': 'add', 'path': '/hw_disk_bus', 'value': 'virtio'},
                   {'op': 'remove', 'path': '/a~1b'}]
    same = images.patch_ops(IMAGE, _form(name='old', visibility='private',
                                         protection='unprotected', min_disk='0',
                                         min_ram='0', property=['os_distro=ubuntu', 'a/b=1']))
    assert same == []


@pytest.mark.parametrize('line', ['no-equals', '=value', 'status=active'])
def test_bad_property_lines(line):
    with pytest.raises(launch.FormError):
        images.parse_properties(_form(property=line))


def test_image_create_body():
    body = images.create_body(_form(name='x', disk_format='raw', container_format='bare',
                                    visibility='community', protected='protected',
                                    min_disk='1', property='os_type=linux'))
    assert body == {'name': 'x', 'disk_format': 'raw', 'container_format': 'bare',
                    'visibility': 'community', 'protected': True, 'min_disk': 1,
                    'os_type': 'linux'}


def test_image_service_error_page_gives_its_explanation():
    resp = requests.Response()
    resp.status_code = 403
    resp.headers['Content-Type'] = 'text/html; charset=UTF-8'
    resp._content = (b'<html>\n <head>\n  <title>403 Forbidden</title>\n </head>\n <body>\n'
                     b'  <h1>403 Forbidden</h1>\n  You are not authorized to perform the '
                     b'requested action: image:publicize_image.<br /><br />\n </body>\n</html>')
    assert cloud._text_message(resp) == ('You are not authorized to perform the requested '
                                         'action: image:publicize_image.')
    resp._content = b'413 Request Entity Too Large\n\nThe image is too large.'
    resp.headers['Content-Type'] = 'text/plain'
    assert cloud._text_message(resp) == 'The image is too large.'
    resp.headers['Content-Type'] = 'application/octet-stream'
    assert cloud._text_message(resp) is None


def test_human_size():
    assert images.human_size(None) == ''
    assert images.human_size(512) == '512 bytes'
    assert images.human_size(196616) == '192.0 KiB'
    assert images.human_size(50 * 1024 ** 2) == '50.0 MiB'
    assert images.human_size(3 * 1024 ** 4) == '3072.0 GiB'
