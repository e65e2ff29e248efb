"""OpenID Connect rules: subjects and claims, authorization codes, tokens (rotation and reuse), consent.

Everything issued belongs to one Portal session and lives only as long as it: each use of a code or token
first asks portal.services.sessions whether that session may go on (timeouts, Active, Valid Until), which
ends it (and tells the applications) when not. Codes and tokens are kept as SHA-256 hashes only."""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.db import db
from portal.infrastructure import audit
from portal.models import ROLE_NAMES, STAGE_ACTIVE, Company, LoginSession, User
from portal.models_oidc import (
    AuthorizationCode,
    Client,
    ClientSession,
    Consent,
    IssuedToken,
    Subject,
    epoch,
)
from portal.security.tokens import hash_token
from portal.services import backchannel, sessions

SCOPE_WORDS = {"openid": _l("that you are signed in (an identifier that is not your User ID)"),
               "profile": _l("your name and User ID"), "email": _l("your e-mail address"),
               "company": _l("your company and your role in it")}


# --- who the person is to an application -------------------------------------------------------------

def subject(user: User) -> str:
    """The user's `sub`: made once, at random, the first time an application asks."""
    found = Subject.select(Subject.sub).where(Subject.user == user.id).scalar()
    if found:
        return found
    Subject.insert(user=user.id, sub=secrets.token_urlsafe(24)).on_conflict_ignore().execute()
    return Subject.select(Subject.sub).where(Subject.user == user.id).scalar()


def ensure_subject(user: User) -> None:
    """As subject(), writing first (inside a transaction that must not read before it writes)."""
    Subject.insert(user=user.id, sub=secrets.token_urlsafe(24)).on_conflict_ignore().execute()


def claims(user: User, scope: str) -> dict:
    """The claims a scope gives, for the ID token and UserInfo alike."""
    scopes = set(scope.split())
    result = {"sub": subject(user)}
    if "profile" in scopes:
        result.update(name=user.full_name, given_name=user.first_name, family_name=user.last_name,
                      preferred_username=user.user_id)
        for claim, column in (("locale", "language"), ("zoneinfo", "timezone")):  # when Portal knows them
            if getattr(user, column, None):
                result[claim] = getattr(user, column)
    if "email" in scopes:
        # A new user's first password is set through a link mailed to the address, and every change of an
        # address is confirmed from the new one (portal.services.email_change).
        result.update(email=user.email, email_verified=True)
    if "company" in scopes:
        result.update(company_id=str(user.company_id), company_name=user.company.name, role=user.role,
                      role_label=ROLE_NAMES.get(user.role, user.role))
    return result


# --- sessions behind codes and tokens ---------------------------------------------------------------------

def live_session(login_session_id: int) -> LoginSession | None:
    """The signed-in session a code or token was issued in, if it may go on (it is touched, as a page view
    would); a timed-out session, or one whose user may no longer sign in, is ended here."""
    record = (LoginSession.select(LoginSession, User, Company).join(User).join(Company)  # the company for claims
              .where((LoginSession.id == login_session_id) & (LoginSession.stage == STAGE_ACTIVE)).first())
    return sessions.keep_alive(record)


def issued_in(sid: str | None, login_session: LoginSession) -> bool:
    """Whether an ID token's sid belongs to this very session: its logout needs no confirmation."""
    return bool(sid) and ClientSession.select().where((ClientSession.sid == sid)
                                                      & (ClientSession.login_session == login_session.id)).exists()


def seconds_since_sign_in(login_session: LoginSession) -> float:
    return (clock.now() - login_session.authenticated_at).total_seconds()


# --- authorization codes -------------------------------------------------------------------------------

