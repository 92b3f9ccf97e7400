#!/bin/sh
# The hostile suite's generated captures at full size (CI runs them small): 50,000
# deflate WebSocket conversations (4.4 GB of inflaters without the budget) and 200
# streams each holding 3.9 MiB out of order (780 MB), read with the default memory
# budget; every run must stay under 256 MiB peak (GNU time's maxrss).
#   scripts/hostile-large.sh [SCALE]     (default 25)
set -eu
cd "$(dirname "$0")/.."
scale="${1:-25}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time) to measure peak memory" >&2; exit 2; }
WIREWALK_HOSTILE_SCALE="$scale" cargo test --release --test hostile one_budget_for_all_conversations -- --nocapture
