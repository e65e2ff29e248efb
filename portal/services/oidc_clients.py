"""Registering the exchange's applications (OpenID Connect clients): the rules for their addresses and secrets.

A client id is 128 random bits in hex: never starting with "-", which a command line would take for an option.

A secret is 256 random bits, shown once and stored as its SHA-256 (enough for a random secret of that size,
and cheap at the token endpoint, which checks it on every call)."""
from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.db import db
from portal.infrastructure import audit
from portal.models_oidc import Client
from portal.security.tokens import hash_token
from portal.services import ServiceError

LOOPBACK_NAMES = ("localhost",)


@dataclass
class Created:
    client: Client
    secret: str | None  # None for a public client


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_uri(uri: str, what: str) -> str:
    """An address an application registers: https (or http on this machine's loopback), exact, no fragment."""
    uri = (uri or "").strip()
    if "*" in uri:
        raise ServiceError(f"The {what} {uri!r} contains a wildcard; register each address exactly.")
    try:
        parts = urlsplit(uri)
        parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise ServiceError(f"The {what} {uri!r} is not a valid address.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ServiceError(f"The {what} {uri!r} must be an absolute https:// address.")
    if parts.fragment or "#" in uri:
        raise ServiceError(f"The {what} {uri!r} must not contain a fragment (#...).")
    if parts.username is not None or parts.password is not None:
        raise ServiceError(f"The {what} {uri!r} must not contain a user name or password.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ServiceError(f"The {what} {uri!r} uses http://, which is allowed only for loopback addresses "
                           "(127.0.0.1, [::1], localhost); use https://.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri) or len(uri) > 500:
        raise ServiceError(f"The {what} {uri!r} is not a valid address.")
    return uri


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ServiceError("The application name must be 1 to 100 characters.")
    return name


def create_client(name: str, redirect_uris: list[str], public: bool = False, first_party: bool = False,
                  post_logout_redirect_uris: list[str] = (), backchannel_logout_uri: str | None = None) -> Created:
    """Register an application; a confidential one gets a secret, returned once."""
    name = clean_name(name)
    if not redirect_uris:
        raise ServiceError("Give at least one --redirect-uri.")
    redirects = list(dict.fromkeys(clean_uri(u, "redirect URI") for u in redirect_uris))
    post_logout = list(dict.fromkeys(clean_uri(u, "post-logout redirect URI") for u in post_logout_redirect_uris))
    backchannel = clean_uri(backchannel_logout_uri, "back-channel logout URI") if backchannel_logout_uri else None
    secret = None if public else secrets.token_urlsafe(32)
    with db.atomic():
        client = Client.create(client_id=secrets.token_hex(16), name=name,
                               secret_hash=None if public else hash_token(secret), first_party=first_party,
                               redirect_uris=json.dumps(redirects), post_logout_redirect_uris=json.dumps(post_logout),
                               backchannel_logout_uri=backchannel)
        audit.record("oidc.client_created", client=client.client_id, name=name, public=public,
                     first_party=first_party)
    return Created(client, secret)


def all_clients() -> list[Client]:
    return list(Client.select().order_by(Client.name, Client.id))


def find(client_id: str) -> Client | None:
    return Client.get_or_none(Client.client_id == (client_id or "")[:64])


def delete_client(client_id: str) -> Client:
    """Remove an application; its codes, tokens, consents and queued logouts go with it."""
    client = find(client_id)
    if client is None:
        raise ServiceError(f"There is no application with client id {client_id!r}; see `portal client list`.")
    with db.atomic():
        client.delete_instance()
        audit.record("oidc.client_deleted", client=client.client_id, name=client.name)
    return client
