#!/usr/bin/env python3
"""Fills the bench database and times segment counts and event inserts (see bench/segments/run)."""
import argparse, json, os, re, statistics, subprocess, time

TENANT = "5e600000-0000-4000-8000-000000000001"
BARE_TENANT = "5e600000-0000-4000-8000-000000000002"
LIST = "5e600000-0000-4000-8000-0000000000aa"
CAMPAIGN = "5e600000-0000-4000-8000-0000000000c1"
ANY = "00000000-0000-0000-0000-000000000000"

SEGMENTS = {
    "country = DE": {"attribute": "country", "op": "eq", "value": "DE"},
    "country = DE and opened in the last 30 days and not clicked campaign X": {"all": [
        {"attribute": "country", "op": "eq", "value": "DE"},
        {"event": "opened", "within_days": 30},
        {"not": {"event": "clicked", "campaign": CAMPAIGN}}]},
    "plan in (pro, team) or age >= 70": {"any": [
        {"attribute": "plan", "op": "in", "value": ["pro", "team"]}, {"attribute": "age", "op": "gte", "value": 70}]},
    "subscribed to the list and clicked in the last 7 days": {"all": [
        {"list": LIST, "status": "subscribed"}, {"event": "clicked", "within_days": 7}]},
    "vip and not opened in 90 days": {"all": [
        {"attribute": "vip", "op": "eq", "value": True}, {"not": {"event": "opened", "within_days": 90}}]},
    "name contains 'ann' (no index: a scan)": {"attribute": "name", "op": "contains", "value": "ann"},
}


def psql(args, sql):
    started = time.perf_counter()
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(args.port), "-U", "postgres", "-d", "bench", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def generate(args):
    n = args.contacts
    steps = [
        f"INSERT INTO tenants (id, name) VALUES ('{TENANT}', 'segments'), ('{BARE_TENANT}', 'no contacts')",
        f"INSERT INTO contact_lists (id, tenant_id, name) VALUES ('{LIST}', '{TENANT}', 'newsletter')",
        f"""INSERT INTO contacts (id, tenant_id, email, attributes)
            SELECT md5('c' || i)::uuid, '{TENANT}', 'user' || i || '@example.com',
                   jsonb_build_object('country', (ARRAY['DE','FR','US','GB','ES','IT','NL'])[1 + i % 7], 'age', 18 + (i * 7919) % 60,
                                      'vip', i % 10 = 0, 'plan', (ARRAY['free','pro','team','free'])[1 + (i / 7) % 4],
                                      'name', (ARRAY['anna','ben','joanne','li','maria','tom'])[1 + (i / 3) % 6] || ' ' || i)
            FROM generate_series(1::bigint, {n}) i""",
        f"""INSERT INTO list_members (list_id, contact_id, tenant_id, status, subscribed_at)
            SELECT '{LIST}', md5('c' || i)::uuid, '{TENANT}', CASE WHEN i % 10 = 9 THEN 'unsubscribed' ELSE 'subscribed' END, now()
            FROM generate_series(1::bigint, {n}) i""",
        # Activity as the trigger keeps it: delivered for most, opened for 40%, clicked for 10%,
        # and campaign X's opens (20%) and clicks (5%), at times spread over 90 days.
        f"""INSERT INTO contact_activity (contact_id, type, campaign_id, tenant_id, last_at)
            SELECT md5('c' || i)::uuid, t.type, t.campaign, '{TENANT}', now() - ((i * 31337 + t.salt) % (90 * 86400)) * interval '1 second'
            FROM generate_series(1::bigint, {n}) i,
                 (VALUES ('delivered', '{ANY}'::uuid, 95, 1), ('opened', '{ANY}'::uuid, 40, 2), ('clicked', '{ANY}'::uuid, 10, 3),
                         ('opened', '{CAMPAIGN}'::uuid, 20, 4), ('clicked', '{CAMPAIGN}'::uuid, 5, 5)) t (type, campaign, percent, salt)
            WHERE (i * 7 + t.salt * 13) % 100 < t.percent""",
        "VACUUM ANALYZE",
    ]
    started = time.perf_counter()
    for step in steps:
        psql(args, step)
    return time.perf_counter() - started


