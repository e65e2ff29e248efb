"""Parts of pages written once for many requests (the signed-in menus) or outside Jinja (the rows of the user
list) still show each person their own: name, CSRF token, role, language, and every value escaped."""
import datetime as dt
import re

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


def _german_day(day: dt.date) -> str:
    from babel.dates import format_date

    return format_date(day, "medium", locale="de")
