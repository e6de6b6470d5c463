#!/usr/bin/env python3
"""Turns bench/scaling/run's measurements into bench/scaling/results.json, the "Scaling curve"
section of BENCHMARKS.md (between its markers) and docs/SCALING.md (written whole: edit its
prose here, not there).
Usage: report.py OUT_DIR BUILD COMMAND    (merge a run's measurements, then render)
       report.py --render                 (sizing and render again from bench/scaling/results.json)"""
import datetime, glob, json, math, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "bench", "scaling", "results.json")

# The sizing's assumptions, stated in the document.
DAILY_MESSAGES = 1_000_000_000
PEAK_FACTOR = 3  # bulk mail arrives in campaigns and business hours, not evenly over the day
TARGET_UTILISATION = 0.6  # cores planned so the peak uses 60 % of them: headroom for failover, retries and bursts
KINDS = ("api", "worker", "scheduler", "tracker", "postgres", "redis")


def sh(command):
    try:
        return subprocess.check_output(command, shell=True, text=True, stderr=subprocess.DEVNULL).strip()
    except Exception:
        return "?"


def merge(out, build, command):
    configurations = []
    for path in glob.glob(os.path.join(out, "api*-workers*.json")):
        if re.fullmatch(r"api\d+-workers\d+\.json", os.path.basename(path)):
            configurations.append(json.load(open(path)))
    if not configurations:
        sys.exit(f"no measurements in {out}")
    configurations.sort(key=lambda c: (c["apis"], c["workers"]))
    results = {
        "run": {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command, "build": build, "messages_per_configuration": configurations[0]["messages"],
            "cores": os.cpu_count(), "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
            "memory_gib": sh("free -g | awk '/Mem:/ {print $2}'"), "swift": sh("swift --version 2>&1 | head -1"),
            "postgres": sh("psql --version"), "redis": sh("redis-server --version | awk '{print $3}'"),
        },
        "configurations": configurations,
    }
    results["sizing"] = sizing(configurations)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    return results


def sizing(configurations):
    """Cores, Redis commands, Postgres rows and WAL for a fleet of DAILY_MESSAGES, from the
    configuration that delivered the most (the cost per message where the fleet runs best here)."""
    reference = max(configurations, key=lambda c: c["delivered_per_s"])
    average = DAILY_MESSAGES / 86400
    peak = average * PEAK_FACTOR
    per_kind = {}
    for kind in KINDS:
        seconds = reference["cpu_s_per_1000"][kind] / 1000
        spread = [c["cpu_s_per_1000"][kind] for c in configurations]
        per_kind[kind] = {
            "cpu_us_per_message": round(seconds * 1e6, 1),
            "cpu_us_per_message_range": [round(min(spread) * 1000, 1), round(max(spread) * 1000, 1)],
            "messages_per_s_per_core": round(1 / seconds) if seconds else None,
            "cores_average": round(average * seconds, 2),
            "cores_peak": round(peak * seconds, 2),
            # Every kind runs somewhere, however little it costs per message.
            "cores_planned": max(1, math.ceil(peak * seconds / TARGET_UTILISATION)),
        }
    fleet_seconds = reference["cpu_s_per_1000"]["fleet"] / 1000
    # What one more idle worker replica costs: the slope of the idle figures between the
    # fewest and the most workers with one API.
    single = sorted((c for c in configurations if c["apis"] == 1 and "idle" in c), key=lambda c: c["workers"])
    idle_worker = None
    if len(single) >= 2 and single[-1]["workers"] > single[0]["workers"]:
        few, many = single[0], single[-1]
        span = many["workers"] - few["workers"]
        idle_worker = {
            "from_workers": [few["workers"], many["workers"]],
            "cores": round((sum(many["idle"]["cores"][k] for k in ("worker", "redis")) - sum(few["idle"]["cores"][k] for k in ("worker", "redis"))) / span, 4),
            "redis_commands_per_s": round((many["idle"]["redis_commands_per_s"] - few["idle"]["redis_commands_per_s"]) / span),
        }
    return {
        "reference": {"apis": reference["apis"], "workers": reference["workers"], "delivered_per_s": reference["delivered_per_s"]},
        "daily_messages": DAILY_MESSAGES, "average_per_s": round(average), "peak_factor": PEAK_FACTOR, "peak_per_s": round(peak),
        "target_utilisation": TARGET_UTILISATION,
        "per_kind": per_kind,
        "fleet": {"cpu_us_per_message": round(fleet_seconds * 1e6, 1), "messages_per_s_per_core": round(1 / fleet_seconds),
                  "cores_peak": round(peak * fleet_seconds, 1),
                  "cores_planned": sum(k["cores_planned"] for k in per_kind.values())},
        "redis_commands_per_s": {"average": round(average * reference["redis_commands_per_message"]),
                                 "peak": round(peak * reference["redis_commands_per_message"])},
        "postgres_rows_per_s": {"average": round(average * reference["postgres_rows_per_message"]),
                                "peak": round(peak * reference["postgres_rows_per_message"])},
        "wal_mb_per_s": {"average": round(average * reference["wal_bytes_per_message"] / 1e6, 1),
                         "peak": round(peak * reference["wal_bytes_per_message"] / 1e6, 1)},
        "wal_gb_per_day": round(DAILY_MESSAGES * reference["wal_bytes_per_message"] / 1e9),
        "idle_worker_replica": idle_worker,
    }


