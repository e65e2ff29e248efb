"""Terms of Use and the GDPR choice to show personal data, each recorded with its text's version."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.infrastructure import audit
from portal.models import ConsentRecord, User
from portal.services import ServiceError

TERMS = "terms"
PERSONAL_DATA = "personal_data"
_BUILT_IN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "content")
# Every request's first-sign-in gate asks for the current versions: the files are looked at again at most once a
# second (four stat calls a request before), so an operator's new text is in force within a second.
_READ_AGAIN_AFTER = dt.timedelta(seconds=1)
_read_at: dict = {}  # (instance folder, kind, language) -> (when read, Document)


@dataclass(frozen=True)
class Document:
    version: str
    title: str
    paragraphs: tuple[str, ...]


def document(kind: str, language: str | None = None) -> Document:
    """The current text (as read at most a second ago): instance/<kind>.txt if the operator put one there, else the built-in one; in
    `language` when there is a <kind>.<language>.txt beside it of the same version (a translation not yet
    brought up to a new English version is not shown: whatever the language, accepting records one version).

    The file starts with "Version: ..." and "Title: ..." lines; paragraphs are separated by blank lines.
    """
    key, now = (current_app.instance_path, kind, language), clock.now()
    found = _read_at.get(key)
    if found is None or not found[0] <= now < found[0] + _READ_AGAIN_AFTER:
        found = _read_at[key] = (now, _from_files(kind, language))
    return found[1]


def _from_files(kind: str, language: str | None) -> Document:
    english = _read(_path(kind))
    if language and language != "en":
        translated = _path(f"{kind}.{language}")
        if os.path.exists(translated):
            text = _read(translated)
            if text.version == english.version:
                return text
    return english


def _path(name: str) -> str:
    path = os.path.join(current_app.instance_path, f"{name}.txt")
    return path if os.path.exists(path) else os.path.join(_BUILT_IN, f"{name}.txt")


def _read(path: str) -> Document:
    stat = os.stat(path)
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _parse(path: str, _mtime: int, _size: int) -> Document:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    header, _blank, body = text.partition("\n\n")
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    version = fields.get("Version", "").strip()
    if not version:
        raise RuntimeError(f"{path} must start with a 'Version: ...' line.")
    paragraphs = tuple(" ".join(p.split()) for p in body.split("\n\n") if p.strip())
    return Document(version, fields.get("Title", "").strip(), paragraphs)


def needs_terms(user: User) -> bool:
    return user.terms_version != document(TERMS).version


def needs_personal_data_choice(user: User) -> bool:
    return user.show_personal_data is None or user.personal_data_version != document(PERSONAL_DATA).version


def _check_version(kind: str, version: str) -> str:
    current = document(kind).version
    if version != current:
        raise ServiceError(_("The text changed while you were reading it. Please read the current version."))
    return current


def accept_terms(user: User, version: str, ip: str = "") -> None:
    version = _check_version(TERMS, version)
    with db.atomic():
        User.update(terms_version=version).where(User.id == user.id).execute()
        ConsentRecord.create(user=user, kind=TERMS, version=version, given=True)
        audit.record("consent.terms_accepted", subject=user, actor=user, ip=ip, version=version)
    user.terms_version = version


def set_personal_data(user: User, allow: bool, version: str, ip: str = "") -> None:
    """Allow or refuse showing name, phone and e-mail to other users; withdrawing is one click, like giving."""
    version = _check_version(PERSONAL_DATA, version)
    with db.atomic():
        User.update(show_personal_data=allow, personal_data_version=version).where(User.id == user.id).execute()
        ConsentRecord.create(user=user, kind=PERSONAL_DATA, version=version, given=allow)
        audit.record("consent.personal_data_" + ("allowed" if allow else "refused"), subject=user, actor=user,
                     ip=ip, version=version)
    user.show_personal_data, user.personal_data_version = allow, version


def history(user: User) -> list[ConsentRecord]:
    return list(ConsentRecord.select().where(ConsentRecord.user == user).order_by(ConsentRecord.id.desc()))


@dataclass
class DirectoryEntry:
    user_id: str
    name: str | None
    phone: str | None
    email: str | None


def directory(company_id: int) -> list[DirectoryEntry]:
    """Active colleagues; name, phone and e-mail only for those who allowed it."""
    users = (User.select(User.user_id, User.first_name, User.last_name, User.phone, User.email,
                         User.show_personal_data)
             .where((User.company == company_id) & User.active).order_by(User.user_id_key))
    return [DirectoryEntry(u.user_id, u.full_name if u.show_personal_data else None,
                           (u.phone or "") if u.show_personal_data else None,
                           u.email if u.show_personal_data else None) for u in users]
