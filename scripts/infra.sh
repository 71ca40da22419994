#!/usr/bin/env bash
# Dev/test infrastructure for this monorepo: PostgreSQL, Redis and a single-node
# Kafka (KRaft), all on 127.0.0.1. No Docker, no systemd: plain daemonized
# processes whose data, pid and log files live in one state dir outside the
# repo, so several clones share one running set.
#
#   scripts/infra.sh up               start whatever isn't answering (installs on first use)
#   scripts/infra.sh down [--purge]   stop our processes; --purge also deletes their data
#   scripts/infra.sh status           up/down per component; exit 0 only if all are up
#
# A component whose variable (DATABASE_URL, REDIS_URL, KAFKA_BROKERS) is already
# set to something other than our local default is external: `up` only waits
# for it to answer. `up` ends by writing <state>/env and <repo>/.infra.env.
#
# Knobs: VTV_INFRA_DIR (state dir, default /var/lib/vtv-infra), PGPORT,
# REDIS_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_PROXIED_PORT,
# KAFKA_PROXY_PORT, VTV_KAFKA_TIMEOUT (s).
#
# The broker has a second client listener for network-fault tests: it listens on
# KAFKA_PROXIED_PORT (default 9094) but advertises KAFKA_PROXY_PORT (default
# 9095), where nothing listens until a test puts a TcpProxy there (forwarding to
# 9094). Clients bootstrapped through the proxy are told to reconnect to the
# proxy, so every byte they exchange with the broker passes it and a test can
# cut Kafka off for real. .infra.env exports KAFKA_PROXIED_BROKERS (the proxy's
# address, for the client under test) and KAFKA_PROXIED_TARGET (the listener,
# for the proxy). A running broker of ours whose configuration differs from the
# one this script writes is restarted by `up`.

# The bash -c snippets below expand their own "$0/$1" on purpose.
# shellcheck disable=SC2016
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname -- "$SCRIPT_DIR")
KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"

STATE=${VTV_INFRA_DIR:-/var/lib/vtv-infra}
HOST=127.0.0.1
PG_PORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_PROXIED_PORT=${KAFKA_PROXIED_PORT:-9094}
KAFKA_PROXY_PORT=${KAFKA_PROXY_PORT:-9095}

PG_TIMEOUT=${VTV_PG_TIMEOUT:-60}
REDIS_TIMEOUT=${VTV_REDIS_TIMEOUT:-30}
KAFKA_TIMEOUT=${VTV_KAFKA_TIMEOUT:-90}

LOCAL_DATABASE_URL="postgres://postgres:postgres@$HOST:$PG_PORT/postgres"
LOCAL_REDIS_URL="redis://$HOST:$REDIS_PORT"
LOCAL_KAFKA_BROKERS="$HOST:$KAFKA_PORT"

PG_DIR="$STATE/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
PG_SOCK_DIR="$PG_DIR/run"   # Debian's default /var/run/postgresql may not exist
REDIS_DIR="$STATE/redis"
REDIS_PID="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
KAFKA_DIR="$STATE/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PROPS="$KAFKA_DIR/server.properties"   # what the running broker was started with
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_OUT="$KAFKA_DIR/kafka.out"   # JVM stdout/stderr; broker log is logs/server.log

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
FETCH_PID=""                        # background Maven fetch, if any
declare -A NOTE=()                  # per-component remark for the summary

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Print the last lines of each existing log file, for failure messages.
show_tail() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

