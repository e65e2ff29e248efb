"""Contact persons: created by Company Administrators, shown only after confirming by an e-mailed link.

The link (256 bits, stored hashed, single use, CONTACT_LINK_DAYS) is superseded by each new one; opening it changes
nothing until the person presses Activate or Decline."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock, i18n, pagination
from portal.db import db
from portal.infrastructure import audit, links, outbox
from portal.models import (
    CONTACT_ACTIVE,
    CONTACT_DECLINED,
    CONTACT_INACTIVE,
    CONTACT_PENDING,
    CONTACT_STATUSES,
    Company,
    ContactEvent,
    ContactPerson,
    User,
)
from portal.security.tokens import hash_token, new_token
from portal.services import (
    LinkUnusable,
    NotFound,
    ServiceError,
    accounts,
    administrators,
)

FIELDS = ("first_name", "last_name", "email", "phone", "department")


class ExistingContact(ServiceError):
    """A contact person with this e-mail exists already; the message says what to do with them."""

    def __init__(self, message: str, contact: ContactPerson):
        super().__init__(message, "email")
        self.contact = contact


def of_company(company_id: int, contact_id: int) -> ContactPerson:
    contact = ContactPerson.get_or_none((ContactPerson.id == contact_id) & (ContactPerson.company == company_id))
    if contact is None:
        raise NotFound(_("There is no such contact person in your company."))
    return contact


def search(company_id: int, query: str = "", status: str = "", page: int = 1) -> pagination.Page:
    select = ContactPerson.select().where(ContactPerson.company == company_id)
    prefix = (query or "").strip().lower()[:100]
    if prefix:
        select = select.where(ContactPerson.last_name_key.startswith(prefix)
                              | ContactPerson.email_key.startswith(prefix)
                              | ContactPerson.first_name.startswith(query.strip())
                              | ContactPerson.department.startswith(query.strip()))
    if status in CONTACT_STATUSES:
        select = select.where(ContactPerson.status == status)
    return pagination.paginate(select.order_by(ContactPerson.last_name_key, ContactPerson.id), page)


def _clean(values: dict) -> dict:
    cleaned = {
        "first_name": accounts.clean_first_name(values.get("first_name")),
        "last_name": accounts.clean_last_name(values.get("last_name")),
        "email": accounts.clean_email(values.get("email")),
        "phone": accounts.clean_phone(values.get("phone")),
        "department": " ".join((values.get("department") or "").split())[:100],
        "language": accounts.clean_language(values.get("language")) or i18n.SOURCE,
    }
    return {**cleaned, "last_name_key": cleaned["last_name"].lower(), "email_key": cleaned["email"].lower()}


def _history(contact: ContactPerson, event: str, actor: User | None = None, detail: str = "") -> None:
    ContactEvent.create(contact=contact, event=event, actor=actor, detail=detail[:255])
    audit.record(f"contact.{event}", actor=actor, company=contact.company_id, contact=contact.id,
                 email=contact.email, detail=detail)


def _existing(company_id: int, email_key: str, except_id: int | None = None) -> ContactPerson | None:
    select = ContactPerson.select().where((ContactPerson.company == company_id)
                                          & (ContactPerson.email_key == email_key))
    if except_id is not None:
        select = select.where(ContactPerson.id != except_id)
    return select.order_by(ContactPerson.id).first()


def _refuse_duplicate(existing: ContactPerson) -> None:
    if existing.status == CONTACT_ACTIVE:
        raise ExistingContact(_("%(name)s is already an active contact person with this e-mail address.",
                                name=existing.full_name), existing)
    raise ExistingContact(_("%(name)s (%(status)s) already has this e-mail address. Re-activate that contact person "
                            "instead: a new one would lose the data sheets assigned to the old.",
                            name=existing.full_name, status=existing.status_label), existing)


def create(admin_user: User, values: dict) -> ContactPerson:
    """A new contact person, Pending until they confirm by the e-mailed link."""
    cleaned = _clean(values)
    existing = _existing(admin_user.company_id, cleaned["email_key"])
    if existing is not None:
        _refuse_duplicate(existing)
    with db.atomic():
        contact = ContactPerson.create(company=admin_user.company_id, status=CONTACT_PENDING, **cleaned)
        _history(contact, "created", admin_user)
        _send(contact, admin_user)
    return contact


def _send(contact: ContactPerson, actor: User | None) -> None:
    """A new link that supersedes any older one (only one hash is kept)."""
    token, token_hash = new_token()
    expires = clock.now() + links.lifetime(links.CONTACT_ACTIVATION)
    ContactPerson.update(activation_token_hash=token_hash, activation_expires_at=expires).where(
        ContactPerson.id == contact.id).execute()
    contact.activation_token_hash, contact.activation_expires_at = token_hash, expires
    company = Company.get_by_id(contact.company_id)
    outbox.queue(contact.email, _l("please confirm you are a contact person of %(company)s", company=company.name),
                 "contact_activation",
                 contact=contact, company=company, link=links.external_url("contacts.activate", token=token),
                 lifetime=links.lifetime_words(links.CONTACT_ACTIVATION), expires=expires)
    _history(contact, "activation_sent", actor, contact.email)


def send_activation(admin_user: User, contact: ContactPerson) -> None:
    if contact.status == CONTACT_INACTIVE:
        raise ServiceError(_("This contact person is inactive: re-activate them, which sends a new e-mail."))
    with db.atomic():
        _send(contact, admin_user)


def update(admin_user: User, contact: ContactPerson, values: dict) -> dict:
    """Save changed fields; a new e-mail address makes the contact Pending until its owner confirms."""
    cleaned = _clean(values)
    changed = {k: v for k, v in cleaned.items() if getattr(contact, k) != v}
    if not changed:
        return {}
    if "email_key" in changed:
        existing = _existing(contact.company_id, changed["email_key"], except_id=contact.id)
        if existing is not None:
            _refuse_duplicate(existing)
    old_email, old_status = contact.email, contact.status
    with db.atomic():
        if "email" in changed and contact.status != CONTACT_INACTIVE:
            changed["status"] = CONTACT_PENDING
        ContactPerson.update(**changed).where(ContactPerson.id == contact.id).execute()
        for key, value in changed.items():
            setattr(contact, key, value)
        _history(contact, "updated", admin_user, ", ".join(sorted(k for k in changed if not k.endswith("_key"))))
        if "email" in changed:
            outbox.queue(old_email, _l("you are no longer the contact address"), "contact_email_changed",
                         contact=contact, company=contact.company)
            if old_status != CONTACT_INACTIVE:
                _send(contact, admin_user)
    return changed


def deactivate(admin_user: User, contact: ContactPerson) -> None:
    with db.atomic():
        ContactPerson.update(status=CONTACT_INACTIVE, activation_token_hash=None, activation_expires_at=None).where(
            ContactPerson.id == contact.id).execute()
        contact.status = CONTACT_INACTIVE
        _history(contact, "deactivated", admin_user)


def reactivate(admin_user: User, contact: ContactPerson) -> None:
    """Back to Pending with a new activation e-mail (a contact person is re-activated rather than created anew, so the history stays)."""
    with db.atomic():
        ContactPerson.update(status=CONTACT_PENDING).where(ContactPerson.id == contact.id).execute()
        contact.status = CONTACT_PENDING
        _history(contact, "reactivated", admin_user)
        _send(contact, admin_user)


UNUSABLE = _l("This activation link has expired, has already been used, or was replaced by a newer one. "
              "Please ask the Company Administrator who added you for a new activation e-mail.")


def by_link(token: str) -> ContactPerson:
    """The contact person a link is for, if it is usable; looking changes nothing."""
    if not token or len(token) > 100:
        raise LinkUnusable(UNUSABLE)
    contact = (ContactPerson.select(ContactPerson, Company).join(Company)
               .where((ContactPerson.activation_token_hash == hash_token(token))
                      & (ContactPerson.activation_expires_at > clock.now())).first())
    if contact is None:
        raise LinkUnusable(UNUSABLE)
    return contact


def answer(token: str, activate: bool, ip: str = "") -> ContactPerson:
    """Activate or Decline: the link is used up by exactly one answer; the company's administrators are told."""
    contact = by_link(token)
    status = CONTACT_ACTIVE if activate else CONTACT_DECLINED
    with db.atomic():
        used = (ContactPerson.update(status=status, activation_token_hash=None, activation_expires_at=None)
                .where((ContactPerson.id == contact.id)
                       & (ContactPerson.activation_token_hash == hash_token(token))).execute())
        if not used:
            raise LinkUnusable(UNUSABLE)
        contact.status = status
        _history(contact, "activated" if activate else "declined", None, ip)
        for administrator in administrators.active(contact.company_id):
            subject = (_l("contact person %(name)s activated", name=contact.full_name) if activate
                       else _l("contact person %(name)s declined", name=contact.full_name))
            outbox.queue(administrator.email, subject, "contact_answered", user=administrator,
                         contact=contact, activated=activate)
    return contact


def history(contact: ContactPerson) -> list[ContactEvent]:
    return list(contact.events.order_by(ContactEvent.created_at.desc(), ContactEvent.id.desc()))
