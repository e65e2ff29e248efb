"""Password rules: argon2id storage and the policy (length, common passwords, context words)."""
import pytest
from argon2 import PasswordHasher

from portal.security import passwords


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def test_hash_is_argon2id_and_verifies(ctx):
    stored = passwords.hash_password("Quiet-Lantern-Harbor-93")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "Quiet-Lantern-Harbor-93")
    assert not passwords.verify_password(stored, "Quiet-Lantern-Harbor-94")


def test_unknown_user_costs_a_verification_and_fails(ctx):
    assert passwords.verify_password(None, "anything") is False


def test_garbage_hash_does_not_raise(ctx):
    assert passwords.verify_password("not-a-hash", "anything") is False


def test_equivalent_unicode_forms_are_the_same_password(ctx):
    composed, decomposed = "Caf\u00e9-Lantern-Harbor", "Cafe\u0301-Lantern-Harbor"
    assert passwords.verify_password(passwords.hash_password(composed), decomposed)


def test_production_parameters_are_argon2_cffi_defaults(app):
    defaults = PasswordHasher()
    from portal.config import DEFAULTS
    assert (DEFAULTS["ARGON2_TIME_COST"], DEFAULTS["ARGON2_MEMORY_COST"], DEFAULTS["ARGON2_PARALLELISM"]) == (
        defaults.time_cost, defaults.memory_cost, defaults.parallelism)


def test_hash_made_with_other_parameters_needs_rehash(ctx):
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash("x")
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password("x"))


CONTEXT = ["jdoe", "Jane", "Doe", "ACME Components", "Portal"]


@pytest.mark.parametrize("password,reason", [
    ("short1!", "at least 8 characters"),
    ("password", "too easy to guess"),
    ("12345678", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("jdoe2026!", "User ID, your name, your company"),
    ("ACMEComponents1", "User ID, your name, your company"),
    ("Portal2026!", "too easy to guess"),
    # zxcvbn scores these 3 or 4; context words and breach lists refuse them whatever the score:
    ("ACME Components Portal", "built from your User ID"),  # the company plus the product
    ("AcmeComponents2024!", "built from your User ID"),
    ("Jane Doe Portal 77", "built from your User ID"),
    ("Sommer2024!", "a common word or password with digits or symbols added"),
    ("correcthorsebatterystaple", "most common passwords in data breaches"),
    ("iloveyou2much", "most common passwords in data breaches"),  # from the breach list of 10+ characters
])
def test_weak_passwords_are_refused_with_a_reason(ctx, password, reason):
    problem = passwords.policy_problem(password, CONTEXT)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("password", [
    "Quiet-Lantern-Harbor-93",
    "correct horse battery staple tango",
    "Zürich-Ölberg-Straße-71",  # Unicode is counted per code point and allowed
    "x7#Lq2!vR9",
    "a" * 10 + "Quiet-Lantern-Harbor-93" * 40,  # about 1,000 characters: allowed, never truncated
])
def test_strong_passwords_are_accepted(ctx, password):
    assert passwords.policy_problem(password, CONTEXT) is None


def test_long_password_is_not_truncated(ctx):
    long_password = "Quiet-Lantern-Harbor-93" * 40
    stored = passwords.hash_password(long_password)
    assert not passwords.verify_password(stored, long_password[:-1])
    assert passwords.verify_password(stored, long_password)


def test_password_over_the_maximum_is_refused(ctx):
    assert "at most 1024" in passwords.policy_problem("Ab3-" * 300, CONTEXT)


def test_no_composition_rules(ctx):
    # Only lowercase letters and spaces, but long and uncommon: fine (NIST 800-63B, no composition rules).
    assert passwords.policy_problem("purple elephants juggle quietly", CONTEXT) is None
