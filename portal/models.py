"""Portal's tables as peewee models: fields, constraints, indexes and the labels a page shows of a row.
Queries live with the rules that use them, in portal.services."""
from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal import clock
from portal.db import BaseModel
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l

ROLE_USER = "user"
ROLE_COMPANY_ADMIN = "company-admin"
ROLE_SERVICE_CENTER = "service-center"
ROLES = (ROLE_USER, ROLE_COMPANY_ADMIN, ROLE_SERVICE_CENTER)
ROLE_LABELS = {  # as pages show them, in the reader's language
    ROLE_USER: _l("User"),
    ROLE_COMPANY_ADMIN: _l("Company Administrator"),
    ROLE_SERVICE_CENTER: _l("Service Center"),
}
ROLE_NAMES = {ROLE_USER: "User", ROLE_COMPANY_ADMIN: "Company Administrator",  # English: claims, the CLI
              ROLE_SERVICE_CENTER: "Service Center"}


class Company(BaseModel):
    name = CharField(max_length=200)
    name_key = CharField(max_length=200, unique=True)  # casefolded name: one company per name
    created_at = DateTimeField(default=clock.now)
    expiry_digest_on = DateField(null=True)  # day of the last "Valid Until soon" digest to its administrators
    time_zone = CharField(max_length=64, default="UTC")  # its users' time zone until they choose their own

    class Meta:
        table_name = "companies"


class User(UserMixin, BaseModel):
    user_id = CharField(max_length=64)  # as the person wrote it
    user_id_key = CharField(max_length=64, unique=True)  # lowercased: unique case-insensitively
    # No index of its own: the (company_id, ...) indexes of migrations 0003 and 0006 serve company lookups.
    company = ForeignKeyField(Company, backref="users", on_delete="RESTRICT", index=False)
    email = CharField(max_length=254)
    email_key = CharField(max_length=254, index=True)
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    last_name_key = CharField(max_length=100, default="")  # lowercased, for search
    phone = CharField(max_length=50, default="")
    role = CharField(max_length=20, default=ROLE_USER)
    active = BooleanField(default=True)
    valid_until = DateField(index=True)
    created_at = DateTimeField(default=clock.now)
    last_sign_in_at = DateTimeField(null=True, index=True)
    activity_at = DateTimeField(default=clock.now)  # last sign-in, or creation: what inactivity counts from
    inactivity_warned_at = DateTimeField(null=True)  # warned for the period that started at activity_at
    expiry_notified_for = DateField(null=True)  # the Valid Until its administrators were told about
    expired_recorded_for = DateField(null=True)  # the Valid Until whose passing was audited
    password_hash = TextField(null=True)
    failed_password_count = IntegerField(default=0)
    password_blocked_at = DateTimeField(null=True)
    failed_code_count = IntegerField(default=0)
    code_blocked_until = DateTimeField(null=True)
    code_rests = IntegerField(default=0)  # rests of the code step since the last correct code
    code_step_closed_at = DateTimeField(null=True)  # closed for codes until a backup code, recovery or Reset MFA
    enrollment_offers = IntegerField(default=0)  # QR codes shown since the last completed enrollment
    # One factor recovered through a mailed link: the other cannot be recovered by mail for a while after it.
    password_set_by_link_at = DateTimeField(null=True)
    authenticator_recovered_by_link_at = DateTimeField(null=True)
    # Terms of Use and GDPR consent (the history is in ConsentRecord).
    terms_version = CharField(max_length=50, null=True)
    show_personal_data = BooleanField(null=True)  # None: not asked yet
    personal_data_version = CharField(max_length=50, null=True)
    language = CharField(max_length=10, null=True)  # portal.i18n.LANGUAGES; None: as the browser asks
    time_zone = CharField(max_length=64, null=True)  # an IANA zone; None: the company's

    class Meta:
        table_name = "users"

    def get_id(self) -> str:
        return str(self.id)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_company_admin(self) -> bool:
        return self.role == ROLE_COMPANY_ADMIN

    @property
    def is_service_center(self) -> bool:
        return self.role == ROLE_SERVICE_CENTER

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def is_expired(self, today: dt.date) -> bool:
        """Valid Until is the last day on which the User ID may sign in."""
        return self.valid_until < today

    @property
    def status_label(self) -> str:
        if not self.active:
            return _("Inactive")
        return _("Expired") if self.is_expired(clock.today()) else _("Active")


