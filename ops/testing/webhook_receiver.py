#!/usr/bin/env python3
"""A tenant's webhook endpoint for the end-to-end tests and the benchmark.

Standard library only. Usage: webhook_receiver.py PORT LOG [--delay-ms N] [--status N]
(PORT 0 = pick a free port; the first line on stdout is "PORT <n>"). Every POST is appended to
LOG as one JSON line: {"t": arrival time (seconds since 1970), "path", "id", "timestamp",
"signature", "body"}, then answered with the status (default 204) after the delay. The server
exits when its standard input closes (the parent died).
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, log_path = int(sys.argv[1]), sys.argv[2]
delay = int(sys.argv[sys.argv.index("--delay-ms") + 1]) / 1000 if "--delay-ms" in sys.argv else 0
status = int(sys.argv[sys.argv.index("--status") + 1]) if "--status" in sys.argv else 204
lock = threading.Lock()
log = open(log_path, "a", buffering=1)


class Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
        line = json.dumps({"t": arrived, "path": self.path, "id": self.headers.get("webhook-id", ""),
                           "timestamp": self.headers.get("webhook-timestamp", ""),
                           "signature": self.headers.get("webhook-signature", ""), "body": body})
        with lock:
            log.write(line + "\n")
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = Server(("127.0.0.1", port), Handler)
print("PORT %d" % server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