def issue_code(login_session: LoginSession, client: Client, code: str, redirect_uri: str, scope: str,
               nonce: str | None, challenge: str | None, method: str | None) -> AuthorizationCode:
    """Store a new code (60 s, single use) and record that this session signed in to the application."""
    now = clock.now()
    with db.atomic():
        # Writes first: a SQLite transaction that reads before it writes cannot wait for another writer.
        (ClientSession.insert(login_session=login_session.id, client=client.id, sid=secrets.token_urlsafe(24),
                              created_at=now).on_conflict_ignore().execute())
        link = ClientSession.get((ClientSession.login_session == login_session.id)
                                 & (ClientSession.client == client.id))
        ensure_subject(login_session.user)
        row = AuthorizationCode.create(
            code_hash=hash_token(code), client=client.id, user=login_session.user_id,
            login_session=login_session.id, client_session=link.id, redirect_uri=redirect_uri, scope=scope,
            nonce=nonce, code_challenge=challenge, code_challenge_method=method,
            auth_time=login_session.authenticated_at, amr=login_session.amr, created_at=now,
            expires_at=now + dt.timedelta(seconds=current_app.config["OIDC_CODE_SECONDS"]))
        audit.record("oidc.code_issued", subject=login_session.user, client=client.client_id)
    return row


def nonce_used(client_id: str, nonce: str) -> bool:
    return (AuthorizationCode.select().join(Client)
            .where((Client.client_id == client_id) & (AuthorizationCode.nonce == nonce)).exists())


def redeem_code(code: str, client: Client) -> AuthorizationCode | None:
    """The code, used up now; None when unknown, expired or used before. A second use revokes what the first
    one was exchanged for (RFC 9700 4.2.1)."""
    row = (AuthorizationCode.select(AuthorizationCode, ClientSession).join(ClientSession)
           .where((AuthorizationCode.code_hash == hash_token(code or "")) & (AuthorizationCode.client == client.id))
           .first())  # with the sid its ID token carries
    if row is None:
        return None
    claimed = (AuthorizationCode.update(used_at=clock.now())
               .where((AuthorizationCode.id == row.id) & AuthorizationCode.used_at.is_null()).execute())
    if not claimed:
        revoke_family(row.id)
        audit.record("oidc.code_reused", subject=User.get_by_id(row.user_id), client=client.client_id)
        return None
    return row if clock.now() <= row.expires_at else None


def user_for(row) -> User | None:
    """The user of a code or refresh token, if its session may go on."""
    record = live_session(row.login_session_id)
    return record.user if record is not None else None


# --- tokens ----------------------------------------------------------------------------------------------

def save_tokens(token: dict, client: Client, user: User, family: AuthorizationCode | IssuedToken) -> IssuedToken:
    """Store the hashes of a new access token (and refresh token) in the family of a code or older token."""
    code_id = family.id if isinstance(family, AuthorizationCode) else family.code_id
    now = clock.now()
    row = IssuedToken.create(
        access_token_hash=hash_token(token["access_token"]),
        refresh_token_hash=hash_token(token["refresh_token"]) if token.get("refresh_token") else None,
        client=client.id, user=user.id, login_session=family.login_session_id, code=code_id,
        scope=token.get("scope", ""), issued_at=now, expires_at=now + dt.timedelta(seconds=token["expires_in"]))
    grant = "authorization_code" if isinstance(family, AuthorizationCode) else "refresh_token"
    audit.record("oidc.tokens_issued", subject=user, client=client.client_id, grant=grant)
    return row


def revoke_family(code_id: int) -> int:
    """End every token exchanged from one code, and from the refresh tokens that followed."""
    return IssuedToken.delete().where(IssuedToken.code == code_id).execute()


def find_refresh_token(refresh_token: str) -> IssuedToken | None:
    """The unused refresh token; a used one means it was copied: its whole family is revoked."""
    row = IssuedToken.get_or_none(IssuedToken.refresh_token_hash == hash_token(refresh_token or ""))
    if row is not None and row.refresh_used_at is not None:
        _reused(row)
        return None
    return row


def rotate_refresh_token(row: IssuedToken) -> User | None:
    """Use up a refresh token (once, even in parallel) and return its user if the session may go on."""
    claimed = (IssuedToken.update(refresh_used_at=clock.now())
               .where((IssuedToken.id == row.id) & IssuedToken.refresh_used_at.is_null()).execute())
    if not claimed:
        _reused(row)
        return None
    return user_for(row)


def _reused(row: IssuedToken) -> None:
    revoke_family(row.code_id)
    audit.record("oidc.refresh_token_reused", subject=User.get_by_id(row.user_id),
                 client=Client.get_by_id(row.client_id).client_id)


