"""Real peers for the reminders' channels, in the test process.

SmtpSink: an SMTP server (Debian's python3-aiosmtpd) that keeps every
message it accepted. `rcpt_delay` makes it wait before answering RCPT TO:
a client killed during that wait has had nothing accepted, which is how the
crash test stops the service in the middle of a delivery.

SmsSink: an HTTP receiver for the SMS gateway's POSTs (JSON body and
headers kept); `status` sets what it answers.
"""

import asyncio
import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.sink.rcpt_seen.set()
        if self.sink.rcpt_delay:
            await asyncio.sleep(self.sink.rcpt_delay)
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append({
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message_id": msg["Message-ID"],
                "subject": str(msg["Subject"]),
                "body": msg.get_content(),
                "raw": envelope.content,
            })
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port):
        self.port = port
        self.messages = []
        self.lock = threading.Lock()
        self.rcpt_delay = 0.0
        self.refuse = set()
        self.rcpt_seen = threading.Event()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m["to"]]


class SmsSink:
    def __init__(self, port):
        self.port = port
        self.requests = []
        self.status = 200
        self.lock = threading.Lock()
        sink = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with sink.lock:
                    sink.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "json": json.loads(body or b"{}")})
                    status = sink.status
                out = json.dumps({"id": "sms-%d" % len(sink.requests)}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def to(self, phone):
        with self.lock:
            return [r for r in self.requests if r["json"].get("to") == phone]
