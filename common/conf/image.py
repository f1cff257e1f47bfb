"""[image] options: the Glance-compatible image service."""

from oslo_config import cfg

group = cfg.OptGroup('image', title='Image service options')

opts = [
    cfg.HostAddressOpt('bind_host', default='0.0.0.0', help='Address the image API listens on.'),
    cfg.PortOpt('bind_port', default=9292, help='Port the image API listens on.'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Request threads of the image API (uploads and downloads each hold '
                    'one while they stream).'),
    cfg.StrOpt('public_host', default='$my_ip',
               help='Host name or address other hosts (compute agents) use to reach this '
                    'image service; put in the signed download and upload URLs.'),
    cfg.StrOpt('store_path', default='$state_path/images',
               help='Folder of image files (the file store; the rbd store stages uploads '
                    'here).'),
    cfg.StrOpt('store', default='file', choices=('file', 'rbd'),
               help='Where image data lives: file (one file per image under store_path) '
                    'or rbd (one Ceph RBD image per image, with a protected snapshot '
                    '"snap" that volumes are cloned from, as Glance does).'),
    cfg.StrOpt('rbd_store_pool', default='images', help='rbd store: the Ceph pool of images.'),
    cfg.StrOpt('rbd_store_user', default='glance',
               help='rbd store: the cephx user (without "client.") the image service acts as.'),
    cfg.StrOpt('rbd_store_ceph_conf', default='/etc/ceph/ceph.conf',
               help='rbd store: the ceph.conf of the cluster.'),
    cfg.StrOpt('rbd_store_keyring',
               help='rbd store: keyring of rbd_store_user (unset: the one ceph.conf names).'),
    cfg.IntOpt('max_image_size', default=1099511627776, min=1,
               help='Largest image upload in bytes; a bigger one is refused with 413.'),
    cfg.IntOpt('upload_lease', default=60, min=4,
               help='Seconds an upload may go without progress before its image is given '
                    'up (its image service died in the middle): back to queued, so the '
                    'data can be sent again. An upload that progresses renews it; every '
                    'image service looks for lapsed ones four times per lease.'),
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Images in one page of a list when the client gives no limit.'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Most images one page of a list may hold, whatever the limit asked.'),
    cfg.IntOpt('image_property_quota', default=128, min=0,
               help='Additional properties one image may have.'),
    cfg.IntOpt('image_tag_quota', default=128, min=0, help='Tags one image may have.'),
    cfg.IntOpt('image_member_quota', default=128, min=0,
               help='Projects one image may be shared with.'),
    cfg.IntOpt('signed_url_ttl', default=600, min=10,
               help='Seconds a signed download URL handed to a compute agent stays valid.'),
    cfg.IntOpt('signed_upload_ttl', default=3600, min=10,
               help='Seconds a signed upload URL for a server snapshot stays valid.'),
    cfg.IntOpt('inspect_timeout', default=60, min=1,
               help='Seconds qemu-img may take to inspect an uploaded image.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
