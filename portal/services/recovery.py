"""Ways back in: backup codes, e-mailed recovery links, Forgot ID and New Password."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl

from portal import clock, i18n
from portal.db import db
from portal.infrastructure import audit, links, outbox
from portal.models import LoginSession, User
from portal.services import (
    LinkUnusable,
    ServiceError,
    SignInRestart,
    accounts,
    mfa,
    sessions,
    signin,
)

WRONG_BACKUP_CODE = _l("That backup code is not correct or has already been used.")
LINK_UNUSABLE = _l("This link has expired or has already been used. Links work once, for %(lifetime)s; "
                   "please ask for a new one.")
LOW_BACKUP_CODES = 2
WRONG_PASSWORD = _l("The password is not correct.")
AUTHENTICATOR_PAUSED = _l("A link by e-mail to register a new authenticator is not available for this User ID until "
                          "%(until)s, because its password was set through an e-mailed link on %(since)s: one mailbox "
                          "must never replace both the password and the authenticator. Sign in with a backup code, or "
                          "ask your Company Administrator to reset your MFA.")
PASSWORD_PAUSED = _l("This link can no longer set a password: the authenticator of this User ID was replaced through "
                     "an e-mailed link on %(since)s, and one mailbox must never replace both. Until %(until)s, ask "
                     "your Company Administrator to send you a password reset.")


def mail_recovery_paused_until(since: dt.datetime | None) -> dt.datetime | None:
    """After one factor was recovered through a mailed link (at `since`), the end of the pause in which the
    other cannot be; None when there is no pause."""
    if since is None:
        return None
    until = since + dt.timedelta(days=current_app.config["MAIL_RECOVERY_PAUSE_DAYS"])
    return until if until > clock.now() else None


def _when(moment: dt.datetime) -> str:
    return i18n.when(moment)


def use_backup_code(pending: LoginSession, code: str, ip: str = "") -> sessions.Started:
    """Sign in with one of the backup codes instead of an authenticator code; each works once."""
    mfa.reserve_attempt(pending, backup_code=True)
    now = clock.now()
    if not mfa.spend_backup_code(pending.user_id, code):
        mfa.code_failed(pending, ip, WRONG_BACKUP_CODE, "backup code")
    user = pending.user
    with db.atomic():
        started = mfa.complete_sign_in(pending, ip, "backup code")
        left = mfa.backup_codes_left(user)
        audit.record("mfa.backup_code_used", subject=user, ip=ip, left=left)
        outbox.queue(user.email, _nl("a backup code was used (%(num)s left)", "a backup code was used (%(num)s left)",
                                     left), "backup_code_used", user=user,
                     left=left, low=left <= LOW_BACKUP_CODES, when=now)
    return started


def send_recovery_link(pending: LoginSession, ip: str = "") -> None:
    """Lost device: mail a link that lets this person register a new authenticator (not shortly after the
    password was set through a mailed link: the owner is told why, on the page and by mail)."""
    user = pending.user
    paused_until = mail_recovery_paused_until(user.password_set_by_link_at)
    if paused_until:
        with db.atomic():
            audit.record("mfa.recovery_link_refused", subject=user, ip=ip, reason="password set by link",
                         until=paused_until)
            outbox.queue(user.email, _l("no link to register a new authenticator yet"), "recovery_paused", user=user,
                         since=user.password_set_by_link_at, until=paused_until)
        raise ServiceError(AUTHENTICATOR_PAUSED % {"until": _when(paused_until),
                                                   "since": _when(user.password_set_by_link_at)})
    with db.atomic():
        token = links.issue(user, links.RECOVERY)
        audit.record("mfa.recovery_link_sent", subject=user, ip=ip)
        outbox.queue(user.email, _l("your link to register a new authenticator"), "recovery_link", user=user,
                     link=links.external_url("auth.recover", token=token),
                     lifetime=links.lifetime_words(links.RECOVERY))


def recovery_user(token: str) -> User:
    """The user a recovery link is for, if it is still usable (nothing is used up by looking)."""
    found = links.peek(token, links.RECOVERY)
    if found is None:
        raise LinkUnusable(LINK_UNUSABLE % {"lifetime": links.lifetime_words(links.RECOVERY)})
    return found.user


def recover(token: str, pending: LoginSession | None, password: str | None, ip: str,
            user_agent: str, browser: str | None = None) -> sessions.Started:
    """Follow a recovery link: the old authenticator and backup codes go, every session ends, and a new
    pending sign-in must register a new authenticator at once. Without this browser's pending sign-in
    for the same user, the password is asked again."""
    user = recovery_user(token)
    if pending is None or pending.user_id != user.id:
        try:
            signin.check_password(user.user_id, password or "", ip, browser)
        except ServiceError as error:  # only the password was asked for here: say that it is the password
            raise ServiceError(WRONG_PASSWORD if error.message == signin.INVALID else error.message,
                               "password") from None
    elif not user.active or user.is_expired(clock.today()):
        raise SignInRestart(signin.NOT_ACTIVE if not user.active else signin.EXPIRED)
    with db.atomic():
        if links.redeem(token, links.RECOVERY) is None:
            raise LinkUnusable(LINK_UNUSABLE % {"lifetime": links.lifetime_words(links.RECOVERY)})
        mfa.forget_authenticator(user)
        now = clock.now()
        User.update(authenticator_recovered_by_link_at=now).where(User.id == user.id).execute()
        started = sessions.start_pending(user, ip, user_agent, amr="pwd recovery")  # then a new authenticator
        audit.record("mfa.recovered", subject=user, ip=ip)
        outbox.queue(user.email, _l("your authenticator was removed with a recovery link"), "recovery_used",
                     user=user, when=now, paused_until=now + dt.timedelta(
                         days=current_app.config["MAIL_RECOVERY_PAUSE_DAYS"]))
    return started


def forgot_id(email: str) -> None:
    """Mail every User ID registered to the address; say nothing either way (the page never shows an ID)."""
    address = accounts.clean_email(email)
    users = list(User.select().where(User.email_key == address.lower()).order_by(User.user_id))
    if not users:
        audit.record("recovery.forgot_id_sent", outcome="no user")  # the same writes either way
        return
    with db.atomic():
        outbox.queue(users[0].email, _nl("your User ID", "your User IDs", len(users)), "forgot_id",
                     users=users, today=clock.today(), reader=users[0])
        for user in users:
            audit.record("recovery.forgot_id_sent", subject=user)


def request_new_password(user_id: str, ip: str = "") -> None:
    """New Password: the owner's address gets a reset link, or the reason there is none. The page
    says the same thing whatever happened, so nobody learns whether the User ID exists."""
    user = User.get_or_none(User.user_id_key == accounts.user_id_key(user_id))
    if user is None:
        audit.record("recovery.new_password_requested", ip=ip, outcome="no user")  # the same writes either way
        return
    with db.atomic():
        if user.password_blocked_at is not None:
            outbox.queue(user.email, _l("your password is blocked"), "new_password_blocked", user=user)
            reason = "blocked"
        elif not user.active or user.is_expired(clock.today()):
            outbox.queue(user.email, _l("New Password is not applicable for your User ID"),
                         "new_password_not_applicable", user=user)
            reason = "inactive or expired"
        elif paused_until := mail_recovery_paused_until(user.authenticator_recovered_by_link_at):
            outbox.queue(user.email, _l("New Password is not available for your User ID yet"), "new_password_paused",
                         user=user, since=user.authenticator_recovered_by_link_at, until=paused_until)
            reason = "authenticator recovered by link"
        else:
            token = links.issue(user, links.PASSWORD_RESET)
            outbox.queue(user.email, _l("your link to set a new password"), "new_password_link", user=user,
                         link=links.external_url("auth.set_new_password", token=token),
                         lifetime=links.lifetime_words(links.PASSWORD_RESET))
            reason = "link sent"
        audit.record("recovery.new_password_requested", subject=user, ip=ip, outcome=reason)


SET_PASSWORD_LINKS = (links.PASSWORD_RESET, links.WELCOME)
SET_PASSWORD_UNUSABLE = _l("This link has expired or has already been used. Ask for a new one with New Password "
                           "on the sign-in page, or ask your Company Administrator.")


def reset_link(token: str):
    """The usable New Password or welcome link for this token (nothing is used up by looking)."""
    found = links.peek(token, SET_PASSWORD_LINKS)
    if found is None:
        raise LinkUnusable(SET_PASSWORD_UNUSABLE)
    _check_not_paused(found)
    return found


def set_new_password(token: str, password: str, ip: str = "") -> User:
    """Set the password through a reset or welcome link: no sign-in, every session ends, the authenticator
    still applies. A link an administrator sent also lifts a password block."""
    user = reset_link(token).user
    accounts.check_password_policy(user, password)
    with db.atomic():
        found = links.redeem(token, SET_PASSWORD_LINKS)
        if found is None:
            raise LinkUnusable(SET_PASSWORD_UNUSABLE)
        accounts.store_password(user, password, unblock=found.data == "unblock", by_link=True)
        audit.record("password.reset" if found.purpose == links.PASSWORD_RESET else "password.first_set",
                     subject=user, ip=ip)
        now = clock.now()
        outbox.queue(user.email, _l("your password was changed"), "password_changed", user=user, when=now,
                     paused_until=now + dt.timedelta(days=current_app.config["MAIL_RECOVERY_PAUSE_DAYS"]))
    return user


def _check_not_paused(link) -> None:
    """A New Password link the person asked for cannot follow a mailed recovery of the authenticator; a link
    a Company Administrator sent (data "unblock") can: the administrator is the second channel."""
    user = link.user
    paused_until = mail_recovery_paused_until(user.authenticator_recovered_by_link_at)
    if link.purpose == links.PASSWORD_RESET and link.data != "unblock" and paused_until:
        raise LinkUnusable(PASSWORD_PAUSED % {"since": _when(user.authenticator_recovered_by_link_at),
                                              "until": _when(paused_until)})