class Authenticator(BaseModel):
    """The confirmed TOTP authenticator of a user (one per user)."""

    user = ForeignKeyField(User, unique=True, backref="authenticators", on_delete="CASCADE")
    device_name = CharField(max_length=100)
    secret_encrypted = TextField()
    confirmed_at = DateTimeField(default=clock.now)
    last_used_step = BigIntegerField(null=True)  # replay guard: only larger steps are accepted
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "authenticators"


class BackupCode(BaseModel):
    user = ForeignKeyField(User, backref="backup_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=200)  # argon2id (cheap parameters); an HMAC for codes made before
    lookup = CharField(max_length=8, null=True)  # keyed fingerprint that finds the one code to verify
    created_at = DateTimeField(default=clock.now)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "backup_codes"
        indexes = ((("user", "code_hash"), True), (("user", "lookup"), False))


STAGE_PENDING = "pending"  # password accepted, second factor not yet
STAGE_ACTIVE = "active"  # signed in


class LoginSession(BaseModel):
    """A server-side session; the browser holds only a random token whose hash is stored here."""

    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="login_sessions", on_delete="CASCADE")
    stage = CharField(max_length=10)
    created_at = DateTimeField(default=clock.now)
    authenticated_at = DateTimeField(null=True)
    last_seen_at = DateTimeField(default=clock.now)
    ip = CharField(max_length=64, default="")
    user_agent = CharField(max_length=255, default="")
    code_attempts = IntegerField(default=0)
    enrollment_secret = TextField(null=True)  # encrypted; only while enrolling in this sign-in
    backup_codes_to_show = TextField(null=True)  # encrypted; shown once after enrollment
    reauthenticated_at = DateTimeField(null=True)  # password and code entered again, for sensitive changes
    failed_confirmations = IntegerField(default=0)  # wrong passwords or codes given while signed in
    kept_action = TextField(null=True)  # encrypted: a form sent while a confirmation was due, sent again after it
    amr = CharField(max_length=50, default="pwd")  # how the person signed in (RFC 8176 words), for ID tokens

    class Meta:
        table_name = "login_sessions"


class Passkey(BaseModel):
    """A passkey or security key (WebAuthn credential) of a user: a second factor beside the authenticator app,
    and with a discoverable credential a sign-in of its own. Only public values: nothing here signs anything."""

    user = ForeignKeyField(User, backref="passkeys", on_delete="CASCADE")
    name = CharField(max_length=100)
    credential_id = CharField(max_length=1400, unique=True)  # base64url; the spec allows up to 1023 bytes
    public_key = TextField()  # base64url of the COSE key, as the authenticator gave it
    sign_count = BigIntegerField(default=0)  # the authenticator's counter; one that goes backwards is refused
    user_handle = CharField(max_length=100)  # base64url; the same for all passkeys of a user, never the User ID
    synced = BooleanField(default=False)  # may be backed up to a cloud (a synced passkey): amr swk, else hwk
    transports = CharField(max_length=200, default="")  # as the browser reported them, comma-separated
    created_at = DateTimeField(default=clock.now)
    last_used_at = DateTimeField(null=True)

    class Meta:
        table_name = "passkeys"


class PasskeyChallenge(BaseModel):
    """A WebAuthn challenge, single use, bound to the login session it was issued to (pending or signed in: it
    goes when the session ends) or, for a sign-in with a passkey alone, to a random token in the browser's
    cookie (only its hash here)."""

    purpose = CharField(max_length=20)  # register, second_factor, sign_in
    login_session = ForeignKeyField(LoginSession, null=True, backref="+", on_delete="CASCADE")
    browser_hash = CharField(max_length=64, null=True)
    challenge = CharField(max_length=200)  # base64url, as the browser echoes it in clientDataJSON
    expires_at = DateTimeField(index=True)

    class Meta:
        table_name = "passkey_challenges"
        indexes = ((("login_session", "purpose"), False), (("browser_hash", "purpose"), False))


class KnownBrowser(BaseModel):
    """A browser that completed a sign-in of this user: its wrong passwords are counted on their own, so
    guesses from elsewhere never block the owner here. The browser holds a random cookie; this its SHA-256."""

    user = ForeignKeyField(User, backref="known_browsers", on_delete="CASCADE")
    browser_hash = CharField(max_length=64)
    created_at = DateTimeField(default=clock.now)
    last_used_at = DateTimeField(default=clock.now, index=True)
    failed_password_count = IntegerField(default=0)

    class Meta:
        table_name = "known_browsers"
        indexes = ((("browser_hash", "user"), True),)


