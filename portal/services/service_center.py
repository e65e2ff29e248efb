"""Service Center: the operator's staff help only a company's last Company Administrator, always with a ticket.

They reset the password or MFA of a user only when that user is a Company Administrator and no other one of
their company can help; everybody else is sent to their Company Administrators."""
from __future__ import annotations

import re

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock, i18n
from portal.db import db
from portal.infrastructure import audit, outbox
from portal.models import ROLE_COMPANY_ADMIN, Company, OutboxMessage, User
from portal.services import (
    NotFound,
    ServiceError,
    account_help,
    accounts,
    admin,
    administrators,
)

_TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/#-]{0,49}$")


def clean_ticket(ticket: str) -> str:
    ticket = (ticket or "").strip()
    if not _TICKET.match(ticket):
        raise ServiceError(_("Enter the ticket reference of the request (letters, digits and - _ . : / #, "
                             "at most 50 characters)."), "ticket")
    return ticket


def user_by_id(user_id: str) -> User:
    user = (User.select(User, Company).join(Company)
            .where(User.user_id_key == accounts.user_id_key(user_id)).first())
    if user is None:
        raise NotFound()
    return user


def refusal(target: User) -> str | None:
    """Why the Service Center may not reset this user's password or MFA; None when it may: the user is an
    active Company Administrator and no other administrator of the company can help (a blocked, inactive or
    expired one cannot)."""
    helpers = [a for a in administrators.who_can_help(target.company_id) if a.id != target.id]
    if helpers:
        names = ", ".join(f"{a.full_name} ({a.user_id})" for a in helpers)
        return _("%(user_id)s must ask a Company Administrator of the company: %(names)s.", user_id=target.user_id,
                 names=names)
    if administrators.is_active(target, clock.today()):
        return None
    return _("The Service Center helps only the last Company Administrator of a company. This company has no "
             "Company Administrator who can help: create one first.")


def _act(staff: User, target: User, ticket: str, action) -> None:
    ticket = clean_ticket(ticket)
    reason = refusal(target)
    if reason:
        with force_locale(i18n.SOURCE):  # the audit log stays in English, whoever reads the page
            audit.record("service_center.refused", subject=target, actor=staff, ticket=ticket, reason=refusal(target))
        raise ServiceError(reason)
    with db.atomic():
        action(staff, target, ticket)
        for other in User.select().where((User.company == target.company_id) & (User.role == ROLE_COMPANY_ADMIN)
                                         & (User.id != target.id)):
            outbox.queue(other.email, _l("the Service Center helped %(user_id)s", user_id=target.user_id),
                         "service_center_notice",
                         user=other, target=target, ticket=ticket, when=clock.now())


def reset_mfa(staff: User, target: User, ticket: str) -> None:
    _act(staff, target, ticket, account_help.reset_mfa)


def send_password_reset(staff: User, target: User, ticket: str) -> None:
    _act(staff, target, ticket, account_help.send_password_reset)


def _operator_user(user_id: str) -> User:
    user = User.get_or_none(User.user_id_key == accounts.user_id_key(user_id))
    if user is None:
        raise ServiceError(_("There is no user with the User ID %(user_id)s.", user_id=user_id))
    return user


def operator_unblock_password(user_id: str, ticket: str) -> User:
    """The operator lifts a password block with the `portal` command (any user, the Service Center's own staff
    and a company's last administrators too); the password stays as it is. Audited with the ticket."""
    ticket = clean_ticket(ticket)
    target = _operator_user(user_id)
    with db.atomic():
        User.update(password_blocked_at=None, failed_password_count=0).where(User.id == target.id).execute()
        audit.record("operator.password_unblocked", subject=target, ticket=ticket, via="portal command")
        outbox.queue(target.email, _l("your password is no longer blocked"), "password_unblocked", user=target)
    return target


def operator_reset_mfa(user_id: str, ticket: str) -> User:
    """The operator's Reset MFA with the `portal` command: the authenticator, backup codes and passkeys go, sessions
    end, and the user registers a new authenticator at the next sign-in. Audited with the ticket."""
    ticket = clean_ticket(ticket)
    target = _operator_user(user_id)
    account_help.reset_second_factor(target, "operator.mfa_reset", ticket=ticket, via="portal command")
    return target


def create_company(staff: User, name: str, ticket: str, time_zone: str | None = None) -> Company:
    ticket = clean_ticket(ticket)
    with db.atomic():
        company = accounts.create_company(name, time_zone)
        audit.record("service_center.company_created", actor=staff, company=company, ticket=ticket)
    return company


def create_first_admin(staff: User, company: Company, values: dict, ticket: str) -> User:
    """A company without an active Company Administrator gets one; it gets a welcome link like any new user."""
    ticket = clean_ticket(ticket)
    if administrators.who_can_help(company.id).exists():
        raise ServiceError(_("%(company)s already has an active Company Administrator, who creates users.",
                             company=company.name))
    with db.atomic():
        user = accounts.create_user(company=company, user_id=values.get("user_id", ""),
                                    email=values.get("email", ""), first_name=values.get("first_name", ""),
                                    last_name=values.get("last_name", ""), phone=values.get("phone", ""),
                                    role=ROLE_COMPANY_ADMIN, actor=staff, language=values.get("language"))
        audit.record("service_center.first_admin_created", subject=user, actor=staff, ticket=ticket)
        admin.send_welcome(user, None)
    return user


def companies(query: str = "", limit: int = 100) -> list[tuple[Company, bool]]:
    """Companies by name, each with whether it needs a first Company Administrator (none who can help)."""
    select = Company.select().order_by(Company.name_key).limit(limit)
    if query:
        select = select.where(Company.name_key.startswith(query.strip().casefold()))
    found = list(select)
    helped = {row.company_id for row in administrators.who_can_help_in([c.id for c in found])}
    return [(company, company.id not in helped) for company in found]


def failed_mail(limit: int = 200) -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.status == "failed")
                .order_by(OutboxMessage.id.desc()).limit(limit))
