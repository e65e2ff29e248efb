"""A company's Company Administrators: who they are, who of them can help, and the lock that keeps a company
from losing its last one when two changes race."""
from __future__ import annotations

import datetime as dt

from portal import clock
from portal.db import db
from portal.models import ROLE_COMPANY_ADMIN, Company, User


def condition(today: dt.date):
    """Active Company Administrators whose Valid Until has not passed."""
    return (User.role == ROLE_COMPANY_ADMIN) & User.active & (User.valid_until >= today)


def active(company_id: int, today: dt.date | None = None):
    return (User.select().where((User.company == company_id) & condition(today or clock.today()))
            .order_by(User.user_id_key))


def who_can_help(company_id: int, today: dt.date | None = None):
    """Active, unexpired Company Administrators whose password is not blocked: those who can sign in to reset
    another's password or MFA. The Service Center steps in only when there is none but the person asking."""
    return active(company_id, today).where(User.password_blocked_at.is_null())


def is_active(user: User, today: dt.date) -> bool:
    return user.role == ROLE_COMPANY_ADMIN and user.active and user.valid_until >= today


def lock_company(company_id: int) -> None:
    """Inside a transaction: hold the company's row until commit, so that two changes of its administrators
    run one after the other and the second sees the first. SQLite transactions take the database's write lock
    when they begin (portal.db), which serialises them already."""
    if db.for_update:
        Company.select(Company.id).where(Company.id == company_id).for_update().execute()
