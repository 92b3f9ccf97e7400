#!/usr/bin/env bash
# Capture real TLS peers on loopback and write wirewalk's TLS fixtures:
#
#   tests/fixtures/NAME.pcap            what tcpdump saw on lo
#   tests/fixtures/NAME.keys            the client's key log (NSS format, SSLKEYLOGFILE)
#   tests/fixtures/NAME.expected.json   what the peers said they used and sent
#
# Scenarios (one port each):
#   tls13-python-https   Python ssl + http.server / http.client, TLS 1.3, ALPN http/1.1
#   tls13-python-wss     Python websockets over TLS 1.3 (wss://), no compression
#   tls12-curl-aesgcm    curl --tls-max 1.2 with ECDHE-RSA-AES128-GCM-SHA256 → Python server
#   tls12-curl-chacha    curl --tls-max 1.2 with ECDHE-RSA-CHACHA20-POLY1305 → Python server
#   tls13-node-socketio  Node https + Socket.IO over wss:// (the server's 'keylog' event
#                        writes the key log), socket.io-client with transports: websocket
#
# usage: sudo scripts/capture-peers/tls.sh [NAME...]    (root: tcpdump on lo)
# Run by hand, not by CI: the fixtures are committed. A self-signed certificate for
# wirewalk.test is made with openssl for each run. Every run differs (randoms, keys).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures=$root/tests/fixtures
cd "$here"

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf 'capture-peers/tls: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root to capture on lo (run with sudo)"
missing=()
for c in tcpdump curl openssl; do command -v $c >/dev/null || missing+=($c); done
command -v npm >/dev/null || missing+=(npm)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if ! .venv/bin/python -c 'import websockets' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements.txt
fi
py=$here/.venv/bin/python
[[ -d node_modules/socket.io ]] || npm ci --no-audit --no-fund --loglevel=error

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=wirewalk.test \
  -addext subjectAltName=DNS:wirewalk.test,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# capture NAME PORT -- SERVER-CMD... -- CLIENT-CMD...   (@KEYS@ @LOG@ replaced)
capture() {
  local name=$1 port=$2
  shift 3
  local server=() client=()
  while [[ $1 != -- ]]; do server+=("$1"); shift; done
  shift
  client=("$@")
  local dir=$work/$name
  mkdir -p "$dir"
  local log=$dir/log.jsonl keys=$dir/keys.log
  : >"$log"; : >"$keys"
  server=("${server[@]//@LOG@/$log}"); server=("${server[@]//@KEYS@/$keys}")
  client=("${client[@]//@LOG@/$log}"); client=("${client[@]//@KEYS@/$keys}")
  say "$name (tcp port $port)"
  tcpdump -i lo -U --immediate-mode -Z root -w "$dir/$name.pcap" "tcp port $port" 2>"$dir/tcpdump.err" &
  local tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  wait_for "$dir/tcpdump.err" 'listening on' 10 || die "$name: tcpdump did not start"
  "${server[@]}" >"$dir/server.out" 2>&1 &
  local server_pid=$!
  pids+=("$server_pid")
  wait_for "$dir/server.out" '^listening' 15 || die "$name: server did not start: $(cat "$dir/server.out")"
  SSLKEYLOGFILE=$keys timeout 60 "${client[@]}" >"$dir/client.out" 2>&1 ||
    { cat "$dir/client.out" >&2; die "$name: client failed"; }
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$server_pid" || die "$name: server failed: $(cat "$dir/server.out")"
  sleep 0.5
  kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" || true
  pids=()
  cp "$dir/$name.pcap" "$fixtures/$name.pcap"
  cp "$keys" "$fixtures/$name.keys"
  "$py" - "$log" "$fixtures/$name.expected.json" "$name" <<'EOF'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
entries.sort(key=lambda e: e.pop("t"))
tls = [e for e in entries if e["kind"] == "tls"]
out = {"fixture": sys.argv[3] + ".pcap", "keys": sys.argv[3] + ".keys",
       "tls": tls[0] if tls else None,
       "messages": [e for e in entries if e["kind"] != "tls"]}
json.dump(out, open(sys.argv[2], "w"), indent=1)
EOF
  printf '   %s: %s bytes, key log %s lines\n' "$name.pcap" "$(stat -c %s "$fixtures/$name.pcap")" "$(wc -l <"$keys")" >&2
}

curl_client() { # CIPHER PORT LOG
  # curl logs nothing itself: its request and the server's answer are in the server's log.
  echo curl -sk --tlsv1.2 --tls-max 1.2 --ciphers "$1" --http1.1 \
    --resolve "wirewalk.test:$2:127.0.0.1" "https://wirewalk.test:$2/hello?lang=en"
}

run_scenario() {
  local c="$work/cert.pem" k="$work/key.pem"
  case $1 in
    tls13-python-https)
      capture "$1" 9111 -- "$py" tls_peer.py https-server 9111 "$c" "$k" @LOG@ -- \
        "$py" tls_peer.py https-client 9111 @KEYS@ @LOG@ ;;
    tls13-python-wss)
      capture "$1" 9112 -- "$py" tls_peer.py wss-server 9112 "$c" "$k" @LOG@ -- \
        "$py" tls_peer.py wss-client 9112 @KEYS@ @LOG@ ;;
    tls12-curl-aesgcm)
      capture "$1" 9113 -- "$py" tls_peer.py https-server 9113 "$c" "$k" @LOG@ tls12 -- \
        $(curl_client ECDHE-RSA-AES128-GCM-SHA256 9113) ;;
    tls12-curl-chacha)
      capture "$1" 9114 -- "$py" tls_peer.py https-server 9114 "$c" "$k" @LOG@ tls12 -- \
        $(curl_client ECDHE-RSA-CHACHA20-POLY1305 9114) ;;
    tls13-node-socketio)
      capture "$1" 9115 -- node tls_sio_peer.js server 9115 "$c" "$k" @KEYS@ @LOG@ -- \
        node tls_sio_peer.js client 9115 @LOG@ ;;
    *) die "unknown scenario $1" ;;
  esac
}

all=(tls13-python-https tls13-python-wss tls12-curl-aesgcm tls12-curl-chacha tls13-node-socketio)
for s in "${@:-${all[@]}}"; do run_scenario "$s"; done
say "done: $fixtures"
