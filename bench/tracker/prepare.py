#!/usr/bin/env python3
"""Writes the tracker benchmark's inputs into OUT (bench/tracker/run calls it).

  messages.csv      sent messages of the tenant, for the webhook events to find
  tracking.txt      one request path per line: signed open pixels and click links, half each
  sendgrid.txt      one request per line: signature, timestamp and a body of EVENTS events,
                    signed with the account's ECDSA key as SendGrid's Signed Event Webhook does
  sendgrid.pub      the verification key (base64 SPKI), the account's webhook secret

Usage: prepare.py OUT TENANT TRACKING_SECRET [TOKENS] [BODIES] [EVENTS]
"""
import base64, csv, hashlib, hmac, json, os, sys, time, uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out, tenant, secret = sys.argv[1], sys.argv[2], sys.argv[3].encode()
tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
bodies = int(sys.argv[5]) if len(sys.argv) > 5 else 2_000
per_body = int(sys.argv[6]) if len(sys.argv) > 6 else 100


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(token: dict) -> str:
    # The same form as TrackingSigner: base64url(JSON).base64url(HMAC-SHA256 of that text).
    payload = b64url(json.dumps(token, separators=(",", ":"), sort_keys=True).encode())
    return payload + "." + b64url(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


tenant_upper = tenant.upper()
# Sent an hour ago: these are people's opens and clicks, not a scanner's at delivery.
sent_ms = int((time.time() - 3600) * 1000)
messages = [str(uuid.uuid4()) for _ in range(max(10_000, bodies * per_body // 2))]

with open(os.path.join(out, "messages.csv"), "w", newline="") as f:
    w = csv.writer(f)
    for m in messages:
        w.writerow([m, tenant, "sent", "bulk", json.dumps({"to": [{"email": f"r-{m[:8]}@example.com"}]}), "2026-01-01T00:00:00Z"])

with open(os.path.join(out, "tracking.txt"), "w") as f:
    for i in range(tokens):
        m = messages[i % 10_000].upper()
        if i % 2 == 0:
            f.write("/o/" + sign({"k": "o", "m": m, "t": tenant_upper, "s": sent_ms}) + ".gif\n")
        else:
            f.write("/c/" + sign({"k": "c", "m": m, "t": tenant_upper, "s": sent_ms, "u": f"https://example.com/p/{i % 97}?utm=x"}) + "\n")

key = ec.generate_private_key(ec.SECP256R1())
public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
with open(os.path.join(out, "sendgrid.pub"), "w") as f:
    f.write(base64.b64encode(public).decode() + "\n")

now = int(time.time())
with open(os.path.join(out, "sendgrid.txt"), "w") as f:
    n = 0
    for b in range(bodies):
        events = []
        # Each message: its delivery, then an open (status moves to delivered; both stored).
        for j in range(per_body // 2):
            m = messages[(b * per_body // 2 + j) % len(messages)]
            for kind in ("delivered", "open"):
                n += 1
                events.append({
                    "email": f"r-{m[:8]}@example.com", "timestamp": now - 60, "event": kind,
                    "sg_event_id": f"bench-{n}", "sg_message_id": f"sg{b}.{j}", "mailfleet_message_id": m,
                    "useragent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0",
                })
        body = json.dumps(events, separators=(",", ":"))
        signature = key.sign(str(now).encode() + body.encode(), ec.ECDSA(hashes.SHA256()))
        f.write(base64.b64encode(signature).decode() + "\t" + str(now) + "\t" + body + "\n")
