#!/usr/bin/env python3
"""Turns the outputs of bench/run into bench/results.json and the results section of
BENCHMARKS.md (between the results markers; the rest of the file is kept as written)."""
import json, os, platform, subprocess, sys, datetime

out, quick, command = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def load(name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)

bulk, bulk50, cost, copy = load("bulk.json"), load("bulk50.json"), load("cost.json"), load("copy.json")
sink, sink_cost, sink_calls = load("sink.json"), load("sink-cost.json"), load("sink-calls.json")
tx = {}
for name in sorted(os.listdir(out)):
    if name.startswith("tx-"):
        r = load(name)
        tx[int(r["rate"])] = r
fair_a, fair_b = load("fair-a.json"), load("fair-b.json")
weights = load("weights.json")
memory = {}
with open(os.path.join(out, "memory.jsonl")) as f:
    for line in f:
        r = json.loads(line)
        memory[r["process"]] = r["peak_rss_kb"] / 1024
redis_ops = {}
with open(os.path.join(out, "redis-benchmark.csv")) as f:
    for line in f:
        parts = [p.strip('"') for p in line.strip().split(",")]
        if len(parts) >= 2 and parts[0] in ("SET", "GET"):
            redis_ops[parts[0]] = float(parts[1])

def r1(x): return round(x, 1)
tx2k = tx.get(2000, {})
sustained = [rate for rate, r in tx.items() if r["accept_p99_ms"] < 50 and r["errors"] == 0 and r["achieved_rps"] >= 0.95 * rate]
results = {
    "bulk": {"accepted_per_s": r1(bulk["accepted_per_s"]), "delivered_per_s": r1(bulk.get("delivered_per_s", 0)),
             "drain_s": r1(bulk.get("drain_s", 0)), "messages": bulk["messages"],
             "messages_per_provider_call": r1(bulk.get("messages_per_call", 0)),
             "latency50ms_delivered_per_s": r1(bulk50.get("delivered_per_s", 0))},
    "transactional": {"accept_p99_ms": r1(tx2k.get("accept_p99_ms", 0)),
                      "time_to_provider_p99_ms": r1(tx2k.get("to_provider_p99_ms", 0)),
                      "max_rps_p99_under_50ms": max(sustained) if sustained else 0},
    "fairness": {"b_time_to_provider_p99_ms": r1(fair_b["to_provider_p99_ms"]), "a_backlog": fair_a["messages"]},
    "weights": {"messages_each": weights["messages_each"], "window_s": weights["window_s"], "delivered": weights["delivered"],
                "share_weight_1_pct": weights["share_weight_1_pct"], "share_weight_3_pct": weights["share_weight_3_pct"]},
    "memory": {"worker_peak_rss_mb": r1(max(v for k, v in memory.items() if k.startswith("worker"))),
               "api_peak_rss_mb": r1(memory.get("api", 0)),
               "per_process_peak_rss_mb": {k: r1(v) for k, v in sorted(memory.items())}},
    "cost": {
        "cpu_seconds_per_1000_messages": round(cost["cpu_s_per_1000"], 3),
        "postgres_cpu_seconds_per_1000_messages": round(cost["postgres_cpu_s_per_1000"], 3),
        "redis_cpu_seconds_per_1000_messages": round(cost["redis_cpu_s_per_1000"], 3),
        "load_generator_cpu_seconds_per_1000_messages": round(bulk.get("client_cpu_ms_per_message", 0), 3),
        # The fleet alone (api, scheduler, tracker, workers, Postgres, Redis), and the simulator
        # apart (cpu_seconds_per_1000_messages above counts it with the executables).
        "fleet_cpu_seconds_per_1000_messages": round(cost["fleet_cpu_s_per_1000"], 3),
        "simulator_cpu_seconds_per_1000_messages": round(cost["stand_in_cpu_s_per_1000"], 4),
    },
    # Step g: the same bulk against nginx answering 202 (the stand-in costs next to nothing).
    "sink": {"messages": sink["messages"], "accepted_per_s": r1(sink["accepted_per_s"]),
             "delivered_per_s": r1(sink.get("delivered_per_s", 0)), "drain_s": r1(sink.get("drain_s", 0)),
             "messages_per_provider_call": r1((sink["messages"] - sink["failed"]) / max(1, sink_calls["provider_calls"])),
             "fleet_cpu_seconds_per_1000_messages": round(sink_cost["fleet_cpu_s_per_1000"], 3),
             "postgres_cpu_seconds_per_1000_messages": round(sink_cost["postgres_cpu_s_per_1000"], 3),
             "redis_cpu_seconds_per_1000_messages": round(sink_cost["redis_cpu_s_per_1000"], 3),
             "nginx_cpu_seconds_per_1000_messages": round(sink_cost["stand_in_cpu_s_per_1000"], 4),
             "load_generator_cpu_seconds_per_1000_messages": round(sink.get("client_cpu_ms_per_message", 0), 3),
             "per_process_cpu_seconds_per_1000_messages": sink_cost["per_process_cpu_s_per_1000"]},
    "limits": {"postgres_copy_rows_per_s": round(copy["rows_per_s"]),
               "redis_pipelined_ops_per_s": round(max(redis_ops.values()) if redis_ops else 0),
               "delivered_vs_copy_pct": r1(100 * bulk.get("delivered_per_s", 0) / copy["rows_per_s"])},
    "run": {"quick": quick, "command": command, "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")},
}
with open(os.path.join(root, "bench", "results.json"), "w") as f:
    json.dump(results, f, indent=2, sort_keys=True)
    f.write("\n")

