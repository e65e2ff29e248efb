"""The two sides of an OpenID Connect sign-in over real HTTP, for the provider's tests: Portal on a live server,
a person's browser (requests, with cookies, following redirects and our onward pages as a browser does), and
an application that uses Authlib's requests client and checks ID tokens with joserfc against the JWKS.

Nothing here calls Portal's code to act as the application: it only speaks HTTP to the server."""
from __future__ import annotations

import functools
import html
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.serving import make_server

from portal import clock, create_app
from portal.models_oidc import epoch
from portal.services import signing_keys
from tests import helpers
from tests.conftest import make_config

META_REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)">')
CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the browser stops at the application's address


@functools.cache
def _key_file() -> str:
    """One signing key file for the whole run: making a 2048-bit RSA key takes a tenth of a second."""
    return json.dumps({"keys": [signing_keys.new_entry()]})


class LivePortal:
    """Portal under werkzeug's server on a free loopback port; BASE_URL (the issuer) is that address. Its
    instance folder starts with a signing key file, as Portal leaves one at first use."""

    def __init__(self, tmp_path, database_url: str, host: str = "127.0.0.1", **config):
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        key_path = instance / signing_keys.FILE_NAME
        key_path.write_text(_key_file())
        key_path.chmod(0o600)
        self.server = make_server("127.0.0.1", 0, lambda e, s: [], threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"  # a name (localhost) for passkeys: no IP is an RP id
        self.app = create_app(make_config(tmp_path, database_url, BASE_URL=self.url, BACKCHANNEL_DELIVERY="inline",
                                          **config))
        self.server.app = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        helpers.APP = self.app
        return self

    def __exit__(self, *exc):
        helpers.APP = None
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()

    def metadata(self) -> dict:
        return requests.get(self.url + "/.well-known/openid-configuration", timeout=5).json()

    def register(self, name="Data Sheets", public=False, first_party=True, redirect_uris=(CALLBACK,), **extra):
        """Register an application as the operator does, with `portal client create`."""
        args = ["client", "create", name] + [a for uri in redirect_uris for a in ("--redirect-uri", uri)]
        args += ["--public"] * public + ["--first-party"] * first_party
        for option, value in extra.items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                args += [f"--{option.replace('_', '-')}", item]
        result = self.app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output
        client_id = re.search(r"client_id:\s+(\S+)", result.output).group(1)
        secret = re.search(r"client_secret:\s+(\S+)", result.output)
        return RelyingParty(self, client_id, secret.group(1) if secret else None, redirect_uris[0])


class Browser:
    """A person's browser: cookies, redirects, and our onward pages (meta refresh), as Chromium would."""

    def __init__(self, portal: LivePortal):
        self.portal = portal
        self.http = requests.Session()

    def go(self, url: str, method: str = "GET", data=None) -> requests.Response:
        """Follow redirects and onward pages until a page of Portal or an address outside it (response.url)."""
        response = self.http.request(method, urljoin(self.portal.url, url), data=data, allow_redirects=False,
                                     timeout=10)
        for _ in range(20):
            target = None
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
            elif META_REFRESH.search(response.text or ""):
                target = urljoin(response.url, html.unescape(META_REFRESH.search(response.text).group(1)))
            if target is None:
                return response
            if not target.startswith(self.portal.url):
                response.url = target
                return response
            response = self.http.get(target, allow_redirects=False, timeout=10)
        raise AssertionError("redirect loop")

    def submit(self, page: requests.Response, **fields) -> requests.Response:
        """Post the page's (first) form with its CSRF token, to its action (or the page itself); the header's
        Sign out form is not the page's."""
        main = page.text[page.text.find('<main id="main">'):]
        action = re.search(r'<form method="post" action="([^"]*)"', main)
        url = html.unescape(action.group(1)) if action else page.url
        return self.go(url, "POST", {"csrf_token": helpers.csrf_token(page.text), **fields})

    def sign_in(self, page: requests.Response, secret: str, user_id="jdoe", password=helpers.PASSWORD):
        """On the sign-in page: User ID and password, then the current code."""
        assert urlsplit(page.url).path == "/sign-in", page.url
        page = self.submit(page, user_id=user_id, password=password)
        assert urlsplit(page.url).path == "/sign-in/verify", page.url
        return self.submit(page, code=helpers.code_now(secret))


@dataclass
class Answer:
    """What came back to the application's redirect_uri."""

    url: str
    params: dict = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        return self.params.get("code")


class RelyingParty:
    """An application: Authlib's requests client for the requests, joserfc for the ID token."""

    def __init__(self, portal: LivePortal, client_id: str, secret: str | None, redirect_uri: str):
        self.portal, self.client_id, self.secret, self.redirect_uri = portal, client_id, secret, redirect_uri
        self.metadata = portal.metadata()
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)
        self.state = None

    def session(self, **kwargs) -> OAuth2Session:
        method = "none" if self.secret is None else kwargs.pop("auth_method", "client_secret_basic")
        return OAuth2Session(self.client_id, self.secret, scope=kwargs.pop("scope", "openid profile email company"),
                             redirect_uri=self.redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method=method, **kwargs)

    def authorization_url(self, pkce: bool = True, **params) -> str:
        """A new request: fresh state, nonce and PKCE verifier, as an application makes for each sign-in."""
        self.state, self.nonce, self.verifier = (secrets.token_urlsafe(16), secrets.token_urlsafe(16),
                                                 secrets.token_urlsafe(48))
        url, _ = self.session(scope=params.pop("scope", "openid profile email company")).create_authorization_url(
            self.metadata["authorization_endpoint"], state=self.state, nonce=self.nonce,
            code_verifier=self.verifier if pkce else None, **params)
        return url

    def answer(self, response: requests.Response) -> Answer:
        assert response.url.startswith(self.redirect_uri), (response.url, response.status_code, response.text[:500])
        return Answer(response.url, {k: v[0] for k, v in parse_qs(urlsplit(response.url).query).items()})

    def sign_in(self, browser: Browser, secret: str | None = None, **params) -> Answer:
        """The whole front channel: to Portal, through its sign-in when needed, back with a code."""
        page = browser.go(self.authorization_url(**params))
        if not page.url.startswith(self.redirect_uri) and secret is not None:
            page = browser.sign_in(page, secret)
        answer = self.answer(page)
        assert answer.params.get("state") == self.state and answer.params.get("iss") == self.portal.url
        return answer

    def exchange(self, code: str, verifier: str | None = None, **kwargs) -> dict:
        """The back channel: the code for tokens (raises OAuthError with the error code when refused)."""
        return self.session(**kwargs).fetch_token(self.metadata["token_endpoint"], code=code,
                                                  code_verifier=verifier or self.verifier,
                                                  grant_type="authorization_code")

    def post(self, endpoint: str, auth=True, **data) -> requests.Response:
        """A plain form POST to one of the provider's endpoints, with this application's credentials."""
        credentials = (self.client_id, self.secret) if auth and self.secret else None
        if self.secret is None:
            data["client_id"] = self.client_id
        return requests.post(self.metadata[endpoint], data=data, auth=credentials, timeout=10)

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.post("token_endpoint", grant_type="refresh_token", refresh_token=refresh_token)

    def userinfo(self, access_token: str) -> requests.Response:
        return requests.get(self.metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"},
                            timeout=10)

    def jwks(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=10).json())

    def verify(self, id_token: str, nonce: str | None = None) -> dict:
        """What an application must check: signature against the JWKS, alg, iss, aud, exp/iat, nonce."""
        token = jwt.decode(id_token, self.jwks(), algorithms=self.metadata["id_token_signing_alg_values_supported"])
        registry = jwt.JWTClaimsRegistry(now=epoch(clock.now()), iss={"essential": True, "value": self.portal.url},
                                         aud={"essential": True, "value": self.client_id},
                                         exp={"essential": True}, iat={"essential": True},
                                         nonce={"essential": True, "value": nonce or self.nonce})
        registry.validate(token.claims)
        return token.claims


class Receiver:
    """An application's back-channel logout endpoint on loopback: keeps the logout tokens it is sent."""

    def __init__(self, port: int | None = None):
        self.tokens: list[str] = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = parse_qs(self.rfile.read(length).decode())
                with receiver.received:
                    receiver.tokens += body.get("logout_token", [])
                    receiver.received.notify_all()
                self.send_response(200)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)

    def close(self):
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self.received:
            self.received.wait_for(lambda: len(self.tokens) >= count, timeout)
        return list(self.tokens)
