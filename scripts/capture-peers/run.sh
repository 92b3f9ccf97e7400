#!/usr/bin/env bash
# Capture real WebSocket and Socket.IO peers (Python `websockets`, Node `ws`,
# `socket.io` + `socket.io-client`) talking on loopback, and write the captures as
# wirewalk test fixtures:
#
#   tests/fixtures/NAME.pcap            what tcpdump saw on lo (one port per scenario)
#   tests/fixtures/NAME.expected.json   what the peers sent, logged as they sent it
#   tests/fixtures/NAME.truth.tsv       tshark ground truth (../shared/tools/truth.sh)
#
# usage: scripts/capture-peers/run.sh [NAME...]     (default: every scenario)
#
# Needs root (tcpdump on lo), python3 (venv), node + npm, tcpdump and tshark; installs
# what is missing: apt packages, pip packages from requirements.txt into .venv,
# npm packages from package-lock.json with `npm ci`. Run by hand, not by CI: the
# fixtures are committed. Every run gives new random masks, ports, sids and times, so
# regenerated fixtures differ byte for byte from the committed ones; the
# expected.json files are rewritten with them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures=$root/tests/fixtures
truth=${TRUTH_SH:-$root/../shared/tools/truth.sh}
cd "$here"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'capture-peers: %s\n' "$*" >&2; exit 1; }

# --- what the scenarios need -------------------------------------------------------
[[ $(id -u) == 0 ]] || die "needs root to capture on lo (run with sudo)"
missing=()
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v tshark >/dev/null || missing+=(tshark)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! .venv/bin/python -c 'import websockets' 2>/dev/null ||
   ! .venv/bin/pip freeze 2>/dev/null | grep -qxF -f requirements.txt; then
  say "python venv (.venv) from requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements.txt
fi
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
py=$here/.venv/bin/python
pyver=$("$py" -c 'import websockets; print(websockets.__version__)')
nodever() { node -p "require('./node_modules/$1/package.json').version"; }

# --- one scenario ------------------------------------------------------------------
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# capture NAME PORT PEERS -- SERVER-CMD... -- CLIENT-CMD...
# (in the commands, @PORT@ and @LOG@ are replaced by the port and the log file)
capture() {
  local name=$1 port=$2 peers=$3
  shift 3
  [[ $1 == -- ]] || die "capture: expected --"
  shift
  local server=() client=() x
  while [[ $1 != -- ]]; do server+=("$1"); shift; done
  shift
  client=("$@")
  local dir=$work/$name log=$work/$name/log.jsonl
  mkdir -p "$dir"
  : >"$log"
  server=("${server[@]//@PORT@/$port}"); server=("${server[@]//@LOG@/$log}")
  client=("${client[@]//@PORT@/$port}"); client=("${client[@]//@LOG@/$log}")

  say "$name (tcp port $port)"
  if ss -Htln "sport = :$port" | grep -q .; then die "port $port is in use"; fi
  # --immediate-mode: without it libpcap hands packets over in blocks, once a second,
  # and a conversation shorter than that is lost when tcpdump is stopped (0 captured)
  tcpdump -i lo -U --immediate-mode -Z root -w "$dir/$name.pcap" "tcp port $port" 2>"$dir/tcpdump.err" &
  local tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  wait_for "$dir/tcpdump.err" 'listening on' 10 || die "$name: tcpdump did not start: $(cat "$dir/tcpdump.err")"

  "${server[@]}" >"$dir/server.out" 2>&1 &
  local server_pid=$!
  pids+=("$server_pid")
  wait_for "$dir/server.out" '^listening' 15 || die "$name: server did not start: $(cat "$dir/server.out")"

  if ! timeout 60 "${client[@]}" >"$dir/client.out" 2>&1; then
    cat "$dir/client.out" >&2
    die "$name: client failed"
  fi
  # the server exits once its connection is closed, i.e. after the TCP teardown
  local i
  for ((i = 0; i < 150; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    die "$name: server did not exit: $(cat "$dir/server.out")"
  fi
  wait "$server_pid" || die "$name: server failed: $(cat "$dir/server.out")"
  sleep 0.5 # let the last ACKs reach tcpdump
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  grep -h 'captured\|dropped' "$dir/tcpdump.err" | sed 's/^/   tcpdump: /' >&2
  pids=()

  mkdir -p "$fixtures"
  cp "$dir/$name.pcap" "$fixtures/$name.pcap"
  "$py" merge_expected.py "$name" "$log" "$fixtures/$name.expected.json" $peers
  if [[ -x $truth ]]; then
    "$truth" "$fixtures/$name.pcap" "$fixtures/$name.truth.tsv"
  else
    echo "   (no $truth: skipped $name.truth.tsv)" >&2
  fi
  printf '   %s: %s bytes, %s packets\n' "$name.pcap" "$(stat -c %s "$fixtures/$name.pcap")" \
    "$(tshark -r "$fixtures/$name.pcap" 2>/dev/null | wc -l)" >&2
}

# --- the scenarios -----------------------------------------------------------------
wspy() { # NAME PORT
  capture "$1" "$2" "python-websockets-$pyver" -- \
    "$py" ws_server.py "$1" @PORT@ @LOG@ -- "$py" ws_client.py "$1" @PORT@ @LOG@
}
run_scenario() {
  case $1 in
    ws-python-plain) wspy "$1" 9101 ;;
    ws-python-deflate) wspy "$1" 9102 ;;
    ws-python-fragmented) wspy "$1" 9103 ;;
    ws-python-deflate-fragmented) wspy "$1" 9104 ;;
    ws-node)
      capture "$1" 9105 "node-ws-$(nodever ws)" -- \
        node ws_node_peer.js server @PORT@ @LOG@ -- node ws_node_peer.js client @PORT@ @LOG@ ;;
    socketio-polling-upgrade)
      # whether the server ends a pending long-poll GET with a noop ("6") during the
      # upgrade is a race; the fixture should show one, so try a few times
      local try
      for try in 1 2 3 4 5 6; do
        capture "$1" 9106 "node-socket.io-$(nodever socket.io) node-socket.io-client-$(nodever socket.io-client)" -- \
          node sio_peer.js server polling-upgrade @PORT@ @LOG@ -- node sio_peer.js client polling-upgrade @PORT@ @LOG@
        grep -q '"type": "noop"' "$fixtures/$1.expected.json" && break
        echo "   (no noop packet this time: again)" >&2
      done ;;
    socketio-websocket-only)
      capture "$1" 9107 "node-socket.io-$(nodever socket.io) node-socket.io-client-$(nodever socket.io-client)" -- \
        node sio_peer.js server websocket-only @PORT@ @LOG@ -- node sio_peer.js client websocket-only @PORT@ @LOG@ ;;
    *) die "unknown scenario $1" ;;
  esac
}

all=(ws-python-plain ws-python-deflate ws-python-fragmented ws-python-deflate-fragmented
  ws-node socketio-polling-upgrade socketio-websocket-only)
done_=()
for s in "${@:-${all[@]}}"; do run_scenario "$s"; done_+=("$fixtures/$s.pcap"); done
say "checking the expected.json files against tshark"
"$py" verify.py "${done_[@]}"
say "done: $fixtures"
