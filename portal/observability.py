"""Operations: one structured log line per request (with a request id, never a secret) and /healthz."""
from __future__ import annotations

import json
import logging
import re
import secrets
import time

from flask import Blueprint, current_app, g, jsonify, request

from portal.db import db
from portal.web import RedactLinkTokens

bp = Blueprint("ops", __name__)
log = logging.getLogger("portal.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    g.request_started = time.perf_counter()


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.endpoint == "static":
        return response
    record = {
        "event": "request", "request_id": g.get("request_id"), "method": request.method,
        "path": RedactLinkTokens.pattern.sub(r"\1[redacted]", request.path), "status": response.status_code,
        "ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
        "ip": request.remote_addr,
    }
    login_session = g.get("login_session")
    if login_session is not None:
        record["user"] = login_session.user_id  # the internal number, not the User ID or any secret
    log.info(json.dumps(record))
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
