"""`creance admin tenant|token` against the running test stack, through
reporting's operator API (/admin/v1/): tenants and API tokens made, listed
and revoked without touching the database by hand; only a token's SHA-256
(and its prefix) is kept; a revoked token is refused at once; the operator
API refuses requests without the operator token, with another token, and
altogether (403) when reporting was given no operator token's digest.
"""

import hashlib
import json
import uuid

import pytest

from stack import free_ports, http_get, wait_until
from test_cli import run


def admin(stack, *args, token=None, env=None):
    e = {"CREANCE_ADMIN_TOKEN": stack.admin_token if token is None else token}
    e.update(env or {})
    return run(stack, list(args), env=e)


def new_id(prefix="adm"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def reporting_url(stack, path):
    return "http://%s%s" % (stack.http_addr("reporting"), path)


def admin_http(stack, method, path, body=None, token=None):
    """(status, headers-less parsed body) of one operator API request."""
    import urllib.error
    import urllib.request
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(reporting_url(stack, path), data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def test_tenant_and_token_lifecycle(stack):
    tid = new_id()
    r = admin(stack, "admin", "tenant", "create", tid, "--name", "Acme Recouvrement")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "tenant %s created (Acme Recouvrement)\n" % tid
    assert stack.query("SELECT name FROM tenants WHERE id = %s", (tid,)) == [("Acme Recouvrement",)]

    r = admin(stack, "admin", "tenant", "create", tid, "--name", "Again")
    assert r.returncode == 1
    assert "reporting answered 409: id: a tenant with this id exists" in r.stderr

    r = admin(stack, "admin", "tenant", "list", "--json")
    assert r.returncode == 0, r.stderr
    mine = [t for t in json.loads(r.stdout)["tenants"] if t["id"] == tid]
    assert [(t["name"], t["active_tokens"]) for t in mine] == [("Acme Recouvrement", 0)]

    # A token, shown once on stdout alone; the database keeps its digest.
    r = admin(stack, "admin", "token", "create", tid, "--name", "ops laptop")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert r.stdout == token + "\n" and token.startswith("ct_") and len(token) == 46
    assert "token 'ops laptop' (%s) created for tenant %s" % (token[:11], tid) in r.stderr
    assert "shown only this once" in r.stderr
    rows = stack.query("SELECT encode(token_hash, 'hex'), name, prefix, revoked_at FROM api_tokens"
                       " WHERE tenant = %s", (tid,))
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), "ops laptop", token[:11], None)]
    wait_until(lambda: "admin action=token_create tenant=%s name=\"ops laptop\" prefix=%s "
               "result=ok" % (tid, token[:11]) in stack.log_text("reporting"),
               what="the action in reporting's log")
    # The log names the token, never shows it.
    assert token not in stack.log_text("reporting")

    # The token works on the tenant's APIs...
    r = run(stack, ["report", "outstanding", "--json"], env={"CREANCE_TOKEN": token})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tenant"] == tid

    # ... an active token's name is taken; without --name, the prefix is the name.
    r = admin(stack, "admin", "token", "create", tid, "--name", "ops laptop")
    assert r.returncode == 1 and "an active token of this tenant has this name" in r.stderr
    r = admin(stack, "admin", "token", "create", tid, "--json")
    assert r.returncode == 0, r.stderr
    second = json.loads(r.stdout)
    assert second["tenant"] == tid and second["name"] == second["prefix"] == second["token"][:11]

    r = admin(stack, "admin", "token", "list", tid, "--json")
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)["tokens"]
    assert sorted((t["name"], t["prefix"], t["revoked_at"]) for t in listed) == sorted(
        [("ops laptop", token[:11], None), (second["name"], second["prefix"], None)])
    assert all("token" not in t for t in listed)

    # Revoked by name: refused from then on.
    r = admin(stack, "admin", "token", "revoke", tid, "ops laptop")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "token 'ops laptop' (%s) of tenant %s revoked\n" % (token[:11], tid)
    r = run(stack, ["report", "outstanding"], env={"CREANCE_TOKEN": token})
    assert r.returncode == 1 and "reporting answered 401" in r.stderr
    r = run(stack, ["debtor", "search", "x"], env={"CREANCE_TOKEN": token})
    assert r.returncode == 1 and "reporting answered 401" in r.stderr

    # Revoked by prefix (the second token still works until then).
    status, _ = stack.api_outstanding(second["token"])
    assert status == 200
    r = admin(stack, "admin", "token", "revoke", tid, second["prefix"][:8])
    assert r.returncode == 0, r.stderr
    status, _ = stack.api_outstanding(second["token"])
    assert status == 401

    r = admin(stack, "admin", "token", "revoke", tid, "ops laptop")
    assert r.returncode == 1
    assert "no active token of this tenant has this name or prefix" in r.stderr

    r = admin(stack, "admin", "token", "list", tid)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["name", "prefix", "created", "status"]
    assert len(lines) == 3 and all(" revoked " in l for l in lines[1:])

    assert stack.metric("reporting", "creance_reporting_admin_requests_total",
                        {"action": "token_revoke", "result": "ok"}) >= 2
    assert stack.metric("reporting", "creance_reporting_admin_requests_total",
                        {"action": "tenant_create", "result": "refused"}) >= 1


def test_revoke_ambiguous_name_is_refused(stack, tenant):
    # Two tokens made before the operator API, with the same name and no prefix.
    stack.make_token(tenant.id)
    r = admin(stack, "admin", "token", "revoke", tenant.id, "e2e")
    assert r.returncode == 1
    assert "2 active tokens match; give the prefix of one" in r.stderr
    assert stack.scalar("SELECT count(*) FROM api_tokens WHERE tenant = %s AND revoked_at IS NULL",
                        (tenant.id,)) == 2


