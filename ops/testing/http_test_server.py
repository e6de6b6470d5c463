#!/usr/bin/env python3
"""HTTP/1.1 keep-alive test server for MailfleetHTTPClient's integration tests.

Standard library only. Usage: http_test_server.py PORT [--exit-on-stdin-eof]
(PORT 0 = pick a free port; the first line on stdout is then "PORT <n>"; with the flag the
server exits when its standard input closes, e.g. when the parent process dies).

Endpoints:
  GET|POST /echo         200, JSON {method, path, headers, body_length, body_sha256};
                         also an X-Body-Length header
  *        /status/<c>   answers status <c> (429 adds Retry-After: 3)
  *        /delay/<ms>   sleeps <ms> milliseconds, then 200
  GET      /big/<n>      <n> bytes, byte i being i % 256
  GET      /stats        {"connections": TCP connections accepted so far}
"""

import hashlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingServer(ThreadingHTTPServer):
    # Clients open many connections at once; the default backlog of 5 would drop SYNs and
    # add one-second retransmit delays.
    request_queue_size = 256
    daemon_threads = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = 0
        self.connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        # Called once per accepted TCP connection, not per request: that is what proves
        # keep-alive reuse.
        with self.connections_lock:
            self.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        # Clients that time out or cancel hang up mid-response; that is expected here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive by default

    def log_message(self, format, *args):
        pass  # keep test output quiet

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body=b"", content_type="application/octet-stream", extra=()):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        if status not in (204, 304) and status >= 200:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=()):
        self.send(status, json.dumps(obj).encode(), "application/json", extra)

    def route(self):
        body = self.read_body()  # always drain it, or the next request on the connection breaks
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        try:
            if parts[0] == "echo":
                headers = {}
                for name, value in self.headers.items():
                    headers[name] = headers[name] + ", " + value if name in headers else value
                self.send_json(
                    200,
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": headers,
                        "body_length": len(body),
                        "body_sha256": hashlib.sha256(body).hexdigest(),
                    },
                    extra=[("X-Body-Length", str(len(body)))],
                )
            elif parts[0] == "status" and len(parts) == 2:
                code = int(parts[1])
                extra = [("Retry-After", "3")] if code == 429 else []
                self.send_json(code, {"status": code}, extra)
            elif parts[0] == "delay" and len(parts) == 2:
                time.sleep(int(parts[1]) / 1000)
                self.send_json(200, {"delayed_ms": int(parts[1])})
            elif parts[0] == "big" and len(parts) == 2:
                n = int(parts[1])
                self.send(200, bytes(range(256)) * (n // 256) + bytes(range(n % 256)))
            elif parts[0] == "stats":
                with self.server.connections_lock:
                    count = self.server.connections
                self.send_json(200, {"connections": count})
            else:
                self.send_json(404, {"error": "not found"})
        except ValueError:
            self.send_json(400, {"error": "bad number"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = route

    def do_HEAD(self):
        self.route()


def exit_when_stdin_closes():
    # The parent keeps our stdin open; when it exits or crashes without stopping us, the pipe
    # closes and we go too, so no orphaned servers are left behind.
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    os._exit(0)


def main():
    # A parent that spawns us from a thread with signals blocked (Swift's Foundation.Process
    # does) passes that mask on, and a blocked SIGTERM would make terminate() a no-op.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if "--exit-on-stdin-eof" in sys.argv:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = CountingServer(("127.0.0.1", port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
