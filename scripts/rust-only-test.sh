#!/usr/bin/env bash
# Runs the README's test command as a machine with only Rust would: tshark, tcpdump, tmux,
# node, chromium, python and the namespace/privilege tools are hidden from PATH.
#
# PATH becomes cargo's own directory plus a directory of links to every program in
# /usr/bin and /bin except the hidden ones. Then `cargo test --release` must pass; the
# tests that need the hidden tools are `#[ignore]`d and listed at the end (.ci/run runs them).
#
#   scripts/rust-only-test.sh [extra cargo test args…]
set -euo pipefail
cd "$(dirname "$0")/.."

hidden=(tshark dumpcap wireshark editcap mergecap capinfos tcpdump tmux node nodejs npm npx
        chromium chromium-browser google-chrome python python3 unshare setpriv sudo)

cargo_bin="$(dirname "$(command -v cargo)")"
shims="$(mktemp -d)"
trap 'rm -rf "$shims"' EXIT
for dir in /usr/bin /bin /usr/sbin /sbin; do
  [ -d "$dir" ] || continue
  for prog in "$dir"/*; do
    name="${prog##*/}"
    [ -e "$shims/$name" ] && continue
    for h in "${hidden[@]}"; do [[ "$name" == "$h" || "$name" == python3.* ]] && continue 2; done
    ln -s "$prog" "$shims/$name"
  done
done
export PATH="$cargo_bin:$shims"
hash -r

for h in "${hidden[@]}"; do
  if command -v "$h" >/dev/null 2>&1; then
    echo "rust-only-test: $h is still on PATH ($(command -v "$h"))" >&2
    exit 2
  fi
done
echo "rust-only-test: PATH=$PATH (hidden: ${hidden[*]})" >&2

log="$(mktemp)"
trap 'rm -rf "$shims" "$log"' EXIT
status=0
cargo test --release "$@" 2>&1 | tee "$log" || status=$?

echo
echo "== not run here (ignored; .ci/run runs them with -- --ignored):"
cargo test --release "$@" -- --list --ignored 2>&1 | awk '
  /Running/ { bin = $2 }
  /: test$/ { sub(/: test$/, ""); printf "  %-28s %s\n", bin, $0 }'
grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6; i+=$8} END {printf "== totals: %d passed, %d failed, %d ignored\n", p, f, i}'
exit "$status"
