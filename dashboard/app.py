"""The dashboard's Flask app: server-side sessions (the cookie holds only a
random session id; the tokens stay on the server), CSRF on every form and
every htmx or fetch request, and pages that show the API's own errors."""

import os
import secrets

import flask
from cachelib import file as cachelib_file
from flask_session import Session
from flask_wtf import csrf

from common.conf import CONF
from dashboard import cloud
from dashboard import errors
from dashboard import views

csrf_protect = csrf.CSRFProtect()


def _secret_key(state_path):
    path = os.path.join(state_path, 'secret_key')
    try:
        with open(path, 'rb') as f:
            key = f.read()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(key)
    return key


def create_app():
    opts = CONF.dashboard
    os.makedirs(os.path.join(opts.state_path, 'sessions'), mode=0o700, exist_ok=True)
    app = flask.Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(opts.state_path),
        SESSION_TYPE='cachelib',
        SESSION_CACHELIB=cachelib_file.FileSystemCache(
            os.path.join(opts.state_path, 'sessions'), threshold=5000, mode=0o600,
            default_timeout=opts.session_lifetime),
        SESSION_PERMANENT=True,
        # Store a session only when a request changed it: refreshing it on
        # every request let a slow concurrent one (an htmx fragment, the
        # event stream) write back its stale copy, bringing consumed flash
        # messages back or dropping new ones.
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_KEY_PREFIX='s:',
        PERMANENT_SESSION_LIFETIME=opts.session_lifetime,
        SESSION_COOKIE_NAME='altostack_session',
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE='Lax',
        SESSION_COOKIE_SECURE=opts.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,          # bound to the session instead
        WTF_CSRF_SSL_STRICT=opts.secure_cookies,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
        SEND_FILE_MAX_AGE_DEFAULT=3600,   # static files; vendored ones carry their version
    )
    Session(app)
    csrf_protect.init_app(app)
    errors.register(app)
    views.register(app)

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault('X-Frame-Options', 'SAMEORIGIN')
        resp.headers.setdefault('X-Content-Type-Options', 'nosniff')
        resp.headers.setdefault('Referrer-Policy', 'same-origin')
        resp.headers.setdefault('Cache-Control', 'no-store')
        return resp

    @app.context_processor
    def _signed_in():
        signed = bool(flask.session.get('scoped'))
        return {'me': flask.session.get('me') if signed else None,
                'projects': flask.session.get('projects', []),
                'is_admin': views.is_admin()}

    app.extensions['altostack_cloud'] = cloud
    return app
