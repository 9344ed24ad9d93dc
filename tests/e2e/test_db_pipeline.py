"""Pipelined transactions (common/db.c): what a consumer writes without
reading goes to PostgreSQL with its next read or with its COMMIT, in one
round trip; a failure anywhere in it fails the whole transaction.

The first test runs the C checker (tests/e2e/db_pipeline_check.c) on the
stack's database; the second shows the consumer's position guard, which now
travels with the COMMIT, still refusing to overwrite a position another
instance moved (migration 0116)."""
import os
import subprocess
import uuid

from stack import debtor_item, invoice_item, wait_until

CASES = [
    "deferred writes are not sent before a read",
    "a read sees the deferred writes before it",
    "uncommitted rows stay invisible",
    "commit after a read",
    "the committed rows",
    "commit carrying deferred writes",
    "rows committed with the COMMIT",
    "rollback of unsent writes",
    "a failed deferred write fails the read that sends it",
    "nothing of a failed pipeline commits",
    "a failed deferred write fails the commit",
    "nothing of a failed commit is kept",
    "the connection is usable after a failed pipeline",
    "copy after deferred writes",
    "rows of the deferred write and the copy",
    "a deferred write outside a transaction runs at once",
    "an empty transaction commits",
]


def test_deferred_statements_and_pipelined_transactions(stack):
    checker = os.path.join(stack.build, "tests", "db-pipeline-check")
    table = "pipeline_check_" + uuid.uuid4().hex[:12]
    p = subprocess.run([checker, stack.db_url, table], capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    assert p.returncode == 0, p.stdout + p.stderr
    assert lines == ["ok " + c for c in CASES], p.stdout + p.stderr
    assert stack.scalar("SELECT count(*) FROM pg_class WHERE relname = %s", (table,)) == 0


def _invoices(stack, tenant):
    return sorted(r[0] for r in stack.query(
        "SELECT i.external_id FROM risk_invoices r JOIN invoices i ON i.tenant = r.tenant "
        "AND i.id = r.invoice_id WHERE r.tenant = %s", (tenant.id,)))


def test_position_moved_by_another_instance_is_not_overwritten(stack, tenant):
    """risk's position is moved past two events behind its back, as a second
    instance applying them would. Its next transaction must fail (the guard
    raises, the pipelined COMMIT rolls back) and, once it has read the
    position again, it applies only what lies beyond it."""
    tenant.send(debtor_item("D1"), invoice_item("I1", "D1", 1000))
    wait_until(lambda: stack.consumers_caught_up(tenant.id), 30, what="first events applied")
    assert _invoices(stack, tenant) == ["I1"]
    pos = stack.positions(tenant.id)["risk"]
    rollbacks = stack.metric("risk", "creance_consumer_rollbacks_total")

    # The next two events (one per item) are taken "by the other instance".
    stack.query_exec("UPDATE consumer_positions SET last_applied = %s "
                     "WHERE consumer = 'risk' AND tenant = %s AND stream = 'ledger'",
                     (pos + 2, tenant.id))
    tenant.send(invoice_item("I2", "D1", 200), invoice_item("I3", "D1", 300),
                invoice_item("I4", "D1", 400), invoice_item("I5", "D1", 500))
    wait_until(lambda: stack.consumers_caught_up(tenant.id), 30, what="the rest applied")

    assert stack.metric("risk", "creance_consumer_rollbacks_total") > rollbacks
    assert "another instance of the consumer moved it" in stack.log_text("risk")
    assert _invoices(stack, tenant) == ["I1", "I4", "I5"]
    assert stack.positions(tenant.id)["risk"] == pos + 4