def sh(cmd):
    try: return subprocess.check_output(cmd, shell=True, text=True).strip()
    except Exception: return "?"

cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
mem = sh("free -g | awk '/Mem:/ {print $2}'")
swift = sh("swift --version 2>&1 | head -1")
pg = sh("psql --version")
redis = sh("redis-server --version | awk '{print $3}'")

def target(ok): return "met" if ok else "missed"
rows = [
    ("bulk accepted (batch API, 1,000/request, 4 clients)", f"{results['bulk']['accepted_per_s']:,.0f} msg/s", ""),
    ("bulk delivered (provider accepted + `sent` in Postgres)", f"{results['bulk']['delivered_per_s']:,.0f} msg/s",
     f"≥ 25,000: {target(results['bulk']['delivered_per_s'] >= 25000)}"),
    ("bulk drain after the last accept", f"{results['bulk']['drain_s']} s", ""),
    ("bulk messages per provider call", f"{results['bulk']['messages_per_provider_call']:,.1f}", ""),
    ("bulk delivered, provider answering after 50 ms", f"{results['bulk']['latency50ms_delivered_per_s']:,.0f} msg/s", ""),
    ("bulk delivered to a light sink (nginx answering 202; `sent` in Postgres)", f"{results['sink']['delivered_per_s']:,.0f} msg/s "
     f"(accepted {results['sink']['accepted_per_s']:,.0f} msg/s, {results['sink']['messages_per_provider_call']:,.1f} messages per call)",
     f"≥ 25,000: {target(results['sink']['delivered_per_s'] >= 25000)}"),
    ("CPU seconds per 1,000 messages, bulk to the simulator: fleet (api, scheduler, tracker, workers, Postgres, Redis) / simulator, apart",
     f"{results['cost']['fleet_cpu_seconds_per_1000_messages']} / {results['cost']['simulator_cpu_seconds_per_1000_messages']}",
     f"fleet ≤ 0.080: {target(results['cost']['fleet_cpu_seconds_per_1000_messages'] <= 0.080)}"),
    ("CPU seconds per 1,000 messages, bulk to nginx: fleet / of it Postgres / Redis / nginx, apart / load generator",
     f"{results['sink']['fleet_cpu_seconds_per_1000_messages']} / {results['sink']['postgres_cpu_seconds_per_1000_messages']} / "
     f"{results['sink']['redis_cpu_seconds_per_1000_messages']} / {results['sink']['nginx_cpu_seconds_per_1000_messages']} / "
     f"{results['sink']['load_generator_cpu_seconds_per_1000_messages']}",
     f"fleet ≤ 0.080: {target(results['sink']['fleet_cpu_seconds_per_1000_messages'] <= 0.080)}"),
]
for rate, r in sorted(tx.items()):
    rows.append((f"transactional {rate:,} req/s: accept p50 / p99 / p99.9",
                 f"{r['accept_p50_ms']:.1f} / {r['accept_p99_ms']:.1f} / {r['accept_p999_ms']:.1f} ms (achieved {r['achieved_rps']:,.0f} req/s, {r['errors']} errors; load generator {r.get('client_cpu_ms_per_request', 0):.3f} ms CPU/request)",
                 f"p99 ≤ 10 ms: {target(r['accept_p99_ms'] <= 10)}" if rate == 2000 else ""))
    rows.append((f"transactional {rate:,} req/s: accept → provider p50 / p99",
                 f"{r['to_provider_p50_ms']:.1f} / {r['to_provider_p99_ms']:.1f} ms",
                 f"p99 ≤ 250 ms: {target(r['to_provider_p99_ms'] <= 250)}" if rate == 2000 else ""))
