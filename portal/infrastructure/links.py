"""Single-use links sent by mail (recovery, new password, e-mail change): stored hashed, bound to
one user and one purpose, short-lived, and superseded when a newer one is sent."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from portal import clock
from portal.models import Token, User
from portal.security.tokens import hash_token, new_token

RECOVERY = "recovery"
PASSWORD_RESET = "password_reset"
EMAIL_CHANGE = "email_change"
WELCOME = "welcome"  # a new user's first password
# Kinds of link that are no purpose of their own: a reset a Company Administrator sends (a PASSWORD_RESET link
# that lives longer) and a contact person's activation (kept on the contact person).
ADMIN_RESET = "admin_reset"
CONTACT_ACTIVATION = "contact_activation"

# Each kind's lifetime: the setting and its unit in minutes. Pages and mails say it with lifetime_words().
_LIFETIMES = {RECOVERY: ("RECOVERY_LINK_MINUTES", 1, "minute"), PASSWORD_RESET: ("NEW_PASSWORD_LINK_MINUTES", 1, "minute"),
              ADMIN_RESET: ("ADMIN_RESET_LINK_HOURS", 60, "hour"), EMAIL_CHANGE: ("EMAIL_CHANGE_LINK_HOURS", 60, "hour"),
              WELCOME: ("WELCOME_LINK_HOURS", 60, "hour"), CONTACT_ACTIVATION: ("CONTACT_LINK_DAYS", 24 * 60, "day")}


def lifetime(kind: str) -> dt.timedelta:
    setting, minutes, _unit = _LIFETIMES[kind]
    return dt.timedelta(minutes=current_app.config[setting] * minutes)


_UNIT_WORDS = {"minute": lambda n: ngettext("%(num)s minute", "%(num)s minutes", n),
               "hour": lambda n: ngettext("%(num)s hour", "%(num)s hours", n),
               "day": lambda n: ngettext("%(num)s day", "%(num)s days", n)}


def lifetime_words(kind: str) -> LazyString:
    """How long a link of this kind works, as pages and mails say it: "15 minutes", "72 hours", "7 days". Lazy: a
    mail says it in its reader's language, which is chosen when the mail is written, after this is called."""
    setting, _minutes, unit = _LIFETIMES[kind]
    return LazyString(lambda: _UNIT_WORDS[unit](current_app.config[setting]))


def issue(user: User, purpose: str, data: str | None = None, kind: str | None = None) -> str:
    """A new link token, living as long as its kind (its purpose, unless told); earlier unused tokens of the
    same user and purpose stop working."""
    now = clock.now()
    Token.update(used_at=now).where((Token.user == user) & (Token.purpose == purpose)
                                    & Token.used_at.is_null()).execute()
    token, token_hash = new_token()
    Token.create(user=user, purpose=purpose, token_hash=token_hash, created_at=now, data=data,
                 expires_at=now + lifetime(kind or purpose))
    return token


def void_all(user: User) -> None:
    """Every outstanding link of the user stops working: each was sent for a password or address that has
    just changed (call it with that change, in its transaction)."""
    Token.update(used_at=clock.now()).where((Token.user == user) & Token.used_at.is_null()).execute()


def external_url(endpoint: str, **values) -> str:
    """An absolute link built from PORTAL_BASE_URL, never from the request's Host header (works in the CLI too)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _valid(token: str, purpose: str | tuple[str, ...]):
    purposes = (purpose,) if isinstance(purpose, str) else purpose
    return ((Token.token_hash == hash_token(token or "")) & Token.purpose.in_(purposes)
            & Token.used_at.is_null() & (Token.expires_at > clock.now()))


def peek(token: str, purpose: str | tuple[str, ...]) -> Token | None:
    """The token if it would be accepted now, without using it (a GET must change nothing)."""
    if not token or len(token) > 100:
        return None
    return Token.select(Token, User).join(User).where(_valid(token, purpose)).first()


def peek_latest(user: User, purpose: str) -> Token | None:
    """The user's usable link of this purpose (issue() keeps at most one)."""
    return (Token.select().where((Token.user == user) & (Token.purpose == purpose) & Token.used_at.is_null()
                                 & (Token.expires_at > clock.now())).order_by(Token.id.desc()).first())


def redeem(token: str, purpose: str | tuple[str, ...]) -> Token | None:
    """Use the token: exactly one of two parallel requests gets it. Call inside the change's transaction."""
    found = peek(token, purpose)
    if found is None:
        return None
    used = Token.update(used_at=clock.now()).where((Token.id == found.id) & Token.used_at.is_null()).execute()
    return found if used == 1 else None
