"""Work that leaves after the response (mail, back-channel logouts): the change has committed by then, and the
person waits for nothing. A failure is logged and left to the `portal` job that retries the queue."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from portal.db import db


def after_response(app, mode: str, job, kind: str) -> None:
    """Run job() in an app context: now ("inline", for tests) or on a worker thread of its kind ("background"),
    so that an application slow to answer a logout token never holds up mail."""
    if mode == "inline":
        _in_context(app, job)
    else:
        _executor(app, kind).submit(_in_context, app, job)


def _executor(app, kind: str) -> ThreadPoolExecutor:
    executors = app.extensions.setdefault("portal_background_executors", {})
    if kind not in executors:
        executors[kind] = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"after-response-{kind}")
    return executors[kind]


def _in_context(app, job) -> None:
    with app.app_context():
        try:
            db.connect(reuse_if_open=True)
            job()
        except Exception:  # never break a response over this; the queue's job retries
            app.logger.exception("delivery after response failed")
        finally:
            if not db.is_closed():
                db.close()
