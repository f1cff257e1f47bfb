"""Image members: share an image with a project; the project accepts it."""

from imagestore import members
from imagestore import schemas
from imagestore.api import http
from imagestore.api import views


def list_(image_id):
    return http.reply(views.member_list(members.list_members(http.context(), image_id)))


def create(image_id):
    body = http.validated(http.json_body(), schemas.MEMBER_CREATE)
    return http.reply(views.member(members.add_member(http.context(), image_id,
                                                     body['member'])))


def show(image_id, member_id):
    return http.reply(views.member(members.get_member(http.context(), image_id, member_id)))


def update(image_id, member_id):
    body = http.validated(http.json_body(), schemas.MEMBER_UPDATE)
    return http.reply(views.member(members.update_member(http.context(), image_id, member_id,
                                                        body['status'])))


def delete(image_id, member_id):
    members.delete_member(http.context(), image_id, member_id)
    return http.reply(status=204)
