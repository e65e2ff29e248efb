"""Companies and users: creation, validation and password rules."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError, fn

from portal import clock, i18n
from portal.db import db
from portal.models import ROLES, Company, User
from portal.security import passwords
from portal.services import ServiceError, audit, links, sessions
from portal.services.administrators import lock_company

USER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PHONE = re.compile(r"^[0-9+()./ -]{0,50}$")
EMAIL_FORMAT = _l("Enter an e-mail address in the right format, like name@example.com.")


def user_id_key(user_id: str) -> str:
    """The lookup form of a User ID: NFKC and lowercase, so case and width variants find the same ID."""
    return unicodedata.normalize("NFKC", user_id or "").strip().lower()


_KEYS = {"user_id": ("user_id_key", user_id_key), "email": ("email_key", str.lower),
         "last_name": ("last_name_key", str.lower)}


def with_keys(values: dict) -> dict:
    """The values plus the lowercased lookup columns derived from them (User ID, e-mail, last name)."""
    derived = {_KEYS[name][0]: _KEYS[name][1](value) for name, value in values.items() if name in _KEYS}
    return {**values, **derived}


MAX_YEARS_AHEAD = 10  # the furthest Valid Until; far-future dates are a security risk


def years_later(day: dt.date, years: int) -> dt.date | None:
    """The same day `years` later (28 February for 29 February); None past the calendar's last year."""
    if day.year + years > dt.MAXYEAR:
        return None
    return day.replace(year=day.year + years, day=min(day.day, 28) if (day.month, day.day) == (2, 29) else day.day)


def default_valid_until(today: dt.date) -> dt.date:
    """One year after creation: the Valid Until a new User ID gets."""
    return years_later(today, 1)


def latest_valid_until(today: dt.date) -> dt.date:
    return years_later(today, MAX_YEARS_AHEAD)


def check_valid_until(value: dt.date, today: dt.date) -> None:
    """Valid Until is today or a later day (access ends now by clearing Active) and at most ten years ahead."""
    if value < today:
        raise ServiceError(_("Valid Until must be today or a later date, not a day in the past. To end access now, "
                             "clear Active."), "valid_until")
    if value > latest_valid_until(today):
        raise ServiceError(_("Valid Until can be at most %(years)s years ahead, until %(date)s.",
                             years=MAX_YEARS_AHEAD, date=i18n.day(latest_valid_until(today))), "valid_until")


def _one_bare_address(email: str) -> bool:
    return bool(email) and not any(c in email for c in ",;<>\"\r\n") and not _CONTROL.search(email)


def plain_address(email: str) -> str:
    """One bare address: no display name, no list, nothing that could break out of a mail header.

    The check for every recipient at the moment a mail is written (email_validator's full check took a
    fifth of the lifecycle job's time); addresses are validated and normalized by clean_email when saved."""
    email = (email or "").strip()
    local, _at, domain = email.partition("@")
    if not _one_bare_address(email) or not local or not domain or "@" in domain or " " in email:
        raise ServiceError(_("Enter one e-mail address, such as name@example.com."), "email")
    return email


def clean_email(email: str) -> str:
    """One plain address (no display name, no list), normalized; raises ServiceError otherwise."""
    email = (email or "").strip()
    if not _one_bare_address(email):
        raise ServiceError(_("Enter one e-mail address only, like name@example.com."), "email")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ServiceError(EMAIL_FORMAT, "email") from None


# Whole sentences per kind of name (a translation cannot build "Enter" + "the first name"): missing, too long.
NAME_MESSAGES = {
    "first_name": (_l("Enter the first name."),
                   _l("The first name must be 100 characters or fewer, without line breaks.")),
    "last_name": (_l("Enter the last name."),
                  _l("The last name must be 100 characters or fewer, without line breaks.")),
    "name": (_l("Enter the company name."),
             _l("The company name must be 100 characters or fewer, without line breaks.")),
}


def clean_name(value: str, field: str = "name") -> str:
    """A name as people write it; `field` is the kind of name (NAME_MESSAGES), which the messages name."""
    missing, too_long = NAME_MESSAGES[field]
    value = unicodedata.normalize("NFC", (value or "").strip())
    if not value:
        raise ServiceError(missing, field)
    if len(value) > 100 or _CONTROL.search(value):
        raise ServiceError(too_long, field)
    return value


def clean_first_name(value: str) -> str:
    return clean_name(value, "first_name")


def clean_last_name(value: str) -> str:
    return clean_name(value, "last_name")


def clean_language(value: str | None) -> str | None:
    """One of the languages Portal speaks, or None (empty): the browser's."""
    if not value:
        return None
    if value not in i18n.LANGUAGES:
        raise ServiceError(i18n.CHOOSE_LANGUAGE, "language")
    return value


def clean_time_zone(value: str | None) -> str | None:
    """An IANA time zone (Europe/Berlin), or None (empty): the company's."""
    value = (value or "").strip()
    if not value:
        return None
    if not i18n.is_zone(value):
        raise ServiceError(i18n.CHOOSE_TIME_ZONE, "time_zone")
    return value


def clean_user_id(user_id: str) -> str:
    user_id = (user_id or "").strip()
    if not USER_ID_PATTERN.match(user_id):
        raise ServiceError(_("A User ID has 3 to 64 characters: letters, digits, dots, dashes or underscores, "
                             "starting with a letter or digit, such as j.smith-2."), "user_id")
    return user_id


def clean_phone(phone: str) -> str:
    phone = " ".join((phone or "").split())
    if not _PHONE.match(phone):
        raise ServiceError(_("Enter a phone number with digits, spaces and + ( ) - . / only, such as "
                             "+49 711 123 456."), "phone")
    return phone