def words(numbers):
    """1, 2, 4 and 8."""
    names = [str(x) for x in numbers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def n(x, digits=0):
    return f"{x:,.{digits}f}" if x is not None else "–"


def header(*names):
    """A Markdown table's header and separator rows."""
    return ["| " + " | ".join(names) + " |", "| " + " | ".join("---" for _ in names) + " |"]


def curve_table(configurations):
    rows = header("API replicas", "worker replicas", "accepted msg/s", "delivered msg/s", "drain s", "fleet CPU s / 1,000 msg",
                  "two cores busy", "Redis commands / msg", "Postgres rows / msg", "WAL bytes / msg", "duplicates")
    for c in configurations:
        rows.append(f"| {c['apis']} | {c['workers']} | {n(c['accepted_per_s'])} | {n(c['delivered_per_s'])} | {c['drain_s']} | "
                     f"{c['cpu_s_per_1000']['fleet']:.3f} | {c['machine_busy_pct']} % | {c['redis_commands_per_message']} | "
                     f"{c['postgres_rows_per_message']} | {n(c['wal_bytes_per_message'])} | {n(c.get('duplicate_deliveries'))} |")
    return "\n".join(rows)


def cpu_table(configurations):
    rows = header("API replicas", "worker replicas", "api (sum)", "workers (sum)", "scheduler", "tracker", "Postgres", "Redis", "fleet",
                  "simulator (apart)", "load generator (apart)", "not ours")
    for c in configurations:
        k = c["cpu_s_per_1000"]
        rows.append(f"| {c['apis']} | {c['workers']} | {k['api']:.3f} | {k['worker']:.3f} | {k['scheduler']:.3f} | {k['tracker']:.3f} | "
                    f"{k['postgres']:.3f} | {k['redis']:.3f} | **{k['fleet']:.3f}** | {k['sim']:.3f} | {k['load_generator']:.3f} | "
                    f"{c['unaccounted_cpu_s_per_1000']:.3f} |")
    return "\n".join(rows)


def idle_table(configurations):
    rows = header("API replicas", "worker replicas", "api", "workers (sum)", "scheduler", "tracker", "Postgres", "Redis", "Redis commands/s",
                  "WAL bytes/s")
    for c in configurations:
        if "idle" not in c:
            continue
        k = c["idle"]["cores"]
        rows.append(f"| {c['apis']} | {c['workers']} | {k['api']:.3f} | {k['worker']:.3f} | {k['scheduler']:.3f} | {k['tracker']:.3f} | "
                    f"{k['postgres']:.3f} | {k['redis']:.3f} | {n(c['idle']['redis_commands_per_s'])} | {n(c['idle']['wal_bytes_per_s'])} |")
    return "\n".join(rows)


def run_line(run):
    line = (f"`{run['command']}` on {run['date']} ({run['build']}), {n(run['messages_per_configuration'])} bulk messages per "
            f"configuration. Machine: {run['cores']} cores ({run['cpu']}), {run['memory_gib']} GiB; {run['swift']}; "
            f"{run['postgres']}; Redis {run['redis']}.")
    if run["build"] != "release":
        # A pipeline check, not a measurement: say so wherever the figures appear.
        line += ("\n\n**Not a release build:** these figures test the benchmark's pipeline; unoptimised code costs "
                 "several times the CPU per message, so do not plan with them. A release run (`bench/scaling/run`) replaces them.")
    return line


def benchmarks_section(results):
    run, configurations = results["run"], results["configurations"]
    best = max(configurations, key=lambda c: c["delivered_per_s"])
    one = next((c for c in configurations if c["apis"] == 1 and c["workers"] == 1), configurations[0])
    return f"""<!-- scaling:start -->
## Scaling curve (bench/scaling/run)

{run_line(run)}

Each configuration starts on an empty database and an empty Redis; one `mailfleet-bench bulk`
generator per API replica (its own tenant, an equal share, {configurations[0].get('clients_per_generator', 4)} clients, 1,000 messages per
request); delivered = provider accepted and `sent` in Postgres. Every process shares the same
two cores, so replicas cannot add cores: the curve shows what replicas cost and whether they
get in each other's way, not how a fleet of machines scales. docs/SCALING.md turns it into
per-core rates and a sizing.

{curve_table(configurations)}

CPU seconds per 1,000 delivered messages, by process kind ("fleet" is api, workers,
scheduler, tracker, Postgres and Redis; the provider stand-in and the load generator are
apart; "not ours" is the machine's busy time that no process of this run explains, i.e.
another job on the machine):

{cpu_table(configurations)}

Most delivered: {n(best['delivered_per_s'])} msg/s with {best['apis']} API and {best['workers']} worker replica(s);
one of each: {n(one['delivered_per_s'])} msg/s.
<!-- scaling:end -->"""


RETENTION_DAYS = 30  # MAILFLEET_MESSAGE_RETENTION_DAYS's default


def stored_record(daily):
    """Bytes per stored message (its row and indexes, and its events) from bench/growth's stored
    record, and what `daily` messages a day kept RETENTION_DAYS days take; None without it."""
    try:
        stored = json.load(open(os.path.join(ROOT, "bench", "growth", "results.json")))["stored"]
    except (OSError, KeyError, ValueError):
        return None
    per = (stored["messages_bytes"] + stored["events_bytes"]) / stored["messages_rows"]
    return {"bytes": per, "day_gb": per * daily / 1e9, "kept_tb": per * daily * RETENTION_DAYS / 1e12}


def scaling_doc(results):
    run, configurations, s = results["run"], results["configurations"], results["sizing"]
    ref = s["reference"]
    one = next((c for c in configurations if c["apis"] == 1 and c["workers"] == 1), configurations[0])
    reference = next(c for c in configurations if c["apis"] == ref["apis"] and c["workers"] == ref["workers"])
    names = {"api": "mailfleet-api", "worker": "mailfleet-worker (all replicas)", "scheduler": "mailfleet-scheduler",
             "tracker": "mailfleet-tracker", "postgres": "Postgres (postmaster and backends)", "redis": "Redis"}
    per_core = header("process", "CPU µs per message", "range over the configurations", "messages/s per core", "cores at the average",
                      "cores at the peak", "cores to plan")
    for kind in KINDS:
        k = s["per_kind"][kind]
        low, high = k["cpu_us_per_message_range"]
        per_core.append(f"| {names[kind]} | {k['cpu_us_per_message']} | {low} – {high} | {n(k['messages_per_s_per_core'])} | "
                        f"{k['cores_average']} | {k['cores_peak']} | {k['cores_planned']} |")
    f = s["fleet"]
    record = stored_record(s["daily_messages"])
    per_core.append(f"| **fleet** | **{f['cpu_us_per_message']}** | | **{n(f['messages_per_s_per_core'])}** | | **{f['cores_peak']}** | **{f['cores_planned']}** |")
    w = s.get("idle_worker_replica")
    idle_worker_line = (f"Each idle worker replica adds about {w['cores']} cores (worker and Redis together) and "
                        f"{n(w['redis_commands_per_s'])} Redis commands/s (from {w['from_workers'][0]} to {w['from_workers'][1]} workers). "
                        "That cost is per replica and per second, not per message: size the replica count to the "
                        "cores needed rather than running many small ones." if w else "")
    redis_top = ", ".join(f"{name} {v}" for name, v in list(reference["redis_commands_by_name_per_message"].items())[:8])
    tables = header("table", "inserted", "updated (of which HOT)", "deleted")
    for table, t in sorted(reference["postgres_rows_by_table_per_message"].items(), key=lambda kv: -(kv[1]["inserted"] + kv[1]["updated"] + kv[1]["deleted"])):
        tables.append(f"| {table} | {t['inserted']} | {t['updated']} ({t['hot_updated']}) | {t['deleted']} |")
    return f"""# Scaling a Mailfleet fleet

This document is written by `bench/scaling/run` (its prose lives in `bench/scaling/report.py`;
its figures come from `bench/scaling/results.json`). Do not edit it by hand: run the
benchmark, or `python3 bench/scaling/report.py --render` after changing the prose.

**Run:** {run_line(run)}

## What was measured

For each configuration, {words(sorted({c['workers'] for c in configurations}))} `mailfleet-worker` replicas with
{words(sorted({c['apis'] for c in configurations}))} `mailfleet-api` replicas, the benchmark starts the fleet on an empty database and an empty Redis
(one scheduler, the tracker, `mailfleet-sim` standing in for SendGrid), sends
{n(run['messages_per_configuration'])} messages through the batch API (`POST /v1/messages` with a
`messages` array of 1,000 per request, {configurations[0].get('clients_per_generator', 4)} concurrent clients per API replica, each API replica its own
generator and tenant) and waits until the provider has accepted every one and Postgres
records each `sent`. Before and after it samples:

- **delivered msg/s**: messages over the time from the first request to the last `sent`;
  **accepted msg/s**: messages over the time until the last batch was answered 202.
- **CPU seconds per 1,000 messages**, per process kind: user + system time from
  `/proc/PID/stat` (all threads). Postgres counts the postmaster, its live backends and those
  it has reaped; workers are summed over the replicas. "fleet" is everything Mailfleet needs
  in production (api, workers, scheduler, tracker, Postgres, Redis); the provider stand-in and
  the load generator are reported apart because a real fleet does not run them.
- **Redis commands per message**: `total_commands_processed` (INFO stats) after
  `CONFIG RESETSTAT`. It counts every command Redis executes: a Lua script's `EVALSHA` once,
  and each command the script runs once more; pipelined commands each count. Round trips are
  fewer than commands.
- **Postgres rows per message**: `tup_inserted + tup_updated + tup_deleted` of the database
  (`pg_stat_database`), read after the fleet has stopped so every backend has reported.
- **WAL bytes per message**: `pg_current_wal_lsn()` after minus before, with a `CHECKPOINT`
  before each configuration so each starts with the same full-page-image state.
- **duplicates**: messages the provider stand-in received more than once (replicas must not
  send a message twice; 0 expected).
- **two cores busy**: the machine's busy time over the window (`/proc/stat`) against two
  cores' worth; **not ours**: busy time no process of the run explains, per 1,000 messages:
  the benchmark's own sampling (a fraction of a second per configuration) and any other job
  on the machine. A figure near the fleet's own means the run was disturbed.

## The curve

{curve_table(configurations)}

CPU seconds per 1,000 delivered messages:

{cpu_table(configurations)}

## What limits this machine

Every process of the fleet, Postgres, Redis, the provider stand-in and the load generator
share **two cores**. More replicas cannot add cores: once the two cores are busy, another
worker or API replica only divides the same CPU into more pieces (and adds its own polling,
connections and context switches), so past the point where both cores are busy the curve
cannot rise. Here the most delivered was {n(ref['delivered_per_s'])} msg/s with {ref['apis']} API and
{ref['workers']} worker replica(s), against {n(one['delivered_per_s'])} msg/s with one of each. What the
curve does show is that every configuration delivers every message (the run waits for each
`sent`; the duplicates column counts second deliveries) and what each costs per message: the
CPU per message of each kind is what a fleet on more machines pays, and it is what the sizing
below uses. A fleet scales by giving each kind its own cores (workers and API replicas
are stateless and scale out; the scheduler's leader does time-driven work whose cost does not
grow with the message rate; Postgres is one primary; Redis spreads over Redis Cluster by
partition hash tag, docs/ARCHITECTURE.md).

Per message, Redis ran {reference['redis_commands_per_message']} commands in the reference
configuration ({ref['apis']} API, {ref['workers']} workers); the most frequent per message:
{redis_top}. Where commands per message rise with the worker replicas (the curve's column),
it is the fetching: each worker's lanes fetch from the queue partitions round by round, so the
same messages shared by more lanes, in smaller rounds, cost more fetch commands. At a real
fleet's rate per worker the rounds are fuller and that cost per message falls.

Rows written per message in the reference configuration, by table (per message):

{chr(10).join(tables)}

## What replicas cost with nothing to send

Before each configuration's load the fleet sat idle for a few seconds (its tenants made, the
queue empty). Cores busy per kind over that time, and Redis commands and WAL per second:

{idle_table(configurations)}

{idle_worker_line}

## Per core, by process

Messages/s one core sustains for each kind (the sizing table below) is 1 / (CPU seconds per
message), from the
configuration that delivered the most here ({ref['apis']} API, {ref['workers']} worker
replicas, {n(ref['delivered_per_s'])} msg/s); the range shows how much the cost moved across
configurations (contention on two cores inflates it). Scheduler and tracker costs are mostly
fixed per second (ticks, sweeps, polling), not per message: on a busier fleet their share
per message falls.

## Sizing a fleet for 1 billion messages a day

Assumptions, stated so they can be changed (they are constants at the top of
`bench/scaling/report.py`):

- {n(s['daily_messages'])} bulk messages a day is {n(s['average_per_s'])} msg/s on average; the
  peak is **{s['peak_factor']}× the average, {n(s['peak_per_s'])} msg/s** (campaigns cluster in
  business hours; a fleet sized for the average falls behind every morning). A flatter day
  needs fewer cores in proportion.
- Cores are planned so the peak uses {int(s['target_utilisation'] * 100)} % of them (headroom for a
  failed machine, retries after a provider outage and bursts above the assumed peak).
- The cost per message is this benchmark's bulk path (batch API, about 1,000 messages per
  provider call, every message delivered at the first attempt) on this machine's cores. Single
  transactional sends cost much more per message in the API (BENCHMARKS.md: one request per
  message); retries, bounces, tracking events and webhooks add their own work; other cores
  are faster or slower. Measure a slice of your real mix before buying hardware.
- Provider latency does not change the CPU per message but does change how many concurrent
  calls a worker holds (BENCHMARKS.md: bulk with the provider answering after 50 ms).

{chr(10).join(per_core)}

At the peak the fleet needs about **{f['cores_peak']} busy cores** ({n(f['messages_per_s_per_core'])} messages/s
per core overall), and **{f['cores_planned']} cores** planned with the headroom above, before
the provider side and before any other traffic. Spread API and worker cores over several
replicas on separate machines so that losing one costs a fraction of the capacity.

| data stores at 1 billion a day | average | peak |
| --- | --- | --- |
| Redis commands/s | {n(s['redis_commands_per_s']['average'])} | {n(s['redis_commands_per_s']['peak'])} |
| Postgres rows written/s | {n(s['postgres_rows_per_s']['average'])} | {n(s['postgres_rows_per_s']['peak'])} |
| Postgres WAL MB/s | {s['wal_mb_per_s']['average']} | {s['wal_mb_per_s']['peak']} |

- **Postgres** is the one part that does not scale out: all of the rows and WAL above go
  through one primary, which must also ship the WAL to any standby and archive
  ({n(s['wal_gb_per_day'])} GB of WAL a day at this rate). Give it the cores in the table,
  fast storage for the WAL's fsyncs, and plan autovacuum and how long rows are kept.
{record_line(record)}- **Redis** work spreads by partition hash tag over Redis Cluster nodes; each node's Redis
  executes commands on one thread, so the Redis cores in the table are also a floor on the
  number of primaries.
- **Schedulers** are never scaled for throughput: one leads and a second stands by
  (docs/DEPLOY.md); the table's scheduler cores are the leader's.
- **Workers and API replicas** are stateless: run as many as the cores in the table, a few
  cores each, behind the load balancer (API) or simply started (workers claim work from
  Redis and Postgres).
"""


def record_line(record):
    """The sizing's bullet on the stored record, empty without bench/growth's figures."""
    if record is None:
        return ""
    return f"""- **The record** at the default {RETENTION_DAYS}-day retention (`MAILFLEET_MESSAGE_RETENTION_DAYS`): about
  {n(record['bytes'])} bytes per message with its indexes and its events (bench/growth's stored record),
  so {n(record['day_gb'])} GB a day and {n(record['kept_tb'], 1)} TB kept. Each day is a partition of its own
  (docs/ARCHITECTURE.md, "Partitions and retention"): the day being written is what autovacuum
  and the caches keep up with, and the oldest goes whole, with no row deletes.
"""


def render(results):
    benchmarks = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(benchmarks).read()
    section = benchmarks_section(results)
    start, end = "<!-- scaling:start -->", "<!-- scaling:end -->"
    if start in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(benchmarks, "w").write(text)
    with open(os.path.join(ROOT, "docs", "SCALING.md"), "w") as f:
        f.write(scaling_doc(results))


if __name__ == "__main__":
    if sys.argv[1:] == ["--render"]:
        # The sizing again too, so changed assumptions reach results.json and the document.
        results = json.load(open(RESULTS))
        results["sizing"] = sizing(results["configurations"])
        with open(RESULTS, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        render(results)
    elif len(sys.argv) == 4:
        render(merge(*sys.argv[1:]))
    else:
        sys.exit(__doc__)
