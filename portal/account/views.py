"""Views of the signed-in person: home, profile, Terms of Use, personal settings, directory."""
import datetime as dt

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from portal import charts, clock, htmx, i18n
from portal.account import bp
from portal.account.forms import (
    ConfirmEmailForm,
    DetailsForm,
    EmailForm,
    PasswordChangeForm,
    VersionForm,
)
from portal.auth import state
from portal.ratelimits import by_link, by_session, limited
from portal.services import (
    accounts,
    administrators,
    consent,
    email_change,
    mfa,
    profile,
    user_search,
)
from portal.web import client_ip, safe_next, service_errors, signed_in_page

# Pages a signed-in person may see before accepting the Terms and making the personal-data choice: the choices
# themselves, saving the backup codes, signing out, and the pages of mailed links (a contact person's activation
# is not even theirs).
_GATE_FREE = {"static", "ops.healthz", "account.terms", "account.personal_settings", "account.confirm_email",
              "auth.sign_out", "auth.backup_codes", "auth.download_backup_codes", "auth.recover",
              "auth.set_new_password", "contacts.activate", "oidc.end_session", "oidc.configuration", "oidc.jwks"}


@bp.before_app_request
def _first_sign_in_gate():
    """Terms of Use, then the personal-data choice, before anything else (and again for a new version)."""
    user = current_user._get_current_object()  # each read through Flask-Login's proxy looks the user up again
    if request.endpoint in _GATE_FREE or not user.is_authenticated:
        return None
    if consent.needs_terms(user):
        return _after_gate(url_for("account.terms"))
    if consent.needs_personal_data_choice(user):
        return _after_gate(url_for("account.personal_settings"))
    return None


def _after_gate(url: str):
    """The page asked for is kept, so that an application's sign-in continues once the choices are made."""
    if request.method == "GET" and not htmx.is_fragment():
        session[state.NEXT_KEY] = safe_next(request.full_path.rstrip("?"))
    return htmx.redirect(url)



@bp.route("/")
@login_required
def home():
    user = current_user._get_current_object()
    values = {"first_name": user.first_name, "user_id": user.user_id, "full_name": user.full_name,
              "company_name": user.company.name, "valid_until": i18n.day(user.valid_until)}
    facts = {"codes_waiting": bool(mfa.backup_codes_to_show(state.active())), "role_label": str(user.role_label),
             "password_blocked": user.password_blocked_at is not None}
    expiring_soon = user.valid_until <= clock.today() + dt.timedelta(days=current_app.config["EXPIRY_NOTICE_DAYS"])
    is_admin = user.is_company_admin
    if not is_admin and not expiring_soon:  # most people's Home: rendered once per kind
        return signed_in_page("account/home.html", values, **facts)
    return render_template("account/home.html", **values, **facts, expiring_soon=expiring_soon,
                           administrators=list(administrators.active(user.company_id)) if expiring_soon else [],
                           overview=_overview(user.company_id) if is_admin else None,
                           shared_addresses=accounts.shared_addresses(user.company_id) if is_admin else {})


def _overview(company_id: int) -> list:
    """A Company Administrator's Home: each count a link to its filtered list, and the Valid Until chart."""
    counts = user_search.counts_for_home(company_id)
    labels = user_search.filter_labels()
    rows = [(name, labels[name], counts[name]) for name in user_search.OVERVIEW]
    return {"rows": rows, "chart": charts.valid_until_chart(user_search.valid_until_by_month(company_id))}


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile_page():
    form = _details_form()
    if form.validate_on_submit():
        with service_errors(form):
            profile.update_details(current_user, form.first_name.data, form.last_name.data, form.phone.data,
                                   form.language.data, form.time_zone.data)
            refresh()  # the next words in the language and zone just chosen
            flash(_("Your details have been saved."), "info")
            return redirect(url_for("account.profile_page"), 303)
    return render_template("account/profile.html", form=form, email_form=EmailForm(formdata=None),
                           user=current_user)


def _details_form() -> DetailsForm:
    return DetailsForm(obj=current_user, company_zone=current_user.company.time_zone)


@bp.route("/profile/email", methods=["POST"])
@login_required
@limited("RATE_LIMIT_REAUTH", by_session)
def change_email():
    form = EmailForm()
    if form.validate_on_submit():
        with service_errors(form):
            address = profile.request_email_change(state.active(), form.email.data, form.current_password.data,
                                                   form.code.data, client_ip(), state.browser())
            flash(_("We have sent a confirmation link to %(address)s. Your address changes when you open it; "
                    "until then the current one stays in use.", address=address), "info")
            return redirect(url_for("account.profile_page"), 303)
    return render_template("account/profile.html", form=_details_form(), email_form=form,
                           user=current_user)


@bp.route("/profile/email/<token>", methods=["GET", "POST"])
@limited("RATE_LIMIT_LINK", by_link)
def confirm_email(token):
    form = ConfirmEmailForm()
    signed_in = current_user if current_user.is_authenticated else None
    change = email_change.link(token)
    if form.validate_on_submit():
        with service_errors(form):
            email_change.confirm(token, signed_in, form.password.data, client_ip(), state.browser())
            flash(_("Your new e-mail address is confirmed."), "info")
            return redirect(url_for("account.home"), 303)
    return render_template("account/confirm_email.html", form=form, change=change,
                           ask_password=email_change.needs_password(change, signed_in))


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
@limited("RATE_LIMIT_REAUTH", by_session)
def change_password():
    form = PasswordChangeForm(policy_user=current_user)
    if form.validate_on_submit():
        with service_errors(form):
            profile.change_password(state.active(), form.current_password.data, form.code.data, form.password.data,
                                    client_ip(), state.browser())
            flash(_("Your password has been changed. Your other sessions were signed out."), "info")
            return redirect(url_for("account.profile_page"), 303)
    return render_template("account/change_password.html", form=form)


@bp.route("/terms", methods=["GET", "POST"])
@login_required
def terms():
    document = consent.document(consent.TERMS, i18n.current())
    form = VersionForm()
    if form.validate_on_submit():
        with service_errors():
            consent.accept_terms(current_user, form.version.data, client_ip())
            return redirect(state.take_next() or url_for("account.home"), 303)
    return render_template("account/terms.html", document=document, form=form,
                           accepted=not consent.needs_terms(current_user))


@bp.route("/personal-settings", methods=["GET", "POST"])
@login_required
def personal_settings():
    document = consent.document(consent.PERSONAL_DATA, i18n.current())
    form = VersionForm()
    if form.validate_on_submit() and request.form.get("choice") in ("allow", "refuse"):
        first_time = current_user.show_personal_data is None
        with service_errors():
            consent.set_personal_data(current_user, request.form["choice"] == "allow", form.version.data,
                                      client_ip())
            flash(Markup(_('Your choice has been saved. You can change it at any time in <a href="%(url)s">Personal '
                           'Settings</a>.', url=escape(url_for("account.personal_settings")))), "info")
            return redirect((state.take_next() or url_for("account.home")) if first_time
                            else url_for("account.personal_settings"), 303)
    return render_template("account/personal_settings.html", document=document, form=form, user=current_user,
                           history=consent.history(current_user))


@bp.route("/directory")
@login_required
def directory():
    return render_template("account/directory.html", entries=consent.directory(current_user.company_id),
                           company=current_user.company)
