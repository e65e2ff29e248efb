"""Portal: the account and sign-in portal. create_app() is the only factory."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app from defaults, PORTAL_* variables and `config` (tests pass overrides here)."""
    from portal import cli, db, htmx, i18n, mail, observability, oidc, web
    from portal import config as settings
    from portal.account import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.auth import state
    from portal.contacts import bp as contacts_bp
    from portal.extensions import csrf, limiter, login_manager
    from portal.service_center import bp as service_center_bp

    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("PORTAL_INSTANCE_PATH") or ROOT / "instance"
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(Path(instance).resolve()))
    settings.load(app, config)
    if app.config["PROXY_COUNT"]:
        # Only as many X-Forwarded-* hops as there are proxies we run; without them the headers are ignored.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    db.init_app(app)
    observability.init_app(app)  # first: a request refused by CSRF or a rate limit is logged with its id too
    i18n.init_app(app)
    web.init_app(app)  # before the blueprints: route converters, and the address audit events record
    csrf.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side records; see portal.auth.state
    login_manager.login_view = "auth.sign_in"
    login_manager.request_loader(state.load_user)
    login_manager.unauthorized_handler(web.unauthorized)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(service_center_bp)
    app.register_blueprint(contacts_bp)
    app.register_blueprint(oidc.bp)
    oidc.init_app(app)
    cli.register(app)
    return app
