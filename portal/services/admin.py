"""Company administration: a Company Administrator manages the users of their own company only.

Every rule lives here, so the web pages and the CLI obey them alike."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock, i18n
from portal.db import db
from portal.infrastructure import audit, links, outbox
from portal.models import (
    ROLE_COMPANY_ADMIN,
    ROLE_SERVICE_CENTER,
    ROLE_USER,
    Company,
    User,
)
from portal.services import (
    NeedsConfirmation,
    NotFound,
    ServiceError,
    accounts,
    administrators,
    email_change,
    sessions,
)

ADMIN_ROLES = (ROLE_USER, ROLE_COMPANY_ADMIN)  # the service-center role is never granted here
EDITABLE = ("email", "first_name", "last_name", "phone", "role", "active", "valid_until")
OWN_EMAIL = _l("Change your own e-mail address on your Profile page, where it is confirmed with your password and "
               "a code.")


def user_of_company(company_id: int, user_id: str) -> User:
    """The user with this User ID in this company, or NotFound: the company comes from the session. Service
    Center staff are never managed here (only with the `portal` command), even in the operator's company."""
    user = (User.select(User, Company).join(Company)
            .where((User.company == company_id) & (User.user_id_key == accounts.user_id_key(user_id))
                   & (User.role != ROLE_SERVICE_CENTER)).first())
    if user is None:
        raise NotFound()
    return user


def _keep_one_admin(target: User, after: dict, today: dt.date) -> None:
    """A company always keeps at least one active Company Administrator."""
    if not administrators.is_active(target, today):
        return
    stays = (after.get("role", target.role) == ROLE_COMPANY_ADMIN and after.get("active", target.active)
             and after.get("valid_until", target.valid_until) >= today)
    others = administrators.active(target.company_id, today).where(User.id != target.id).exists()
    if not stays and not others:
        raise ServiceError(_("%(user_id)s is the last active Company Administrator of the company. "
                             "Make another user Company Administrator first.", user_id=target.user_id))


def _check_valid_until(value: dt.date, today: dt.date, confirmed: bool) -> None:
    """More than two years ahead asks for confirmation (far-future dates are a security risk)."""
    two_years = accounts.years_later(today, 2)
    if value > two_years and not confirmed:
        raise NeedsConfirmation(_("Valid Until %(date)s is more than two years ahead. Far-future dates are a "
                                  "security risk; confirm to save it anyway.", date=i18n.day(value)), "valid_until")


def clean_changes(values: dict) -> dict:
    """Shape and domain checks of the editable fields; role and company are never taken from elsewhere."""
    cleaned = {}
    if "email" in values:
        cleaned["email"] = accounts.clean_email(values["email"])
    for name, clean in (("first_name", accounts.clean_first_name), ("last_name", accounts.clean_last_name)):
        if name in values:
            cleaned[name] = clean(values[name])
    if "phone" in values:
        cleaned["phone"] = accounts.clean_phone(values["phone"])
    if "role" in values:
        if values["role"] not in ADMIN_ROLES:
            raise ServiceError(_("The role must be User or Company Administrator."), "role")
        cleaned["role"] = values["role"]
    if "active" in values:
        cleaned["active"] = bool(values["active"])
    if "valid_until" in values:
        if not isinstance(values["valid_until"], dt.date):
            raise ServiceError(_("Valid Until must be a date."), "valid_until")
        cleaned["valid_until"] = values["valid_until"]
    return cleaned


def update_user(admin: User, target: User, values: dict, confirmed: bool = False) -> dict:
    """Save only what changed, with before/after in the audit log; returns the changes. A new e-mail address
    is only asked for: its owner confirms it from there (returned as "email_pending"), and the old one is told.

    The last-administrator rule is checked inside the transaction, with the company locked, so two
    administrators demoting each other at the same moment cannot leave the company with none."""
    administrators.check_may_manage(admin, target)
    after = clean_changes({k: v for k, v in values.items() if k in EDITABLE})
    changed = {k: v for k, v in after.items() if getattr(target, k) != v}
    new_email = changed.pop("email", None)
    if new_email and target.id == admin.id:
        raise ServiceError(OWN_EMAIL, "email")
    today = clock.today()
    if "valid_until" in changed:
        accounts.check_valid_until(changed["valid_until"], today)
        _check_valid_until(changed["valid_until"], today, confirmed)
    with db.atomic():
        administrators.lock_company(target.company_id)
        if changed.get("active") or new_email:
            accounts.check_address_free(target.company_id, new_email or target.email, except_user_id=target.id)
        if changed:
            _save(admin, User.get_by_id(target.id), changed, today)
        if new_email:
            email_change.request(target, new_email, by=admin)
    for key, value in changed.items():
        setattr(target, key, value)
    return {**changed, "email_pending": new_email} if new_email else changed


