"""Operations: health check, request log lines, key rotation."""
import json
import logging
import re
import threading

from cryptography.fernet import Fernet

from portal.models import Authenticator
from portal.security import crypto
from tests import helpers


def test_healthz_answers_ok_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_the_database(tmp_path, clock):
    from portal import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path}/missing/portal.db"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_each_request_logs_one_line_with_a_request_id_and_no_secrets(client, user, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    response = helpers.enter_password(client)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "portal.request"]
    assert lines[-1]["path"] == "/sign-in" and lines[-1]["status"] == 303
    assert lines[-1]["request_id"] == response.headers["X-Request-ID"]
    assert helpers.PASSWORD not in caplog.text


def test_the_request_log_writes_whole_lines_from_threads_at_once_and_cuts_long_paths(client, tmp_path, caplog):
    from portal.observability import LineHandler, log

    caplog.set_level(logging.INFO, logger="portal.request")
    client.get("/" + "x" * 3000)
    assert len(json.loads(caplog.records[-1].getMessage())["path"]) == 1000
    handler = LineHandler()
    with open(tmp_path / "requests.log", "a") as appended:
        handler.setStream(appended)
        handler.setFormatter(logging.Formatter("%(message)s"))
        lines = [json.dumps({"n": n, "text": "é" * 1500}) for n in range(200)]

        def write(part):
            for line in part:
                handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, line, None, None))
        threads = [threading.Thread(target=write, args=(lines[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    written = (tmp_path / "requests.log").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["n"] for line in written) == list(range(200))


def test_tokens_in_paths_are_redacted_in_the_log(client, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    client.get("/new-password/" + "A" * 43)
    assert "A" * 43 not in caplog.text and "/new-password/[redacted]" in caplog.text


def test_gunicorn_access_lines_keep_their_atoms_and_lose_link_tokens():
    """gunicorn logs its access line with one dict of atoms; a filter must not turn it into something else."""
    from gunicorn.glogging import SafeAtoms

    from portal.web import RedactLinkTokens

    token = "B" * 43
    atoms = SafeAtoms({"r": f"GET /recover/{token} HTTP/1.1", "f": f"https://p.example/new-password/{token}",
                       "s": "200"})
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" %(s)s "%(f)s" "%({x}i)s"',
                               (atoms,), None)
    assert RedactLinkTokens().filter(record)
    line = record.getMessage()
    assert token not in line and "/recover/[redacted]" in line and "/new-password/[redacted]" in line
    assert line.endswith('"-"')  # an atom gunicorn has not got still reads "-"


def test_a_given_request_id_is_kept_if_well_formed(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"] != "bad id!"


def test_rotate_encryption_key_re_encrypts_secrets(app, client, user, runner):
    secret = helpers.enroll(client)
    old_key = app.config["ENCRYPTION_KEY"]
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0 and "Re-encrypted 1 value in authenticators.secret_encrypted" in result.output
    app.config["ENCRYPTION_KEY"] = new_key  # the old key is gone now
    with app.app_context():
        assert crypto.decrypt(Authenticator.get().secret_encrypted) == secret


def test_rotation_with_a_missing_old_key_fails_clearly(app, client, user, runner):
    helpers.enroll(client)
    app.config["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 2 and "could not be decrypted" in result.output


def test_no_log_line_holds_a_link_token_and_development_shows_links_on_the_console(client, user, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    helpers.post_form(client, "/new-password", {"user_id": "jdoe"})
    from portal.models import OutboxMessage
    token = re.search(r"/new-password/([A-Za-z0-9_-]+)", helpers.mail_text(OutboxMessage.get())).group(1)
    assert token not in caplog.text
    console = capfd.readouterr().err
    assert f"Mail to jdoe@acme.example: Portal: your link to set a new password\n  http://portal.example.test/new-password/{token}" in console


def test_the_development_server_logs_each_request_once(app, caplog):
    """Werkzeug's own request line goes: Portal's JSON line says it all."""
    import threading

    from werkzeug.serving import make_server

    caplog.set_level(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    import urllib.request
    urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/healthz").read()
    server.shutdown()
    thread.join(timeout=5)
    lines = [r for r in caplog.records if "/healthz" in r.getMessage()]
    assert [r.name for r in lines] == ["portal.request"]
