"""A software passkey for tests: what a browser and an authenticator answer to WebAuthn options (the JSON of
@simplewebauthn/browser), made with cbor2 and cryptography, so that tests can also answer wrongly on purpose
(another origin, a counter that goes backwards, no user verification). Chromium's virtual authenticator plays
the real one in tests/browser/test_passkeys.py."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40  # authenticator data flags


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    """One credential (P-256, ES256) on one software authenticator, kept for one relying party."""

    def __init__(self, origin: str = "http://portal.example.test", synced: bool = False):
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.sign_count = 0
        self.synced = synced
        self.user_handle: str | None = None
        self.rp_id: str | None = None

    @property
    def id(self) -> str:
        return b64(self.credential_id)

    def registered_as(self, user_handle: str) -> dict:
        """The Passkey columns a registration of this key would have stored (for tests that skip the pages)."""
        self.user_handle = user_handle
        return {"credential_id": self.id, "public_key": b64(self._cose_key()), "user_handle": user_handle,
                "synced": self.synced}

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _flags(self, verified: bool, attested: bool = False) -> int:
        return UP | (UV if verified else 0) | (BE | BS if self.synced else 0) | (AT if attested else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: str | dict, origin: str | None = None, verified: bool = True) -> str:
        """The answer to navigator.credentials.create() with these options (JSON), as JSON."""
        options = json.loads(options) if isinstance(options, (str, bytes)) else options
        self.rp_id, self.user_handle = options["rp"]["id"], options["user"]["id"]
        attested = (b"\x00" * 16 + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                    + self._cose_key())
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([self._flags(verified, attested=True)])
                     + self.sign_count.to_bytes(4, "big") + attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
            "response": {"clientDataJSON": b64(self._client_data("webauthn.create", options["challenge"], origin)),
                         "attestationObject": b64(attestation), "transports": ["internal"]}})

    def get(self, options: str | dict, origin: str | None = None, verified: bool = True,
            counter: int | None = None, user_handle: bool = True) -> str:
        """The answer to navigator.credentials.get() with these options (JSON), as JSON; the counter goes up by
        one unless given."""
        options = json.loads(options) if isinstance(options, (str, bytes)) else options
        self.sign_count = self.sign_count + 1 if counter is None else counter
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest() + bytes([self._flags(verified)])
                     + self.sign_count.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                    "signature": b64(signature)}
        if user_handle and self.user_handle:
            response["userHandle"] = self.user_handle
        return json.dumps({"id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
                           "authenticatorAttachment": "platform", "response": response})
