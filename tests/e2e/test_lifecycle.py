"""SIGTERM drains: a service finishes what it has in hand, says so, and exits 0."""

import re

import pytest

import creance_pb2 as pb

from stack import debtor_item, invoice_item, wait_until

# common/service.c logs "termination requested: draining" then "drained; exiting".
DRAIN_RE = re.compile(r"\bdrained\b", re.IGNORECASE)


@pytest.mark.parametrize("svc", ["broker", "intake", "risk", "reminders", "reporting"])
def test_sigterm_drains(stack, tenant, svc):
    reply = tenant.send(debtor_item("D"), invoice_item("I1", "D", 2500))
    assert reply.error == "" and all(r.status == pb.ACCEPTED for r in reply.results), reply
    debtor_id = reply.results[0].id

    offset = stack.log_size(svc)
    status = stack.stop(svc)
    assert status == 0, "%s exited with %s" % (svc, status)
    log = stack.log_since(svc, offset)
    assert DRAIN_RE.search(log), "%s logged no drain after SIGTERM:\n%s" % (svc, log[-3000:])

    # Back up, and the stack still works end to end.
    stack.start(svc)
    reply = tenant.send(invoice_item("I2", "D", 500))
    assert reply.error == "" and reply.results[0].status == pb.ACCEPTED, reply
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="catch-up")
    assert stack.query("SELECT outstanding_minor FROM risk_debtor_state WHERE tenant = %s "
                       "AND debtor_id = %s", (tenant.id, debtor_id)) == [(3000,)]
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == 3000, timeout=30,
               what="redis outstanding 3000")

