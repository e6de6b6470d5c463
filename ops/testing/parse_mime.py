#!/usr/bin/env python3
"""Parses RFC 5322 messages with Python's email package (policy=default), an independent MIME
parser, and prints what it understood as JSON, one object per file given on the command line:
{"defects": [...], "subject", "from", "to", "text", "html",
 "attachments": [{"filename", "content_type", "content" (base64)}],
 "longest_line", "bare_line_ends"}
"""

import base64
import email
import email.policy
import json
import sys


def describe(path):
    raw = open(path, "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [f"{type(d).__name__}" for d in message.defects]
    text = html = None
    attachments = []
    for part in message.walk():
        defects += [f"{part.get_content_type()}: {type(d).__name__}" for d in part.defects]
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "content": base64.b64encode(part.get_payload(decode=True) or b"").decode(),
            })
        elif part.get_content_type() == "text/plain" and text is None:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and html is None:
            html = part.get_content()
    lines = raw.split(b"\r\n")
    return {
        "defects": defects,
        "subject": str(message["subject"]),
        "from": str(message["from"]),
        "to": str(message["to"]),
        "text": text,
        "html": html,
        "attachments": attachments,
        "longest_line": max(len(line) for line in lines),
        "bare_line_ends": raw.replace(b"\r\n", b"").count(b"\n") + raw.replace(b"\r\n", b"").count(b"\r"),
    }


print(json.dumps([describe(path) for path in sys.argv[1:]]))
