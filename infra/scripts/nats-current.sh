#!/usr/bin/env bash
# A current nats-server (2.10+, what the Kubernetes manifests run) beside the machine's 2.9, for
# `npm run test:nats-current`: takes Debian trixie's nats-server package (a static Go binary; nothing
# is installed), keeps it in .data/nats-current and runs it on 127.0.0.1:${NATS_CURRENT_PORT:-4230}
# with its store there. Prints the server's URL on stdout (what it did on stderr).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/.data/nats-current"
port="${NATS_CURRENT_PORT:-4230}"
bin="$dir/nats-server"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# the version in the INFO line a NATS server greets each connection with
served_version() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && timeout 2 head -n1 <&3) 2>/dev/null | sed -nE 's/.*"version":"([^"]+)".*/\1/p'; }
minor() { "$1" --version | sed -nE 's/^nats-server: v2\.([0-9]+)\..*/\1/p'; }

if [ ! -x "$bin" ] || [ "$(minor "$bin")" -lt 10 ]; then
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$dir/apt/sources.list"
  apt_opts=(-q -o "Dir::Etc::sourcelist=$dir/apt/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update >/dev/null
  (cd "$dir/apt" && rm -f nats-server_*.deb && apt-get "${apt_opts[@]}" download nats-server >/dev/null)
  rm -rf "$dir/pkg" && dpkg-deb -x "$dir"/apt/nats-server_*.deb "$dir/pkg"
  cp "$dir/pkg/usr/sbin/nats-server" "$bin"
  rm -rf "$dir/pkg" "$dir/apt"
fi
v="$(minor "$bin")"
if [ -z "$v" ] || [ "$v" -lt 10 ]; then
  echo "nats-current: $("$bin" --version) is not 2.10 or later" >&2
  exit 1
fi

if port_open "$port"; then
  served="$(served_version "$port")"
  case "$served" in
    2.[0-9] | 2.[0-9].* | '') echo "nats-current: 127.0.0.1:$port answers, but not as nats-server 2.10+ (${served:-no INFO})" >&2; exit 1 ;;
  esac
  echo "nats-current: nats-server $served is up on 127.0.0.1:$port" >&2
else
  mkdir -p "$dir/store"
  nohup "$bin" -a 127.0.0.1 -p "$port" -js -sd "$dir/store" -l "$dir/server.log" >/dev/null 2>&1 &
  for _ in $(seq 1 100); do port_open "$port" && break; sleep 0.2; done
  port_open "$port" || { echo "nats-current: $bin did not come up on 127.0.0.1:$port" >&2; exit 1; }
  echo "nats-current: started $("$bin" --version) on 127.0.0.1:$port" >&2
fi
echo "nats://127.0.0.1:$port"
