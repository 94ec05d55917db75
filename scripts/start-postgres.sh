#!/usr/bin/env bash
# Install (Debian's package) and start PostgreSQL on loopback, with a test role and database.
# Prints the SQLAlchemy URL on the last line; exits non-zero with one line saying why if it can't.
set -euo pipefail
DB=${PG_TEST_DB:-rhizotomy_test}
ROLE=${PG_TEST_ROLE:-rhizotomy}
PASSWORD=${PG_TEST_PASSWORD:-rhizotomy}
say() { echo "postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then say "not installed and not root: cannot install"; exit 1; fi
  say "installing Debian's postgresql package..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2 || { say "apt-get install postgresql failed"; exit 1; }
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  say "starting cluster $version/main..."
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD' CREATEDB\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
  || su postgres -c "createdb -O $ROLE $DB" >&2
echo "postgresql+psycopg2://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
