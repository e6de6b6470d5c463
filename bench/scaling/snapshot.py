#!/usr/bin/env python3
"""One sample of the counters bench/scaling/run takes before and after each configuration, as a
JSON object on stdout: CPU seconds of every fleet process (from a "name pid" file), of Postgres
(postmaster, its live children, and the children it has already reaped) and of Redis; the
machine's busy CPU; Redis's command counts; Postgres's WAL position and rows written.
Usage: snapshot.py PIDS_FILE PG_DATA_DIR PG_PORT REDIS_PORT REDIS_PID_FILE"""
import json, os, subprocess, sys, time

pids_file, pg_data, pg_port, redis_port, redis_pid_file = sys.argv[1:6]
HZ = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field 3, `state`, is index 0)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def cpu(pid, reaped_children=False):
    fields = stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children waited for
    return ticks / HZ


def postgres_cpu():
    # Backends that exit during the window are counted through the postmaster's cutime/cstime
    # once it has reaped them, so connections opened and closed in between are not lost.
    with open(os.path.join(pg_data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = cpu(postmaster, reaped_children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(entry)
            if fields is not None and int(fields[1]) == postmaster:
                total += cpu(entry)
    return total


def machine():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return {"busy_s": busy / HZ, "total_s": (busy + idle + iowait) / HZ}


def redis_info(section):
    out = subprocess.run(["redis-cli", "-p", redis_port, "INFO", section], check=True, capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith("#")]


def redis():
    total = next(int(line.split(":")[1]) for line in redis_info("stats") if line.startswith("total_commands_processed:"))
    commands = {}
    for line in redis_info("commandstats"):
        name, values = line.split(":", 1)
        calls = dict(pair.split("=") for pair in values.split(","))["calls"]
        commands[name.removeprefix("cmdstat_")] = int(calls)
    return {"total_commands": total, "commands": commands}


def sql(query):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", pg_port, "-U", "postgres", "-tAF", "\t", "-v", "ON_ERROR_STOP=1",
                          "-c", query, "mailfleet"], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def postgres():
    (inserted, updated, deleted), = sql("SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()")
    (wal,), = sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
    tables = {name: {"inserted": int(i), "updated": int(u), "hot_updated": int(h), "deleted": int(d)}
              # A partition counts under its partitioned table (`messages` is every day of it).
              for name, i, u, h, d in sql("""SELECT coalesce(p.relname, s.relname), sum(s.n_tup_ins), sum(s.n_tup_upd), sum(s.n_tup_hot_upd),
                                                    sum(s.n_tup_del)
                                             FROM pg_stat_user_tables s LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
                                             LEFT JOIN pg_class p ON p.oid = i.inhparent GROUP BY 1""")}
    return {"inserted": int(inserted), "updated": int(updated), "deleted": int(deleted), "wal_bytes": int(float(wal)), "tables": tables}


processes = {}
with open(pids_file) as f:
    for line in f:
        name, pid = line.split()
        processes[name] = cpu(pid)
with open(redis_pid_file) as f:
    redis_pid = int(f.read())
print(json.dumps({
    "t": time.time(), "processes": processes, "postgres_cpu_s": postgres_cpu(), "redis_cpu_s": cpu(redis_pid),
    "machine": machine(), "redis": redis(), "postgres": postgres(),
}))
