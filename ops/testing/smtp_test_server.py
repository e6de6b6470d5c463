#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for the SMTP provider's tests, counting what it receives.

Usage: smtp_test_server.py [--user NAME --password PASS] [--reject ADDRESS ...]
                           [--cert PEM --key PEM [--implicit-tls]]
The SMTP port and an HTTP stats port are picked by the kernel; the first two lines on stdout
are "SMTP <port>" and "STATS <port>". The server exits when its standard input closes (the
test process died or finished).

  GET /stats  {"connections", "messages", "recipients", "logins",
               "variables": {recipient: {metadata..., "mailfleet_message_id": id}}}

With --user/--password, AUTH (PLAIN/LOGIN, allowed without TLS for the test) is required.
Recipients given with --reject, and any whose local part starts with "reject550", are refused
at RCPT TO with 550; local parts starting with "defer451" are refused with 451 (a temporary
failure). The other recipients of the same message are accepted. With --cert/--key the server
requires STARTTLS (or, with --implicit-tls, speaks TLS from the first byte, as on port 465).
"""

import argparse
import asyncio
import email
import email.policy
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword, SMTP

lock = threading.Lock()
stats = {"connections": 0, "messages": 0, "recipients": 0, "logins": 0, "variables": {}}


class Handler:
    def __init__(self, reject):
        self.reject = {a.lower() for a in reject}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.lower().split("@")[0]
        if address.lower() in self.reject or local.startswith("reject550"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("defer451"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        variables = {}
        try:
            variables = json.loads(str(message.get("X-Mailfleet-Metadata", "{}")))
        except ValueError:
            pass
        message_id = message.get("X-Mailfleet-Message-Id")
        if message_id:
            variables["mailfleet_message_id"] = str(message_id)
        with lock:
            stats["messages"] += 1
            stats["recipients"] += len(envelope.rcpt_tos)
            for rcpt in envelope.rcpt_tos:
                stats["variables"][rcpt.lower()] = variables
        return "250 Message accepted for delivery"


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        with lock:
            stats["connections"] += 1
        super().connection_made(transport)


class CountingController(Controller):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


class Stats(BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            body = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    args = parser.parse_args()

    kwargs = {}
    if args.user:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user \
                and auth_data.password.decode() == args.password
            if ok:
                with lock:
                    stats["logins"] += 1
            # handled=False makes aiosmtpd answer 535 itself; its default (True) sends nothing.
            return AuthResult(success=ok, handled=False)
        kwargs = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": bool(args.cert)}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.implicit_tls:
            kwargs["ssl_context"] = context
            # aiosmtpd counts only STARTTLS as TLS when deciding to offer AUTH; the whole
            # connection is TLS here.
            kwargs["auth_require_tls"] = False
        else:
            kwargs.update({"tls_context": context, "require_starttls": True})

    # aiosmtpd's controller cannot listen on port 0 (it connects to the port to check it is up),
    # so ask the kernel for a free port first.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    smtp_port = probe.getsockname()[1]
    probe.close()
    controller = CountingController(Handler(args.reject), hostname="127.0.0.1", port=smtp_port, **kwargs)
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Stats)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(f"SMTP {smtp_port}", flush=True)
    print(f"STATS {http.server_address[1]}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