class Token(BaseModel):
    """A single-use link sent by mail: only its SHA-256 is stored, bound to one user and one purpose."""

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    purpose = CharField(max_length=30)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=clock.now)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    data = TextField(null=True)  # e.g. the new address of an e-mail change

    class Meta:
        table_name = "tokens"
        indexes = ((("user", "purpose"), False),)


class ConsentRecord(BaseModel):
    """Each acceptance of the Terms of Use and each personal-data choice, with the text's version."""

    user = ForeignKeyField(User, backref="consents", on_delete="CASCADE")
    kind = CharField(max_length=20)  # "terms" or "personal_data"
    version = CharField(max_length=50)
    given = BooleanField()
    created_at = DateTimeField(default=clock.now)

    class Meta:
        table_name = "consent_records"


CONTACT_PENDING = "pending"
CONTACT_ACTIVE = "active"
CONTACT_DECLINED = "declined"
CONTACT_INACTIVE = "inactive"
CONTACT_STATUSES = {CONTACT_PENDING: _l("Pending"), CONTACT_ACTIVE: _l("Active"), CONTACT_DECLINED: _l("Declined"),
                    CONTACT_INACTIVE: _l("Inactive")}


class ContactPerson(BaseModel):
    """A person named on the company's data sheets; not a user. Shown only after confirming by e-mail."""

    company = ForeignKeyField(Company, backref="contact_persons", on_delete="RESTRICT")
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    last_name_key = CharField(max_length=100)
    email = CharField(max_length=254)
    email_key = CharField(max_length=254)
    phone = CharField(max_length=50, default="")
    department = CharField(max_length=100, default="")
    status = CharField(max_length=10, default=CONTACT_PENDING)
    created_at = DateTimeField(default=clock.now)
    activation_token_hash = CharField(max_length=64, null=True, unique=True)  # the one usable link
    activation_expires_at = DateTimeField(null=True)
    language = CharField(max_length=10, default="en")  # of the mails the contact person gets

    class Meta:
        table_name = "contact_persons"
        indexes = ((("company", "email_key"), False), (("company", "last_name_key"), False),
                   (("company", "status"), False))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def status_label(self) -> str:
        return CONTACT_STATUSES.get(self.status, self.status)


CONTACT_EVENTS = {"created": _l("added"), "activation_sent": _l("activation e-mail sent"),
                  "activated": _l("activated"), "declined": _l("declined"), "deactivated": _l("deactivated"),
                  "reactivated": _l("re-activated"), "updated": _l("details changed")}


class ContactEvent(BaseModel):
    """The history of a contact person's status: sent, activated, declined, deactivated, e-mail changed."""

    contact = ForeignKeyField(ContactPerson, backref="events", on_delete="CASCADE")
    event = CharField(max_length=30)
    created_at = DateTimeField(default=clock.now)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    detail = CharField(max_length=255, default="")

    class Meta:
        table_name = "contact_events"

    @property
    def label(self) -> str:
        """What happened, in the reader's words (an event unknown to this version as it was stored)."""
        return str(CONTACT_EVENTS.get(self.event, self.event))


class AuditEvent(BaseModel):
    created_at = DateTimeField(default=clock.now, index=True)
    event = CharField(max_length=50, index=True)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    subject = ForeignKeyField(User, null=True, backref="audit_events", on_delete="SET NULL")
    company = ForeignKeyField(Company, null=True, backref="audit_events", on_delete="SET NULL")
    ip = CharField(max_length=64, default="")
    details = TextField(default="{}")  # JSON; never passwords, codes, tokens or secrets

    class Meta:
        table_name = "audit_events"


class OutboxMessage(BaseModel):
    """A mail written in the same transaction as the change that causes it."""

    created_at = DateTimeField(default=clock.now)
    to_address = CharField(max_length=254)
    subject = CharField(max_length=255)
    body_text = TextField(null=True)  # encrypted (it may hold a live link); None once delivered
    body_html = TextField(null=True)  # encrypted, likewise
    status = CharField(max_length=10, default="queued", index=True)  # queued, sending, sent, failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=clock.now, index=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = TextField(null=True)

    class Meta:
        table_name = "outbox_messages"


class JobLock(BaseModel):
    """One row per scheduled job: a lease, so overlapping runs do not do the same work."""

    name = CharField(max_length=50, primary_key=True)
    holder = CharField(max_length=64, null=True)
    locked_until = DateTimeField(null=True)

    class Meta:
        table_name = "job_locks"


ALL_MODELS = (Company, User, Authenticator, BackupCode, LoginSession, KnownBrowser, Token, ConsentRecord,
              ContactPerson, ContactEvent, AuditEvent, OutboxMessage, JobLock, Passkey, PasskeyChallenge)
