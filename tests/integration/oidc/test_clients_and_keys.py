"""`portal client` and the signing keys: what the operator types, what is refused (one sentence, exit 2), what
is stored (hashes), where the keys live (mode 0600, or PORTAL_OIDC_SIGNING_KEY)."""
import json
import os
import re
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal import create_app
from portal.config import ConfigError
from portal.models import AuditEvent
from portal.models_oidc import Client
from portal.security.tokens import hash_token
from portal.services import oidc_clients, signing_keys
from tests import helpers
from tests.conftest import make_config


def create(runner, *args):
    return runner.invoke(args=["client", "create", "Data Sheets", *args])


def test_create_prints_the_id_and_the_secret_once_and_stores_its_hash(runner):
    result = create(runner, "--redirect-uri", "https://sheets.example/callback")
    assert result.exit_code == 0, result.output
    client = Client.get()
    secret = result.output.split("client_secret:")[1].split()[0]
    assert client.client_id in result.output and client.secret_hash == hash_token(secret)
    assert secret not in json.dumps(client.__data__, default=str)
    assert secret not in runner.invoke(args=["client", "list"]).output
    assert AuditEvent.select().where(AuditEvent.event == "oidc.client_created").count() == 1


def test_public_client_has_no_secret(runner):
    result = create(runner, "--public", "--redirect-uri", "http://127.0.0.1:8080/callback")
    assert result.exit_code == 0 and "client_secret" not in result.output and Client.get().public


@pytest.mark.parametrize("uri,why", [
    ("https://sheets.example/callback#top", "fragment"),
    ("http://sheets.example/callback", "loopback"),
    ("https://*.sheets.example/callback", "wildcard"),
    ("https://sheets.example/*", "wildcard"),
    ("sheets.example/callback", "absolute https"),
    ("javascript:alert(1)", "absolute https"),
    ("https://user:pw@sheets.example/callback", "user name"),
    ("https://sheets.example:99999/callback", "not a valid address"),
])
def test_bad_redirect_uris_are_refused_with_one_sentence(runner, uri, why):
    result = create(runner, "--redirect-uri", uri)
    assert result.exit_code == 2 and why in result.output and "Traceback" not in result.output
    assert Client.select().count() == 0


def test_bad_logout_uris_are_refused_too(runner):
    result = create(runner, "--redirect-uri", "https://sheets.example/cb", "--backchannel-logout-uri",
                    "http://sheets.example/logout")
    assert result.exit_code == 2 and "back-channel logout URI" in result.output
    result = create(runner, "--redirect-uri", "https://sheets.example/cb", "--post-logout-redirect-uri",
                    "https://sheets.example/#x")
    assert result.exit_code == 2 and "post-logout redirect URI" in result.output


def test_loopback_http_is_allowed_for_development(runner):
    for uri in ("http://127.0.0.1:5001/callback", "http://localhost:5001/callback", "http://[::1]:5001/callback"):
        assert create(runner, "--redirect-uri", uri).exit_code == 0, uri


def test_list_and_delete(runner):
    create(runner, "--redirect-uri", "https://sheets.example/callback", "--first-party")
    client_id = Client.get().client_id
    listed = runner.invoke(args=["client", "list"]).output
    assert client_id in listed and "first-party" in listed and "https://sheets.example/callback" in listed
    assert runner.invoke(args=["client", "delete", client_id]).exit_code == 0
    assert Client.select().count() == 0
    unknown = runner.invoke(args=["client", "delete", client_id])
    assert unknown.exit_code == 2 and "no application" in unknown.output


def test_signing_key_file_is_made_once_with_mode_0600(app):
    with helpers.context():
        first = signing_keys.keys().signing.kid
        assert signing_keys.keys().signing.kid == first
    path = os.path.join(app.instance_path, signing_keys.FILE_NAME)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [name for name in os.listdir(app.instance_path) if name.startswith(".signing-")]


def test_published_keys_are_public_only(app):
    with helpers.context():
        published = signing_keys.jwks()["keys"]
    assert published and all(set(k) <= {"kty", "n", "e", "kid", "use", "alg"} for k in published)


def _pem(bits=2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_signing_key_from_the_setting(app, runner):
    new, old = _pem(), _pem()
    app.config["OIDC_SIGNING_KEY"] = new + "\n" + old
    with helpers.context():
        keys = signing_keys.keys()
    assert len(keys.published.keys) == 2 and keys.signing.kid == keys.published.keys[0].kid
    assert not os.path.exists(os.path.join(app.instance_path, signing_keys.FILE_NAME))
    result = runner.invoke(args=["rotate-signing-key"])
    assert result.exit_code == 2 and "PORTAL_OIDC_SIGNING_KEY" in result.output


@pytest.mark.parametrize("value", ["not a key", _pem(1024)], ids=["garbage", "1024 bits"])
def test_a_weak_or_broken_key_setting_stops_the_start(tmp_path, value):
    with pytest.raises(ConfigError, match="at least 2048 bits"):
        create_app(make_config(tmp_path, "sqlite:///" + str(tmp_path / "p.db"), OIDC_SIGNING_KEY=value))


def test_client_ids_are_safe_on_a_command_line(app):
    with helpers.context():
        ids = [oidc_clients.create_client(f"App {n}", ["https://app.example/cb"]).client.client_id for n in range(40)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", client_id) for client_id in ids) and len(set(ids)) == 40
