"""Changing a user's e-mail address: it takes effect only when its owner confirms it from the new address,
whoever asked (the person on Profile, or a Company Administrator), and the old address is told at once."""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.db import db
from portal.models import Token, User
from portal.services import ServiceError, accounts, audit, links, outbox, signin
from portal.services.administrators import lock_company

LINK_UNUSABLE = _l("This link has expired or has already been used. Change the address again on your Profile page "
                   "to get a new one.")


def request(user: User, address: str, by: User | None = None) -> None:
    """Mail a confirmation link to the new address (already validated) and a notice, naming who asked, to the
    old one; nothing changes until the link is used. Call inside the transaction of the request."""
    with db.atomic():
        lock_company(user.company_id)
        accounts.check_address_free(user.company_id, address, except_user_id=user.id, name_holder=by is not None)
        data = json.dumps({"email": address, "by": by.id}) if by else json.dumps({"email": address})
        token = links.issue(user, links.EMAIL_CHANGE, data=data)
        audit.record("profile.email_change_requested" if by is None else "admin.email_change_requested",
                     subject=user, actor=by or user, before=user.email, after=address)
        outbox.queue(address, _l("confirm your new e-mail address"), "email_change_confirm", user=user,
                     new_email=address, link=links.external_url("account.confirm_email", token=token),
                     lifetime=links.lifetime_words(links.EMAIL_CHANGE))
        outbox.queue(user.email, _l("a change of your e-mail address was requested"), "email_change_notice",
                     user=user, new_email=address, admin=by)


@dataclass
class Change:
    """What a confirmation link is for."""

    token: Token
    address: str
    by_administrator: bool  # then the owner of the User ID confirms with its password as well

    @property
    def user(self) -> User:
        return self.token.user


def _change(token: Token) -> Change | None:
    if not token.data:
        return None
    if not token.data.startswith("{"):  # links sent before changes by administrators existed: the bare address
        return Change(token, token.data, False)
    data = json.loads(token.data)
    return Change(token, data["email"], data.get("by") is not None)


def pending_address(user: User) -> str | None:
    """The address waiting for its owner's confirmation, if any."""
    change = _change(links.peek_latest(user, links.EMAIL_CHANGE) or Token())
    return change.address if change else None


def link(token: str) -> Change:
    """The pending change a confirmation link is for, if usable (looking uses nothing up)."""
    change = _change(links.peek(token, links.EMAIL_CHANGE) or Token())
    if change is None:
        raise ServiceError(LINK_UNUSABLE)
    return change


def needs_password(change: Change, signed_in: User | None) -> bool:
    """A change a Company Administrator started is confirmed by the owner of the User ID, not only by whoever
    reads the new mailbox (which may be the administrator's own): the password, unless signed in as them here."""
    return change.by_administrator and (signed_in is None or signed_in.id != change.user.id)


def confirm(token: str, signed_in: User | None = None, password: str = "", ip: str = "",
            browser: str | None = None) -> User:
    """Following the link from the new address makes it the User ID's address."""
    change = link(token)
    user = change.user
    if needs_password(change, signed_in) and not signin.password_matches(user, password, ip, browser):
        raise ServiceError(_("The password is not correct. Enter the password of the User ID %(user_id)s.",
                             user_id=user.user_id), "password")
    with db.atomic():
        lock_company(user.company_id)
        if user.active:  # someone may have taken the address since the link was sent
            accounts.check_address_free(user.company_id, change.address, except_user_id=user.id, name_holder=False)
        if links.redeem(token, links.EMAIL_CHANGE) is None:
            raise ServiceError(LINK_UNUSABLE)
        old = user.email
        User.update(**accounts.with_keys({"email": change.address})).where(User.id == user.id).execute()
        user.email, user.email_key = change.address, change.address.lower()
        links.void_all(user)  # links sent to the old address must not outlive it
        audit.record("profile.email_changed", subject=user, actor=user, ip=ip, before=old, after=change.address)
        outbox.queue(old, _l("your e-mail address was changed"), "email_changed", user=user, old_email=old,
                     new_email=change.address)
    return user
