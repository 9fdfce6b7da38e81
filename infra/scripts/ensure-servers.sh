#!/usr/bin/env bash
# Makes sure NATS (JetStream) and PostgreSQL answer on loopback; starts the machine's own servers if not.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # name port
  for _ in $(seq 1 100); do port_open "$2" && return 0; sleep 0.2; done
  echo "ensure-servers: $1 did not come up on 127.0.0.1:$2" >&2
  return 1
}

if port_open 4222; then
  echo "ensure-servers: NATS is up on 127.0.0.1:4222"
else
  bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  [ -x "$bin" ] || { echo "ensure-servers: nats-server not found (apt-get install nats-server)" >&2; exit 1; }
  mkdir -p "$root/.data/nats"
  echo "ensure-servers: starting $bin with JetStream in $root/.data/nats"
  nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$root/.data/nats" -l "$root/.data/nats/server.log" >/dev/null 2>&1 &
  wait_for NATS 4222
fi

if port_open 5432; then
  echo "ensure-servers: PostgreSQL is up on 127.0.0.1:5432"
else
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "ensure-servers: starting the machine's PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "ensure-servers: PostgreSQL is not running and no cluster is installed" >&2
    exit 1
  fi
  wait_for PostgreSQL 5432
fi
