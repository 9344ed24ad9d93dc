"""Bad input on the wire and a cache that disappears: the services keep
running, change nothing they should not, and rebuild from PostgreSQL."""

import zmq

import creance_pb2 as pb

from stack import debtor_item, invoice_item, wait_until


def accepted(reply, n):
    assert reply.error == "", reply
    assert len(reply.results) == n and all(r.status == pb.ACCEPTED for r in reply.results), reply
    return [r.id for r in reply.results]


def test_garbage_frames(stack, tenant):
    topic = ("ledger/%s" % tenant.id).encode()
    # Valid protobuf, invalid envelope: no seq, no event id, no event.
    headless = pb.Envelope(tenant=tenant.id, stream="ledger").SerializeToString()
    invalid_before = stack.metric("risk", "creance_bus_invalid_frames_total")
    pub = stack.publisher()
    try:
        def send_garbage():
            # PUB drops everything until the broker's subscriptions reach it:
            # send again until risk has counted something.
            pub.send_multipart([topic, b"\xff\x00garbage"])
            pub.send(topic)                                   # a single frame
            pub.send_multipart([topic, headless])
            pub.send_multipart([topic, b"\x0a\x03abc", b"third frame"])
            return stack.metric("risk", "creance_bus_invalid_frames_total") > invalid_before
        wait_until(send_garbage, timeout=30, interval=0.2, what="risk counting invalid frames")
    finally:
        pub.close()

    for svc in ("risk", "reminders", "reporting"):
        assert stack.running(svc), svc
        status, body = stack.healthz(svc)
        assert status == 200, (svc, status, body)

    # The consumers still apply real events.
    debtor_id, _ = accepted(tenant.send(debtor_item("D"), invoice_item("I", "D", 5150)), 2)
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="catch-up")
    assert stack.query("SELECT outstanding_minor FROM risk_debtor_state "
                       "WHERE tenant = %s AND debtor_id = %s", (tenant.id, debtor_id)) == [(5150,)]
    assert stack.query("SELECT outstanding_minor FROM rpt_totals WHERE tenant = %s",
                       (tenant.id,)) == [(5150,)]
    wait_until(lambda: stack.redis_outstanding(tenant.id, debtor_id) == 5150, timeout=30,
               what="redis outstanding")

    # Garbage to intake's ROUTER: an answer with an error, nothing recorded.
    events = stack.event_count(tenant.id)
    reply = stack.intake_raw(b"\xff\xffnot protobuf")
    assert reply.error != "", reply
    assert len(reply.results) == 0, reply
    # A request with the delimiter but no payload frame: an error too.
    s = stack.zsocket(zmq.DEALER)
    try:
        s.connect(stack.env["CREANCE_INTAKE_ENDPOINT"])
        s.send_multipart([b""])
        assert s.poll(30000), "no reply from intake to a request without payload"
        frames = s.recv_multipart()
    finally:
        s.close()
    assert len(frames) == 2 and frames[0] == b"", frames
    reply = pb.IntakeReply()
    reply.ParseFromString(frames[1])
    assert reply.error != "" and len(reply.results) == 0, reply
    assert stack.event_count(tenant.id) == events
    accepted(tenant.send(invoice_item("I2", "D", 100)), 1)
    assert stack.running("intake")


def test_redis_flush_rebuild(stack, tenant, other_tenant):
    d1, _, _ = accepted(tenant.send(debtor_item("D1"), invoice_item("I1", "D1", 30000),
                                    invoice_item("I2", "D1", 12345, due="2024-04-01")), 3)
    d2, _ = accepted(tenant.send(debtor_item("D2"), invoice_item("J1", "D2", 999)), 2)
    o1, _ = accepted(other_tenant.send(debtor_item("D1"), invoice_item("I1", "D1", 70)), 2)
    expected = {(tenant.id, d1): 42345, (tenant.id, d2): 999, (other_tenant.id, o1): 70}

    def all_cached():
        return all(stack.redis_outstanding(t, d) == v for (t, d), v in expected.items())
    wait_until(all_cached, timeout=30, what="debtor hashes before the flush")
    open_before = stack.redis.hget(tenant.debtor_key(d1), "open_invoices")
    assert open_before == "2"

    stack.redis.flushall()
    assert stack.redis.dbsize() == 0
    wait_until(all_cached, timeout=60, what="debtor hashes rebuilt after FLUSHALL")
    assert stack.redis.hget(tenant.debtor_key(d1), "open_invoices") == open_before
    assert int(stack.redis.hget(tenant.debtor_key(d1), "updated_at_us")) > 0

    # The query path answers from the same figures, by id and by external id.
    for query in (pb.GetDebtorRisk(tenant=tenant.id, debtor_id=d1),
                  pb.GetDebtorRisk(tenant=tenant.id, debtor_external_id="D1")):
        reply = stack.risk_query(pb.Query(get_debtor_risk=query))
        assert reply.WhichOneof("reply") == "debtor_risk", reply
        dr = reply.debtor_risk
        assert dr.error == "" and dr.found, reply
        assert (dr.tenant, dr.debtor_id) == (tenant.id, d1), reply
        assert (dr.outstanding.minor, dr.outstanding.currency) == (42345, "EUR"), reply

    # Tenants do not leak into each other: D1 of the other tenant is another debtor.
    reply = stack.risk_query(pb.Query(get_debtor_risk=pb.GetDebtorRisk(
        tenant=other_tenant.id, debtor_external_id="D1")))
    assert reply.debtor_risk.found and reply.debtor_risk.outstanding.minor == 70, reply
    reply = stack.risk_query(pb.Query(get_debtor_risk=pb.GetDebtorRisk(
        tenant=other_tenant.id, debtor_id=d1)))
    assert not reply.debtor_risk.found, reply