def test_admin_bad_arguments(stack, tenant):
    cases = [
        (["admin", "tenant"], "an action is required"),
        (["admin", "tenant", "delete", "x"], "'delete' is not create or list"),
        (["admin", "tenant", "create", "Bad Id", "--name", "x"], "'Bad Id' is not a tenant id"),
        (["admin", "tenant", "create", "ok-id"], "--name is required"),
        (["admin", "tenant", "list", "--name", "x"], "--name: only for 'admin tenant create'"),
        (["admin", "token", "create"], "a tenant id is required"),
        (["admin", "token", "revoke", tenant.id], "the tenant and the token's name or prefix"),
        (["admin", "token", "list", tenant.id, "--name", "x"], "--name: only for"),
        (["admin", "token", "revoke", tenant.id, "ops/1"], "token names and prefixes have no '/'"),
        (["admin", "token", "rotate", tenant.id], "'rotate' is not create, list or revoke"),
        (["admin", "token", "create", tenant.id, "--admin-token", ""], "--admin-token: empty"),
        (["admin", "nothing"], "'nothing' is not a subcommand"),
    ]
    for args, message in cases:
        r = admin(stack, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    r = admin(stack, "admin", "token", "list", tenant.id, token="")
    assert r.returncode == 2
    assert "no operator token: give --admin-token or set CREANCE_ADMIN_TOKEN" in r.stderr
    r = admin(stack, "admin", "token", "create", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: creance admin token create")
    # Nothing was made.
    assert stack.scalar("SELECT count(*) FROM api_tokens WHERE tenant = %s", (tenant.id,)) == 1
    assert stack.scalar("SELECT count(*) FROM tenants WHERE id = 'ok-id'") == 0


def test_admin_refused(stack, tenant):
    # Another token than the operator's, and a tenant's API token.
    for wrong in ("cop_not-the-operator-token", tenant.token):
        r = admin(stack, "admin", "tenant", "list", token=wrong)
        assert r.returncode == 1
        assert "reporting answered 401: Authorization: not the operator token" in r.stderr
    r = admin(stack, "admin", "tenant", "list", "--admin-token", "cop_wrong", token="")
    assert r.returncode == 1 and "not the operator token" in r.stderr
    # An unknown tenant.
    r = admin(stack, "admin", "token", "create", "no-such-tenant-here")
    assert r.returncode == 1
    assert "tenant no-such-tenant-here not found (no such tenant)" in r.stderr
    assert stack.metric("reporting", "creance_reporting_admin_auth_failures_total",
                        {"reason": "wrong_token"}) >= 3


def test_admin_api_over_http(stack):
    # No credentials: 401 with a challenge; the wrong ones: 401.
    status, body, headers = admin_http(stack, "GET", "/admin/v1/tenants")
    assert status == 401 and body["error"]["field"] == "Authorization"
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants",
                                 {"id": new_id(), "name": "x"}, token="nope")
    assert status == 401 and body["error"]["reason"] == "not the operator token"
    # Authorised: bad input named, unknown paths and methods.
    tok = stack.admin_token
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants", b"{not json", token=tok)
    assert status == 400 and body["error"]["field"] == "body"
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants", {"id": "X!", "name": "x"},
                                 token=tok)
    assert status == 400 and body["error"]["field"] == "id"
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants", {"id": new_id(), "name": "\n"},
                                 token=tok)
    assert status == 400 and body["error"] == {"field": "name", "reason": "has control characters"}
    status, body, _ = admin_http(stack, "GET", "/admin/v1/keys", token=tok)
    assert status == 404 and body["error"]["field"] == "path"
    status, body, _ = admin_http(stack, "DELETE", "/admin/v1/tenants", token=tok)
    assert status == 405
    tid = new_id()
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants", {"id": tid, "name": "T"},
                                 token=tok)
    assert status == 201 and body["id"] == tid and body["created_at"].endswith("Z")
    status, body, _ = admin_http(stack, "POST", "/admin/v1/tenants/%s/tokens" % tid,
                                 {"name": "a/b"}, token=tok)
    assert status == 400 and body["error"]["field"] == "name"
    status, body, _ = admin_http(stack, "GET", "/admin/v1/tenants/%s" % tid, token=tok)
    assert status == 200 and body == {"id": tid, "name": "T", "created_at": body["created_at"],
                                      "active_tokens": 0}


def test_admin_api_disabled_without_configuration(stack):
    stack.stop("reporting")
    stack.service_env["reporting"] = {"CREANCE_ADMIN_TOKEN_SHA256": ""}
    try:
        stack.start("reporting")
        r = admin(stack, "admin", "tenant", "create", new_id(), "--name", "x")
        assert r.returncode == 1
        assert "reporting answered 403: Authorization: the operator API is disabled: reporting " \
               "has no CREANCE_ADMIN_TOKEN_SHA256" in r.stderr
        status, _ = http_get(reporting_url(stack, "/admin/v1/tenants"))
        assert status == 403
        assert stack.metric("reporting", "creance_reporting_admin_auth_failures_total",
                            {"reason": "disabled"}) == 2
    finally:
        stack.stop("reporting")
        del stack.service_env["reporting"]
        stack.start("reporting")
    r = admin(stack, "admin", "tenant", "list")
    assert r.returncode == 0, r.stderr


def test_admin_unreachable(stack):
    addr = "127.0.0.1:%d" % free_ports(1)[0]
    r = admin(stack, "admin", "tenant", "list", env={"CREANCE_REPORTING_HTTP": addr})
    assert r.returncode == 1
    assert "reporting unreachable at http://%s/admin/v1/tenants" % addr in r.stderr
