/// The status page itself: one HTML document with its CSS and script inline, so it needs no
/// build step and no asset from elsewhere. Nothing from the fleet is put into this HTML: the
/// script fetches `/status.json` once a second and writes values with `textContent` (never
/// as markup), so every name, address and error is shown as text.
enum StatusPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mailfleet status</title>
<style>
  :root { --bg:#0f1419; --panel:#182028; --line:#2a3540; --text:#e6edf3; --dim:#8b98a5; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; padding:20px 24px; background:var(--bg); color:var(--text); font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { display:flex; align-items:baseline; gap:16px; margin-bottom:16px; }
  h1 { font-size:20px; margin:0; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 8px; font-weight:600; }
  #state { color:var(--ok); font-size:13px; }
  #state.bad { color:var(--bad); }
  .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(118px, 1fr)); gap:10px; margin-bottom:14px; }
  .card { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
  .card .label { color:var(--dim); font-size:12px; }
  .card .value { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; margin-bottom:14px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th { text-align:left; color:var(--dim); font-weight:500; font-size:12px; border-bottom:1px solid var(--line); padding:4px 8px 4px 0; }
  td { padding:4px 8px 4px 0; border-bottom:1px solid #202a33; vertical-align:top; }
  td.num, th.num { text-align:right; }
  td.mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  td.error { color:#ffb3ad; word-break:break-word; }
  .empty { color:var(--dim); font-style:italic; }
  .badge { display:inline-block; padding:0 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .closed { background:#12361e; color:var(--ok); }
  .open { background:#3d1414; color:var(--bad); }
  .half-open { background:#3a2c0c; color:var(--warn); }
  .unknown { background:#2a3540; color:var(--dim); }
  #throughput-figures { display:flex; gap:24px; margin-bottom:6px; color:var(--dim); }
  #throughput-figures b { color:var(--text); font-variant-numeric:tabular-nums; }
  svg { width:100%; height:90px; display:block; }
  #unavailable { display:none; background:#3d1414; border:1px solid var(--bad); color:#ffd7d5; border-radius:8px; padding:8px 12px; margin-bottom:14px; }
  .grid2 { display:grid; grid-template-columns:1fr 1fr; gap:14px; }
  .grid2 section { margin-bottom:0; }
  @media (max-width: 900px) { .grid2 { grid-template-columns:1fr; } }
</style>
</head>
<body data-updates="0">
<header><h1>Mailfleet status</h1><span id="state">loading…</span><span id="generated" class="empty"></span></header>
<div id="unavailable"></div>
<div class="cards">
  <div class="card"><div class="label">Ready · transactional</div><div class="value" id="q-ready-t">–</div></div>
  <div class="card"><div class="label">Ready · bulk</div><div class="value" id="q-ready-b">–</div></div>
  <div class="card"><div class="label">Leased (sending)</div><div class="value" id="q-leased">–</div></div>
  <div class="card"><div class="label">Delayed</div><div class="value" id="q-delayed">–</div></div>
  <div class="card"><div class="label">Dead letters</div><div class="value" id="dead-letters">–</div></div>
  <div class="card"><div class="label">Workers alive</div><div class="value" id="workers-alive">–</div></div>
  <div class="card"><div class="label">Sent (live workers)</div><div class="value" id="workers-sent">–</div></div>
  <div class="card"><div class="label">Failed (live workers)</div><div class="value" id="workers-failed">–</div></div>
  <div class="card"><div class="label">Deferred (live workers)</div><div class="value" id="workers-deferred">–</div></div>
</div>
<section>
  <h2>Throughput: messages sent per second, last 5 minutes</h2>
  <div id="throughput-figures"><span>now <b id="rate-now">–</b>/s</span><span>peak <b id="rate-peak">–</b>/s</span><span>failed now <b id="rate-failed">–</b>/s</span><span id="rate-points" class="empty"></span></div>
  <svg id="sparkline" viewBox="0 0 600 80" preserveAspectRatio="none" role="img" aria-label="messages sent per second"></svg>
</section>
<div class="grid2">
  <section>
    <h2>Providers</h2>
    <table><thead><tr><th>Tenant</th><th>Account</th><th>Kind</th><th class="num">Priority</th><th>Circuit</th><th class="num">Latency</th><th class="num">Calls</th></tr></thead>
    <tbody id="providers"></tbody></table>
  </section>
  <section>
    <h2>Workers</h2>
    <table><thead><tr><th>Worker</th><th>Started</th><th class="num">Heartbeat</th><th class="num">Sent</th><th class="num">Failed</th><th class="num">Deferred</th></tr></thead>
    <tbody id="workers"></tbody></table>
  </section>
</div>
<section style="margin-top:14px">
  <h2>Recent failures (dead letters)</h2>
  <table><thead><tr><th>Failed at</th><th>Tenant</th><th>Message</th><th>Error</th></tr></thead>
  <tbody id="failures"></tbody></table>
</section>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const HISTORY_POINTS = 300;
let updates = 0;

function reportError(message) {
  document.body.dataset.error = message;
  const box = $("unavailable");
  box.textContent = "Page error: " + message;
  box.style.display = "block";
}
window.addEventListener("error", (e) => reportError(String(e.message)));
window.addEventListener("unhandledrejection", (e) => reportError(String(e.reason)));

function number(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
function put(id, value) { $(id).textContent = number(value); }
function time(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC") : ""; }

// Replaces a table body's rows; every cell is text, so nothing from the fleet becomes markup.
function rows(id, items, emptyText, toCells) {
  const body = $(id);
  body.replaceChildren();
  if (!items || items.length === 0) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 8;
    td.className = "empty";
    td.textContent = items ? emptyText : "unavailable";
    tr.appendChild(td);
    body.appendChild(tr);
    return;
  }
  for (const item of items) {
    const tr = document.createElement("tr");
    for (const [text, cls] of toCells(item)) {
      const td = document.createElement("td");
      if (cls && cls.startsWith("badge ")) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;
        td.appendChild(span);
      } else {
        td.textContent = text;
        if (cls) td.className = cls;
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function sparkline(points) {
  const svg = $("sparkline");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const w = 600, h = 80, step = w / (HISTORY_POINTS - 1);
  const sent = points.map((p) => p.sent_per_second), failed = points.map((p) => p.failed_per_second);
  const max = Math.max(1, ...sent, ...failed);
  // The newest point at the right edge; older ones to the left, one step per sample.
  const xy = (values) => values.map((v, i) => [w - (values.length - 1 - i) * step, h - 2 - (v / max) * (h - 6)]);
  const grid = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: 0, x2: w, y1: h - 1, y2: h - 1, stroke: "#2a3540", "stroke-width": 1 })) grid.setAttribute(k, v);
  svg.appendChild(grid);
  if (points.length === 0) return;
  const line = xy(sent);
  const area = document.createElementNS(ns, "polygon");
  area.setAttribute("points", [[line[0][0], h], ...line, [line[line.length - 1][0], h]].map((p) => p.join(",")).join(" "));
  area.setAttribute("fill", "rgba(88,166,255,0.18)");
  svg.appendChild(area);
  for (const [values, colour] of [[line, "#58a6ff"], [xy(failed), "#f85149"]]) {
    const poly = document.createElementNS(ns, "polyline");
    poly.setAttribute("points", values.map((p) => p.join(",")).join(" "));
    poly.setAttribute("fill", "none");
    poly.setAttribute("stroke", colour);
    poly.setAttribute("stroke-width", "1.5");
    poly.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(poly);
  }
  const last = points[points.length - 1];
  $("rate-now").textContent = last.sent_per_second.toFixed(1);
  $("rate-failed").textContent = last.failed_per_second.toFixed(1);
  $("rate-peak").textContent = Math.max(...sent).toFixed(1);
  $("rate-points").textContent = points.length + " samples";
}

function render(s) {
  $("generated").textContent = "as of " + time(s.generated_at);
  const q = s.queues || {};
  put("q-ready-t", q.ready_transactional);
  put("q-ready-b", q.ready_bulk);
  put("q-leased", q.leased);
  put("q-delayed", q.delayed);
  put("dead-letters", s.dead_letters);
  const w = s.workers || {};
  put("workers-alive", w.alive);
  put("workers-sent", w.sent);
  put("workers-failed", w.failed);
  put("workers-deferred", w.deferred);
  sparkline(s.throughput.points);
  rows("providers", s.providers, "no provider accounts", (p) => [
    [p.tenant], [p.account], [p.kind], [String(p.priority), "num"], [p.circuit.state, "badge " + p.circuit.state],
    [p.latency_ms === null || p.latency_ms === undefined ? "–" : p.latency_ms.toFixed(1) + " ms", "num"], [number(p.calls), "num"],
  ]);
  rows("workers", s.workers ? s.workers.list : null, "no worker alive", (x) => [
    [x.host + " · pid " + x.pid], [time(x.started_at)], [x.seconds_since_heartbeat.toFixed(1) + " s ago", "num"],
    [number(x.sent), "num"], [number(x.failed), "num"], [number(x.deferred), "num"],
  ]);
  rows("failures", s.recent_failures, "no dead letters", (f) => [
    [time(f.failed_at)], [f.tenant], [f.message_id, "mono"], [f.error, "error"],
  ]);
  const box = $("unavailable");
  if (s.unavailable.length > 0) {
    box.textContent = "Not readable now: " + s.unavailable.join("; ");
    box.style.display = "block";
  } else if (!document.body.dataset.error) {
    box.style.display = "none";
  }
}

async function refresh() {
  const state = $("state");
  try {
    // location.origin, not a relative URL: a page opened with the credentials in its URL
    // would otherwise pass them on in the fetch's URL, which fetch refuses.
    const answer = await fetch(new URL("/status.json", location.origin), { cache: "no-store", credentials: "same-origin" });
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    render(await answer.json());
    updates += 1;
    document.body.dataset.updates = String(updates);
    state.textContent = "● live";
    state.className = "";
  } catch (e) {
    state.textContent = "● not updating: " + e.message;
    state.className = "bad";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""#
}
