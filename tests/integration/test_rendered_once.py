"""Parts of pages written once for many requests (the signed-in menus, most people's Home) or outside Jinja (the
rows of the user list) still show each person their own: name, CSRF token, role, language, and every value escaped."""
import datetime as dt
import re

import pytest

from portal import clock as portal_clock
from portal.models import User
from tests import helpers

ODD = 'Zoë <b>&"\''


def test_the_menus_show_each_person_their_own_name_role_language_and_token(app, company):
    helpers.make_user(company, "boss", role="company-admin", first_name=ODD, last_name="Boss")
    helpers.make_user(company, "walt", first_name="Walt", last_name="Worker", language="de")
    boss, walt = app.test_client(), app.test_client()
    helpers.enroll(boss, "boss")
    helpers.enroll(walt, "walt")
    for _round in range(2):  # the second time from what was kept
        mine, theirs = boss.get("/").data.decode(), walt.get("/").data.decode()
        assert '<span class="who">Zoë &lt;b&gt;&amp;&#34;&#39; Boss (boss)</span>' in mine
        assert '<span class="who">Walt Worker (walt)</span>' in theirs
        assert 'href="/admin/users">Administration</a>' in mine and "/admin/users" not in theirs
        assert ">Abmelden</button>" in theirs and ">Sign out</button>" in mine
    tokens = set()
    for client in (boss, walt):
        page = client.get("/profile").data.decode()
        menu_token = re.search(r'<form method="post" action="/sign-out" class="inline">\s*'
                               r'<input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
        tokens.add(menu_token)
        assert client.post("/sign-out", data={"csrf_token": menu_token}).status_code == 303
        assert client.get("/").headers["Location"].startswith("/sign-in")  # signed out by the menu's own form
    assert len(tokens) == 2


def test_home_shows_each_person_their_own_details_and_token(app, company, clock):
    other = helpers.make_company('Roe & <Sons> "GmbH"')
    today = clock().date()
    ann = helpers.make_user(company, "ann", first_name=ODD, last_name="Ash", valid_until=today + dt.timedelta(days=400))
    bob = helpers.make_user(other, "bob", first_name="Bob", last_name="Roe", valid_until=today + dt.timedelta(days=500))
    clients = {ann: app.test_client(), bob: app.test_client()}
    for user, client in clients.items():
        helpers.enroll(client, user.user_id)
    seen = {}
    for _round in range(3):  # the first page shows a flashed message; the others come from what was kept
        for user, client in clients.items():
            seen.setdefault(user, []).append(client.get("/").data.decode())
    ann_page, bob_page = seen[ann][-1], seen[bob][-1]
    assert "Welcome, Zoë &lt;b&gt;&amp;&#34;&#39;</h1>" in ann_page and "Welcome, Bob</h1>" in bob_page
    assert "<dd>Zoë &lt;b&gt;&amp;&#34;&#39; Ash</dd>" in ann_page and "<dd>ann</dd>" in ann_page
    assert "<dd>Roe &amp; &lt;Sons&gt; &#34;GmbH&#34;</dd>" in bob_page
    assert "the users of Roe &amp; &lt;Sons&gt;" in bob_page
    for user, page in ((ann, ann_page), (bob, bob_page)):
        assert f"<dd>{helpers.shown(user.valid_until)}</dd>" in page
    assert "ann" not in helpers.without_csrf(bob_page) and "Bob" not in helpers.without_csrf(ann_page)
    assert seen[ann][1] == seen[ann][2].replace(helpers.csrf_token(seen[ann][2]), helpers.csrf_token(seen[ann][1]))
    for user, client in clients.items():
        page = seen[user][-1]
        assert "rendered-" not in page and "<b>" not in page
        tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"', page))
        tokens = {form or htmx for form, htmx in tokens}
        assert len(tokens) == 1  # the page's forms and htmx all carry this browser's token
        assert client.post("/sign-out", data={"csrf_token": tokens.pop()}).status_code == 303
        assert client.get("/").headers["Location"].startswith("/sign-in")


def test_the_user_lists_first_page_kept_is_the_page_rendered_anew_with_each_company_its_own_rows(app, company):
    helpers.make_user(company, "boss", role="company-admin", language="de")
    helpers.make_user(company, "walt", last_name="<Walt>")
    other = helpers.make_company("Other Works")
    for user_id in ("chief", "deputy"):
        helpers.make_user(other, user_id, role="company-admin")
    boss, chief = app.test_client(), app.test_client()
    helpers.enroll(boss, "boss")
    helpers.enroll(chief, "chief")
    pages = {}
    for client in (boss, chief, boss, chief):  # the first page of each is rendered, the second comes from what was kept
        client.get("/")  # the flashed message of the first sign-in is shown there
        kept, anew = client.get("/admin/users"), client.get("/admin/users?page=1")
        assert kept.headers["Vary"] == anew.headers["Vary"]
        pages[client] = kept.data.decode()
        assert helpers.without_csrf(pages[client]) == helpers.without_csrf(anew.data)
    assert "walt" in pages[boss] and "&lt;Walt&gt;" in pages[boss] and "Benutzerkennung" in pages[boss]
    assert "walt" not in helpers.without_csrf(pages[chief]) and "deputy" in pages[chief]
    assert 'class="notice notice-info"' in pages[boss] and 'class="notice notice-info"' not in pages[chief]
    bulk_form = re.search(r'<form method="post" action="/admin/users/[^"]+">(<input[^>]+>)', pages[boss]).group(1)
    assert f'value="{helpers.csrf_token(pages[boss])}"' in bulk_form  # the bulk action's form: this browser's token


def test_the_user_list_writes_each_row_escaped_linked_and_in_the_readers_language(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", language="de")
    odd = helpers.make_user(company, "o.dd-1_x", first_name=ODD, last_name="<Roe>", email="o&dd@acme.example")
    client = app.test_client()
    helpers.enroll(client, "boss")
    with helpers.context():
        User.update(active=False).where(User.id == odd.id).execute()
        User.update(last_sign_in_at=dt.datetime(2026, 3, 16, 23, 30),
                    time_zone="Europe/Berlin").where(User.user_id == "boss").execute()
        valid_until = User.get(User.user_id == "boss").valid_until
    page = client.get("/admin/users").data.decode()
    row = re.search(r'<tr><td><input[^>]+value="o.dd-1_x"[^>]*></td>.*?</tr>', page, re.S).group(0)
    assert 'aria-label="o.dd-1_x auswählen"' in row
    assert '<a href="/admin/users/o.dd-1_x">o.dd-1_x</a>' in row
    assert "<td>Zoë &lt;b&gt;&amp;&#34;&#39; &lt;Roe&gt;</td><td>o&amp;dd@acme.example</td>" in row
    assert "<td>Inaktiv</td>" in row and "<td>nie</td>" in row
    assert "<b>" not in row and "<Roe>" not in row
    boss_row = re.search(r'<tr><td><input[^>]+value="boss"[^>]*></td>.*?</tr>', page, re.S).group(0)
    assert "<td>Aktiv</td>" in boss_row and "<td>17.03.2026</td>" in boss_row  # 23:30 UTC is the 17th in Berlin
    assert helpers.submit(client, "/admin/users/o.dd-1_x").status_code in (200, 303)  # the link leads to it
    assert f"<td>{_german_day(valid_until)}</td>" in boss_row  # Valid Until in German


def test_a_row_kept_is_written_again_when_what_it_shows_or_how_changes(app, company, clock):
    boss = helpers.make_user(company, "boss", role="company-admin", language="de")
    walt = helpers.make_user(company, "walt", valid_until=portal_clock.today() + dt.timedelta(days=1))
    with helpers.context():
        User.update(time_zone="Europe/Berlin").where(User.id == boss.id).execute()
    client = app.test_client()
    helpers.enroll(client, "boss")

    def walt_row() -> str:
        page = client.get("/admin/users").data.decode()
        return re.search(r'<tr><td><input[^>]+value="walt"[^>]*></td>.*?</tr>', page, re.S).group(0)

    assert "<td>Aktiv</td>" in walt_row() and "<td>Jane Doe</td>" in walt_row()
    with helpers.context():
        User.update(first_name="Walter", last_sign_in_at=dt.datetime(2026, 3, 16, 23, 30)).where(
            User.id == walt.id).execute()
    assert "<td>Walter Doe</td>" in walt_row() and "<td>17.03.2026</td>" in walt_row()  # in Berlin
    with helpers.context():
        User.update(time_zone="America/New_York").where(User.id == boss.id).execute()
    assert "<td>16.03.2026</td>" in walt_row()  # the reader's zone is part of how a row is written
    with helpers.context():
        User.update(language="fr").where(User.id == boss.id).execute()
    assert "<td>Actif</td>" in walt_row()
    with app.test_request_context("/admin/users"):  # the same row on a later day: Valid Until has passed
        from portal import user_rows
        from portal.services import user_search

        rows = [row for row in user_search.search(company.id).rows if row.user_id == "walt"]
        assert "<td>Active</td>" in user_rows.table_rows(rows, "admin.user_details", selectable=True)
        clock.advance(days=2)
        assert "<td>Expired</td>" in user_rows.table_rows(rows, "admin.user_details", selectable=True)


def _german_day(day: dt.date) -> str:
    from babel.dates import format_date

    return format_date(day, "medium", locale="de")


def test_a_part_rendered_inside_another_leaves_its_marks_to_it_and_no_mark_goes_unfilled(app):
    from portal import rendered

    def menus():
        return rendered.once(("inner",), lambda: f"<nav>{rendered.mark('who')} {rendered.mark('csrf')}</nav>",
                             {"who": "never used"})

    with app.test_request_context("/"):
        page = rendered.once(("outer",), lambda: f"<h1>{rendered.mark('name')}さん</h1>{menus()}",
                             {"name": "<Ann>", "who": "Ann & Co"})  # a translation may write letters after a mark
        token = str(page).rsplit(" ", 1)[1].removesuffix("</nav>")
        assert page == f"<h1>&lt;Ann&gt;さん</h1><nav>Ann &amp; Co {token}</nav>" and "rendered-" not in token
        assert menus() == f"<nav>never used {token}</nav>"  # alone, it fills its own
        with pytest.raises(KeyError):
            rendered.once(("outer",), lambda: "", {"name": "Ann"})  # the menus' name is missing


def test_the_token_filled_in_is_the_one_flask_wtf_makes_and_it_is_accepted(app):
    from flask import g, session
    from flask_wtf.csrf import generate_csrf, validate_csrf

    from portal import rendered

    with app.test_request_context("/"):
        ours = rendered.csrf_token()  # a new browser: the session's token is made too
        assert generate_csrf() == ours  # every form of the request carries it
        validate_csrf(ours)  # raises when refused
        g.pop("csrf_token")
        theirs = generate_csrf()
        g.pop("csrf_token")
        again = rendered.csrf_token()
        signed_at = lambda token: token.split(".")[1]  # noqa: E731
        if signed_at(theirs) == signed_at(again):  # signed within the same second: the very same token
            assert theirs == again
        assert rendered._signer(app.secret_key).loads(again) == session["csrf_token"]
