"""The provider's signing keys (RS256): generated into the instance folder (mode 0600) or given in
PORTAL_OIDC_SIGNING_KEY; rotation publishes the new key beside the old one, signs with the new one at once,
and retires the old one once no token it signed can still be valid.

The key file is JSON: {"keys": [{"jwk": {private JWK}, "retire_at": null | ISO time}, ...]}, newest first.
Each process reads it again when the file changes, so `portal rotate-signing-key` reaches every worker."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from joserfc.jwk import KeySet, RSAKey

from portal import clock
from portal.services import ServiceError

ALG = "RS256"
KEY_BITS = 2048
FILE_NAME = "oidc_signing_keys.json"
PARAMETERS = {"use": "sig", "alg": ALG}
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.S)
FROM_SETTING = "PORTAL_OIDC_SIGNING_KEY"


@dataclass
class Keys:
    signing: RSAKey
    published: KeySet  # public keys that verify tokens still valid (the signing one first)


def _path() -> Path:
    return Path(current_app.instance_path) / FILE_NAME


def new_entry() -> dict:
    """A new signing key as the key file holds it."""
    key = RSAKey.generate_key(KEY_BITS, parameters=PARAMETERS, private=True, auto_kid=True)
    return {"jwk": key.as_dict(private=True), "retire_at": None}


def _write(path: Path, document: dict, replace: bool) -> None:
    """Write the whole file at once with mode 0600; without `replace`, only if there is none yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-", text=True)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(document, fh)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # another worker may have created it first: theirs wins
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def from_setting(value: str) -> list[dict]:
    """PORTAL_OIDC_SIGNING_KEY: PEM RSA private keys of 2048 bits or more, the signing one first."""
    entries = []
    for pem in _PEM.findall(value):
        try:
            with warnings.catch_warnings():  # a short key is refused below, with a sentence
                warnings.simplefilter("ignore")
                key = RSAKey.import_key(pem, parameters=PARAMETERS)
        except Exception:  # joserfc raises several kinds for a bad key; the message is the same
            key = None
        if key is None or not key.is_private or key.private_key.key_size < KEY_BITS:
            raise ServiceError(f"{FROM_SETTING} must hold PEM RSA private keys of at least {KEY_BITS} bits.")
        entries.append({"jwk": {**key.as_dict(private=True), "kid": key.thumbprint()}, "retire_at": None})
    if not entries:
        raise ServiceError(f"{FROM_SETTING} must hold PEM RSA private keys of at least {KEY_BITS} bits.")
    return entries


def _entries() -> list[dict]:
    """The key entries, newest first, each with its imported key ("key"); the instance file is created with a
    first key when missing. Imported once per process and file version (importing costs more than signing)."""
    setting = current_app.config.get("OIDC_SIGNING_KEY")
    cache = current_app.extensions.setdefault("portal_signing_keys", {})
    if setting:
        version, load = setting, lambda: from_setting(setting)
    else:
        path = _path()
        if not path.exists():
            _write(path, {"keys": [new_entry()]}, replace=False)
        stat = path.stat()
        version, load = (str(path), stat.st_mtime_ns, stat.st_size), lambda: json.loads(path.read_text())["keys"]
    if version not in cache:
        cache.clear()
        cache[version] = [{**e, "key": RSAKey.import_key(e["jwk"])} for e in load()]
    return cache[version]


def _live(entry: dict, now: dt.datetime) -> bool:
    return entry["retire_at"] is None or dt.datetime.fromisoformat(entry["retire_at"]) > now


def keys() -> Keys:
    """The key to sign with and the set to publish (retired keys are left out)."""
    now = clock.now()
    live = [e["key"] for e in _entries() if _live(e, now)]
    return Keys(live[0], KeySet(live))


def jwks() -> dict:
    """The JWKS document: public keys only."""
    return keys().published.as_dict(private=False)


def longest_token_lifetime() -> dt.timedelta:
    """No token signed with a key outlives this after its signing; a rotated key is kept that long."""
    cfg = current_app.config
    return dt.timedelta(seconds=max(cfg["OIDC_ID_TOKEN_SECONDS"], cfg["OIDC_LOGOUT_TOKEN_SECONDS"]))


def rotate() -> tuple[str, list[str]]:
    """A new signing key; the previous ones retire after the longest token lifetime. Returns the new key id and
    the ids still published beside it."""
    if current_app.config.get("OIDC_SIGNING_KEY"):
        raise ServiceError(f"The signing key comes from {FROM_SETTING}: put the new PEM key first in it and keep "
                           "the old one after it until the longest token lifetime has passed, then remove it.")
    now = clock.now()
    retire_at = (now + longest_token_lifetime()).isoformat()
    kept = [{"jwk": e["jwk"], "retire_at": e["retire_at"] or retire_at} for e in _entries() if _live(e, now)]
    entry = new_entry()
    _write(_path(), {"keys": [entry] + kept}, replace=True)
    return entry["jwk"]["kid"], [e["jwk"]["kid"] for e in kept]
