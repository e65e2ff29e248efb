"""Unbound extensions, bound to the app in create_app()."""
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
