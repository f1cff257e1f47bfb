"""Per-request plumbing of the image API (see common.web)."""

import flask

from common import web

before_request = web.before_request


def after_request(resp):
    # Signed internal URLs carry their signature in the query: log the path.
    internal = flask.request.path.startswith('/internal/')
    return web.after_request(resp, logged_path=flask.request.path if internal else None)
