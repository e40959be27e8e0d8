#!/usr/bin/env bash
# The PostgreSQL server the history store tests use: a cluster of the tests'
# own under /var/tmp/mvm-tests/postgres, owned by the postgres user, on
# 127.0.0.1:55432, with role mvm (password mvm-test) and database mvm_test.
# The tests' URL is postgresql://mvm:mvm-test@127.0.0.1:55432/mvm_test
# (MVM_TEST_POSTGRES_URL overrides it). Idempotent: installs Debian's
# postgresql if missing without starting the package's own cluster, creates
# the cluster once, starts it unless it runs. When MVM_STARTED_DAEMONS names
# a file, a postmaster this script starts is added to it as "<pid> postgres",
# for stop-daemons.sh (which sends it SIGINT, PostgreSQL's fast shutdown).
set -euo pipefail
version=15
bin=/usr/lib/postgresql/$version/bin
root=/var/tmp/mvm-tests/postgres
data=$root/data
port=55432

if [ ! -x "$bin/initdb" ]; then
  echo "==> installing postgresql"
  # shellcheck source=apt-quiet.sh
  . "$(dirname "${BASH_SOURCE[0]}")/apt-quiet.sh"
  # The package's own cluster must not start: this script runs its own.
  apt_install_without_services "postgresql-$version"
fi

as_postgres() { runuser -u postgres -- "$@"; }

mkdir -p "$root"
chown postgres:postgres "$root"
chmod 0700 "$root"
if [ ! -s "$data/PG_VERSION" ]; then
  echo "==> creating the test PostgreSQL cluster in $data"
  rm -rf "$data"
  # scram-sha-256 on TCP, so that a wrong password is refused as in a real
  # fleet; peer on the socket, so that this script administers as postgres.
  as_postgres "$bin/initdb" -D "$data" --auth-host=scram-sha-256 --auth-local=peer --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi

# TLS, so that sslmode=require is tried against a server that offers it: a
# self-signed certificate for 127.0.0.1, made once (verify-full must refuse
# it, since no CA signed it). Turned on below with ALTER SYSTEM, which also
# reaches a cluster made before this step.
if [ ! -s "$data/server.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
    -keyout "$data/server.key" -out "$data/server.crt" 2>/dev/null
  chown postgres:postgres "$data/server.key" "$data/server.crt"
  chmod 0600 "$data/server.key"
fi

# The socket directory is the cluster's own: /run/postgresql belongs to the
# package's cluster and may not exist.
ready() { as_postgres "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; }
if ! ready; then
  if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "==> starting the test PostgreSQL on 127.0.0.1:$port"
    as_postgres "$bin/pg_ctl" -D "$data" -l "$root/logfile" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $root" start >/dev/null
    pid=$(head -1 "$data/postmaster.pid")
    if [ -n "${MVM_STARTED_DAEMONS:-}" ]; then echo "$pid postgres" >>"$MVM_STARTED_DAEMONS"; fi
  fi
  for _ in $(seq 1 100); do
    ready && break
    sleep 0.2
  done
  ready || { echo "error: PostgreSQL did not accept connections on 127.0.0.1:$port within 20 s; see $root/logfile" >&2; exit 1; }
fi

psql() { as_postgres "$bin/psql" -h "$root" -p "$port" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'mvm'")" != 1 ]; then
  psql -c "CREATE ROLE mvm LOGIN PASSWORD 'mvm-test'"
fi
# The fleet tests give each run a database of its own (nothing left from an
# earlier run can count as a host): the test role may create databases.
psql -c "ALTER ROLE mvm CREATEDB"
if [ "$(psql -c "SHOW ssl")" != on ]; then
  psql -c "ALTER SYSTEM SET ssl = on"
  psql -c "SELECT pg_reload_conf()" >/dev/null
fi
if [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'mvm_test'")" != 1 ]; then
  psql -c "CREATE DATABASE mvm_test OWNER mvm"
fi
