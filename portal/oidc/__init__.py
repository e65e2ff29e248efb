"""Blueprint of the OpenID Provider: discovery, JWKS, authorization, token, UserInfo, revocation, introspection
and logout; the applications' side of Portal."""
from flask import Blueprint, g

bp = Blueprint("oidc", __name__)


def init_app(app) -> None:
    """Authlib's server for this app, and back-channel logouts sent after the response that queued them."""
    from portal import background
    from portal.oidc import server
    from portal.services import backchannel

    server.create(app)

    @app.after_request
    def _deliver_logouts(response):
        if g.pop("backchannel_queued", False):
            background.after_response(app, app.config["BACKCHANNEL_DELIVERY"], backchannel.deliver, "backchannel")
        return response


from portal.oidc import views  # noqa: E402,F401  (registers the routes)
