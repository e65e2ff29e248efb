"""Help for a user who is stuck, given by a Company Administrator of their company or by the Service Center:
Reset MFA, a link to set a new password, ending their sessions, and the details an administrator decides from."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal import clock
from portal.db import db
from portal.infrastructure import audit, links, outbox
from portal.models import AuditEvent, Passkey, User
from portal.services import administrators, email_change, mfa, sessions


def reset_mfa(admin: User, target: User, ticket: str | None = None) -> None:
    """Reset MFA by a Company Administrator of the user's company, or by the Service Center with a ticket."""
    administrators.check_may_manage(admin, target, ticket)
    reset_second_factor(target, "admin.mfa_reset", admin=admin, ticket=ticket)


def reset_second_factor(target: User, event: str, admin: User | None = None, **details) -> None:
    """Delete the authenticator, backup codes and passkeys and end the sessions (enrollment at the next sign-in), audited
    as `event` and told to the user by mail. Every Reset MFA comes here, the operator's `portal reset-mfa` too."""
    with db.atomic():
        mfa.forget_authenticator(target)
        audit.record(event, subject=target, actor=admin, **details)
        outbox.queue(target.email, _l("your authenticator was reset"), "mfa_reset", user=target, admin=admin)


def send_password_reset(admin: User, target: User, ticket: str | None = None) -> None:
    """Mail the user a link to set a password; using it also lifts a password block. Nobody sees a password."""
    administrators.check_may_manage(admin, target, ticket)
    with db.atomic():
        token = links.issue(target, links.PASSWORD_RESET, data="unblock", kind=links.ADMIN_RESET)
        audit.record("admin.password_reset_sent", subject=target, actor=admin, ticket=ticket)
        outbox.queue(target.email, _l("your link to set a new password"), "new_password_link", user=target,
                     link=links.external_url("auth.set_new_password", token=token),
                     lifetime=links.lifetime_words(links.ADMIN_RESET), by_admin=True)


def end_sessions(admin: User, target: User) -> int:
    administrators.check_may_manage(admin, target)
    with db.atomic():
        count = sessions.end_all(target)
        audit.record("admin.sessions_ended", subject=target, actor=admin, count=count)
    return count


@dataclass
class Details:
    user: User
    authenticator: object
    backup_codes_left: int
    events: list[AuditEvent]
    only_admin: bool
    pending_email: str | None  # a new address waiting for its owner's confirmation
    passkeys: int = 0  # passkeys and security keys (Reset MFA removes them too)


def details(target: User) -> Details:
    events = list(AuditEvent.select().where(AuditEvent.subject == target)
                  .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(20))
    only = (administrators.is_active(target, clock.today())
            and not administrators.active(target.company_id).where(User.id != target.id).exists())
    return Details(target, mfa.authenticator_of(target), mfa.backup_codes_left(target), events, only,
                   email_change.pending_address(target), Passkey.select().where(Passkey.user == target).count())
