"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when Portal sessions end, each application
they signed in to that registered a backchannel_logout_uri gets a signed logout token.

queue_for() runs inside the transaction that deletes the sessions (portal.services.sessions.end_where), as
one INSERT ... SELECT whatever the number of sessions; deliver() signs and POSTs the tokens afterwards,
through the same claim-and-retry queue as the mail outbox."""
from __future__ import annotations

import secrets

import requests
from flask import current_app, g, has_request_context
from joserfc import jwt
from peewee import Value

from portal import clock
from portal.infrastructure import audit, queue
from portal.models import LoginSession
from portal.models_oidc import BackchannelLogout, Client, ClientSession, Subject, epoch
from portal.services import signing_keys

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"


def queue_for(condition) -> None:
    """Queue a logout token per application used by the sessions meeting `condition` (on LoginSession)."""
    now = clock.now()
    stamp = Value(now, converter=BackchannelLogout.created_at.db_value)
    rows = (ClientSession.select(ClientSession.client, Subject.sub, ClientSession.sid, stamp, stamp,
                                 Value("queued"), Value(0))
            .join(LoginSession).join(Subject, on=(Subject.user == LoginSession.user))
            .switch(ClientSession).join(Client)
            .where(condition & Client.backchannel_logout_uri.is_null(False)))
    BackchannelLogout.insert_from(rows, [BackchannelLogout.client, BackchannelLogout.sub, BackchannelLogout.sid,
                                         BackchannelLogout.created_at, BackchannelLogout.next_attempt_at,
                                         BackchannelLogout.status, BackchannelLogout.attempts]).execute()
    if has_request_context():
        g.backchannel_queued = True  # sent after the response (portal.oidc), like mail


def logout_token(row: BackchannelLogout, client: Client) -> str:
    """The signed logout token: iss, aud, iat, exp, jti, sub, sid and the logout event; never a nonce."""
    keys = signing_keys.keys()
    now = epoch(clock.now())
    claims = {"iss": current_app.config["BASE_URL"], "aud": client.client_id, "iat": now,
              "exp": now + current_app.config["OIDC_LOGOUT_TOKEN_SECONDS"], "jti": secrets.token_urlsafe(16),
              "sub": row.sub, "sid": row.sid, "events": {EVENT: {}}}
    header = {"alg": signing_keys.ALG, "kid": keys.signing.kid, "typ": LOGOUT_TOKEN_TYPE}
    return jwt.encode(header, claims, keys.signing, algorithms=[signing_keys.ALG])


class NotDelivered(Exception):
    """The application did not answer 200 OK."""


def send(row: BackchannelLogout) -> None:
    """POST the logout token; redirects are not followed (the registered URI is the only place it may go)."""
    client = Client.get_by_id(row.client_id)
    try:
        response = requests.post(client.backchannel_logout_uri, data={"logout_token": logout_token(row, client)},
                                 timeout=current_app.config["BACKCHANNEL_TIMEOUT"], allow_redirects=False)
        if response.status_code not in (200, 204):
            raise NotDelivered(f"HTTP {response.status_code}")
    except Exception as error:
        audit.record("oidc.backchannel_logout_failed", client=client.client_id, attempt=row.attempts,
                     error=type(error).__name__)
        raise
    audit.record("oidc.backchannel_logout_delivered", client=client.client_id, attempt=row.attempts)


def deliver(limit: int = 100) -> tuple[int, int]:
    """Send the logout tokens that are due; returns (sent, not sent)."""
    return queue.deliver(BackchannelLogout, send, "back-channel logout", limit=limit)


def counts() -> dict[str, int]:
    return queue.counts(BackchannelLogout)
