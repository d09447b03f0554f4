#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 with trust auth for user postgres and that
# the fjord database exists: start an installed cluster, or install Debian's package.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PGHOST=127.0.0.1
PGPORT=${PGPORT:-5432}
DB=${FJORD_DB_NAME:-fjord}

ready() { pg_isready -h "$PGHOST" -p "$PGPORT" -q; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "infra: installing PostgreSQL from Debian's packages"
  apt_install postgresql postgresql-client
  installed=1
fi

if ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  if [ "${installed:-0}" = 1 ] || ! grep -q '^host *all *all *127.0.0.1/32 *trust' "/etc/postgresql/$version/main/pg_hba.conf"; then
    # A fresh Debian cluster uses peer/scram auth; development and CI here use trust on loopback.
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root sed -i -E "s/^#?listen_addresses.*/listen_addresses = 'localhost'/" "/etc/postgresql/$version/main/postgresql.conf"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for 30 PostgreSQL ready
fi

if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "create database \"$DB\""
fi

# Instance metadata roles (group fjord_metadata_brokers, ADR 0013) must present their password even
# where everything else is trusted: their lines go before the trust lines, and PostgreSQL reloads.
psql -h "$PGHOST" -p "$PGPORT" -U postgres -qc "DO \$\$ BEGIN CREATE ROLE fjord_metadata_brokers NOLOGIN;
  EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
hba=$(psql -h "$PGHOST" -p "$PGPORT" -U postgres -tAc 'show hba_file')
if ! as_root grep -q '+fjord_metadata_brokers' "$hba"; then
  tmp=$(mktemp)
  as_root awk '!done && /^[[:space:]]*(local|host)/ {
      print "local all +fjord_metadata_brokers scram-sha-256"
      print "host all +fjord_metadata_brokers 127.0.0.1/32 scram-sha-256"
      print "host all +fjord_metadata_brokers ::1/128 scram-sha-256"
      done = 1
    } { print }' "$hba" >"$tmp"
  as_root cp "$tmp" "$hba"
  rm -f "$tmp"
  psql -h "$PGHOST" -p "$PGPORT" -U postgres -qtAc 'select pg_reload_conf()' >/dev/null
fi
