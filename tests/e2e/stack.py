"""The whole Créance stack, for real, in a temporary folder on free ports.

A Stack owns a PostgreSQL cluster (initdb in the temp dir, 127.0.0.1 and a
unix socket in the temp dir only), a Redis server, the broker and the four
services built in $CREANCE_BUILD/bin. Every address is moved to a free port
through the CREANCE_* environment, so a run never touches the local stack on
the default ports and two runs can go side by side.

Children run in their own process group, with a parent-death signal, so that
a test runner that dies cannot leave them behind; Stack.close() stops
everything whatever happened before it.

Tests never assert on wall-clock time: wait_until() only bounds how long we
wait for something that must eventually be true.
"""

import ctypes
import glob
import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import psycopg2
import redis
import zmq
import zmq.auth

try:
    import creance_pb2 as pb
except ImportError as e:  # pragma: no cover - a setup error, said plainly
    raise ImportError("creance_pb2 not found: build it (make BUILD=<dir> <dir>/gen/py/creance_pb2.py) "
                      "and run scripts/run-tests.sh e2e, which puts <dir>/gen/py on PYTHONPATH") from e

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SERVICES = ("broker", "intake", "risk", "reminders", "reporting")
# Services with an HTTP server (/healthz, /metrics) and their variable.
HTTP_VARS = {
    "broker": "CREANCE_BROKER_HTTP",
    "intake": "CREANCE_INTAKE_HTTP",
    "risk": "CREANCE_RISK_HTTP",
    "reminders": "CREANCE_REMINDERS_HTTP",
    "reporting": "CREANCE_REPORTING_HTTP",
}
# The services that consume the ledger stream (consumer_positions.consumer).
LEDGER_CONSUMERS = ("risk", "reminders", "reporting")

START_TIMEOUT = float(os.environ.get("CREANCE_E2E_START_TIMEOUT", "60"))
STOP_TIMEOUT = float(os.environ.get("CREANCE_E2E_STOP_TIMEOUT", "30"))

TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

# The stack of the running session, for the failure hook in conftest.py.
current = None


class StackError(RuntimeError):
    pass


# ---------------------------------------------------------------- helpers

def wait_until(fn, timeout=30.0, interval=0.05, what=None):
    """Calls fn until it returns something truthy and returns that value.
    Exceptions count as "not yet" until the timeout, then the last one is
    re-raised; a falsy value at the timeout fails with what it was."""
    deadline = time.monotonic() + timeout
    last_exc = None
    last = None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - reported below if it persists
            last_exc = e
        if time.monotonic() >= deadline:
            desc = what or getattr(fn, "__name__", "condition")
            if last_exc is not None:
                raise AssertionError(
                    "timed out after %.0fs waiting for %s: last error %r"
                    % (timeout, desc, last_exc)) from last_exc
            raise AssertionError("timed out after %.0fs waiting for %s: last value %r"
                                 % (timeout, desc, last))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1: all bound to port 0 at once,
    so the kernel cannot hand the same one out twice, then released."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup():
    """In the child, after any uid change: die with the test runner."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "\n".join(data.splitlines()[-lines:])


def http_get(url, headers=None, timeout=5.0):
    """(status, body as str); HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def http_post(url, body, headers=None, timeout=10.0):
    """(status, body as str) of a POST of raw bytes; HTTP errors are answers."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {label: value}, float)] from the Prometheus text format."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def date_pb(iso):
    y, m, d = (int(x) for x in iso.split("-"))
    return pb.Date(year=y, month=m, day=d)


def money(minor, currency="EUR"):
    return pb.Money(minor=minor, currency=currency)


# ---------------------------------------------------------------- tenants

class Tenant:
    def __init__(self, stack, tid, token):
        self.stack = stack
        self.id = tid
        self.token = token
        self.source = "billing-e2e"

    def batch(self, *items, batch_id=None, source=None):
        b = pb.IntakeBatch(tenant=self.id, source=source or self.source,
                           batch_id=batch_id or uuid.uuid4().hex)
        for it in items:
            b.items.append(it)
        return b

    def send(self, *items, **kw):
        return self.stack.intake(self.batch(*items, **kw))

    def outstanding(self, token=None):
        """(status, parsed JSON or raw body) of reporting's outstanding API."""
        return self.stack.api_outstanding(token if token is not None else self.token)

    def debtor_key(self, debtor_id):
        return "creance:{%s:%d}:debtor" % (self.id, debtor_id)


