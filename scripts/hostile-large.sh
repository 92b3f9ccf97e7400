#!/bin/sh
# The hostile suite's generated captures at full size (CI runs them small), read with
# the default memory budget; every run must stay under 256 MiB peak (GNU time's maxrss):
#   - 50,000 deflate WebSocket conversations (4.4 GB of inflaters without the budget) and
#     200 streams each holding 3.4 MiB out of order (780 MB);
#   - a polling body of 4 million 1-byte Engine.IO packets (8 MB: 12 GB before), 5
#     million empty WebSocket frames 700 to a segment, 200,000 Socket.IO sessions each
#     with a namespace and an emit waiting for its ACK (and one session joining 200,000
#     namespaces, one with 200,000 unanswered emits), values of 12 MiB — in every mode.
# Each run's peak memory and time is printed.
#   scripts/hostile-large.sh [SCALE]     (default 25)
set -eu
cd "$(dirname "$0")/.."
scale="${1:-25}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time) to measure peak memory" >&2; exit 2; }
WIREWALK_HOSTILE_SCALE="$scale" cargo test --release --test hostile -- \
  one_budget_for_all_conversations streaming_decoders_and_session_state_stay_bounded \
  --nocapture --test-threads 1