def address_holder(company_id: int, email: str, except_user_id: int | None = None) -> User | None:
    """The active user of the company who has this e-mail address (in any case), other than `except_user_id`."""
    query = User.select().where((User.company == company_id) & (User.email_key == email.lower()) & User.active)
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return query.first()


def check_address_free(company_id: int, email: str, except_user_id: int | None = None,
                       name_holder: bool = True) -> None:
    """Accounts are personal: an e-mail address belongs to at most one active user of a company. Call with the
    company locked (administrators.lock_company), so that two changes cannot both take one address."""
    holder = address_holder(company_id, email, except_user_id)
    if holder is not None:
        if name_holder:
            raise ServiceError(_("Accounts are personal: an e-mail address belongs to one active user of a company, "
                                 "and %(name)s (%(user_id)s) already has %(email)s.", name=holder.full_name,
                                 user_id=holder.user_id, email=email), "email")
        raise ServiceError(_("Accounts are personal: an e-mail address belongs to one active user of a company, and "
                             "another active user of your company already has %(email)s.", email=email), "email")


def shared_addresses(company_id: int) -> dict[str, list[User]]:
    """Addresses that several active users of the company share (from before the rule): for the Company
    Administrator to sort out, never changed silently."""
    shared = (User.select(User.email_key).where((User.company == company_id) & User.active)
              .group_by(User.email_key).having(fn.COUNT(User.id) > 1))
    users = (User.select().where((User.company == company_id) & User.active & User.email_key.in_(shared))
             .order_by(User.email_key, User.user_id_key))
    found: dict[str, list[User]] = {}
    for user in users:
        found.setdefault(user.email_key, []).append(user)
    return found


def create_company(name: str, time_zone: str | None = None) -> Company:
    """A new company (names are unique regardless of case), whose users see times in `time_zone` (UTC)."""
    name = clean_name(name, "name")
    time_zone = clean_time_zone(time_zone) or "UTC"
    try:
        with db.atomic():
            company = Company.create(name=name, name_key=name.casefold(), time_zone=time_zone)
            audit.record("company.created", company=company, name=name)
            return company
    except IntegrityError:
        raise ServiceError(_("A company named “%(name)s” already exists.", name=name), "name") from None


def operator_company() -> Company:
    """The operator's own company, where Service Center staff belong (PORTAL_OPERATOR_COMPANY, made once)."""
    name = current_app.config["OPERATOR_COMPANY"]
    return find_company(name) or create_company(name)


def find_company(name: str) -> Company | None:
    return Company.get_or_none(Company.name_key == (name or "").strip().casefold())


def create_user(*, company: Company, user_id: str, email: str, first_name: str, last_name: str,
                role: str = "user", valid_until: dt.date | None = None, active: bool = True,
                password: str | None = None, phone: str = "", actor: User | None = None,
                language: str | None = None) -> User:
    """A new user; without a password the user cannot sign in until one is set. `language`: of their mails
    until they choose on Profile (None: as their browser asks, English for mail)."""
    user_id = clean_user_id(user_id)
    if role not in ROLES:
        raise ServiceError(_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)), "role")
    email = clean_email(email)
    first_name = clean_first_name(first_name)
    last_name = clean_last_name(last_name)
    today = clock.today()
    valid_until = valid_until or default_valid_until(today)
    check_valid_until(valid_until, today)
    user = User(company=company, role=role, active=active, valid_until=valid_until, phone=clean_phone(phone),
                language=clean_language(language),
                **with_keys({"user_id": user_id, "email": email, "first_name": first_name, "last_name": last_name}))
    if password is not None:
        check_password_policy(user, password)
        user.password_hash = passwords.hash_password(password)
    try:
        with db.atomic():
            lock_company(company.id)
            if active:
                check_address_free(company.id, email)
            user.save(force_insert=True)
            audit.record("user.created", subject=user, actor=actor, role=role)
    except IntegrityError:
        raise ServiceError(_("The User ID %(user_id)s is already taken.", user_id=user_id), "user_id") from None
    return user


def password_context(user: User) -> list[str]:
    """Words a password must not be built from."""
    company = Company.get_by_id(user.company_id).name if user.company_id else ""
    return [user.user_id, user.first_name, user.last_name, user.email.split("@")[0], company,
            current_app.config["PRODUCT_NAME"]]


def check_password_policy(user: User, password: str) -> None:
    problem = passwords.policy_problem(password, password_context(user))
    if problem:
        raise ServiceError(problem, "password")


def store_password(user: User, password: str, unblock: bool = False, keep=None, by_link: bool = False) -> None:
    """Store a new hash (the policy is checked by the caller), end the user's other sessions and void their
    outstanding links. `by_link`: set through a mailed link, which pauses mailed recovery of the authenticator."""
    changes = {User.password_hash: passwords.hash_password(password), User.failed_password_count: 0}
    if unblock:
        changes[User.password_blocked_at] = None
    if by_link:
        changes[User.password_set_by_link_at] = clock.now()
    User.update(changes).where(User.id == user.id).execute()
    user.password_hash = changes[User.password_hash]
    sessions.end_all(user, keep=keep)
    links.void_all(user)


def set_password(user: User, password: str) -> User:
    """Set a new password under the policy (CLI and demo); ends every session and lifts a block."""
    check_password_policy(user, password)
    with db.atomic():
        store_password(user, password, unblock=True)
        audit.record("password.set", subject=user)
    return user


def reopen_demo(user: User, password: str) -> User:
    """Make the demo account usable again: new password, Active, Valid Until a year ahead."""
    set_password(user, password)
    User.update(active=True, valid_until=max(user.valid_until, default_valid_until(clock.today()))).where(
        User.id == user.id).execute()
    return user
