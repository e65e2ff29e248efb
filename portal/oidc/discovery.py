"""OpenID Provider Metadata (Discovery 1.0) and the JWKS it names: what an application reads to connect."""
from __future__ import annotations

from flask import current_app, url_for

from portal.models_oidc import ACR, SCOPES
from portal.services import signing_keys

CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "sid", "name", "given_name",
          "family_name", "preferred_username", "locale", "zoneinfo", "email", "email_verified", "company_id",
          "company_name", "role", "role_label")


def _url(endpoint: str) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint)


def metadata() -> dict:
    return {
        "issuer": current_app.config["BASE_URL"],
        "authorization_endpoint": _url("oidc.authorize"),
        "token_endpoint": _url("oidc.token"),
        "userinfo_endpoint": _url("oidc.userinfo"),
        "jwks_uri": _url("oidc.jwks"),
        "end_session_endpoint": _url("oidc.end_session"),
        "revocation_endpoint": _url("oidc.revoke"),
        "introspection_endpoint": _url("oidc.introspect"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [signing_keys.ALG],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS),
        "acr_values_supported": [ACR],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }


def jwks() -> dict:
    return signing_keys.jwks()
