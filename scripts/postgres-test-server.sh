#!/usr/bin/env bash
# postgres-test-server.sh starts a throwaway PostgreSQL for the store tests on
# this machine and prints one line for the shell:
#
#   export ICP_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:55432/icp_test?sslmode=disable'
#
# Usage:   eval "$(scripts/postgres-test-server.sh)"
#          go test -race ./store/...
# Stop:    scripts/postgres-test-server.sh stop
#
# It listens on 127.0.0.1 only, trusts every local connection, and keeps its
# data under /tmp (fsync off: test data only). Running it again while the
# server is up only prints the export line. Environment:
#   ICP_PG_PORT  first port to try (default 55432; the next free one is used
#                when that port is taken by something else)
#   ICP_PG_BASE  state directory prefix (default /tmp/icp-pg); the data lives
#                in "$ICP_PG_BASE-$port"
# Binaries are taken from /usr/local/bin, then /usr/lib/postgresql/*/bin; if
# neither has them, Debian's postgresql package is installed with apt-get.
# Diagnostics go to stderr, so only the export line reaches eval.
set -euo pipefail

log() { printf 'postgres-test-server: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

first_port="${ICP_PG_PORT:-55432}"
base_prefix="${ICP_PG_BASE:-/tmp/icp-pg}"
os_user=icptest
db_name=icp_test
db_user=postgres

find_bindir() {
	local d
	if [[ -x /usr/local/bin/initdb && -x /usr/local/bin/pg_ctl ]]; then
		# Follow the links to the real directory, where postgres, psql and
		# pg_isready live beside initdb.
		dirname "$(readlink -f /usr/local/bin/initdb)"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

bindir="$(find_bindir || true)"
if [[ -z "$bindir" ]]; then
	command -v apt-get >/dev/null || die "no PostgreSQL binaries found and no apt-get to install them"
	[[ "$(id -u)" == 0 ]] || die "no PostgreSQL binaries found; install the postgresql package as root"
	log "installing postgresql with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q postgresql >&2; then
		apt-get update -q >&2
		apt-get install -y -q postgresql >&2
	fi
	bindir="$(find_bindir)" || die "postgresql installed but no initdb found under /usr/lib/postgresql/*/bin"
fi
for b in initdb pg_ctl pg_isready psql; do
	[[ -x "$bindir/$b" ]] || die "missing $bindir/$b"
done

# PostgreSQL refuses to run as root: run its tools as an unprivileged user.
as_pg() {
	if [[ "$(id -u)" == 0 ]]; then
		runuser -u "$os_user" -- "$@"
	else
		"$@"
	fi
}
if [[ "$(id -u)" == 0 ]] && ! id -u "$os_user" >/dev/null 2>&1; then
	log "creating system user $os_user"
	useradd --system --no-create-home --shell /usr/sbin/nologin "$os_user"
fi

url_for() { echo "postgres://${db_user}@127.0.0.1:$1/${db_name}?sslmode=disable"; }

# ours reports whether a server we can use answers on port $1.
ours() {
	"$bindir/pg_isready" -q -h 127.0.0.1 -p "$1" -U "$db_user" -d postgres -t 2 >/dev/null 2>&1 &&
		"$bindir/psql" -X -q -h 127.0.0.1 -p "$1" -U "$db_user" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_db() {
	local port="$1"
	if [[ "$("$bindir/psql" -X -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]]; then
		"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres \
			-c "CREATE DATABASE $db_name" >&2 || ours "$port" # a concurrent run may have created it
	fi
}

if [[ "${1:-}" == stop ]]; then
	for dir in "$base_prefix"-*; do
		[[ -f "$dir/data/postmaster.pid" ]] || continue
		log "stopping server in $dir"
		as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	done
	exit 0
fi

port="$first_port"
for _ in $(seq 0 50); do
	if ours "$port"; then
		log "server already running on 127.0.0.1:$port"
		ensure_db "$port"
		echo "export ICP_TEST_POSTGRES_URL='$(url_for "$port")'"
		exit 0
	fi
	if port_free "$port"; then
		break
	fi
	log "port $port is taken by something else; trying $((port + 1))"
	port=$((port + 1))
done
port_free "$port" || die "no free port from $first_port to $port"

dir="$base_prefix-$port"
data="$dir/data"
sock="$dir/sock"
mkdir -p "$dir" "$sock"
if [[ "$(id -u)" == 0 ]]; then
	chown "$os_user:" "$dir" "$sock"
fi
chmod 700 "$dir"

if [[ ! -f "$data/PG_VERSION" ]]; then
	rm -rf "$data"
	log "initdb in $data ($bindir)"
	as_pg "$bindir/initdb" -D "$data" -U "$db_user" --auth-local=trust --auth-host=trust \
		-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		as_pg "$bindir/initdb" -D "$data" -U "$db_user" --auth-local=trust --auth-host=trust \
			-E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
fi

# alive reports whether process $1 exists and is not a zombie.
alive() {
	[[ -r "/proc/$1/status" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# A pid file left by a killed server would stop the new one from starting.
# The server does not answer (we checked), so wait for its old processes to
# go and remove the file.
if [[ -f "$data/postmaster.pid" ]]; then
	oldpid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
	if [[ "$oldpid" =~ ^[0-9]+$ ]]; then
		for _ in $(seq 1 40); do
			alive "$oldpid" || break
			sleep 0.25
		done
		alive "$oldpid" && die "postgres process $oldpid holds $data but does not answer on port $port"
	fi
	log "removing stale $data/postmaster.pid"
	rm -f "$data/postmaster.pid"
fi
# The same holds for the socket lock; a killed server that is still a zombie
# would otherwise be taken for a live one.
lock="$sock/.s.PGSQL.$port.lock"
if [[ -f "$lock" ]]; then
	oldpid="$(head -n 1 "$lock" 2>/dev/null || true)"
	if [[ "$oldpid" =~ ^[0-9]+$ ]] && alive "$oldpid"; then
		die "postgres process $oldpid holds $lock but does not answer on port $port"
	fi
	rm -f "$lock" "$sock/.s.PGSQL.$port"
fi

log "starting PostgreSQL on 127.0.0.1:$port"
opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sock"
opts+=" -c max_connections=200 -c fsync=off -c full_page_writes=off -c shared_buffers=64MB"
if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -o "$opts" -w -t 60 start >&2; then
	tail -n 30 "$dir/postgres.log" >&2 || true
	die "pg_ctl start failed"
fi

for _ in $(seq 1 60); do
	ours "$port" && break
	sleep 0.5
done
ours "$port" || die "server on port $port did not become ready (log: $dir/postgres.log)"
ensure_db "$port"
log "ready; data in $data, log in $dir/postgres.log"
echo "export ICP_TEST_POSTGRES_URL='$(url_for "$port")'"