def _save(admin: User, target: User, changed: dict, today: dt.date) -> None:
    """Write the changes to the user as it is now (read under the company's lock)."""
    _keep_one_admin(target, changed, today)
    before = {k: getattr(target, k) for k in changed}
    User.update(**accounts.with_keys(changed)).where(User.id == target.id).execute()
    audit.record("admin.user_updated", subject=target, actor=admin, before=before, after=changed)
    if changed.get("active") is False:
        sessions.end_all(target)
        outbox.queue(target.email, _l("your User ID was deactivated"), "account_deactivated", user=target,
                     admin=admin)


def _one_year_more(target: User, today: dt.date) -> dt.date | None:
    """One year more, counted from today or from the current date if that is later; None past the furthest."""
    new = accounts.years_later(max(target.valid_until, today), 1)
    return new if new is not None and new <= accounts.latest_valid_until(today) else None


def extend_valid_until(admin: User, target: User, confirmed: bool = False) -> dt.date:
    """Valid Until one year later."""
    new = _one_year_more(target, clock.today())
    if new is None:
        raise ServiceError(_("Valid Until of %(user_id)s (%(date)s) cannot be extended: it may be at most %(years)s "
                             "years ahead.", user_id=target.user_id, date=i18n.day(target.valid_until),
                             years=accounts.MAX_YEARS_AHEAD), "valid_until")
    update_user(admin, target, {"valid_until": new}, confirmed=confirmed)
    return new


def extension_needs_confirmation(targets: list[User]) -> list[User]:
    """The users whose Valid Until would go more than two years ahead with one more year."""
    today = clock.today()
    limit = accounts.years_later(today, 2)
    return [t for t in targets if (accounts.years_later(max(t.valid_until, today), 1) or dt.date.max) > limit]


BULK_LIMIT = 200


@dataclass
class Extension:
    extended: list[User]
    not_found: list[str]  # User IDs that are not (or no longer) users of the company
    at_limit: list[User]  # already as far ahead as Valid Until may go
    left_over: int  # ticked beyond BULK_LIMIT: not looked at


def extend_many(admin: User, user_ids: list[str], confirmed: bool = False) -> Extension:
    """Extend several users of the admin's company by one year each (each change audited). The first BULK_LIMIT
    distinct User IDs are found with one query; the others, and those not found, are reported, not refused."""
    wanted = list(dict.fromkeys(accounts.user_id_key(u) for u in user_ids if u))
    keys, left_over = wanted[:BULK_LIMIT], max(0, len(wanted) - BULK_LIMIT)
    found = list(User.select().where((User.company == admin.company_id) & User.user_id_key.in_(keys)
                                     & (User.role != ROLE_SERVICE_CENTER)).order_by(User.user_id_key))
    today = clock.today()
    targets = [t for t in found if _one_year_more(t, today)]
    risky = extension_needs_confirmation(targets)
    if risky and not confirmed:
        raise NeedsConfirmation(_("With one more year, Valid Until of %(user_ids)s would be more than two years "
                                  "ahead. Far-future dates are a security risk; confirm to extend anyway.",
                                  user_ids=", ".join(t.user_id for t in risky)))
    with db.atomic():
        for target in targets:
            extend_valid_until(admin, target, confirmed=True)
    return Extension(targets, sorted(set(keys) - {t.user_id_key for t in found}),
                     [t for t in found if t not in targets], left_over)


def set_active(admin: User, target: User, active: bool) -> None:
    if target.id == admin.id and not active:
        raise ServiceError(_("You cannot deactivate yourself; ask another Company Administrator."))
    update_user(admin, target, {"active": active})


def create_user(admin: User, values: dict, confirmed: bool = False) -> User:
    """A new user of the admin's own company; a welcome mail links to setting a password."""
    role = values.get("role") or ROLE_USER
    if role not in ADMIN_ROLES:
        raise ServiceError(_("The role must be User or Company Administrator."), "role")
    valid_until = values.get("valid_until") or accounts.default_valid_until(clock.today())
    accounts.check_valid_until(valid_until, clock.today())
    _check_valid_until(valid_until, clock.today(), confirmed)
    with db.atomic():
        user = accounts.create_user(company=admin.company, user_id=values.get("user_id", ""),
                                    email=values.get("email", ""), first_name=values.get("first_name", ""),
                                    last_name=values.get("last_name", ""), phone=values.get("phone", ""),
                                    role=role, valid_until=valid_until, actor=admin,
                                    language=values.get("language"))
        send_welcome(user, admin)
    return user


def send_welcome(user: User, admin: User | None) -> None:
    token = links.issue(user, links.WELCOME)
    outbox.queue(user.email, _l("your new User ID"), "welcome", user=user, admin=admin,
                 link=links.external_url("auth.set_new_password", token=token),
                 lifetime=links.lifetime_words(links.WELCOME))

