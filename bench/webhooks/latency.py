#!/usr/bin/env python3
"""Posts Postmark hard-bounce webhooks to the tracker at a fixed rate (open loop: each post is
sent at its scheduled time on its own thread, whatever the earlier ones are doing), then waits
for the receiver's log to show each bounce's event, and prints the latency from post to
receipt. Usage: latency.py WEBHOOK_URL MESSAGE_ID RATE SECONDS RECEIVED_LOG
Last line: COUNT P50_MS P99_MS MAX_MS NOT_RECEIVED."""
import base64
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

url, message, rate, seconds, log_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
parts = urllib.parse.urlsplit(url)
auth = "Basic " + base64.b64encode(("%s:%s" % (parts.username, parts.password)).encode()).decode()
plain = urllib.parse.urlunsplit((parts.scheme, "%s:%d" % (parts.hostname, parts.port), parts.path, "", ""))
total = int(rate * seconds)
sent = {}
failures = []


def post(n):
    body = json.dumps({"RecordType": "Bounce", "ID": 100000 + n, "Type": "HardBounce", "TypeCode": 1, "MessageID": "pm-bench",
                       "Email": "r%d@example.com" % n, "Details": "550 5.1.1 no such user",
                       "BouncedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Metadata": {"mailfleet_message_id": message}}).encode()
    request = urllib.request.Request(plain, data=body, method="POST", headers={"Content-Type": "application/json", "Authorization": auth})
    sent["r%d@example.com" % n] = time.time()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status != 200:
                failures.append(answer.status)
    except Exception as error:
        failures.append(str(error))


start = time.time() + 0.5
threads = []
for n in range(total):
    delay = start + n / rate - time.time()
    if delay > 0:
        time.sleep(delay)
    thread = threading.Thread(target=post, args=(n,))
    thread.start()
    threads.append(thread)
for thread in threads:
    thread.join()

received = {}
deadline = time.time() + 30
while time.time() < deadline:
    with open(log_path) as log:
        for line in log:
            r = json.loads(line)
            recipient = json.loads(r["body"])["data"]["recipient"]
            received.setdefault(recipient, r["t"])
    if len(received) >= total:
        break
    time.sleep(0.5)

latencies = sorted((received[k] - sent[k]) * 1000 for k in sent if k in received)
def pct(p):
    return latencies[min(len(latencies) - 1, int(round(p / 100 * len(latencies))) - 1)] if latencies else 0
print("posted %d bounces (%d refused), received %d; post to receipt: p50 %.0f ms, p99 %.0f ms, max %.0f ms"
      % (total, len(failures), len(latencies), pct(50), pct(99), latencies[-1] if latencies else 0))
print("%d %.0f %.0f %.0f %d" % (len(latencies), pct(50), pct(99), latencies[-1] if latencies else 0, total - len(latencies)))
