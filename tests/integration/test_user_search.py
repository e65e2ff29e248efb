"""user_search.search: every page, for every sort and filter, holds exactly the users a plain scan would list."""
import datetime as dt
import random

import pytest

from portal import pagination
from portal.db import Prepared
from portal.models import Authenticator, User
from portal.services import user_search
from tests import helpers

EPOCH = dt.datetime(2000, 1, 1)
LAST_NAMES = ("Kaiser", "Kahn", "Müller", "Mulder", "Kowalski", "Adams")


@pytest.fixture
def people(app, company, clock, monkeypatch):
    """Users whose User ID, last name and e-mail match the same prefixes in different ways, in two companies."""
    monkeypatch.setattr(pagination, "PAGE_SIZE", 4)  # many pages from few users
    rng = random.Random(3)
    other = helpers.make_company("Other Parts")
    today = clock.current.date()
    with helpers.context():
        for n in range(36):
            prefix = rng.choice(("ka", "kai", "mu", "x", "mull"))
            user = helpers.make_user(other if n % 5 == 0 else company, f"{prefix}{n:02d}", password=None,
                                     last_name=rng.choice(LAST_NAMES),
                                     email=f"{rng.choice(('kai', 'anna', 'mu'))}{n}@acme.example")
            signed_in = None if n % 4 == 0 else clock.current - dt.timedelta(days=rng.randint(0, 400))
            User.update(last_sign_in_at=signed_in, active=n % 7 != 0,
                        valid_until=today + dt.timedelta(days=rng.randint(-30, 60))).where(User.id == user.id).execute()
    return company, other


def expected(company_id, prefix, filter_name, sort, today):
    """The users a full scan finds, in the order the page promises."""
    users = [u for u in User.select() if company_id is None or u.company_id == company_id]
    if prefix:
        users = [u for u in users if any(k.startswith(prefix) for k in (u.user_id_key, u.last_name_key, u.email_key))]
    keep = {"": lambda u: True, "active": lambda u: u.active and u.valid_until >= today,
            "inactive": lambda u: not u.active,
            "expiring": lambda u: u.active and today <= u.valid_until <= today + dt.timedelta(days=30)}[filter_name]
    order = {"user_id": lambda u: (u.user_id_key,),
             "last_name": lambda u: (u.last_name_key.encode(), u.user_id_key),
             "valid_until": lambda u: (u.valid_until, u.user_id_key),
             "last_sign_in": lambda u: (u.last_sign_in_at is None,  # newest first, never signed in last
                                        u.last_sign_in_at and -(u.last_sign_in_at - EPOCH).total_seconds(),
                                        u.user_id_key)}[sort]
    return [u.user_id for u in sorted(filter(keep, users), key=order)]


def every_page(company_id, prefix, filter_name, sort):
    found, page = [], 1
    while True:
        result = user_search.search(company_id, prefix, filter_name, sort, page)
        found += [u.user_id for u in result.rows]
        if not result.has_next:
            return found, page
        page += 1


@pytest.mark.parametrize("sort", sorted(user_search.SORTS))
@pytest.mark.parametrize("filter_name", ["", "active", "inactive", "expiring"])
def test_pages_hold_exactly_the_matching_users_in_order(people, clock, sort, filter_name):
    company, _other = people
    today = clock.current.date()
    with helpers.context():
        for company_id in (company.id, None):
            for prefix in ("", "k", "ka", "kai", "mu", "mü", "MÜLL", "anna", "zz"):
                found, pages = every_page(company_id, prefix, filter_name, sort)
                want = expected(company_id, prefix.lower(), filter_name, sort, today)
                assert found == want, (company_id, prefix)
                assert pages == max(1, -(-len(want) // 4))


def test_a_user_matching_on_several_keys_is_listed_once(app, company):
    helpers.make_user(company, "kai", password=None, last_name="Kaiser", email="kai@acme.example")
    with helpers.context():
        assert [u.user_id for u in user_search.search(company.id, "kai").rows] == ["kai"]


@pytest.mark.parametrize("filter_name", sorted(user_search.FILTERS))
def test_compiled_searches_read_what_peewee_reads_with_the_values_written_in(people, clock, filter_name, monkeypatch):
    """Each search's SQL is built once with marks for its values (db.Prepared); the rows are those of the same
    query built by peewee with the values themselves, for every filter, sort, prefix and page."""
    company, _other = people
    with helpers.context():
        User.update(password_blocked_at=clock.current).where(User.user_id.startswith("ka")).execute()
        User.update(activity_at=clock.current - dt.timedelta(days=400)).where(User.user_id.startswith("mu")).execute()
        Authenticator.create(user=User.select().order_by(User.id).first(), device_name="p", secret_encrypted="x")
        shapes = [(company_id, prefix, sort, page) for company_id in (company.id, None) for prefix in ("", "k", "zz")
                  for sort in sorted(user_search.SORTS) for page in (1, 2)]
        compiled = [user_search.search(c, p, filter_name, s, n).rows for c, p, s, n in shapes]
        monkeypatch.setattr(Prepared, "rows", lambda self, *values: list(self._build(*values).tuples()))
        assert compiled == [user_search.search(c, p, filter_name, s, n).rows for c, p, s, n in shapes]
        assert any(compiled)  # the people match every filter somewhere
