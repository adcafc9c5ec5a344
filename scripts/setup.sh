#!/usr/bin/env bash
# Prepare this machine for health-export: PostgreSQL with PostGIS, Redis, the database,
# the schema. Idempotent and quick when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# Settings come from the environment, then .env, then these defaults.
if [ -f .env ]; then set -a; . ./.env; set +a; fi
DATABASE_URL="${DATABASE_URL:-postgresql+asyncpg://root@127.0.0.1:5432/health_export}"
REDIS_URL="${REDIS_URL-redis://127.0.0.1:6379/0}"

libpq_url="${DATABASE_URL/postgresql+asyncpg:\/\//postgresql://}"
db_name="${libpq_url##*/}"; db_name="${db_name%%\?*}"
admin_url="${libpq_url%/*}/postgres"

say() { printf 'setup: %s\n' "$*"; }
is_local_url() { [[ "$1" == *"@127.0.0.1"* || "$1" == *"@localhost"* || "$1" == *"://127.0.0.1"* || "$1" == *"://localhost"* ]]; }

ensure_postgres_running() {
  pg_isready -q -d "$admin_url" 2>/dev/null && return
  if is_local_url "$libpq_url" && command -v pg_ctlcluster >/dev/null; then
    say "starting the local PostgreSQL cluster"
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -d "$admin_url" && return; sleep 1; done
  fi
  say "PostgreSQL is not reachable at ${admin_url%%@*}@…; start it and retry" >&2
  exit 1
}

ensure_redis_running() {
  [ -n "$REDIS_URL" ] || return 0
  if ! is_local_url "$REDIS_URL"; then return 0; fi
  redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && return
  if command -v redis-server >/dev/null; then
    say "starting the local Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null
    for _ in $(seq 1 20); do redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 && return; sleep 0.25; done
  fi
  say "Redis is not reachable; health-export will keep rate limits in-process"
}

postgis_available() {
  [ "$(psql "$admin_url" -tAc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" = "1" ]
}

ensure_postgis() {
  postgis_available && return
  local major package
  major="$(psql "$admin_url" -tAc "SELECT current_setting('server_version_num')::int / 10000")"
  package="postgresql-${major}-postgis-3"
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing ${package} (PostGIS is needed for workout routes)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    postgis_available && return
  fi
  say "PostGIS is not available on this PostgreSQL: install ${package} (as root: apt-get install -y ${package})" >&2
  exit 1
}

# Only for the tests (`make test` sets SETUP_BROWSER=1): `make run` never installs a browser.
ensure_chromium() {
  [ "${SETUP_BROWSER:-}" = "1" ] || return 0
  command -v chromium >/dev/null && return
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing chromium (the dashboard's browser tests drive it)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    command -v chromium >/dev/null && return
  fi
  say "Chromium is not installed, so the browser tests will skip (as root: apt-get install -y chromium)"
}

ensure_database() {
  local name="$1"
  if [ "$(psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '${name}'")" != "1" ]; then
    say "creating database ${name}"
    psql "$admin_url" -qc "CREATE DATABASE \"${name}\""
  fi
}

ensure_postgres_running
ensure_redis_running
ensure_postgis
ensure_chromium
ensure_database "$db_name"
.venv/bin/health-export migrate >/dev/null
say "ready (database ${db_name} at the latest schema)"
