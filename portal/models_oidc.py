"""The OpenID Provider's tables: applications (clients), codes, tokens, consent, and the logout queue.

Codes, tokens and the record of which applications a sign-in was used for belong to one Portal session
(LoginSession) and are deleted with it by the database: when a session ends, everything it issued ends
too. Secrets are stored as SHA-256 hashes only. The Authlib methods on the models are the ones its
grants and endpoints call (authlib.oauth2.rfc6749.ClientMixin, AuthorizationCodeMixin, TokenMixin)."""
from __future__ import annotations

import calendar
import hmac
import json

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal import clock
from portal.db import BaseModel
from portal.models import LoginSession, User
from portal.security.tokens import hash_token

PUBLIC_AUTH = ("none",)
CONFIDENTIAL_AUTH = ("client_secret_basic", "client_secret_post")
SCOPES = ("openid", "profile", "email", "company")


def epoch(moment) -> int:
    """A naive UTC datetime as JWT NumericDate."""
    return calendar.timegm(moment.utctimetuple())


class Client(BaseModel, ClientMixin):
    """An application that signs people in with Portal."""

    client_id = CharField(max_length=64, unique=True)
    name = CharField(max_length=100)
    secret_hash = CharField(max_length=64, null=True)  # None: a public client (PKCE, no secret)
    first_party = BooleanField(default=False)  # the exchange's own: no consent page
    redirect_uris = TextField()  # JSON list, matched exactly
    post_logout_redirect_uris = TextField(default="[]")
    backchannel_logout_uri = CharField(max_length=500, null=True)
    created_at = DateTimeField(default=clock.now)

    class Meta:
        table_name = "oidc_clients"

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    @property
    def redirect_uri_list(self) -> list[str]:
        return json.loads(self.redirect_uris)

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": json.loads(self.post_logout_redirect_uris)}

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None  # OpenID Connect: every request names its redirect_uri

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret):
        return self.secret_hash is not None and hmac.compare_digest(self.secret_hash, hash_token(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        return method in (PUBLIC_AUTH if self.public else CONFIDENTIAL_AUTH)

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class Subject(BaseModel):
    """The `sub` of a user: random, stable, never reused, and not the User ID."""

    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    sub = CharField(max_length=64, unique=True)

    class Meta:
        table_name = "oidc_subjects"


class ClientSession(BaseModel):
    """An application a Portal session signed in to, with the `sid` its ID tokens carry."""

    login_session = ForeignKeyField(LoginSession, backref="+", on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="+", on_delete="CASCADE")
    sid = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=clock.now)

    class Meta:
        table_name = "oidc_client_sessions"
        indexes = ((("login_session", "client"), True),)


class AuthorizationCode(BaseModel, AuthorizationCodeMixin):
    """A code handed to an application's redirect_uri; also the family of the tokens it is exchanged for."""

    code_hash = CharField(max_length=64, unique=True)
    client = ForeignKeyField(Client, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    login_session = ForeignKeyField(LoginSession, backref="+", on_delete="CASCADE")
    client_session = ForeignKeyField(ClientSession, backref="+", on_delete="CASCADE")
    redirect_uri = TextField()
    scope = TextField()
    nonce = CharField(max_length=255, null=True)
    code_challenge = CharField(max_length=128, null=True)
    code_challenge_method = CharField(max_length=10, null=True)
    auth_time = DateTimeField()
    amr = CharField(max_length=50)
    created_at = DateTimeField(default=clock.now)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "oidc_codes"
        indexes = ((("client", "nonce"), False),)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return epoch(self.auth_time)

    def get_acr(self):
        return ACR

    def get_amr(self):
        return self.amr.split()


ACR = "urn:portal:acr:mfa"  # every Portal sign-in has two factors; amr says which


class IssuedToken(BaseModel, TokenMixin):
    """An access token and its refresh token (hashes only). Rotated refresh tokens stay as used rows, so that
    a second use is recognised; `code` is the family that a reuse revokes at once."""

    access_token_hash = CharField(max_length=64, unique=True)
    refresh_token_hash = CharField(max_length=64, unique=True, null=True)
    client = ForeignKeyField(Client, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    login_session = ForeignKeyField(LoginSession, backref="+", on_delete="CASCADE")
    code = ForeignKeyField(AuthorizationCode, backref="+", on_delete="CASCADE")
    scope = TextField()
    issued_at = DateTimeField(default=clock.now)
    expires_at = DateTimeField()
    refresh_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "oidc_tokens"

    def check_client(self, client):
        return self.client_id == client.id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self):
        return clock.now() >= self.expires_at

    def is_revoked(self):
        return False  # revoked tokens are deleted

    def get_user(self):
        return self.user

    def get_client(self):
        return self.client


class Consent(BaseModel):
    """What a person agreed that an application may receive; remembered until withdrawn."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="+", on_delete="CASCADE")
    scope = TextField()
    created_at = DateTimeField(default=clock.now)

    class Meta:
        table_name = "oidc_consents"
        indexes = ((("user", "client"), True),)


class BackchannelLogout(BaseModel):
    """A logout token to send to an application: written in the transaction that ends the session, sent after
    (same claim and retry shape as the mail outbox). The token itself is signed when it is sent."""

    client = ForeignKeyField(Client, backref="+", on_delete="CASCADE")
    sub = CharField(max_length=64)
    sid = CharField(max_length=64)
    created_at = DateTimeField(default=clock.now)
    status = CharField(max_length=10, default="queued")  # queued, sending, sent, failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=clock.now)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = TextField(null=True)

    class Meta:
        table_name = "oidc_logouts"
        indexes = ((("status", "next_attempt_at"), False),)


OIDC_MODELS = (Client, Subject, ClientSession, AuthorizationCode, IssuedToken, Consent, BackchannelLogout)
