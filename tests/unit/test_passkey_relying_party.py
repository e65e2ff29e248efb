"""The relying party of passkeys comes from PORTAL_BASE_URL: its host is the id, and the one accepted origin is
its scheme, host and port as a browser writes it (no default port); an IP address offers no passkeys."""
import pytest

from portal import create_app
from portal.services import passkeys
from tests.conftest import make_config


@pytest.mark.parametrize("base_url, expected", [
    ("https://portal.example.com", ("portal.example.com", "https://portal.example.com")),
    ("https://Portal.Example.com:443/", ("portal.example.com", "https://portal.example.com")),
    ("https://portal.example.com:8443", ("portal.example.com", "https://portal.example.com:8443")),
    ("http://localhost:5000", ("localhost", "http://localhost:5000")),
    ("http://localhost:80", ("localhost", "http://localhost")),
    ("https://exchange.example/portal", ("exchange.example", "https://exchange.example")),
])
def test_relying_party_id_and_origin_come_from_the_base_url(tmp_path, base_url, expected):
    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", BASE_URL=base_url))
    with app.app_context():
        rp = passkeys.relying_party()
        assert (rp.id, rp.origin) == expected and passkeys.available()


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:5000", "https://[::1]:8443", "http://10.0.0.7"])
def test_an_ip_address_offers_no_passkeys(tmp_path, base_url):
    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", BASE_URL=base_url))
    with app.app_context():
        assert passkeys.relying_party() is None and not passkeys.available()
        with pytest.raises(passkeys.ServiceError, match="cannot be used at this address"):
            passkeys.require_relying_party()
