# Shared helpers for ops/run, ops/test and bench/run. Source it; do not run it.
# Local server ports sit below Linux's ephemeral range (32768-60999), where an outgoing
# connection could be holding them.
# Starts Postgres and Redis inside a folder of the project, on local ports, as this user
# (or as the `postgres` user when run as root, since Postgres refuses to run as root).

MAILFLEET_PACKAGES="postgresql redis-server libpq-dev libhiredis-dev libcurl4-openssl-dev pkg-config curl python3 ca-certificates"

log() { printf '\033[1m[mailfleet]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[mailfleet] %s\033[0m\n' "$*" >&2; exit 1; }

# Installs the Debian packages that are missing (needs root or sudo).
ensure_packages() {
    local missing=()
    for p in $MAILFLEET_PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# ensure_python_modules MODULE...: installs missing Python modules from PyPI with pip (the
# SMTP tests run a real SMTP server, aiosmtpd). Falls back to --break-system-packages where
# the distribution marks its Python as externally managed.
ensure_python_modules() {
    local m
    for m in "$@"; do
        python3 -c "import $m" 2>/dev/null && continue
        log "installing Python module $m from PyPI"
        python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip
        python3 -m pip install --quiet "$m" >/dev/null 2>&1 \
            || python3 -m pip install --quiet --break-system-packages "$m" >/dev/null \
            || die "pip install $m failed"
    done
}

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    echo "$dir"
}

# as_pg CMD...: runs a Postgres server command as the postgres user when we are root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DATADIR PORT [extra server options]: initialises on first use, starts, waits.
start_postgres() {
    local data=$1 port=$2; shift 2
    local bin; bin=$(pg_bindir)
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$data"
        runuser -u postgres -- test -w "$data" || die "the postgres user cannot write $data (is a parent folder private?)"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$data" -A trust -U postgres --encoding=UTF8 --locale=C >"$data.initdb.log" 2>&1 \
            || { cat "$data.initdb.log" >&2; die "initdb failed"; }
    fi
    if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true
    fi
    as_pg "$bin/pg_ctl" -D "$data" -w -t 60 -l "$data/server.log" \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 $*" start >/dev/null \
        || { tail -n 20 "$data/server.log" >&2; die "postgres did not start on port $port"; }
}

stop_postgres() {
    local data=$1 bin; bin=$(pg_bindir)
    [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" stop -m fast >/dev/null 2>&1 || true
}

# create_database PORT NAME: creates it unless it exists.
create_database() {
    local port=$1 name=$2
    psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1 \
        || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE \"$name\"" postgres >/dev/null
}

# start_redis DIR PORT: starts redis-server in the background, no persistence, waits for PING.
start_redis() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    stop_redis "$port"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null \
        || die "redis-server did not start on port $port"
    for _ in $(seq 1 50); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    die "redis did not answer on port $port"
}

stop_redis() {
    redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true
    # SHUTDOWN returns before the server has let go of its port.
    for _ in $(seq 1 50); do
        redis-cli -p "$1" ping >/dev/null 2>&1 || return 0
        sleep 0.1
    done
}

# wait_ready URL [SECONDS]: polls until the URL answers 200.
wait_ready() {
    local url=$1 limit=${2:-60}
    for _ in $(seq 1 $((limit * 10))); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