rows += [
    ("highest tested rate with accept p99 < 50 ms", f"{results['transactional']['max_rps_p99_under_50ms']:,} req/s", ""),
    (f"fairness: tenant B (50 req/s) while A drains {fair_a['messages']:,} bulk", f"B accept → provider p99 {results['fairness']['b_time_to_provider_p99_ms']} ms",
     f"≤ 1 s: {target(results['fairness']['b_time_to_provider_p99_ms'] <= 1000)}"),
    (f"weights 1 : 3, two bulk tenants with {weights['messages_each']:,} each queued: shares of the first {weights['delivered']:,} deliveries",
     f"{weights['share_weight_1_pct']} % / {weights['share_weight_3_pct']} % (in {weights['window_s']} s)",
     f"25 % / 75 % ± 10 %: {target(abs(weights['share_weight_1_pct'] - 25) <= 10 and abs(weights['share_weight_3_pct'] - 75) <= 10)}"),
    ("peak RSS: worker (max of two) / api", f"{results['memory']['worker_peak_rss_mb']} MB / {results['memory']['api_peak_rss_mb']} MB",
     f"≤ 150 / ≤ 200 MB: {target(results['memory']['worker_peak_rss_mb'] <= 150 and results['memory']['api_peak_rss_mb'] <= 200)}"),
    ("peak RSS, every process", ", ".join(f"{k} {v} MB" for k, v in results["memory"]["per_process_peak_rss_mb"].items()), ""),
    ("CPU seconds per 1,000 messages, bulk: api, scheduler, tracker, workers and simulator / Postgres / Redis / load generator",
     f"{results['cost']['cpu_seconds_per_1000_messages']} / {results['cost']['postgres_cpu_seconds_per_1000_messages']} / "
     f"{results['cost']['redis_cpu_seconds_per_1000_messages']} / {results['cost']['load_generator_cpu_seconds_per_1000_messages']}", ""),
    ("machine: Postgres COPY, 500k narrow rows", f"{results['limits']['postgres_copy_rows_per_s']:,} rows/s", ""),
    ("machine: redis-benchmark SET/GET pipelined 64", f"{results['limits']['redis_pipelined_ops_per_s']:,} ops/s", ""),
    ("delivered msg/s as % of the COPY rate", f"{results['limits']['delivered_vs_copy_pct']} %", ""),
]
table = "| what | measured | target |\n| --- | --- | --- |\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
section = f"""<!-- results:start -->
## Latest run

`{command}` on {results['run']['date']}{' (quick sizes)' if quick else ''}: {bulk['messages']:,} bulk messages, transactional
rates {', '.join(f'{r:,}' for r in sorted(tx))} req/s for the stated seconds each, a {fair_a['messages']:,}-message fairness backlog.

Machine: {os.cpu_count()} cores ({cpu}), {mem} GiB, {platform.system()} {platform.release()}; {swift}; {pg}; Redis {redis}.
Everything (Postgres, Redis, api, scheduler, two workers, tracker, simulator, nginx as the light sink and the load generator) on this one machine.
The simulator keeps only counters except in the transactional and fairness steps (each message's arrival time).

{table}
<!-- results:end -->"""

path = os.path.join(root, "BENCHMARKS.md")
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n"
start, end = text.index("<!-- results:start -->"), text.index("<!-- results:end -->") + len("<!-- results:end -->")
open(path, "w").write(text[:start] + section + text[end:])
