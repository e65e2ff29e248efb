"""TOTP rules: RFC 6238 vectors through our wrapper, the drift window, code shapes, key URI."""
import base64
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from portal.security import totp

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# RFC 6238 Appendix B, SHA1, 8 digits; our 6-digit code is the same value modulo 10^6.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize("timestamp,expected", RFC_VECTORS)
def test_rfc6238_appendix_b_vectors(timestamp, expected):
    assert RFC_SECRET == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp.code_at(RFC_SECRET, timestamp) == expected[-6:]


@pytest.mark.parametrize("timestamp,expected", RFC_VECTORS)
def test_rfc_vector_codes_match_their_own_step(timestamp, expected):
    assert totp.match_step(RFC_SECRET, expected[-6:], timestamp) == timestamp // 30


def test_codes_one_step_either_side_are_accepted():
    now = 1_800_000_015
    for offset in (-1, 0, 1):
        code = totp.code_at(RFC_SECRET, now + offset * 30)
        assert totp.match_step(RFC_SECRET, code, now) == now // 30 + offset


def test_codes_two_steps_away_are_refused():
    now = 1_800_000_015
    for offset in (-2, 2, 10):
        code = totp.code_at(RFC_SECRET, now + offset * 30)
        assert totp.match_step(RFC_SECRET, code, now) is None


@pytest.mark.parametrize("typed", ["123 456", " 123456 ", "123-456"])
def test_spaces_and_dash_in_a_typed_code_are_ignored(typed):
    assert totp.normalize_code(typed) == "123456"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12345\u0661", "１２３４５６"])
def test_malformed_codes_never_match(code):
    assert totp.match_step(RFC_SECRET, code, 1_800_000_000) is None


def test_new_secret_has_160_bits_and_differs_each_time():
    secrets = {totp.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret) == 32 and len(base64.b32decode(secret)) == 20


def test_provisioning_uri_names_issuer_and_user_id_only():
    uri = totp.provisioning_uri(RFC_SECRET, "jdoe", "Portal")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Portal:jdoe"
    query = parse_qs(parts.query)
    assert query["secret"] == [RFC_SECRET]
    assert query["issuer"] == ["Portal"]
    assert "=" not in query["secret"][0]
    assert query.get("digits", ["6"]) == ["6"] and query.get("period", ["30"]) == ["30"]
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]


def test_key_is_shown_in_groups_of_four():
    assert totp.grouped("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"