# A URL's "host port" (userinfo, path and query stripped; default port $2);
# callers read it into an array: read -r -a hp < <(url_host_port ...).
url_host_port() {
  local rest=${1#*://}
  rest=${rest%%[/?]*}
  rest=${rest##*@}
  local host=${rest%:*} port=${rest##*:}
  [[ $rest == *:* ]] || { host=$rest; port=$2; }
  host=${host#[}; host=${host%]}
  printf '%s %s\n' "${host:-$HOST}" "$port"
}

tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

pid_alive() { [[ -n ${1:-} && -d /proc/$1 ]] && kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- health checks

pg_answers() {
  if have psql; then
    PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
  elif have pg_isready; then
    pg_isready -q -t 3 -d "$1"
  else
    local hp; read -r -a hp < <(url_host_port "$1" 5432); tcp_open "${hp[@]}"
  fi
}

redis_answers() {
  if have redis-cli; then
    [[ $(timeout 3 redis-cli -u "$1" ping 2>/dev/null) == PONG ]]
  else  # raw RESP; -NOAUTH still proves a live server
    local hp; read -r -a hp < <(url_host_port "$1" 6379)
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "PING\r\n" >&3; IFS= read -r l <&3
      [[ $l == +PONG* || $l == -NOAUTH* ]]' "${hp[@]}" 2>/dev/null
  fi
}

kcat_bin() { command -v kcat || command -v kafkacat; }

# A metadata round-trip (kcat -L) when kcat exists, else a hand-made
# ApiVersions v0 request: both only succeed once the broker serves requests,
# unlike a bare TCP connect.
kafka_answers() {
  local kc hp; read -r -a hp < <(url_host_port "${1%%,*}" 9092)
  # Cheap gate first: kcat would sit out its whole metadata timeout on a
  # closed port, which makes polling a starting broker slow.
  tcp_open "${hp[@]}" || return 1
  if kc=$(kcat_bin); then
    timeout 10 "$kc" -L -b "$1" -m 5 >/dev/null 2>&1
  else
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff" >&3
      r=$(head -c 8 <&3 | od -An -tx1 | tr -d " \n")
      [[ ${r:8} == 00000007 ]]' "${hp[@]}" 2>/dev/null
  fi
}

# wait_until <timeout-s> <cmd...>: poll until the command succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

# ---------------------------------------------------------------- installation

pg_bindir() {
  # Prefer the major version the existing data dir was made with.
  local want d
  want=$(cat "$PG_DATA/PG_VERSION" 2>/dev/null || true)
  if [[ -n $want && -x /usr/lib/postgresql/$want/bin/initdb ]]; then
    echo "/usr/lib/postgresql/$want/bin"; return
  fi
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  if [[ -x $d/initdb ]]; then echo "$d"; return; fi
  have initdb && have pg_ctl && { dirname -- "$(readlink -f "$(command -v pg_ctl)")"; return; }
  return 1
}

# One apt-get update + install for everything missing; never runs when
# nothing is missing.
apt_install() {
  (( $# )) || return 0
  have apt-get || die "need to install $*, but apt-get is not available"
  local alog="$STATE/apt.log" pkgs=() p policy=/usr/sbin/policy-rc.d added_policy="" rc=0
  log "installing with apt-get: $* (log: $alog)"
  export DEBIAN_FRONTEND=noninteractive
  # Some configured sources may be unreachable; apt then warns and install
  # below still fails loudly if a package really can't be had.
  apt-get update -q >"$alog" 2>&1 || log "apt-get update reported errors (continuing; see $alog)"
  for p in "$@"; do
    # kcat is called kafkacat in older Debian releases.
    if [[ $p == kcat ]] && ! apt-cache show kcat >/dev/null 2>&1; then p=kafkacat; fi
    pkgs+=("$p")
  done
  # Keep the packages' maintainer scripts from starting Debian's own
  # postgresql/redis services on our ports: policy-rc.d exit 101 = "don't".
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; added_policy=1
  fi
  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
    "${pkgs[@]}" >>"$alog" 2>&1 || rc=$?
  [[ -z $added_policy ]] || rm -f "$policy"
  (( rc == 0 )) || { show_tail "$alog"; die "apt-get install ${pkgs[*]} failed"; }
}

# Jars are fetched once per pom content (its hash is the marker).
kafka_libs_ready() {
  [[ -f $KAFKA_LIBS/.pom.sha256 && $(cat "$KAFKA_LIBS/.pom.sha256") == "$(sha256sum <"$KAFKA_POM")" ]]
}

fetch_kafka_libs() {
  have mvn || die "Maven (mvn) is required to fetch Kafka from Maven Central"
  local tmp="$KAFKA_DIR/libs.tmp"
  rm -rf "$tmp"
  # cd: keep Maven's cwd (and any scratch files) out of the repo.
  (cd "$KAFKA_DIR" && mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp") >"$KAFKA_DIR/mvn.log" 2>&1 || return 1
  sha256sum <"$KAFKA_POM" >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

# Runs the fetch in the background so it overlaps apt-get and Postgres start.
start_kafka_fetch() {
  kafka_libs_ready && return 0
  log "fetching Kafka jars from Maven Central (log: $KAFKA_DIR/mvn.log)"
  fetch_kafka_libs & FETCH_PID=$!
}

finish_kafka_fetch() {
  [[ -n $FETCH_PID ]] || return 0
  local pid=$FETCH_PID; FETCH_PID=""
  wait "$pid" || { show_tail "$KAFKA_DIR/mvn.log"; die "fetching Kafka jars with Maven failed"; }
}

# Don't leave a Maven fetch running if we die early.
cleanup() { [[ -z $FETCH_PID ]] || kill "$FETCH_PID" 2>/dev/null || true; }
trap cleanup EXIT

# ---------------------------------------------------------------- PostgreSQL

pg_pid() { head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true; }
pg_ours_alive() { pid_alive "$(pg_pid)"; }

# 9>&-: daemons must not inherit our lock fd, or they'd hold the lock forever.
as_postgres() { (cd "$PG_DIR" && runuser -u postgres -- "$@" 9>&-); }

pg_init() {
  local bindir=$1
  id postgres >/dev/null 2>&1 || die "system user 'postgres' is missing (is the postgresql package installed?)"
  # initdb/postgres run as postgres, so every ancestor of the state dir must be traversable by it.
  runuser -u postgres -- test -x "$STATE" ||
    die "user postgres cannot reach $STATE; choose a VTV_INFRA_DIR outside private dirs such as /root"
  install -d -o postgres -g postgres -m 750 "$PG_DIR"
  install -d -o postgres -g postgres -m 700 "$PG_SOCK_DIR"
  if [[ ! -f $PG_DIR/.initialized ]]; then
    log "postgres: initdb $PG_DATA"
    rm -rf "$PG_DATA"   # leftovers of an interrupted initdb
    local pw="$PG_DIR/.pwfile"
    printf 'postgres\n' >"$pw"; chown postgres: "$pw"; chmod 600 "$pw"
    # Password auth over TCP (what DATABASE_URL uses); trust only on our private socket dir.
    as_postgres "$bindir/initdb" -D "$PG_DATA" -U postgres --pwfile="$pw" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 \
        >"$PG_DIR/initdb.log" 2>&1 || { rm -f "$pw"; show_tail "$PG_DIR/initdb.log"; die "initdb failed"; }
    rm -f "$pw"
    echo "include_if_exists = 'vtv.conf'" >>"$PG_DATA/postgresql.conf"
    touch "$PG_DIR/.initialized"
  fi
  # Rewritten before every start so port/setting changes here take effect.
  cat >"$PG_DATA/vtv.conf" <<EOF
# Written by scripts/infra.sh before each start; edit the script instead.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK_DIR'
max_connections = 300
# Durability is off on purpose: this is throwaway dev/test infra, where speed
# beats surviving an OS crash. Never copy these three to production.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  chown postgres: "$PG_DATA/vtv.conf"
}

ensure_postgres() {
  if pg_answers "$LOCAL_DATABASE_URL"; then NOTE[postgres]="already running"; return; fi
  if ! pg_ours_alive; then
    tcp_open "$HOST" "$PG_PORT" &&
      die "something else listens on $HOST:$PG_PORT but rejects postgres/postgres (set PGPORT to use another port)"
    local bindir; bindir=$(pg_bindir) || die "PostgreSQL server binaries not found"
    pg_init "$bindir"
    log "postgres: starting on $HOST:$PG_PORT"
    as_postgres "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_TIMEOUT" start >/dev/null 2>&1 ||
      { show_tail "$PG_LOG"; die "postgres failed to start"; }
    NOTE[postgres]="started, pid $(pg_pid)"
  else
    NOTE[postgres]="was starting, pid $(pg_pid)"
  fi
}

stop_postgres() {
  if ! pg_ours_alive; then log "postgres: not running"; return; fi
  local bindir; bindir=$(pg_bindir) || die "PostgreSQL binaries not found"
  log "postgres: stopping pid $(pg_pid)"
  as_postgres "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null ||
    die "pg_ctl stop failed (see $PG_LOG)"
}

# ---------------------------------------------------------------- Redis

redis_pid() { cat "$REDIS_PID" 2>/dev/null || true; }

ensure_redis() {
  if redis_answers "$LOCAL_REDIS_URL"; then NOTE[redis]="already running"; return; fi
  if pid_alive "$(redis_pid)"; then NOTE[redis]="was starting, pid $(redis_pid)"; return; fi
  tcp_open "$HOST" "$REDIS_PORT" &&
    die "something else listens on $HOST:$REDIS_PORT and doesn't answer PING (set REDIS_PORT to use another port)"
  have redis-server || die "redis-server not found"
  install -d -m 755 "$REDIS_DIR"
  rm -f "$REDIS_PID"
  log "redis: starting on $HOST:$REDIS_PORT"
  # No persistence: dev/test cache only.
  redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes \
      --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
      --save "" --appendonly no 9>&- ||
    { show_tail "$REDIS_LOG"; die "redis-server failed to start"; }
  wait_until 5 test -s "$REDIS_PID" || true
  NOTE[redis]="started, pid $(redis_pid)"
}

stop_redis() {
  local pid; pid=$(redis_pid)
  if ! pid_alive "$pid"; then log "redis: not running"; rm -f "$REDIS_PID"; return; fi
  log "redis: stopping pid $pid"
  # SHUTDOWN NOSAVE only if the server on our port is really our pid;
  # otherwise signal the pid (SIGTERM also shuts Redis down cleanly).
  if have redis-cli && [[ $(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" info server 2>/dev/null |
                            tr -d '\r' | sed -n 's/^process_id://p') == "$pid" ]]; then
    timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  wait_until 20 eval '! pid_alive '"$pid" || { kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$REDIS_PID"
}

# ---------------------------------------------------------------- Kafka

kafka_pid() { cat "$KAFKA_PID" 2>/dev/null || true; }

# Our broker = the recorded pid is alive and really is kafka.Kafka (pid reuse).
kafka_ours_alive() {
  local pid; pid=$(kafka_pid)
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

kafka_java() {
  "$JAVA" -Dlog4j.configuration="file:$SCRIPT_DIR/kafka/tools-log4j.properties" \
      -cp "$KAFKA_LIBS/*" "$@"
}

# The broker configuration this script wants, on stdout.
kafka_props() {
  cat <<EOF
# Written by scripts/infra.sh before each start; edit the script instead.
# Single-node KRaft, broker and controller in one process (dev/test only).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
# PROXIED listens on $KAFKA_PROXIED_PORT and advertises $KAFKA_PROXY_PORT, where a test's TcpProxy
# sits (see the header of scripts/infra.sh), so a proxy can really cut a client off the broker.
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,PROXIED://$HOST:$KAFKA_PROXIED_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,PROXIED://$HOST:$KAFKA_PROXY_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Topics are created explicitly by the code that owns them.
auto.create.topics.enable=false
# Tests shouldn't wait 3 s for every first consumer-group join.
group.initial.rebalance.delay.ms=0
# 2-core dev machines.
num.network.threads=2
num.io.threads=4
# Dev data is disposable: keep a day, in segments small enough to expire.
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

write_kafka_props() { kafka_props >"$KAFKA_PROPS"; }

# Our running broker was started with another configuration than the one we
# would write now (an older script, changed ports): it has to be restarted.
kafka_config_stale() {
  kafka_ours_alive || return 1
  [[ $(kafka_props | sha256sum) != $(sha256sum <"$KAFKA_PROPS" 2>/dev/null) ]]
}

kafka_format() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local cid
  cid=$(cat "$KAFKA_DIR/cluster.id" 2>/dev/null) ||
    cid=$(kafka_java kafka.tools.StorageTool random-uuid) || die "StorageTool random-uuid failed"
  echo "$cid" >"$KAFKA_DIR/cluster.id"
  log "kafka: formatting $KAFKA_DATA (cluster id $cid)"
  kafka_java kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" >"$KAFKA_DIR/format.log" 2>&1 ||
    { show_tail "$KAFKA_DIR/format.log"; die "kafka storage format failed"; }
}

start_kafka() {
  install -d -m 755 "$KAFKA_DATA" "$KAFKA_LOGS"
  cp "$SCRIPT_DIR/kafka/log4j.properties" "$KAFKA_DIR/log4j.properties"
  write_kafka_props
  kafka_format
  log "kafka: starting on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)"
  printf '\n==== %s start\n' "$(date -Is)" >>"$KAFKA_OUT"
  # Own session (setsid) + nohup: survives the calling shell/terminal going away.
  # The subshell execs into java, so $! is the broker's pid.
  ( exec nohup setsid "$JAVA" -Xmx512m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_LOGS" \
      -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" </dev/null >>"$KAFKA_OUT" 2>&1 9>&- ) &
  echo $! >"$KAFKA_PID"
}

ensure_kafka() {
  local restarted=""
  if kafka_config_stale; then
    log "kafka: the running broker was started with another configuration ($KAFKA_PROPS); restarting it"
    stop_kafka
    restarted="re"
  elif kafka_answers "$LOCAL_KAFKA_BROKERS"; then
    NOTE[kafka]="already running"; return
  fi
  if kafka_ours_alive; then NOTE[kafka]="was starting, pid $(kafka_pid)"; return; fi
  tcp_open "$HOST" "$KAFKA_PORT" &&
    die "something else listens on $HOST:$KAFKA_PORT but doesn't answer as a Kafka broker (set KAFKA_PORT)"
  tcp_open "$HOST" "$KAFKA_PROXIED_PORT" &&
    die "something else listens on $HOST:$KAFKA_PROXIED_PORT (set KAFKA_PROXIED_PORT)"
  have "$JAVA" || die "java not found (Java 17 is required for Kafka)"
  finish_kafka_fetch
  kafka_libs_ready || fetch_kafka_libs || { show_tail "$KAFKA_DIR/mvn.log"; die "fetching Kafka jars failed"; }
  start_kafka
  NOTE[kafka]="${restarted}started, pid $(kafka_pid)"
}

# Like kafka_answers, but fails fast if our broker process died meanwhile.
kafka_ready_or_dead() {
  kafka_answers "$LOCAL_KAFKA_BROKERS" && return 0
  [[ -f $KAFKA_PID ]] && ! kafka_ours_alive && return 2
  return 1
}

wait_kafka_local() {
  local deadline=$((SECONDS + KAFKA_TIMEOUT)) rc
  while :; do
    rc=0; kafka_ready_or_dead || rc=$?
    (( rc == 0 )) && return 0
    if (( rc == 2 )); then
      show_tail "$KAFKA_LOGS/server.log" "$KAFKA_OUT"
      die "kafka broker exited during startup"
    fi
    if (( SECONDS >= deadline )); then
      show_tail "$KAFKA_LOGS/server.log" "$KAFKA_OUT"
      die "kafka did not answer on $LOCAL_KAFKA_BROKERS within ${KAFKA_TIMEOUT}s"
    fi
    sleep 1
  done
}

stop_kafka() {
  local pid; pid=$(kafka_pid)
  if ! kafka_ours_alive; then log "kafka: not running"; rm -f "$KAFKA_PID"; return; fi
  log "kafka: stopping pid $pid"
  kill -TERM "$pid"
  # Controlled shutdown of a combined broker+controller takes a few seconds.
  wait_until 60 eval '! pid_alive '"$pid" || {
    log "kafka: still alive after 60s, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$KAFKA_PID"
}

# ---------------------------------------------------------------- commands

check_state_dir() {
  [[ $STATE == /* && $STATE != / ]] || die "VTV_INFRA_DIR must be an absolute path other than / (got '$STATE')"
}

lock_state() {
  install -d -m 755 "$STATE" "$KAFKA_DIR"
  exec 9>"$STATE/.lock"
  # Several clones may run `up` at once; one at a time. (Daemons we start
  # get this fd closed, so only a running infra.sh ever holds it.)
  flock -n 9 && return 0
  log "waiting for another infra.sh (lock $STATE/.lock)"
  flock -w 900 9 || die "timed out after 900s waiting for $STATE/.lock"
}

# Effective URL per component: the caller's if set, else our local one.
db_url() { echo "${DATABASE_URL:-$LOCAL_DATABASE_URL}"; }
redis_url() { echo "${REDIS_URL:-$LOCAL_REDIS_URL}"; }
kafka_url() { echo "${KAFKA_BROKERS:-$LOCAL_KAFKA_BROKERS}"; }

# External = set by the caller to something other than what we'd run
# (so sourcing .infra.env and re-running `up` still (re)starts our stack).
is_external() { [[ -n ${!1:-} && ${!1} != "$2" ]]; }

# write_env_files <ext_kafka>
write_env_files() {
  local ext_kafka=$1 f tmp
  for f in "$STATE/env" "$REPO_ROOT/.infra.env"; do
    tmp="$f.tmp.$$"
    {
      echo "# Written by scripts/infra.sh up. Use: . $f"
      printf 'export DATABASE_URL=%q\n' "$(db_url)"
      printf 'export REDIS_URL=%q\n' "$(redis_url)"
      printf 'export KAFKA_BROKERS=%q\n' "$(kafka_url)"
      # Only our own broker has the proxied listener (see the header).
      if (( !ext_kafka )); then
        printf 'export KAFKA_PROXIED_BROKERS=%q\n' "$HOST:$KAFKA_PROXY_PORT"
        printf 'export KAFKA_PROXIED_TARGET=%q\n' "$HOST:$KAFKA_PROXIED_PORT"
      fi
    } >"$tmp"
    mv -f "$tmp" "$f"
  done
}

cmd_up() {
  local start=$SECONDS pkgs=() ext_pg=0 ext_redis=0 ext_kafka=0
  check_state_dir
  lock_state
  is_external DATABASE_URL "$LOCAL_DATABASE_URL" && ext_pg=1
  is_external REDIS_URL "$LOCAL_REDIS_URL" && ext_redis=1
  is_external KAFKA_BROKERS "$LOCAL_KAFKA_BROKERS" && ext_kafka=1

  # Decide what has to be installed before touching apt at all.
  if (( !ext_pg )) && ! pg_answers "$LOCAL_DATABASE_URL" && ! pg_bindir >/dev/null; then
    pkgs+=(postgresql)
  fi
  if (( !ext_redis )) && ! redis_answers "$LOCAL_REDIS_URL" && ! have redis-server; then
    pkgs+=(redis-server)
  fi
  if (( !ext_kafka )) && ! kafka_answers "$LOCAL_KAFKA_BROKERS"; then
    start_kafka_fetch   # overlaps with apt-get and Postgres/Redis start
  fi
  # kcat: our Kafka readiness check and the analysts' tool.
  if (( !(ext_pg && ext_redis && ext_kafka) )) && ! kcat_bin >/dev/null; then
    pkgs+=(kcat)
  fi
  apt_install "${pkgs[@]}"

  if (( ext_pg )); then NOTE[postgres]="external"; else ensure_postgres; fi
  if (( ext_redis )); then NOTE[redis]="external"; else ensure_redis; fi
  if (( ext_kafka )); then NOTE[kafka]="external"; else ensure_kafka; fi

  # Everything must actually answer, external or ours.
  wait_until "$PG_TIMEOUT" pg_answers "$(db_url)" ||
    { (( ext_pg )) || show_tail "$PG_LOG"; die "postgres did not answer on $(db_url) within ${PG_TIMEOUT}s"; }
  wait_until "$REDIS_TIMEOUT" redis_answers "$(redis_url)" ||
    { (( ext_redis )) || show_tail "$REDIS_LOG"; die "redis did not answer on $(redis_url) within ${REDIS_TIMEOUT}s"; }
  if (( ext_kafka )); then
    wait_until "$KAFKA_TIMEOUT" kafka_answers "$(kafka_url)" ||
      die "kafka did not answer on $(kafka_url) within ${KAFKA_TIMEOUT}s"
  else
    wait_kafka_local
  fi

  write_env_files "$ext_kafka"
  printf '%-9s up  %-55s (%s)\n' postgres "$(db_url)" "${NOTE[postgres]}" \
    redis "$(redis_url)" "${NOTE[redis]}" kafka "$(kafka_url)" "${NOTE[kafka]}"
  log "env written to $REPO_ROOT/.infra.env and $STATE/env ($((SECONDS - start))s)"
}

cmd_down() {
  local purge=0
  case ${1:-} in
    "") ;;
    --purge) purge=1 ;;
    *) die "usage: $0 down [--purge]" ;;
  esac
  check_state_dir
  [[ -d $STATE ]] || { log "nothing to stop: $STATE does not exist"; return; }
  lock_state
  stop_kafka
  stop_redis
  stop_postgres
  if (( purge )); then
    log "purging data under $STATE (keeping the downloaded Kafka jars)"
    rm -rf -- "$PG_DIR" "$REDIS_DIR" "$STATE/env" "$STATE/apt.log"
    find "$KAFKA_DIR" -mindepth 1 -maxdepth 1 ! -name libs -exec rm -rf -- {} +
  fi
}

cmd_status() {
  local ok=0 state
  check_state_dir
  if pg_answers "$(db_url)"; then state=up; else state=down; ok=1; fi
  printf '%-9s %-5s %s\n' postgres "$state" "$(db_url)"
  if redis_answers "$(redis_url)"; then state=up; else state=down; ok=1; fi
  printf '%-9s %-5s %s\n' redis "$state" "$(redis_url)"
  if kafka_answers "$(kafka_url)"; then state=up; else state=down; ok=1; fi
  printf '%-9s %-5s %s\n' kafka "$state" "$(kafka_url)"
  return "$ok"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    *) echo "usage: $0 up | down [--purge] | status" >&2; exit 2 ;;
  esac
}

main "$@"
