"""The person's own details: names and phone, e-mail address (confirmed by a link), password."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.db import db
from portal.models import LoginSession, User
from portal.services import ServiceError, accounts, audit, email_change, outbox, reauth


def update_details(user: User, first_name: str, last_name: str, phone: str, language: str | None = None,
                   time_zone: str | None = None) -> User:
    """Names, phone, and the language and time zone the person reads Portal in (None: the browser's language,
    the company's zone)."""
    first_name = accounts.clean_first_name(first_name)
    last_name = accounts.clean_last_name(last_name)
    phone = accounts.clean_phone(phone)
    language, time_zone = accounts.clean_language(language), accounts.clean_time_zone(time_zone)
    before = {"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone,
              "language": user.language, "time_zone": user.time_zone}
    after = {"first_name": first_name, "last_name": last_name, "phone": phone, "language": language,
             "time_zone": time_zone}
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        with db.atomic():
            User.update(**accounts.with_keys(changed)).where(User.id == user.id).execute()
            audit.record("profile.updated", subject=user, actor=user,
                         before={k: before[k] for k in changed}, after=changed)
    for key, value in after.items():
        setattr(user, key, value)
    return user


def _confirm(login_session: LoginSession, password: str, code: str, ip: str, browser: str | None) -> None:
    reauth.confirm_identity(login_session, password, code, ip, browser, password_field="current_password")


def request_email_change(login_session: LoginSession, new_email: str, current_password: str, code: str,
                         ip: str = "", browser: str | None = None) -> str:
    """Mail a confirmation link to the new address and a notice to the old; nothing changes until confirmed.
    The current password and a code come first, counted like sign-in attempts."""
    user = login_session.user
    address = accounts.clean_email(new_email)
    if address.lower() == user.email_key:
        raise ServiceError(_("That is already your e-mail address."), "email")
    accounts.check_address_free(user.company_id, address, user.id, name_holder=False)  # before a code is spent
    _confirm(login_session, current_password, code, ip, browser)
    email_change.request(user, address)
    return address


def change_password(login_session: LoginSession, current_password: str, code: str, new_password: str,
                    ip: str = "", browser: str | None = None) -> None:
    """Needs the current password and a code; other sessions and every outstanding link end, this session stays."""
    user = login_session.user
    accounts.check_password_policy(user, new_password)
    _confirm(login_session, current_password, code, ip, browser)
    with db.atomic():
        accounts.store_password(user, new_password, keep=login_session)
        audit.record("password.changed", subject=user, actor=user)
        outbox.queue(user.email, _l("your password was changed"), "password_changed", user=user, when=clock.now())
