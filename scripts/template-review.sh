#!/usr/bin/env bash
# Every sentence template against a packet where it fires.
#
# Runs wirewalk over everything the project can show — each simulated scenario (IPv4 and
# IPv6), each capture in tests/fixtures and lessons/captures (with its key log when one
# lies beside it), and ../shared/captures when it exists — in the tree (--explain-all),
# --fields and --hex modes, with WIREWALK_TEMPLATE_LOG set, and writes
#   docs/template-review.md   each template key, the first sentence it made from a real
#                             packet's values and the run that made it; then the keys
#                             that never fired (read those against their code)
# A reviewer reads the sentences as a teacher would: each must be true of that packet.
#
# usage: scripts/template-review.sh [WIREWALK]    (default: target/release/wirewalk)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/wirewalk}
[[ -x $bin ]] || { echo "template-review: build first (cargo build --release), or give the binary" >&2; exit 1; }
cd "$root"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export WIREWALK_TEMPLATE_LOG=$log NO_COLOR=1

run() { "$bin" "$@" >/dev/null 2>&1 || true; }

scenarios=$("$bin" simulate --list --color never | awk 'NF {print $1}')
for s in $scenarios; do
  for mode in --explain-all --fields --hex --summary --diagram; do
    run simulate "$s" "$mode"
    run simulate "$s" --ipv6 "$mode"
  done
done
captures=(tests/fixtures/*.pcap tests/fixtures/*.pcapng lessons/captures/*.pcap*)
[[ -d ../shared/captures ]] && captures+=(../shared/captures/*.pcap ../shared/captures/*.pcapng)
for f in "${captures[@]}"; do
  [[ -f $f ]] || continue
  keys=()
  [[ -f ${f%.*}.keys ]] && keys=(--keylog "${f%.*}.keys")
  for mode in --explain-all --fields --hex --stats --diagram; do
    run inspect "${keys[@]}" "$mode" "$f"
  done
done
run tour --no-tui </dev/null
for t in $("$bin" explain --color never | tail -n +2 | tr ',' ' '); do run explain "$t"; done

out=docs/template-review.md
python3 - "$log" "$bin" "$out" <<'EOF'
import subprocess, sys, tomllib, glob, os
log, out = sys.argv[1], sys.argv[3]
first = {}
for line in open(log, encoding="utf-8", errors="replace"):
    key, run, said = (line.rstrip("\n").split("\t", 2) + ["", ""])[:3]
    first.setdefault(key, (run, said))
keys = []
def flatten(prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(f"{prefix}.{k}", x)
    else:
        keys.append(prefix)
for p in sorted(glob.glob("src/explain/text/*.toml")):
    flatten(os.path.basename(p)[:-5], tomllib.load(open(p, "rb")))
fired = [k for k in keys if k in first]
never = [k for k in keys if k not in first]
with open(out, "w") as f:
    f.write("# Every template against a packet where it fires\n\n")
    f.write("Made by `scripts/template-review.sh`: each key of `src/explain/text/*.toml`, the "
            "first sentence it made from a real packet (or scenario) and the run that made it. "
            "Read each as a teacher would: it must be true of that packet.\n\n")
    f.write(f"{len(fired)} of {len(keys)} templates fired; {len(never)} did not.\n\n")
    f.write("## Fired\n\n")
    for k in fired:
        run, said = first[k]
        f.write(f"- `{k}` — `wirewalk {run}`\n  > {said}\n")
    f.write("\n## Never fired on the project's captures and scenarios\n\n")
    for k in never:
        f.write(f"- `{k}`\n")
print(f"{out}: {len(fired)} of {len(keys)} templates fired, {len(never)} did not")
EOF
