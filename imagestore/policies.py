"""Policy defaults of the image service (registered by its app factory).

Read access to one image is decided first by visibility (public,
community, owner, member, admin): an image you may not see is a 404, as in
Glance. These rules then decide what you may do with the images you see.
The target of an image rule has ``owner`` (the image's project) and
``project_id`` (the same); member rules add ``member_id``.
"""

from oslo_policy import policy

ADMIN = 'rule:admin_required'
READER = 'rule:reader_required'
OWNER_MEMBER = 'rule:admin_required or (rule:member_required and project_id:%(owner)s)'


def _rule(name, check, description):
    return policy.RuleDefault('image:' + name, check, description)


RULES = [
    _rule('get_images', READER, 'List images.'),
    _rule('get_image', READER, 'Show an image the caller can see.'),
    _rule('add_image', 'rule:admin_required or (rule:member_required and '
                       'project_id:%(owner)s)',
          'Create an image (owned by the caller\'s project unless an admin says otherwise).'),
    _rule('modify_image', OWNER_MEMBER, 'Change an image\'s attributes and properties.'),
    _rule('delete_image', OWNER_MEMBER, 'Delete an image.'),
    _rule('upload_image', OWNER_MEMBER, 'Upload the data of a queued image.'),
    _rule('download_image', READER, 'Download the data of an image the caller can see.'),
    _rule('publicize_image', ADMIN, 'Make an image public.'),
    _rule('communitize_image', OWNER_MEMBER, 'Make an image community-visible.'),
    _rule('deactivate', ADMIN, 'Deactivate an image.'),
    _rule('reactivate', ADMIN, 'Reactivate an image.'),
    _rule('get_members', READER, 'List the members of an image (members see themselves).'),
    _rule('get_member', READER, 'Show one member of an image.'),
    _rule('add_member', OWNER_MEMBER, 'Share an image with a project.'),
    _rule('delete_member', OWNER_MEMBER, 'Stop sharing an image with a project.'),
    _rule('modify_member', 'rule:admin_required or project_id:%(member_id)s',
          'Accept or reject an image shared with the caller\'s project.'),
]


def list_rules():
    return RULES
