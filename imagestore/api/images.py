"""Image records: list, show, create, update (JSON patch), delete,
deactivate/reactivate, tags."""

import flask

from imagestore import data
from imagestore import images
from imagestore.api import http
from imagestore.api import params
from imagestore.api import patch
from imagestore.api import views


def list_():
    query = params.parse_list(flask.request.args)
    records, more = images.list_images(http.context(), query)
    return http.reply(views.image_list(records, more, list(flask.request.args.items(
        multi=True))))


def show(image_id):
    return http.reply(views.image(images.get(http.context(), image_id)))


def create():
    rec = images.create(http.context(), http.json_body())
    return http.reply(views.image(rec), status=201,
                      headers={'Location': '%s/v2/images/%s' % (http.base_url(), rec['id'])})


def update(image_id):
    mime = patch.media_type(flask.request.content_type)
    changes = patch.parse(http.json_body(kind=list), mime)
    rec = images.update(http.context(), image_id, changes,
                        add_replaces=(mime != patch.V2_0))
    return http.reply(views.image(rec))


def delete(image_id):
    data.delete(http.context(), image_id)
    return http.reply(status=204)


def deactivate(image_id):
    images.set_active_status(http.context(), image_id, 'deactivate')
    return http.reply(status=204)


def reactivate(image_id):
    images.set_active_status(http.context(), image_id, 'reactivate')
    return http.reply(status=204)


def add_tag(image_id, tag):
    images.add_tag(http.context(), image_id, tag)
    return http.reply(status=204)


def delete_tag(image_id, tag):
    images.delete_tag(http.context(), image_id, tag)
    return http.reply(status=204)