def debtor_item(external_id, name="Dupont SARL", **kw):
    kw.setdefault("country", "FR")
    kw.setdefault("language", "fr")
    kw.setdefault("kind", pb.BUSINESS)
    return pb.IntakeItem(debtor=pb.DebtorFact(external_id=external_id, legal_name=name, **kw))


def invoice_item(external_id, debtor_external_id, amount, issue="2024-01-10",
                 due="2024-02-09", currency="EUR", number=None, terms_days=30):
    return pb.IntakeItem(invoice=pb.InvoiceFact(
        external_id=external_id, debtor_external_id=debtor_external_id,
        number=number or ("F-" + external_id), issue_date=date_pb(issue),
        due_date=date_pb(due), amount=money(amount, currency), terms_days=terms_days))


def payment_item(external_id, debtor_external_id, amount, received="2024-03-01",
                 currency="EUR", invoices=(), method="transfer"):
    return pb.IntakeItem(payment=pb.PaymentFact(
        external_id=external_id, debtor_external_id=debtor_external_id,
        received_date=date_pb(received), amount=money(amount, currency),
        method=method, invoice_external_ids=list(invoices)))


# ---------------------------------------------------------------- the stack

class Stack:
    def __init__(self, build=None):
        build = build or os.environ.get("CREANCE_BUILD", "build")
        self.build = build if os.path.isabs(build) else os.path.join(REPO, build)
        self.bindir = os.path.join(self.build, "bin")
        self.tmp = tempfile.mkdtemp(prefix="creance-e2e-")
        self.procs = {}          # name -> Popen
        # Per-service environment overrides, applied at each start(svc):
        # e.g. stack.service_env["reminders"] = {"CREANCE_TODAY": "2026-03-02"}
        # then stop and start it (tests that move the calendar restore it).
        self.service_env = {}
        self.logs = {}           # name -> log path
        self.failed = False
        self.db = None
        self.redis = None
        self._zctx = zmq.Context.instance()
        self.as_postgres = os.geteuid() == 0
        (self.pg_port, self.redis_port, self.broker_pub_port, self.broker_sub_port,
         self.intake_port, self.intake_http_port, self.risk_port, self.risk_http_port,
         self.reminders_http_port, self.reporting_http_port,
         self.broker_http_port, self.smtp_port, self.sms_port) = free_ports(13)
        self.db_url = "postgresql://creance@127.0.0.1:%d/creance" % self.pg_port
        self.env = dict(os.environ)
        # The services must not pick up a developer's settings by accident.
        for k in list(self.env):
            if k.startswith("CREANCE_"):
                del self.env[k]
        self.env.update({
            "CREANCE_DB_URL": self.db_url,
            "CREANCE_REDIS_URL": "redis://127.0.0.1:%d" % self.redis_port,
            "CREANCE_BROKER_PUB": "tcp://127.0.0.1:%d" % self.broker_pub_port,
            "CREANCE_BROKER_SUB": "tcp://127.0.0.1:%d" % self.broker_sub_port,
            "CREANCE_BROKER_HTTP": "127.0.0.1:%d" % self.broker_http_port,
            "CREANCE_INTAKE_ENDPOINT": "tcp://127.0.0.1:%d" % self.intake_port,
            "CREANCE_INTAKE_HTTP": "127.0.0.1:%d" % self.intake_http_port,
            "CREANCE_RISK_ENDPOINT": "tcp://127.0.0.1:%d" % self.risk_port,
            "CREANCE_RISK_HTTP": "127.0.0.1:%d" % self.risk_http_port,
            "CREANCE_REMINDERS_HTTP": "127.0.0.1:%d" % self.reminders_http_port,
            "CREANCE_REPORTING_HTTP": "127.0.0.1:%d" % self.reporting_http_port,
            "CREANCE_LOG_LEVEL": "debug",
            # Reminders' peers: the tests that need them listen on these
            # ports (tests/e2e/test_reminders*.py); elsewhere nothing
            # listens and deliveries are retried, which is harmless.
            "CREANCE_SMTP_URL": "smtp://127.0.0.1:%d" % self.smtp_port,
            "CREANCE_SMS_URL": "http://127.0.0.1:%d/sms" % self.sms_port,
            "CREANCE_SMS_TOKEN": "e2e-sms-token",
            "CREANCE_LETTER_OUTBOX": os.path.join(self.tmp, "letters"),
            "CREANCE_REMINDERS_PASS_MS": "400",
            "CREANCE_REMINDERS_DELIVERY_MS": "200",
            "CREANCE_REMINDERS_BACKOFF_S": "1",
            "CREANCE_SMTP_TIMEOUT_MS": "5000",
            # Intake's watcher (promise/plan outcomes) judges by the real
            # date: its timer would break the 2026 promises of other tests
            # mid-test. It still runs at start and after payments;
            # tests/e2e/test_intake_watch.py drives it by restarting intake.
            "CREANCE_INTAKE_WATCH_MS": "3600000",
        })
        # Reporting's operator API (/admin/v1/) knows only the token's
        # SHA-256; tests pass the token to the CLI as CREANCE_ADMIN_TOKEN.
        self.admin_token = "cop_" + secrets.token_urlsafe(32)
        self.env["CREANCE_ADMIN_TOKEN_SHA256"] = hashlib.sha256(
            self.admin_token.encode()).hexdigest()
        # The services connect as the least-privilege role creance_app
        # (deploy/sql/0060_app_role.sql); migrations and the tests' own
        # connection (self.db, self.db_url) are the schema's owner.
        self.app_db_password = "e2e-app-" + secrets.token_hex(12)
        self.app_db_url = "postgresql://creance_app:%s@127.0.0.1:%d/creance" % (
            self.app_db_password, self.pg_port)
        self.env["CREANCE_DB_URL"] = self.app_db_url
        # CURVE on every ZeroMQ socket between services, as in production
        # (common/curve.h); CREANCE_E2E_CURVE=0 runs without it.
        self.curve = os.environ.get("CREANCE_E2E_CURVE", "1") != "0"
        self.curve_dir = os.path.join(self.tmp, "curve")
        if self.curve:
            self.env["CREANCE_CURVE_DIR"] = self.curve_dir
            self.env["CREANCE_CURVE_CERT"] = self.curve_cert("cli")

    # ------------------------------------------------------------ lifecycle

    def open(self):
        """Starts everything; on any error stops what was started and raises."""
        global current
        current = self
        try:
            self._check_binaries()
            if self.curve:
                self._make_curve_keys()
            self._start_postgres()
            self._migrate()
            self._start_redis()
            for svc in SERVICES:
                self.start(svc)
        except BaseException:
            self.failed = True
            self.close()
            raise
        return self

    def close(self):
        """Stops everything, whatever state it is in. Never raises."""
        global current
        errors = []
        for svc in reversed(SERVICES):
            p = self.procs.get(svc)
            if p is not None and p.poll() is None:
                try:
                    self._signal(p, signal.SIGTERM)
                    p.wait(timeout=STOP_TIMEOUT)
                except Exception as e:  # noqa: BLE001
                    errors.append("%s: %r" % (svc, e))
                    self._killpg(p)
        try:
            if self.db is not None:
                self.db.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            if self.redis is not None:
                self.redis.close()
        except Exception:  # noqa: BLE001
            pass
        # Redis has nothing worth keeping; PostgreSQL's fast shutdown is SIGINT.
        for name, sig in (("redis", signal.SIGTERM), ("postgres", signal.SIGINT)):
            p = self.procs.get(name)
            if p is not None and p.poll() is None:
                try:
                    self._signal(p, sig)
                    p.wait(timeout=STOP_TIMEOUT)
                except Exception as e:  # noqa: BLE001
                    errors.append("%s: %r" % (name, e))
                    self._killpg(p)
        # Anything left in the process groups (postgres backends, ...).
        for p in self.procs.values():
            self._killpg(p)
        if self.failed or os.environ.get("CREANCE_E2E_KEEP"):
            # Keep the logs for a post-mortem, not the database files.
            shutil.rmtree(os.path.join(self.tmp, "pgdata"), ignore_errors=True)
            sys.stderr.write("\ncreance e2e: logs kept in %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if current is self:
            current = None
        if errors:
            sys.stderr.write("creance e2e: errors while stopping: %s\n" % "; ".join(errors))

    def _check_binaries(self):
        missing = [svc for svc in SERVICES
                   if not os.access(self.binary(svc), os.X_OK)]
        if missing:
            raise StackError("service binaries missing in %s: %s (build them first)"
                             % (self.bindir, ", ".join(missing)))

    def binary(self, svc):
        return os.path.join(self.bindir, "creance-" + svc)

    def _popen(self, name, argv, env=None, as_postgres=False):
        log = os.path.join(self.tmp, name + ".log")
        self.logs[name] = log
        f = open(log, "ab")
        f.write(("---- %s start %s\n" % (time.strftime("%H:%M:%S"), " ".join(argv))).encode())
        f.flush()
        kw = {}
        if as_postgres and self.as_postgres:
            # PostgreSQL refuses to run as root.
            kw.update(user="postgres", group="postgres", extra_groups=[])
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                                 env=env or self.env, cwd=self.tmp, start_new_session=True,
                                 preexec_fn=_child_setup, **kw)
        finally:
            f.close()
        self.procs[name] = p
        return p

    def _run(self, name, argv, env=None, as_postgres=False, timeout=120):
        """Runs a command to completion, output into <name>.log; raises with
        the log's tail when it fails."""
        p = self._popen(name, argv, env=env, as_postgres=as_postgres)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._killpg(p)
            raise StackError("%s timed out:\n%s" % (" ".join(argv), tail(self.logs[name])))
        finally:
            del self.procs[name]
        if rc != 0:
            raise StackError("%s exited %d:\n%s" % (" ".join(argv), rc, tail(self.logs[name])))

    @staticmethod
    def _signal(p, sig):
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass

    @staticmethod
    def _killpg(p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(timeout=10)
        except Exception:  # noqa: BLE001
            pass

    # ------------------------------------------------------------ PostgreSQL

    def _pg_bin(self, name):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name),
                       key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        if not found:
            path = shutil.which(name)
            if path:
                return path
            raise StackError("PostgreSQL's %s not found in /usr/lib/postgresql/*/bin" % name)
        return found[-1]

    def _start_postgres(self):
        pgdata = os.path.join(self.tmp, "pgdata")
        self.pg_sock = os.path.join(self.tmp, "pgsock")
        os.makedirs(self.pg_sock)
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            for root, dirs, files in os.walk(self.tmp):
                os.chown(root, pw.pw_uid, pw.pw_gid)
                for f in files:
                    os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)
        self._run("initdb", [self._pg_bin("initdb"), "-D", pgdata, "-U", "creance", "-A", "trust",
                             "-E", "UTF8", "--locale=C", "--no-sync"], as_postgres=True)
        # Kept for start_postgres_again(): same port, same data directory.
        self._pg_argv = [
            self._pg_bin("postgres"), "-D", pgdata, "-p", str(self.pg_port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=" + self.pg_sock,
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=100", "-c", "log_min_messages=warning",
        ]
        # Extra server settings, for profiling (e.g. "shared_preload_libraries=pg_stat_statements").
        for opt in os.environ.get("CREANCE_E2E_PG_OPTS", "").split():
            self._pg_argv += ["-c", opt]
        p = self._popen("postgres", self._pg_argv, as_postgres=True)

        def ready():
            if p.poll() is not None:
                raise StackError("postgres exited %s:\n%s" % (p.returncode, tail(self.logs["postgres"])))
            c = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="creance",
                                 dbname="postgres", connect_timeout=2)
            c.close()
            return True
        self._wait_start(ready, "postgres")
        c = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="creance", dbname="postgres")
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute("CREATE DATABASE creance")
        c.close()

    def _migrate(self):
        env = dict(self.env)
        env["PATH"] = os.path.dirname(self._pg_bin("psql")) + ":" + env.get("PATH", "")
        env["CREANCE_DB_URL"] = self.db_url         # the owner runs the migrations
        self._run("migrate", [os.path.join(REPO, "scripts", "migrate.sh")], env=env)
        self.db = psycopg2.connect(self.db_url)
        # Each statement sees what the services committed just before it.
        self.db.autocommit = True
        with self.db.cursor() as cur:
            cur.execute("ALTER ROLE creance_app PASSWORD %s", (self.app_db_password,))

    # ------------------------------------------------------------ Redis

    def _start_redis(self):
        rdir = os.path.join(self.tmp, "redis")
        os.makedirs(rdir, exist_ok=True)    # exists when started again
        p = self._popen("redis", ["redis-server", "--port", str(self.redis_port),
                                  "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", rdir, "--daemonize", "no"])
        self.redis = redis.Redis(host="127.0.0.1", port=self.redis_port, decode_responses=True,
                                 socket_timeout=5)

        def ready():
            if p.poll() is not None:
                raise StackError("redis exited %s:\n%s" % (p.returncode, tail(self.logs["redis"])))
            return self.redis.ping()
        self._wait_start(ready, "redis")

    # ------------------------------------------------------------ stores stopped and started again
    # (tests/faults): an operator's restart or a crash of PostgreSQL or Redis
    # under running services, on the same port and, for PostgreSQL, the same
    # data directory.

    def stop_postgres(self):
        """Fast shutdown (SIGINT): every session is cut, committed data stays."""
        try:
            self.db.close()
        except Exception:  # noqa: BLE001
            pass
        p = self.procs["postgres"]
        self._signal(p, signal.SIGINT)
        return p.wait(timeout=STOP_TIMEOUT)

    def start_postgres_again(self):
        p = self._popen("postgres", self._pg_argv, as_postgres=True)

        def ready():
            if p.poll() is not None:
                raise StackError("postgres exited %s:\n%s" % (p.returncode, tail(self.logs["postgres"])))
            c = psycopg2.connect(self.db_url, connect_timeout=2)
            c.close()
            return True
        self._wait_start(ready, "postgres")
        self.db = psycopg2.connect(self.db_url)
        self.db.autocommit = True

    def stop_redis(self):
        """SIGKILL: Redis keeps nothing here (no RDB, no AOF), so it comes back empty."""
        try:
            self.redis.close()
        except Exception:  # noqa: BLE001
            pass
        self._killpg(self.procs["redis"])

    def start_redis_again(self):
        self._start_redis()

    # ------------------------------------------------------------ services

    def _wait_start(self, fn, name):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            try:
                if fn():
                    return
            except StackError:
                raise
            except Exception as e:  # noqa: BLE001
                last = e
            time.sleep(0.1)
        raise StackError("%s not ready after %.0fs (last error %r):\n%s"
                         % (name, START_TIMEOUT, last, tail(self.logs.get(name, ""))))

    def http_addr(self, svc):
        return self.env[HTTP_VARS[svc]]

    def healthz(self, svc):
        # A liveness bound, not a speed target: a service's loop may be in
        # a dunning pass or a catch-up page for a second or two when the
        # machine is loaded.
        return http_get("http://%s/healthz" % self.http_addr(svc), timeout=10)

    def running(self, svc):
        p = self.procs.get(svc)
        return p is not None and p.poll() is None

    def start(self, svc, wait=True):
        """Starts svc and waits until it is ready (/healthz 200; for the
        broker, both of its ports accepting connections). With wait=False,
        returns once the service has logged that it is starting (its signal
        handlers are in place from then on)."""
        if self.running(svc):
            raise StackError("%s is already running" % svc)
        offset = os.path.getsize(self.logs[svc]) if svc in self.logs else 0
        env = None
        if self.service_env.get(svc) or (self.curve and svc != "broker"):
            env = dict(self.env)
            if self.curve and svc != "broker":
                env["CREANCE_CURVE_CERT"] = self.curve_cert(svc)
            env.update(self.service_env.get(svc) or {})
        p = self._popen(svc, [self.binary(svc)], env=env)
        if not wait:
            def starting():
                if p.poll() is not None:
                    raise StackError("%s exited %s at start:\n%s"
                                     % (svc, p.returncode, tail(self.logs[svc])))
                return "starting pid=%d" % p.pid in self.log_since(svc, offset)
            self._wait_start(starting, svc)
            return p

        def ready():
            if p.poll() is not None:
                raise StackError("%s exited %s at start:\n%s"
                                 % (svc, p.returncode, tail(self.logs[svc])))
            if svc == "broker" and not (port_open(self.broker_pub_port)
                                        and port_open(self.broker_sub_port)):
                return False
            status, _ = self.healthz(svc)
            return status == 200
        self._wait_start(ready, svc)
        return p

    # The ZeroMQ endpoint a second instance needs a port of its own for.
    ENDPOINT_VARS = {"intake": "CREANCE_INTAKE_ENDPOINT", "risk": "CREANCE_RISK_ENDPOINT"}

    def start_instance(self, name, svc, env=None):
        """Starts one more instance of svc under `name` (e.g. "risk.1"):
        its own HTTP and endpoint ports, its own log (name.log), the
        stack's environment with `env` on top. Returns its environment;
        stop(name) and kill(name) work on it; close() ends it with the rest."""
        if self.running(name):
            raise StackError("%s is already running" % name)
        e = dict(self.env)
        if self.curve and svc != "broker":
            e["CREANCE_CURVE_CERT"] = self.curve_cert(svc)
        http_port, endpoint_port = free_ports(2)
        e[HTTP_VARS[svc]] = "127.0.0.1:%d" % http_port
        if svc in self.ENDPOINT_VARS:
            e[self.ENDPOINT_VARS[svc]] = "tcp://127.0.0.1:%d" % endpoint_port
        e.update(env or {})
        p = self._popen(name, [self.binary(svc)], env=e)

        def ready():
            if p.poll() is not None:
                raise StackError("%s exited %s at start:\n%s" % (name, p.returncode, tail(self.logs[name])))
            return http_get("http://%s/healthz" % e[HTTP_VARS[svc]], timeout=2)[0] == 200
        self._wait_start(ready, name)
        return e

    def stop(self, svc, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit status (negative: killed by a
        signal). Raises if it does not exit within the timeout (after
        killing it)."""
        p = self.procs[svc]
        self._signal(p, signal.SIGTERM)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._killpg(p)
            raise StackError("%s did not exit within %.0fs of SIGTERM:\n%s"
                             % (svc, timeout, tail(self.logs[svc])))

    def kill(self, svc):
        """SIGKILL: a crash, no drain."""
        p = self.procs[svc]
        self._killpg(p)
        return p.returncode

    def ensure_running(self):
        """Restarts whatever a previous test left stopped or crashed."""
        for svc in SERVICES:
            if not self.running(svc):
                self.start(svc)

    def log_text(self, svc):
        with open(self.logs[svc], "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_size(self, svc):
        return os.path.getsize(self.logs[svc])

    def log_since(self, svc, offset):
        with open(self.logs[svc], "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_tails(self, lines=40):
        parts = []
        for name in ("postgres", "redis") + SERVICES:
            if name in self.logs:
                parts.append("---- %s (%s)\n%s" % (name, self.logs[name], tail(self.logs[name], lines)))
        return "\n".join(parts)

    # ------------------------------------------------------------ metrics

    def metrics(self, svc):
        status, body = http_get("http://%s/metrics" % self.http_addr(svc))
        if status != 200:
            raise StackError("%s /metrics answered %d: %s" % (svc, status, body[:200]))
        return parse_metrics(body)

    def metric(self, svc, name, labels=None):
        """Sum of the series called `name` whose labels include `labels`
        (all of them when labels is None); 0.0 when there is none yet."""
        labels = labels or {}
        total = 0.0
        for n, ls, v in self.metrics(svc):
            if n == name and all(ls.get(k) == str(want) for k, want in labels.items()):
                total += v
        return total

    # ------------------------------------------------------------ SQL

    def query(self, sql, args=()):
        with self.db.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def query_exec(self, sql, args=()):
        """A statement without a result set; returns the row count."""
        with self.db.cursor() as cur:
            cur.execute(sql, args)
            return cur.rowcount

    def scalar(self, sql, args=()):
        rows = self.query(sql, args)
        return rows[0][0] if rows else None

    # ------------------------------------------------------------ derived state

    def redis_outstanding(self, tenant_id, debtor_id, currency="EUR"):
        """The cached figure as an int, None when the field is absent."""
        v = self.redis.hget("creance:{%s:%d}:debtor" % (tenant_id, debtor_id),
                            "outstanding:" + currency)
        return None if v is None else int(v)

    def last_seq(self, tenant_id, stream="ledger"):
        return self.scalar("SELECT last_seq FROM streams WHERE tenant = %s AND stream = %s",
                           (tenant_id, stream))

    def positions(self, tenant_id, stream="ledger"):
        """{consumer: last_applied} for (tenant, stream)."""
        return dict(self.query("SELECT consumer, last_applied FROM consumer_positions "
                               "WHERE tenant = %s AND stream = %s", (tenant_id, stream)))

    def consumers_caught_up(self, tenant_id, stream="ledger", consumers=LEDGER_CONSUMERS):
        """True when every ledger consumer has applied up to streams.last_seq."""
        last = self.last_seq(tenant_id, stream)
        pos = self.positions(tenant_id, stream)
        return last is not None and all(pos.get(c) == last for c in consumers)

    def event_count(self, tenant_id, stream="ledger"):
        return self.scalar("SELECT count(*) FROM event_log WHERE tenant = %s AND stream = %s",
                           (tenant_id, stream))

    # ------------------------------------------------------------ tenants

    def make_tenant(self, prefix="t"):
        tid = "%s-%s" % (prefix, uuid.uuid4().hex[:16])
        assert TENANT_RE.match(tid), tid
        with self.db.cursor() as cur:
            cur.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tid, "E2E " + tid))
        return Tenant(self, tid, self.make_token(tid))

    def make_token(self, tenant_id):
        token = "ct_" + secrets.token_urlsafe(24)
        with self.db.cursor() as cur:
            cur.execute("INSERT INTO api_tokens (token_hash, tenant, name) "
                        "VALUES (sha256(convert_to(%s, 'UTF8')), %s, 'e2e')", (token, tenant_id))
        return token

    # ------------------------------------------------------------ ZeroMQ clients

    # CURVE: the servers' certificate in curve/server.key(_secret), each
    # client's in curve/certs/NAME.key(_secret), the allowed clients' public
    # halves in curve/authorized/. Generated by the CLI as an operator would.
    CURVE_CLIENTS = ("intake", "risk", "reminders", "reporting", "cli", "e2e")

    def curve_cert(self, name):
        return os.path.join(self.curve_dir, "certs", name + ".key")

    def _make_curve_keys(self):
        cli = os.path.join(self.bindir, "creance")
        if not os.access(cli, os.X_OK):
            raise StackError("%s missing: it generates the CURVE keys (build it first)" % cli)
        self._run("keys", [cli, "admin", "keys", "generate", "server", "--dir", self.curve_dir])
        os.makedirs(os.path.join(self.curve_dir, "authorized"))
        for name in self.CURVE_CLIENTS:
            self._run("keys", [cli, "admin", "keys", "generate", name,
                               "--dir", os.path.join(self.curve_dir, "certs")])
            shutil.copy(self.curve_cert(name), os.path.join(self.curve_dir, "authorized"))

    def zsocket(self, kind, cert="e2e"):
        """A pyzmq socket (linger 0) set up as a CURVE client with the
        certificate `cert` (a name under curve/certs, or a path to a
        NAME.key_secret file) when the stack runs CURVE; cert=None: no CURVE
        at all. The caller connects and closes it."""
        s = self._zctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        if self.curve and cert is not None:
            path = cert if os.path.isabs(cert) else self.curve_cert(cert) + "_secret"
            public, secret = zmq.auth.load_certificate(path)
            server, _ = zmq.auth.load_certificate(os.path.join(self.curve_dir, "server.key"))
            s.curve_secretkey = secret
            s.curve_publickey = public
            s.curve_serverkey = server
        return s

    def _dealer_call(self, endpoint, payload, timeout):
        s = self.zsocket(zmq.DEALER)
        try:
            s.connect(endpoint)
            s.send_multipart([b"", payload])
            if not s.poll(int(timeout * 1000)):
                raise AssertionError("no reply from %s within %.0fs" % (endpoint, timeout))
            frames = s.recv_multipart()
        finally:
            s.close()
        assert len(frames) == 2 and frames[0] == b"", "bad reply envelope %r" % (frames,)
        return frames[1]

    def intake_raw(self, payload, timeout=30.0):
        """Sends raw bytes to intake's ROUTER; returns the decoded IntakeReply."""
        reply = pb.IntakeReply()
        reply.ParseFromString(self._dealer_call(self.env["CREANCE_INTAKE_ENDPOINT"], payload, timeout))
        return reply

    def intake(self, batch, timeout=30.0):
        data = batch if isinstance(batch, bytes) else batch.SerializeToString()
        return self.intake_raw(data, timeout)

    def risk_query(self, query, timeout=15.0):
        reply = pb.QueryReply()
        reply.ParseFromString(self._dealer_call(self.env["CREANCE_RISK_ENDPOINT"],
                                                query.SerializeToString(), timeout))
        return reply

    def publisher(self):
        """A PUB socket connected to the broker's XSUB side (caller closes)."""
        s = self.zsocket(zmq.PUB)
        s.connect(self.env["CREANCE_BROKER_PUB"])
        return s

    # ------------------------------------------------------------ reporting API

    def api_outstanding(self, token):
        import json
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        status, body = http_get("http://%s/api/v1/outstanding" % self.http_addr("reporting"),
                                headers=headers)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body
