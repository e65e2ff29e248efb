"""The `portal` command: database, companies, users and the demo (also reachable as `flask --app wsgi`)."""
from __future__ import annotations

import datetime as dt
import functools
import secrets
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from peewee import OperationalError

from portal import clock
from portal import db as database
from portal.models import (
    ROLE_COMPANY_ADMIN,
    ROLE_NAMES,
    ROLE_SERVICE_CENTER,
    ROLES,
    User,
)
from portal.services import ServiceError, accounts, mfa

DEMO_COMPANY = "Demo Supplier GmbH"
DEMO_USER_ID = "demo-admin"


class CommandError(click.ClickException):
    """A mistake in what was asked: one sentence on stderr, exit status 2, nothing changed."""

    exit_code = 2


class ServiceUnavailable(click.ClickException):
    """Something Portal needs (the database) cannot be reached: exit status 1."""

    exit_code = 1


def _connected(fn):
    """Run a command inside the app context with a database connection, turning rule errors into exit 2."""
    @with_appcontext
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            database.db.connect(reuse_if_open=True)
        except OperationalError as error:
            raise ServiceUnavailable(f"Cannot connect to the database ({str(error).strip().splitlines()[0]}); "
                                     "check PORTAL_DATABASE_URL.") from None
        try:
            return fn(*args, **kwargs)
        except ServiceError as error:
            raise CommandError(error.message) from None
        finally:
            database.db.close()

    return wrapper


@click.command("init-db")
@_connected
def init_db():
    """Create or upgrade the database schema (safe to run again)."""
    applied = database.migrate()
    if applied:
        click.echo(f"Applied migrations: {', '.join(applied)}.")
    else:
        click.echo("The database is up to date.")
    accounts.operator_company()  # where the Service Center's staff belong


@click.command("create-company")
@click.argument("name")
@_connected
def create_company(name):
    """Create a company named NAME."""
    company = accounts.create_company(name)
    click.echo(f"Created company {company.name!r}.")


