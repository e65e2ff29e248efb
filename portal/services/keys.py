"""Rotating the encryption key: every secret at rest is re-encrypted under the newest key, in batches."""
from __future__ import annotations

from portal.db import db
from portal.models import Authenticator, LoginSession, OutboxMessage
from portal.security import crypto

ENCRYPTED = ((Authenticator, Authenticator.secret_encrypted), (LoginSession, LoginSession.enrollment_secret),
             (LoginSession, LoginSession.backup_codes_to_show), (OutboxMessage, OutboxMessage.body_text),
             (OutboxMessage, OutboxMessage.body_html))
BATCH = 500


def rotate_encryption_key() -> dict[str, int]:
    """Re-encrypt TOTP secrets, pending codes and undelivered mail; afterwards older keys may be removed."""
    counts = {}
    for model, column in ENCRYPTED:
        done = last_id = 0
        while True:
            rows = list(model.select(model.id, column).where(column.is_null(False) & (model.id > last_id))
                        .order_by(model.id).limit(BATCH))
            if not rows:
                break
            with db.atomic():
                for row in rows:
                    model.update({column: crypto.rotate(getattr(row, column.name))}).where(model.id == row.id).execute()
            done, last_id = done + len(rows), rows[-1].id
        counts[f"{model._meta.table_name}.{column.name}"] = done
    return counts
