#!/usr/bin/env bash
# The classroom's load test at full size: CLIENTS WebSocket clients (default 300) join
# `demo websocket --serve` on loopback and each sends MESSAGES (default 20) at once;
# every client must receive all CLIENTS × MESSAGES, or be told which of its own were
# refused and why. Prints the p50/p99 latency from a send to its broadcast arriving.
#
#   scripts/classroom-load.sh [CLIENTS] [MESSAGES]
#
# Needs root or passwordless sudo (the server captures on loopback). CI runs the same
# test at 30 × 20 (tests/browser_classroom.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
clients="${1:-300}"
messages="${2:-20}"
# Each client is one socket here and one in the server: room for them all.
ulimit -n "$(( clients * 2 + 256 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
WIREWALK_LOAD_CLIENTS="$clients" WIREWALK_LOAD_MESSAGES="$messages" \
  cargo test --release --test browser_classroom -- --ignored --exact --nocapture \
  raw_clients_in_a_burst_get_everything_or_are_told
