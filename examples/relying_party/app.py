"""An application that signs people in with Portal: Authlib's Flask client (discovery, PKCE with S256, nonce),
the claims shown on its page, sign-out through Portal, and back-channel logout that ends its own session.

    RP_ISSUER=http://127.0.0.1:5000 RP_CLIENT_ID=... RP_CLIENT_SECRET=... python examples/relying_party/app.py

Its sessions are kept on the server (a SQLite file), so a logout token from Portal can end them: a cookie-only
session could not be ended from outside. Use it as a starting point, not as production code."""
from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
import time
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, render_template_string, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ name }}</title></head>
<body><main>
<h1>{{ name }}</h1>
{% if error %}<p role="alert">Sign-in failed: {{ error }}</p>{% endif %}
{% if user %}
  <p>Signed in as {{ user.get('name') or user.sub }}{% if user.get('preferred_username') %}
    (User ID {{ user.preferred_username }}){% endif %}.</p>
  <h2>Claims</h2>
  <table>{% for key, value in user.items() %}
    <tr><th scope="row">{{ key }}</th><td>{{ value }}</td></tr>{% endfor %}</table>
  <form method="post" action="{{ url_for('logout') }}">
    <input type="hidden" name="csrf" value="{{ csrf }}"><button type="submit">Sign out</button></form>
{% else %}
  <p>You are not signed in.</p>
  <p><a href="{{ url_for('login') }}">Sign in with Portal</a></p>
{% endif %}
</main></body></html>"""


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        NAME=os.environ.get("RP_NAME", "Example application"),
        ISSUER=os.environ.get("RP_ISSUER", "http://127.0.0.1:5000"),
        CLIENT_ID=os.environ.get("RP_CLIENT_ID"),
        CLIENT_SECRET=os.environ.get("RP_CLIENT_SECRET"),
        SECRET_KEY=os.environ.get("RP_SECRET_KEY") or secrets.token_urlsafe(32),
        SESSIONS_DB=os.environ.get("RP_SESSIONS_DB") or os.path.join(tempfile.gettempdir(), "rp-sessions.db"),
        SESSION_COOKIE_NAME="rp_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config or {})
    oauth = OAuth(app)
    portal = oauth.register(
        "portal", client_id=app.config["CLIENT_ID"], client_secret=app.config["CLIENT_SECRET"],
        server_metadata_url=app.config["ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email company", "code_challenge_method": "S256"})
    store = SessionStore(app.config["SESSIONS_DB"])

    @app.before_request
    def _drop_ended_session():
        """A session that Portal ended (back-channel logout) is gone at the next request."""
        if "sid" in session and not store.alive(session["sid"]):
            session.clear()

    @app.route("/")
    def home():
        return render_template_string(PAGE, name=app.config["NAME"], user=session.get("user"),
                                      error=request.args.get("error"), csrf=_csrf())

    @app.route("/login")
    def login():
        return portal.authorize_redirect(url_for("callback", _external=True))

    @app.route("/callback")
    def callback():
        # RFC 9207: the answer must come from the provider this request went to (mix-up attacks).
        if request.args.get("iss") != portal.load_server_metadata()["issuer"]:
            return redirect(url_for("home", error="the answer did not come from Portal"))
        try:
            # Authlib checks state, the ID token's signature against the JWKS, iss, aud, exp, iat and nonce.
            token = portal.authorize_access_token()
        except OAuthError as error:
            return redirect(url_for("home", error=error.error))
        claims = dict(token["userinfo"])
        session.clear()
        session.update(user=claims, id_token=token["id_token"], sid=claims["sid"])
        store.start(claims["sid"], claims["sub"])
        return redirect(url_for("home"))

    @app.route("/logout", methods=["POST"])
    def logout():
        if request.form.get("csrf") != session.get("csrf"):
            abort(400)
        id_token = session.get("id_token")
        store.end(sid=session.get("sid"))
        session.clear()
        end_session = portal.load_server_metadata()["end_session_endpoint"]
        query = {"post_logout_redirect_uri": url_for("home", _external=True), "client_id": app.config["CLIENT_ID"]}
        if id_token:
            query["id_token_hint"] = id_token
        return redirect(end_session + "?" + urlencode(query))

    @app.route("/backchannel-logout", methods=["POST"])
    def backchannel_logout():
        """Portal says a session ended: check the logout token, then end ours (200), or refuse it (400)."""
        try:
            claims = _logout_claims(request.form.get("logout_token", ""))
        except (JoseError, ValueError):
            return "", 400, {"Cache-Control": "no-store"}
        store.end(sid=claims.get("sid"), sub=claims.get("sub"))
        return "", 200, {"Cache-Control": "no-store"}

    def _logout_claims(logout_token: str) -> dict:
        """OpenID Connect Back-Channel Logout 1.0, section 2.6: signature, iss, aud, iat/exp, events, no nonce."""
        metadata = portal.load_server_metadata()
        keys = KeySet.import_key_set(portal.fetch_jwk_set())
        token = jwt.decode(logout_token, keys, algorithms=metadata["id_token_signing_alg_values_supported"])
        jwt.JWTClaimsRegistry(leeway=60, iss={"essential": True, "value": metadata["issuer"]},
                              aud={"essential": True, "value": app.config["CLIENT_ID"]},
                              iat={"essential": True}, jti={"essential": True}).validate(token.claims)
        claims = token.claims
        if LOGOUT_EVENT not in (claims.get("events") or {}) or "nonce" in claims:
            raise ValueError("not a logout token")
        if not (claims.get("sid") or claims.get("sub")) or not store.first_use(claims["jti"]):
            raise ValueError("no session named, or replayed")
        return claims

    def _csrf() -> str:
        session.setdefault("csrf", secrets.token_urlsafe(16))
        return session["csrf"]

    app.extensions["rp_store"] = store
    return app


class SessionStore:
    """The application's own sessions by Portal's sid, in SQLite, so that any process can end them."""

    def __init__(self, path: str):
        self.path = path
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, sub TEXT, ended REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS seen_jti (jti TEXT PRIMARY KEY, at REAL)")

    def _db(self):
        return sqlite3.connect(self.path, timeout=10)

    def start(self, sid: str, sub: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sessions (sid, sub, ended) VALUES (?, ?, NULL)", (sid, sub))

    def alive(self, sid: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT ended FROM sessions WHERE sid = ?", (sid,)).fetchone()
        return row is not None and row[0] is None

    def end(self, sid: str | None = None, sub: str | None = None) -> None:
        with self._db() as db:
            if sid:
                db.execute("UPDATE sessions SET ended = ? WHERE sid = ?", (time.time(), sid))
            elif sub:
                db.execute("UPDATE sessions SET ended = ? WHERE sub = ?", (time.time(), sub))

    def first_use(self, jti: str) -> bool:
        with self._db() as db:
            inserted = db.execute("INSERT OR IGNORE INTO seen_jti (jti, at) VALUES (?, ?)", (jti, time.time()))
            return inserted.rowcount == 1


if __name__ == "__main__":
    host, port = os.environ.get("RP_HOST", "127.0.0.1"), int(os.environ.get("RP_PORT", "5001"))
    create_app().run(host=host, port=port)
