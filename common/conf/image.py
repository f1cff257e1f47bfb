"""[image] options: the Glance-compatible image service."""

from oslo_config import cfg

group = cfg.OptGroup('image', title='Image service options')

opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0', help='Address the image API listens on.'),
    cfg.PortOpt('bind_port', default=9292, help='Port the image API listens on.'),
    cfg.StrOpt('store_path', default='$state_path/images', help='Folder of image files.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