def find_token(token: str, hint: str | None = None) -> IssuedToken | None:
    """An access or refresh token that is still good (for revocation and introspection), with its client."""
    digest = hash_token(token or "")
    for as_access in ((False, True) if hint == "refresh_token" else (True, False)):  # the hint is looked at first
        column = IssuedToken.access_token_hash if as_access else IssuedToken.refresh_token_hash
        row = IssuedToken.select(IssuedToken, Client).join(Client).where(column == digest).first()
        if row is not None:
            row.as_refresh = not as_access
            return row if _usable(row) else None
    return None


def _usable(row: IssuedToken) -> bool:
    if row.as_refresh and row.refresh_used_at is not None:
        return False
    if not row.as_refresh and row.is_expired():
        return False
    return live_session(row.login_session_id) is not None


def bearer_token(token: str) -> IssuedToken | None:
    """The access token presented to UserInfo, if valid, with its client and user."""
    row = (IssuedToken.select(IssuedToken, Client, User).join(Client).switch(IssuedToken).join(User)
           .where(IssuedToken.access_token_hash == hash_token(token or "")).first())
    if row is None or row.is_expired() or live_session(row.login_session_id) is None:
        return None
    return row


def introspection(row: IssuedToken) -> dict:
    """RFC 7662's answer for a good token."""
    expires = None if getattr(row, "as_refresh", False) else epoch(row.expires_at)
    answer = {"active": True, "client_id": row.client.client_id, "scope": row.scope, "token_type": "Bearer",
              "sub": subject(User.get_by_id(row.user_id)), "iat": epoch(row.issued_at),
              "iss": current_app.config["BASE_URL"], "aud": row.client.client_id}
    if expires is not None:
        answer["exp"] = expires
    return answer


def revoke(row: IssuedToken) -> None:
    revoke_family(row.code_id)
    audit.record("oidc.token_revoked", subject=User.get_by_id(row.user_id), client=row.client.client_id)


# --- consent ---------------------------------------------------------------------------------------------

def needs_consent(user: User, client: Client, scope: str, asked: bool = False) -> bool:
    """First-party applications need none (unless prompt=consent); others once per person for what they ask."""
    if client.first_party and not asked:
        return False
    given = Consent.get_or_none((Consent.user == user.id) & (Consent.client == client.id))
    return asked or given is None or not set(scope.split()) <= set(given.scope.split())


def give_consent(user: User, client: Client, scope: str, ip: str = "") -> None:
    """Remember the scope (added to what was allowed before)."""
    with db.atomic():
        Consent.insert(user=user.id, client=client.id, scope="", created_at=clock.now()).on_conflict_ignore().execute()
        given = Consent.get((Consent.user == user.id) & (Consent.client == client.id))
        scopes = " ".join(sorted(set(scope.split()) | set(given.scope.split())))
        Consent.update(scope=scopes).where(Consent.id == given.id).execute()
        audit.record("oidc.consent_given", subject=user, actor=user, ip=ip, client=client.client_id, scope=scope)


def connected_applications(user: User) -> list[Consent]:
    return list(Consent.select(Consent, Client).join(Client).where(Consent.user == user.id).order_by(Client.name))


def withdraw_consent(user: User, client_id: str, ip: str = "") -> Client | None:
    """The application loses what the person agreed to: its tokens end at once and it is told to sign the
    person out (back-channel logout); the next sign-in asks again."""
    given = (Consent.select(Consent, Client).join(Client)
             .where((Consent.user == user.id) & (Client.client_id == client_id)).first())
    if given is None:
        return None
    client = given.client
    with db.atomic():
        backchannel.queue_for((LoginSession.user == user.id) & (ClientSession.client == client.id))
        sessions_of_user = LoginSession.select(LoginSession.id).where(LoginSession.user == user.id)
        (ClientSession.delete().where((ClientSession.client == client.id)
                                      & ClientSession.login_session.in_(sessions_of_user)).execute())
        given.delete_instance()
        audit.record("oidc.consent_withdrawn", subject=user, actor=user, ip=ip, client=client.client_id)
    return client


def describe_scope(scope: str) -> list[str]:
    return [str(SCOPE_WORDS[s]) for s in scope.split() if s in SCOPE_WORDS]
