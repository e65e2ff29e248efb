"""Races an attacker would try: the same code in parallel, and more wrong codes than allowed in parallel."""
import threading
import time

from portal import clock as portal_clock
from portal.models import Authenticator, LoginSession, User
from portal.services import ServiceError, mfa
from tests import helpers


def in_parallel(count, work):
    """Run work(i) in `count` threads released at the same moment; returns their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        with helpers.APP.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
            except ServiceError as error:
                results[i] = error
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def pending_sign_ins(app, count):
    clients = [app.test_client() for _ in range(count)]
    for client in clients:
        helpers.enter_password(client)
    return list(LoginSession.select().where(LoginSession.stage == "pending").order_by(LoginSession.id))


def test_same_code_in_parallel_signs_in_once(app, user, clock):
    secret = helpers.enroll(app.test_client())
    clock.advance(seconds=30)
    pendings = pending_sign_ins(app, 8)
    code = helpers.code_now(secret)
    results = in_parallel(8, lambda i: mfa.verify(pendings[i], code))
    winners = [r for r in results if not isinstance(r, ServiceError)]
    assert len(winners) == 1
    assert all(r.message == mfa.USED_CODE for r in results if isinstance(r, ServiceError))
    assert Authenticator.get().last_used_step == int(portal_clock.timestamp()) // 30


def test_parallel_wrong_codes_on_one_sign_in_never_exceed_five_checks(app, user, clock):
    helpers.enroll(app.test_client())
    clock.advance(seconds=30)
    [pending] = pending_sign_ins(app, 1)

    def guess(_):
        record = LoginSession.get_or_none(LoginSession.id == pending.id)
        return "ended" if record is None else mfa.verify(record, "000000")

    results = in_parallel(12, guess)
    assert all(isinstance(r, ServiceError) or r == "ended" for r in results)
    assert User.get().failed_code_count <= 5
    assert LoginSession.select().where(LoginSession.id == pending.id).count() == 0


def test_two_mail_senders_at_once_send_each_message_once(app, user):
    from portal.infrastructure import outbox
    from portal.models import OutboxMessage

    with app.app_context():
        for n in range(30):
            outbox.queue("jdoe@acme.example", f"notice {n}", "authenticator_registered", user=user,
                         device_name="X", when=user.created_at)
    sent = []
    lock = threading.Lock()

    def record(message):
        with lock:
            sent.append(message.id)

    in_parallel(2, lambda i: outbox.deliver(record))
    assert sorted(sent) == sorted(m.id for m in OutboxMessage.select())
    assert OutboxMessage.select().where(OutboxMessage.status != "sent").count() == 0


def test_parallel_forgot_ids_while_mail_is_delivered_never_fail(app, company):
    """SQLite refused a write at once ("database is locked") when a request that had read first tried to
    write while the mail thread wrote: registered addresses (which mail) failed, unknown ones did not, so
    the 500s told them apart. Every request now waits for the write lock instead."""
    app.config["MAIL_DELIVERY"] = "background"  # mail threads write to the outbox while requests run
    for n in range(12):
        helpers.make_user(company, f"worker{n}", email=f"worker{n}@acme.example")
    clients = [app.test_client() for _ in range(24)]
    tokens = [helpers.csrf_token(c.get("/forgot-id").data) for c in clients]

    def ask(i):
        address = f"worker{i % 12}@acme.example" if i % 2 == 0 else f"nobody{i}@acme.example"
        return clients[i].post("/forgot-id", data={"csrf_token": tokens[i], "email": address}).status_code

    results = in_parallel(24, ask)
    assert results == [200] * 24
    from portal.models import OutboxMessage
    deadline = time.monotonic() + 20
    while OutboxMessage.select().where(OutboxMessage.status == "sent").count() < 12 and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for the mail threads, not for a clock
    assert OutboxMessage.select().where(OutboxMessage.status == "sent").count() == 12
