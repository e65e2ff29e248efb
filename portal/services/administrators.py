"""A company's Company Administrators: who they are, who of them can help, and the lock that keeps a company
from losing its last one when two changes race."""
from __future__ import annotations

import datetime as dt

from peewee import fn

from portal import clock
from portal.db import Prepared, db
from portal.models import ROLE_COMPANY_ADMIN, ROLE_SERVICE_CENTER, Company, User
from portal.services import NotFound


def condition(today: dt.date):
    """Active Company Administrators whose Valid Until has not passed."""
    return (User.role == ROLE_COMPANY_ADMIN) & User.active & (User.valid_until >= today)


def active(company_id: int, today: dt.date | None = None):
    return (User.select().where((User.company == company_id) & condition(today or clock.today()))
            .order_by(User.user_id_key))


# The "only one Company Administrator" banner of every page of Administration > User asks this.
_COUNT = Prepared(lambda company_id, today: User.select(fn.COUNT(User.id)).where(
    (User.company == company_id) & condition(today)), int, dt.date, tuples=True)


def count(company_id: int) -> int:
    """How many active Company Administrators the company has."""
    return _COUNT.first(company_id, clock.today())[0]


def _can_help(today: dt.date | None):
    """Active, unexpired Company Administrators whose password is not blocked: those who can sign in to reset
    another's password or MFA. The Service Center steps in only when there is none but the person asking."""
    return condition(today or clock.today()) & User.password_blocked_at.is_null()


def who_can_help(company_id: int, today: dt.date | None = None):
    return User.select().where((User.company == company_id) & _can_help(today)).order_by(User.user_id_key)


def who_can_help_in(company_ids: list[int], today: dt.date | None = None):
    """One administrator who can help of each of these companies that has one (for a list of companies)."""
    return User.select(User.company).distinct().where(User.company.in_(company_ids) & _can_help(today))


def is_active(user: User, today: dt.date) -> bool:
    return user.role == ROLE_COMPANY_ADMIN and user.active and user.valid_until >= today


def lock_company(company_id: int) -> None:
    """Inside a transaction: hold the company's row until commit, so that two changes of its administrators
    run one after the other and the second sees the first. SQLite transactions take the database's write lock
    when they begin (portal.db), which serialises them already."""
    if db.for_update:
        Company.select(Company.id).where(Company.id == company_id).for_update().execute()


def check_may_manage(admin: User, target: User, ticket: str | None = None) -> None:
    """A Company Administrator acts on their own company only; the Service Center (with a ticket) on any.
    Service Center staff are managed by nobody here."""
    if target.role == ROLE_SERVICE_CENTER:
        raise NotFound()
    if target.company_id != admin.company_id and not (admin.role == ROLE_SERVICE_CENTER and ticket):
        raise NotFound()
