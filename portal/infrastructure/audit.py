"""The audit trail: one event per security-relevant action; never passwords, codes, tokens or secrets."""
from __future__ import annotations

import json

from flask import g, has_app_context

from portal.models import AuditEvent, Company, User


def record(event: str, *, subject: User | None = None, actor: User | None = None,
           company: Company | None = None, ip: str = "", **details) -> AuditEvent:
    """Write one audit event; the company defaults to the subject's, the address to that of the request being
    served (portal.web notes it), and details that are None are left out."""
    if company is None and subject is not None:
        company = subject.company_id
    if not ip and has_app_context():
        ip = g.get("client_ip", "")
    return AuditEvent.create(
        event=event, subject=subject, actor=actor, company=company, ip=ip[:64],
        details=json.dumps({k: v for k, v in details.items() if v is not None}, default=str, sort_keys=True),
    )
