"""Authlib's authorization server with Portal's rules plugged in: the code grant with PKCE (S256) and OpenID
Connect, refresh tokens that rotate, revocation, introspection, UserInfo, RP-initiated logout and the `iss`
authorization response parameter. The rules themselves live in portal.services.oidc."""
from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import current_app

from portal import clock
from portal.auth import state
from portal.models_oidc import SCOPES, epoch
from portal.services import oidc, oidc_clients, signing_keys

ALL_CLIENT_AUTH = ["client_secret_basic", "client_secret_post", "none"]


def issuer() -> str:
    return current_app.config["BASE_URL"]


class CodeGrant(grants.AuthorizationCodeGrant):
    """response_type=code only; codes are stored by hash, single use, and bound to the Portal session."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH  # each client may use only its own (Client.check_endpoint_...)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        oidc.issue_code(state.active(), request.client, code, request.payload.redirect_uri, request.scope,
                        data.get("nonce"), data.get("code_challenge"), data.get("code_challenge_method"))

    def query_authorization_code(self, code, client):
        return oidc.redeem_code(code, client)

    def delete_authorization_code(self, authorization_code):
        pass  # used up by query_authorization_code, and kept: a second use revokes the tokens of the first

    def authenticate_user(self, authorization_code):
        return oidc.user_for(authorization_code)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh token works once

    def authenticate_refresh_token(self, refresh_token):
        return oidc.find_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token):
        user = oidc.rotate_refresh_token(refresh_token)
        if user is None:
            raise InvalidGrantError("The refresh token is no longer valid; sign the person in again.")
        return user

    def revoke_old_credential(self, refresh_token):
        pass  # used up by authenticate_user, atomically


class PKCE(CodeChallenge):
    """S256 only (never plain); required of public clients already at the authorization endpoint."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if grant.request.client.public and not data.get("code_challenge"):
            raise InvalidRequestError("A public client must send a code_challenge (PKCE, S256).")


class OpenID(OpenIDCode):
    NONCE_MAX = 255  # AuthorizationCode.nonce

    def validate_openid_authorization_request(self, grant, redirect_uri):
        if len(grant.request.payload.data.get("nonce") or "") > self.NONCE_MAX:
            raise InvalidRequestError(f"nonce must be at most {self.NONCE_MAX} characters.")
        super().validate_openid_authorization_request(grant, redirect_uri)

    def exists_nonce(self, nonce, request):
        return oidc.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client):
        return signing_keys.keys().signing

    def get_client_algorithm(self, client):
        return signing_keys.ALG

    def get_encode_header(self, client):
        return {"alg": signing_keys.ALG, "kid": signing_keys.keys().signing.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        now = epoch(clock.now())
        return {"iss": issuer(), "aud": client.client_id, "iat": now,
                "exp": now + current_app.config["OIDC_ID_TOKEN_SECONDS"]}

    def get_compatible_claims(self, request):
        claims = super().get_compatible_claims(request)
        claims["sid"] = request.authorization_code.client_session.sid  # for back-channel and RP logout
        return claims

    def generate_user_info(self, user, scope):
        return oidc.claims(user, scope)


class Issuer(IssuerParameter):
    def get_issuer(self):
        return issuer()


def with_issuer(response):
    """RFC 9207's iss on an error redirect made outside create_authorization_response."""
    Issuer().add_issuer_parameter(None, response)
    return response


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_CLIENT_AUTH

    def query_token(self, token_string, token_type_hint):
        return oidc.find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        oidc.revoke(token)


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # APIs are confidential clients

    def query_token(self, token_string, token_type_hint):
        return oidc.find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.client_id == client.id  # an application asks about its own tokens only

    def introspect_token(self, token):
        return oidc.introspection(token)


class BearerToken(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return oidc.bearer_token(token_string)


class UserInfo(UserInfoEndpoint):
    def generate_user_info(self, user, scope):
        return oidc.claims(user, scope)

    def get_issuer(self):
        return issuer()


class EndSession(EndSessionEndpoint):
    def get_server_jwks(self):
        return signing_keys.keys().published

    def get_algorithms(self):
        return [signing_keys.ALG]

    def end_session(self, end_session_request):
        if state.active() is not None:  # a pending sign-in is left alone: it reaches nothing anyway
            state.end()


def create(app) -> AuthorizationServer:
    """One server per app (its grants and endpoints), stored in app.extensions."""
    server = AuthorizationServer(app, query_client=oidc_clients.find, save_token=_save_token)
    server.scopes_supported = list(SCOPES)
    server.register_token_generator("default", BearerTokenGenerator(  # 256-bit tokens, as Portal's other secrets
        access_token_generator=_random_token, refresh_token_generator=_random_token,
        expires_generator=lambda client, grant_type: app.config["OIDC_ACCESS_TOKEN_SECONDS"]))
    server.register_grant(CodeGrant, [OpenID(), PKCE(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    protector = ResourceProtector()
    protector.register_token_validator(BearerToken())
    server.register_endpoint(UserInfo(resource_protector=protector))
    server.register_endpoint(EndSession)
    server.register_extension(Issuer())
    app.extensions["portal_oidc_server"] = server
    return server


def _random_token(**_) -> str:
    return secrets.token_urlsafe(32)  # Authlib's generate_token draws character by character, ten times slower


def _save_token(token, request):
    oidc.save_tokens(token, request.client, request.user, request.authorization_code or request.refresh_token)
