"""SIGHUP reloads the configuration (common/service.c).

A running process's environment cannot be changed from outside, so what an
operator edits is the file named by CREANCE_CONFIG_FILE (under systemd, the
units' /etc/creance/creance.env), then sends SIGHUP (`systemctl reload`).
What a reload applies at once: the log level (every service), intake's
batch limit, bulk mode and watch rules; CURVE's authorized/ needs no signal
at all (test_security.py). The process keeps its pid and its state.
"""

import hashlib
import os
import signal

import creance_pb2 as pb

from stack import SERVICES, debtor_item, http_get, invoice_item, wait_until

RELOADED = "configuration reloaded"
NOT_RELOADED = "configuration NOT reloaded"


def write_config(path, **values):
    # Renamed into place: the service never reads a half-written file.
    with open(path + ".tmp", "w") as f:
        f.write("# the operator's file (test_reload.py)\n")
        for name, value in values.items():
            f.write("%s=%s\n" % (name, value))
    os.replace(path + ".tmp", path)


def sighup(stack, name, expect=RELOADED):
    """SIGHUP to `name`; returns its log from the signal to the reload line."""
    offset = stack.log_size(name)
    os.kill(stack.procs[name].pid, signal.SIGHUP)
    wait_until(lambda: expect in stack.log_since(name, offset), timeout=30,
               what="%s logging '%s'" % (name, expect))
    return stack.log_since(name, offset)


def instance_metric(env, name, labels):
    status, body = http_get("http://%s/metrics" % env["CREANCE_INTAKE_HTTP"])
    assert status == 200, body
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_sighup_applies_the_edited_config_file(stack, tenant, tmp_path):
    name = "intake.reload"
    config = str(tmp_path / "creance.env")
    write_config(config, CREANCE_LOG_LEVEL="info", CREANCE_INTAKE_MAX_BATCH="2")
    # The file wins over the environment (the stack's CREANCE_LOG_LEVEL is debug).
    env = stack.start_instance(name, "intake", env={"CREANCE_CONFIG_FILE": config})
    try:
        pid = stack.procs[name].pid
        endpoint = env["CREANCE_INTAKE_ENDPOINT"]
        healthz = "http://%s/healthz" % env["CREANCE_INTAKE_HTTP"]
        three = tenant.batch(debtor_item("RL-D"), invoice_item("RL-I1", "RL-D", 1000),
                             invoice_item("RL-I2", "RL-D", 2000)).SerializeToString()

        def send(payload):
            reply = pb.IntakeReply()
            reply.ParseFromString(stack._dealer_call(endpoint, payload, 30.0))
            return reply

        # Before: 3 items are over the limit of 2, and info hides the
        # per-request debug line of the HTTP server.
        reply = send(three)
        assert "limit is 2" in reply.error, reply
        assert instance_metric(env, "creance_intake_rejected_total", {"reason": "too_many_items"}) == 1
        offset = stack.log_size(name)
        assert http_get(healthz)[0] == 200
        assert "path=/healthz" not in stack.log_since(name, offset)

        write_config(config, CREANCE_LOG_LEVEL="debug", CREANCE_INTAKE_MAX_BATCH="3")
        log = sighup(stack, name)
        assert "changed=2" in log, log
        assert "config CREANCE_INTAKE_MAX_BATCH=3" in stack.log_since(name, offset)

        # After: same process, its counters kept (a restart would zero them),
        # the new limit and the new level in force.
        assert stack.procs[name].pid == pid and stack.running(name)
        assert instance_metric(env, "creance_intake_rejected_total", {"reason": "too_many_items"}) == 1
        reply = send(three)
        assert reply.error == "" and [r.status for r in reply.results] == [pb.ACCEPTED] * 3, reply
        offset = stack.log_size(name)
        assert http_get(healthz)[0] == 200
        wait_until(lambda: "path=/healthz" in stack.log_since(name, offset), timeout=10,
                   what="the debug line of GET /healthz")

        # A file that cannot be read changes nothing: the running
        # configuration stays rather than falling back to defaults.
        os.unlink(config)
        sighup(stack, name, expect=NOT_RELOADED)
        reply = send(three)
        assert reply.error == "" and [r.status for r in reply.results] == [pb.DUPLICATE] * 3, reply
        offset = stack.log_size(name)
        assert http_get(healthz)[0] == 200
        wait_until(lambda: "path=/healthz" in stack.log_since(name, offset), timeout=10,
                   what="the debug line of GET /healthz, level still debug")
        assert stack.procs[name].pid == pid and stack.running(name)
    finally:
        if stack.running(name):
            assert stack.stop(name) == 0


def test_sighup_keeps_every_service_working(stack, tenant):
    """Without a file nothing changes (the environment is the one the
    process started with), and a reload must not disturb what the service
    holds: same pid, healthy, and the stack still works end to end. (A
    reload never frees a value: reminders keeps its SMTP settings and
    letter folder by pointer from start; tests/unit/test_config.c checks
    those pointers stay valid.)"""
    pids = {svc: stack.procs[svc].pid for svc in SERVICES}
    for svc in SERVICES:
        log = sighup(stack, svc)
        assert "changed=0" in log, log
    assert {svc: stack.procs[svc].pid for svc in SERVICES} == pids
    for svc in SERVICES:
        assert stack.healthz(svc)[0] == 200, svc

    reply = tenant.send(debtor_item("HUP-D"), invoice_item("HUP-I", "HUP-D", 4200))
    assert reply.error == "" and all(r.status == pb.ACCEPTED for r in reply.results), reply
    debtor_id = reply.results[0].id
    wait_until(lambda: stack.consumers_caught_up(tenant.id), timeout=60, what="catch-up")
    assert stack.query("SELECT outstanding_minor FROM risk_debtor_state WHERE tenant = %s "
                       "AND debtor_id = %s", (tenant.id, debtor_id)) == [(4200,)]

    def reported():
        status, body = tenant.outstanding()
        return status == 200 and [t["outstanding_minor"] for t in body["totals"]] == [4200]
    wait_until(reported, timeout=30, what="reporting's outstanding 4200")


def test_sighup_rotates_the_operator_token(stack, tmp_path):
    """Reporting reads CREANCE_ADMIN_TOKEN_SHA256 at each operator request:
    a reload swaps the operator token without a restart."""
    name = "reporting.reload"
    config = str(tmp_path / "creance.env")
    old, new = "op_old_" + os.urandom(8).hex(), "op_new_" + os.urandom(8).hex()
    digest = lambda t: hashlib.sha256(t.encode()).hexdigest()
    write_config(config, CREANCE_ADMIN_TOKEN_SHA256=digest(old))
    env = stack.start_instance(name, "reporting", env={"CREANCE_CONFIG_FILE": config})
    url = "http://%s/admin/v1/tenants" % env["CREANCE_REPORTING_HTTP"]
    status_with = lambda token: http_get(url, headers={"Authorization": "Bearer " + token})[0]
    try:
        pid = stack.procs[name].pid
        assert (status_with(old), status_with(new)) == (200, 401)
        write_config(config, CREANCE_ADMIN_TOKEN_SHA256=digest(new))
        assert "changed=1" in sighup(stack, name)
        assert (status_with(old), status_with(new)) == (401, 200)
        assert stack.procs[name].pid == pid
    finally:
        if stack.running(name):
            assert stack.stop(name) == 0
