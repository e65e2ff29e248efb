"""The `portal` command: each command, and bad input giving exit status 2 with nothing changed."""
import pytest

from portal.cli import main
from portal.models import Company, User
from tests import helpers


def run(runner, *args, stdin=None):
    return runner.invoke(args=list(args), input=stdin)


def test_init_db_is_idempotent(runner):
    result = run(runner, "init-db")
    assert result.exit_code == 0 and "up to date" in result.output


def test_create_company_and_user_with_password(runner, clock):
    assert run(runner, "create-company", "Bolt Works").exit_code == 0
    result = run(runner, "create-user", "--company", "bolt works", "--user-id", "bsmith", "--email",
                 "b.smith@bolt.example", "--first-name", "Bob", "--last-name", "Smith", "--role", "company-admin",
                 "--password-stdin", stdin="Quiet-Lantern-Harbor-93\n")
    assert result.exit_code == 0, result.output
    user = User.get(User.user_id == "bsmith")
    assert user.role == "company-admin" and user.password_hash.startswith("$argon2id$")
    assert user.active and str(user.valid_until) == "2027-03-16"


def test_create_user_without_password_stdin_has_no_password(runner, company):
    result = run(runner, "create-user", "--company", company.name, "--user-id", "nopw", "--email", "n@acme.example",
                 "--first-name", "N", "--last-name", "P", "--valid-until", "2030-01-31", "--inactive")
    assert result.exit_code == 0, result.output
    user = User.get(User.user_id == "nopw")
    assert user.password_hash is None and not user.active and str(user.valid_until) == "2030-01-31"


BASE = ["create-user", "--company", "ACME Components", "--user-id", "newone", "--email", "new@acme.example",
        "--first-name", "New", "--last-name", "One"]


def replace(args, option, value):
    args = list(args)
    args[args.index(option) + 1] = value
    return args


@pytest.mark.parametrize("args,stdin,message", [
    (replace(BASE, "--company", "Nowhere Ltd"), None, "no company named"),
    (replace(BASE, "--user-id", "jdoe"), None, "already taken"),
    (replace(BASE, "--user-id", "JDOE"), None, "already taken"),
    (replace(BASE, "--email", "not-an-address"), None, "in the right format, like name@example.com"),
    (replace(BASE, "--email", "a@x.example, b@y.example"), None, "one e-mail address"),
    (replace(BASE, "--email", "Eve <eve@x.example>"), None, "one e-mail address"),
    (BASE + ["--password-stdin"], "password\n", "too easy to guess"),
    (BASE + ["--password-stdin"], "", "no password"),
    (BASE + ["--valid-until", "31.12.2027"], None, "--valid-until must be a date written YYYY-MM-DD"),
    (["lifecycle", "run", "--today", "2027-02-30"], None, "--today must be a date written YYYY-MM-DD"),
    (BASE + ["--valid-until", "2020-01-01"], None, "in the past"),
    (replace(BASE, "--user-id", "a b"), None, "User ID"),
    (replace(BASE, "--first-name", " "), None, "Enter the first name"),
])
def test_bad_input_exits_2_with_one_sentence_and_changes_nothing(runner, user, args, stdin, message):
    before = User.select().count()
    result = run(runner, *args, stdin=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert User.select().count() == before


def test_duplicate_company_exits_2(runner, company):
    result = run(runner, "create-company", "acme components")
    assert result.exit_code == 2 and "already exists" in result.output
    assert Company.select().count() == 1


def test_unknown_role_exits_2(runner, company):
    result = run(runner, *BASE, "--role", "root")
    assert result.exit_code == 2


def test_demo_prints_how_to_sign_in_and_the_password_works(runner, client):
    result = run(runner, "demo")
    assert result.exit_code == 0, result.output
    assert "User ID:  demo-admin" in result.output and "/sign-in" in result.output
    password = result.output.split("Password: ")[1].split()[0]
    response = helpers.enter_password(client, "demo-admin", password)
    assert response.headers["Location"] == "/sign-in/enroll"
    assert User.get(User.user_id == "demo-admin").role == "company-admin"


def test_demo_again_sets_a_new_password(runner):
    first = run(runner, "demo").output.split("Password: ")[1].split()[0]
    second = run(runner, "demo")
    assert second.exit_code == 0
    assert second.output.split("Password: ")[1].split()[0] != first
    assert User.select().where(User.user_id == "demo-admin").count() == 1


def test_demo_is_refused_in_production(app, runner):
    app.config["ENV"] = "production"
    result = run(runner, "demo")
    assert result.exit_code == 2 and "production" in result.output


def test_console_script_reports_bad_configuration_as_exit_2(monkeypatch, tmp_path):
    from click.testing import CliRunner

    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 2 and "PORTAL_SECRET_KEY" in result.output


def test_service_center_staff_belong_to_the_operators_company_without_guessing(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0  # makes the operator's company
    result = runner.invoke(args=["create-user", "--role", "service-center", "--user-id", "helpdesk", "--email",
                                 "help@operator.example", "--first-name", "Hal", "--last-name", "Help"])
    assert result.exit_code == 0, result.output
    assert "in Service Center" in result.output
    result = runner.invoke(args=["create-user", "--company", "Service Center", "--role", "service-center",
                                 "--user-id", "helpdesk2", "--email", "help2@operator.example", "--first-name", "H",
                                 "--last-name", "Two"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-user", "--user-id", "nocompany", "--email", "n@x.example",
                                 "--first-name", "N", "--last-name", "C"])
    assert result.exit_code == 2 and "--company is needed" in result.output
