#!/usr/bin/env python3
"""Loads Mailfleet's /status page in headless Chromium and reports what it rendered.

    status_page.py URL [--wait-ms N] [--screenshot FILE] [--window WxH]

URL carries the operator credential as basic auth (http://ops:TOKEN@host:port/status); the
page's own polling of /status.json then uses it too. Prints one JSON object:

    {"values": {element id: text, ...}, "updates": n, "error": text or null,
     "console_errors": [...], "cells": {"providers": [[...], ...], "workers": ..., "failures": ...},
     "elements": {tag: count, ...}}

`updates` counts the snapshots the page applied (its body's data-updates), `error` is a script
error the page caught (its body's data-error), `console_errors` are the errors Chromium logged
while loading. With --screenshot, also writes a PNG of the page as it stands after the wait.
"""
import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

VALUE_IDS = [
    "q-ready-t", "q-ready-b", "q-leased", "q-delayed", "dead-letters", "workers-alive", "workers-sent",
    "workers-failed", "workers-deferred", "rate-now", "rate-peak", "rate-failed", "rate-points", "state", "generated",
]
TABLES = ["providers", "workers", "failures"]


class Page(html.parser.HTMLParser):
    """Collects the text of the elements with the ids above, table cells, and element counts."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self.cells = {name: [] for name in TABLES}
        self.elements = {}
        self.body = {}
        self.stack = []  # (tag, id) of open elements
        self.table = None
        self.row = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements[tag] = self.elements.get(tag, 0) + 1
        if tag == "body":
            self.body = attrs
        if tag in ("meta", "br", "img", "input", "link", "polyline", "polygon", "line"):
            return
        self.stack.append((tag, attrs.get("id")))
        if tag == "tbody" and attrs.get("id") in TABLES:
            self.table = attrs["id"]
        elif tag == "tr" and self.table:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.table and self.row is not None:
            self.cells[self.table].append(self.row)
            self.row = None
        elif tag == "tbody":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        for _, element_id in self.stack:
            if element_id in VALUE_IDS:
                self.values[element_id] = self.values.get(element_id, "") + data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium is not installed (apt-get install -y chromium)")


def run(url, wait_ms, extra, timeout=90):
    profile = tempfile.mkdtemp(prefix="mailfleet-status-")
    try:
        command = [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--virtual-time-budget={wait_ms}",
        ] + extra + [url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        return done
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--wait-ms", type=int, default=3000)
    parser.add_argument("--screenshot")
    parser.add_argument("--window", default="1280,1000")
    args = parser.parse_args()

    done = run(args.url, args.wait_ms, ["--dump-dom"])
    if done.returncode != 0 or not done.stdout.strip():
        sys.exit(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    page = Page()
    page.feed(done.stdout)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    # Script errors, and requests the page made that failed (a browser's own favicon request aside).
    errors = [
        line for line in console
        if ("Uncaught" in line or "ERROR:CONSOLE" in line or "Failed to load resource" in line) and "favicon.ico" not in line
    ]
    if args.screenshot:
        shot = run(args.url, args.wait_ms, [f"--screenshot={os.path.abspath(args.screenshot)}", f"--window-size={args.window}"])
        if shot.returncode != 0 or not os.path.exists(args.screenshot):
            sys.exit(f"chromium screenshot failed ({shot.returncode}): {shot.stderr[-2000:]}")
    print(json.dumps({
        "values": {k: v.strip() for k, v in page.values.items()},
        "updates": int(page.body.get("data-updates", "0") or 0),
        "error": page.body.get("data-error"),
        "console_errors": errors,
        "cells": page.cells,
        "elements": page.elements,
    }))


if __name__ == "__main__":
    main()
