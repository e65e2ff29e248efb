"""What every service leans on and no rule lives in: the audit trail, the mail outbox, the links sent by mail
and the durable queue beneath the outbox and the back-channel logouts. Nothing here imports a service."""