def server_durations(log, offset):
    with open(log, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    return [float(m) for m in re.findall(r"duration: ([0-9.]+) ms\s+execute [^:]*: SELECT count\(\*\) AS n FROM contacts c", text)]


def counts(args):
    psql(args, "ALTER DATABASE bench SET log_min_duration_statement = 0")
    results = []
    for name, segment in SEGMENTS.items():
        walls, servers, found = [], [], None
        for _ in range(args.runs):
            offset = os.path.getsize(args.log)
            started = time.perf_counter()
            out = subprocess.run([args.cli, "segments", "count", "--tenant", TENANT, "--filter", json.dumps(segment), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            walls.append(time.perf_counter() - started)
            found = json.loads(out)["count"]
            time.sleep(0.2)  # let the server flush its log line
            servers += server_durations(args.log, offset)
        results.append({"segment": name, "filter": segment, "count": found,
                        "wall_ms_median": round(statistics.median(walls) * 1000, 1),
                        "count_statement_ms_median": round(statistics.median(servers), 1) if servers else None})
        print(f"{name}: {found} contacts, command {results[-1]['wall_ms_median']} ms, count statement {results[-1]['count_statement_ms_median']} ms")
    psql(args, "ALTER DATABASE bench RESET log_min_duration_statement")
    return results


def event_inserts(args):
    """100 statements of 1,000 events each, timed as one psql call, trigger off and on alternately three times (the best of each)."""
    shapes = {
        "tenant without contacts": (BARE_TENANT, "NULL", "NULL"),
        "tenant with contacts, message without contact": (TENANT, "NULL", "NULL"),
        "campaign message to a contact": (TENANT, "md5('c' || i)::uuid", f"'{CAMPAIGN}'::uuid"),
    }
    results = []
    for shape, (tenant, contact, campaign) in shapes.items():
        psql(args, "TRUNCATE messages")
        psql(args, f"""INSERT INTO messages (id, tenant_id, status, priority, content, contact_id, campaign_id)
                      SELECT md5('m' || i)::uuid, '{tenant}', 'sent', 'bulk', '{{}}', {contact}, {campaign} FROM generate_series(1, 100000) i""")
        psql(args, "VACUUM ANALYZE messages")
        row = {"events": shape}
        for trigger in ("disabled", "enabled") * 3:
            psql(args, f"ALTER TABLE events {'DISABLE' if trigger == 'disabled' else 'ENABLE'} TRIGGER events_contact_activity")
            seconds = psql(args, f"""DO $$ BEGIN
                FOR b IN 0..99 LOOP
                    INSERT INTO events (tenant_id, message_id, type, occurred_at)
                    SELECT '{tenant}', md5('m' || i)::uuid, 'opened', now() FROM generate_series(b * 1000 + 1, b * 1000 + 1000) i;
                END LOOP; END $$""")
            row.setdefault(f"trigger_{trigger}_s", []).append(round(seconds, 3))
        psql(args, "ALTER TABLE events ENABLE TRIGGER events_contact_activity")
        psql(args, "TRUNCATE events")
        off, on = min(row["trigger_disabled_s"]), min(row["trigger_enabled_s"])
        row["events_per_s_trigger_disabled"] = round(100000 / off)
        row["events_per_s_trigger_enabled"] = round(100000 / on)
        row["added_us_per_event"] = round((on - off) / 100000 * 1e6, 2)
        results.append(row)
        print(f"100,000 events ({shape}): trigger off {off:.3f} s, on {on:.3f} s, +{row['added_us_per_event']} µs per event")
    return results


def main():
    parser = argparse.ArgumentParser()
    for name in ("cli", "log", "out"):
        parser.add_argument("--" + name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["MAILFLEET_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{args.port}/bench"
    generated = generate(args)
    print(f"generated {args.contacts} contacts in {generated:.1f} s")
    report = {"contacts": args.contacts, "generate_s": round(generated, 1), "counts": counts(args), "event_inserts": event_inserts(args),
              "machine": "2 cores shared with other work; Postgres with fsync off, shared_buffers 256MB; mailfleet CLI debug build"}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
