"""Operations: one structured log line per request (with a request id, never a secret) and /healthz."""
from __future__ import annotations

import json
import logging
import os
import random
import re
import time

from flask import Blueprint, current_app, g, jsonify, request

from portal.db import db
from portal.web import RedactLinkTokens

bp = Blueprint("ops", __name__)
log = logging.getLogger("portal.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PATH_LOGGED = 1000  # characters of a path in the log line, which stays well under the 4 KB of one atomic write


class LineHandler(logging.Handler):
    """Each record as one line, in one write() to a file descriptor (standard error unless setStream() gives
    another), with no lock held: under a StreamHandler, every thread that logged while another was in its
    write waited for that thread's lock. Lines of threads and workers writing at once do not mix: one write of
    up to 4 KB to a pipe is atomic, and so is a write to a file opened for appending."""

    def __init__(self, fd: int = 2):
        super().__init__()
        self.fd = fd

    def createLock(self):
        self.lock = None

    def setStream(self, stream) -> None:
        self.fd = stream.fileno()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
            while line:
                line = line[os.write(self.fd, line):]
        except Exception:
            self.handleError(record)


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise; for load balancers and monitoring."""
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
    except Exception as error:  # any failure means "not healthy", with its class name only
        current_app.logger.warning("health check failed: %s", type(error).__name__)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _start():
    incoming = request.headers.get("X-Request-ID", "")
    # A label that finds a request's lines, not a secret: Python's generator (reseeded in each forked worker)
    # rather than os.urandom, whose system call handed the interpreter's lock to another thread at each request.
    g.request_id = incoming if _REQUEST_ID.match(incoming) else f"{random.getrandbits(64):016x}"
    g.request_started = time.perf_counter()


def _finish(response):
    here, asked = g._get_current_object(), request._get_current_object()  # not through the proxies at each read
    response.headers["X-Request-ID"] = here.get("request_id", "")
    if asked.endpoint == "static":
        return response
    path = RedactLinkTokens.pattern.sub(r"\1[redacted]", asked.path)[:_PATH_LOGGED]
    record = {
        "event": "request", "request_id": here.get("request_id"), "method": asked.method, "path": path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - here.get("request_started", time.perf_counter())) * 1000, 1),
        "ip": asked.remote_addr,
    }
    login_session = here.get("login_session")
    if login_session is not None:
        record["user"] = login_session.user_id  # the internal number, not the User ID or any secret
    log.info(json.dumps(record))
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)
    if not log.handlers and not app.testing:
        handler = LineHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