def _parse_date(_ctx, _param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--valid-until must be a date written YYYY-MM-DD, not {value!r}.") from None


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin was given, but standard input held no password.")
    return password


@click.command("create-user")
@click.option("--company", "company_name",
              help="Name of an existing company (Service Center staff: the operator's company by default).")
@click.option("--user-id", required=True, help="The User ID to sign in with.")
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option("--valid-until", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Last day the user may sign in (default: one year from today).")
@click.option("--inactive", is_flag=True, help="Create the user with Active cleared.")
@_connected
def create_user(company_name, user_id, email, first_name, last_name, role, password_stdin, valid_until, inactive):
    """Create a user; without --password-stdin the user has no password yet."""
    if company_name is None and role != ROLE_SERVICE_CENTER:
        raise CommandError("--company is needed: the name of the user's company (only Service Center staff go to the "
                           "operator's company by themselves).")
    company = accounts.find_company(company_name) if company_name else accounts.operator_company()
    if company is None:
        raise CommandError(f"There is no company named {company_name!r}; create it with `portal create-company`.")
    password = _read_password() if password_stdin else None
    user = accounts.create_user(company=company, user_id=user_id, email=email, first_name=first_name,
                                last_name=last_name, role=role, valid_until=valid_until, active=not inactive,
                                password=password)
    click.echo(f"Created user {user.user_id} ({ROLE_NAMES.get(user.role, user.role)}) in {company.name}, valid until {user.valid_until}.")


@click.command("demo")
@_connected
def demo():
    """Create a demo company and Company Administrator, and print how to sign in."""
    if current_app.config["ENV"] == "production":
        raise CommandError("The demo account is for trying Portal out and is not created when PORTAL_ENV=production.")
    database.migrate()
    company = accounts.find_company(DEMO_COMPANY) or accounts.create_company(DEMO_COMPANY)
    password = secrets.token_urlsafe(12)
    user = User.get_or_none(User.user_id_key == DEMO_USER_ID)
    if user is None:
        user = accounts.create_user(company=company, user_id=DEMO_USER_ID, email="demo-admin@example.com",
                                    first_name="Dana", last_name="Demo", role=ROLE_COMPANY_ADMIN, password=password)
        note = "At the first sign-in you register an authenticator app by scanning a QR code."
    else:
        accounts.reopen_demo(user, password)
        note = ("A new password was set for this run."
                + (" Use the code from the authenticator you registered before."
                   if mfa.has_authenticator(user) else ""))
    base = current_app.config["BASE_URL"]
    click.echo(f"Demo company: {company.name}\n"
               f"Sign in at {base}/sign-in\n"
               f"  User ID:  {user.user_id}\n"
               f"  Password: {password}\n"
               f"{note}\n"
               "Authenticator apps that work: Google Authenticator, Microsoft Authenticator, FreeOTP, "
               "or a browser authenticator.")


mail_group = click.Group("mail", help="The mail outbox.")


@mail_group.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in this run.")
@_connected
def mail_send(limit):
    """Send queued mail that is due (safe to run from cron every minute, and twice at once)."""
    from portal import mail
    from portal.services import outbox

    _report_sending(*mail.deliver_due(limit=limit), outbox.counts(), "Outbox")


def _report_sending(sent: int, failed: int, counts: dict, queue_name: str) -> None:
    """What a run of a durable queue's job did; exit status 1 if something could not be sent (it is retried)."""
    click.echo(f"Sent {sent}, not sent {failed}. {queue_name}: {counts.get('queued', 0)} queued, "
               f"{counts.get('failed', 0)} failed for good.")
    if failed:
        sys.exit(1)


lifecycle_group = click.Group("lifecycle", help="Account lifecycle: inactivity and Valid Until.")


def _parse_today(_ctx, _param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date written YYYY-MM-DD, not {value!r}.") from None


@lifecycle_group.command("run")
@click.option("--today", callback=_parse_today, metavar="YYYY-MM-DD", help="Run as if it were this day (UTC).")
@click.option("--dry-run", is_flag=True, help="Print what would be done and change nothing.")
@_connected
def lifecycle_run(today, dry_run):
    """Warn at 11 months without sign-in, deactivate at 12, send Valid Until digests, audit expiries.

    Safe to run every hour from cron or a systemd timer: a second run the same day finds nothing new,
    and overlapping runs do not both work."""
    from portal.services import lifecycle

    now = dt.datetime.combine(today, clock.now().time()) if today is not None else clock.now()
    try:
        summary = lifecycle.run(dry_run=dry_run, progress=_progress, now=now)
    except Exception as error:  # a failed run changed only whole batches; say so and exit 1
        current_app.logger.exception("lifecycle run failed")
        raise ServiceUnavailable(f"The lifecycle run failed ({type(error).__name__}); finished batches are kept, "
                                 "and the next run continues.") from None
    _print_summary(summary, now.date())


def _progress(step: str, done: int) -> None:
    if done % (10 * 1000) == 0:
        click.echo(f"  {step}: {done} so far", err=True)


def _print_summary(summary, day) -> None:
    if summary.skipped:
        click.echo("Another lifecycle run is in progress; this one did nothing.")
        return
    verb = "would be" if summary.dry_run else "were"
    queued = "would be queued" if summary.dry_run else "were queued (`portal mail send` delivers them)"
    counts = summary.counts
    click.echo(f"Lifecycle {'dry run' if summary.dry_run else 'run'} for {day}:\n"
               f"  inactivity warnings: {counts['warned']} users {verb} warned\n"
               f"  deactivated for inactivity: {counts['deactivated']} users {verb} deactivated\n"
               f"  Valid Until digests: {counts['digest_mails']} mails {queued} about "
               f"{counts['digest_users']} users\n"
               f"  expiries recorded: {counts['expired']}\n"
               f"  stale sessions, links and sent mail deleted: {counts['purged']}\n"
               f"  time taken: {summary.seconds:.2f} s")


_TICKET = click.option("--ticket", required=True, metavar="REFERENCE",
                       help="The reference of the request (support ticket), kept in the audit log.")


@click.command("unblock-password")
@click.argument("user_id")
@_TICKET
@_connected
def unblock_password(user_id, ticket):
    """Lift the block of USER_ID's password (ten wrong ones block it); the password itself stays."""
    from portal.services import service_center

    user = service_center.operator_unblock_password(user_id, ticket)
    click.echo(f"The password of {user.user_id} is no longer blocked (ticket {ticket.strip()}). "
               f"{user.user_id} was told by mail.")


@click.command("reset-mfa")
@click.argument("user_id")
@_TICKET
@_connected
def reset_mfa(user_id, ticket):
    """Reset USER_ID's MFA: authenticator and backup codes removed, sessions ended; enrollment at next sign-in."""
    from portal.services import service_center

    user = service_center.operator_reset_mfa(user_id, ticket)
    click.echo(f"MFA of {user.user_id} was reset (ticket {ticket.strip()}): a new authenticator is registered at "
               f"the next sign-in. {user.user_id} was told by mail.")


@click.command("rotate-encryption-key")
@_connected
def rotate_encryption_key():
    """Re-encrypt every secret under the first key of PORTAL_ENCRYPTION_KEY ("new,old"); then drop the old key."""
    from portal.security.crypto import InvalidToken
    from portal.services import keys

    try:
        counts = keys.rotate_encryption_key()
    except InvalidToken:
        raise CommandError("A secret could not be decrypted with any key in PORTAL_ENCRYPTION_KEY; list the new key "
                           "first and keep the old one after it, separated by a comma.") from None
    for name, count in counts.items():
        click.echo(f"Re-encrypted {count} value{'s' if count != 1 else ''} in {name}.")
    click.echo("Done. You can now remove the old key from PORTAL_ENCRYPTION_KEY.")


client_group = click.Group("client", help="Applications that sign people in with Portal (OpenID Connect).")


@client_group.command("create")
@click.argument("name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="Where Portal may send the person back with a code (exact; repeat for several).")
@click.option("--public", is_flag=True, help="No secret (a browser or native app): PKCE with S256 is required.")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True,
              help="Where Portal may send the person after signing out (repeat for several).")
@click.option("--backchannel-logout-uri", help="Where Portal POSTs a logout token when a session ends.")
@click.option("--first-party", is_flag=True, help="One of the exchange's own applications: no consent page.")
@_connected
def client_create(name, redirect_uris, public, post_logout, backchannel_logout_uri, first_party):
    """Register an application; prints its client id and, once, its secret."""
    from portal.services import oidc_clients

    created = oidc_clients.create_client(name, list(redirect_uris), public=public, first_party=first_party,
                                         post_logout_redirect_uris=list(post_logout),
                                         backchannel_logout_uri=backchannel_logout_uri)
    click.echo(f"Registered {created.client.name}.\nclient_id:     {created.client.client_id}")
    if created.secret:
        click.echo(f"client_secret: {created.secret}\n"
                   "The secret is shown only now; Portal keeps only its hash. Store it with the application.")
    click.echo(f"Discovery:     {current_app.config['BASE_URL']}/.well-known/openid-configuration")


@client_group.command("list")
@_connected
def client_list():
    """List the registered applications."""
    from portal.services import oidc_clients

    clients = oidc_clients.all_clients()
    for client in clients:
        kind = "public" if client.public else "confidential"
        click.echo(f"{client.client_id}  {client.name}  ({kind}{', first-party' if client.first_party else ''})  "
                   f"redirect: {' '.join(client.redirect_uri_list)}"
                   + (f"  back-channel: {client.backchannel_logout_uri}" if client.backchannel_logout_uri else ""))
    if not clients:
        click.echo("No application is registered; add one with `portal client create`.")


@client_group.command("delete")
@click.argument("client_id")
@_connected
def client_delete(client_id):
    """Remove an application: its tokens stop working at once."""
    from portal.services import oidc_clients

    client = oidc_clients.delete_client(client_id)
    click.echo(f"Deleted {client.name} ({client.client_id}); its codes, tokens and consents are gone.")


@click.command("rotate-signing-key")
@_connected
def rotate_signing_key():
    """Sign with a new key from now on; the old one stays published until tokens it signed have expired."""
    from portal.services import signing_keys

    new, kept = signing_keys.rotate()
    click.echo(f"New signing key {new} signs from now on.")
    if kept:
        click.echo(f"Still published until tokens they signed expire ({signing_keys.longest_token_lifetime()}): "
                   + ", ".join(kept) + ".")


backchannel_group = click.Group("backchannel", help="Back-channel logouts to applications.")


@backchannel_group.command("send")
@click.option("--limit", default=500, show_default=True, help="Most logout tokens to send in this run.")
@_connected
def backchannel_send(limit):
    """Send queued logout tokens that are due (safe every minute, and twice at once); exit 1 if some failed."""
    from portal.services import backchannel

    _report_sending(*backchannel.deliver(limit=limit), backchannel.counts(), "Queue")


def register(app) -> None:
    for command in (init_db, create_company, create_user, demo, mail_group, lifecycle_group, unblock_password,
                    reset_mfa, rotate_encryption_key, client_group, rotate_signing_key, backchannel_group):
        app.cli.add_command(command)


def _create_app():
    from portal import create_app
    from portal.config import ConfigError

    try:
        return create_app()
    except (ConfigError, ValueError) as error:
        raise CommandError(str(error)) from None


main = FlaskGroup(create_app=_create_app, help="Portal: accounts and sign-in. Configure with PORTAL_* variables.")
