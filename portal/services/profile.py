"""The person's own details: names and phone, e-mail address (confirmed by a link), password."""
from __future__ import annotations

from portal import clock
from portal.db import db
from portal.models import LoginSession, User
from portal.services import ServiceError, accounts, audit, links, outbox, reauth



def update_details(user: User, first_name: str, last_name: str, phone: str) -> User:
    first_name = accounts.clean_name(first_name, "The first name", "first_name")
    last_name = accounts.clean_name(last_name, "The last name", "last_name")
    phone = accounts.clean_phone(phone)
    before = {"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone}
    after = {"first_name": first_name, "last_name": last_name, "phone": phone}
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
        raise ServiceError("That is already your e-mail address.", "email")
    _confirm(login_session, current_password, code, ip, browser)
    with db.atomic():
        token = links.issue(user, links.EMAIL_CHANGE, data=address)
        audit.record("profile.email_change_requested", subject=user, actor=user)
        outbox.queue(address, "confirm your new e-mail address", "email_change_confirm", user=user,
                     new_email=address, link=links.external_url("account.confirm_email", token=token))
        outbox.queue(user.email, "a change of your e-mail address was requested", "email_change_notice",
                     user=user, new_email=address)
    return address


EMAIL_LINK_UNUSABLE = ("This link has expired or has already been used. Change the address again on your "
                       "Profile page to get a new one.")


def email_change_link(token: str):
    """The pending change a confirmation link is for, if usable (looking uses nothing up)."""
    found = links.peek(token, links.EMAIL_CHANGE)
    if found is None:
        raise ServiceError(EMAIL_LINK_UNUSABLE)
    return found


def confirm_email_change(token: str) -> User:
    """Following the link from the new address makes it the User ID's address."""
    with db.atomic():
        found = links.redeem(token, links.EMAIL_CHANGE)
        if found is None:
            raise ServiceError(EMAIL_LINK_UNUSABLE)
        user = found.user
        old = user.email
        User.update(**accounts.with_keys({"email": found.data})).where(User.id == user.id).execute()
        user.email, user.email_key = found.data, found.data.lower()
        links.void_all(user)  # links sent to the old address must not outlive it
        audit.record("profile.email_changed", subject=user, actor=user, before=old, after=found.data)
        outbox.queue(old, "your e-mail address was changed", "email_changed", user=user, old_email=old,
                     new_email=found.data)
    return user


def change_password(login_session: LoginSession, current_password: str, code: str, new_password: str,
                    ip: str = "", browser: str | None = None) -> None:
    """Needs the current password and a code; other sessions and every outstanding link end, this session stays."""
    user = login_session.user
    accounts.check_password_policy(user, new_password)
    _confirm(login_session, current_password, code, ip, browser)
    with db.atomic():
        accounts.store_password(user, new_password, keep=login_session)
        audit.record("password.changed", subject=user, actor=user)
        outbox.queue(user.email, "your password was changed", "password_changed", user=user, when=clock.now())
