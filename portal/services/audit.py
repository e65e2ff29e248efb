"""The audit trail: one event per security-relevant action; never passwords, codes, tokens or secrets."""
from __future__ import annotations

import json

from portal.models import AuditEvent, Company, User


def record(event: str, *, subject: User | None = None, actor: User | None = None,
           company: Company | None = None, ip: str = "", **details) -> AuditEvent:
    """Write one audit event; the company defaults to the subject's."""
    if company is None and subject is not None:
        company = subject.company_id
    return AuditEvent.create(
        event=event, subject=subject, actor=actor, company=company, ip=ip[:64],
        details=json.dumps(details, default=str, sort_keys=True),
    )
