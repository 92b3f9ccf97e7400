#!/usr/bin/env bash
# wirewalk benchmark: wirewalk inspect against tshark and tcpdump on one big capture.
#
# usage: bench/run.sh [--quick] [--no-build] [--reuse] [MAKE_PCAP_ARGS...]
#
#   --quick      a small capture (--flows 2000, about 100k packets) for a fast check;
#                the full run (about a million packets) takes several minutes,
#                most of it tshark's
#   --no-build   use target/release/wirewalk as it is (no cargo build --release)
#   --reuse      keep bench/out/bench.pcap (--quick: bench-quick.pcap) if it is there
#                (its make_pcap args are not checked)
#   MAKE_PCAP_ARGS go to ../shared/bench/make_pcap.py (--flows N, --messages M, --seed S)
#
# It builds wirewalk (release), writes bench/out/bench.pcap with make_pcap.py, then
# times each command with hyperfine (mean wall seconds of RUNS runs, output to
# /dev/null; RUNS=1 by default for the full capture, 3 with --quick) and measures its
# peak RSS with `/usr/bin/time -f %M` (one more run):
#
#   wirewalk inspect --color never F                vs  tshark -V -r F
#   wirewalk inspect --json F                       vs  tshark -T json -r F
#   wirewalk inspect --summary --color never F      vs  tcpdump -nn -r F
#   wirewalk inspect --hex --color never F          vs  tcpdump -nn -X -r F
#
# each wirewalk command on every core (its default) and with --threads 1, and prints a
# table (command, seconds, peak MB, ratio = other tool's time / wirewalk's) with
# PASS/FAIL, on every core, against the targets of issue #19: --json at least 50x
# faster than tshark -T json, the tree 10x tshark -V, --summary 3x tcpdump -nn, --hex 2x
# tcpdump -nn -X, and every wirewalk run (any threads) under 64 MB peak memory. The
# --threads 1 ratios are shown beside them so the gain from threads is visible. Exit
# status 0 only when all pass. Run by hand (not by CI); installs `time`, hyperfine,
# tshark and tcpdump with apt if missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${SHARED:-$root/../shared}
out=bench/out
pcap=$out/bench.pcap
ww=${WIREWALK:-target/release/wirewalk} # WIREWALK=path: time another binary (implies --no-build)

quick=0 build=1 reuse=0 gen=()
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --reuse) reuse=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) gen+=("$a") ;;
  esac
done
((quick)) && gen=(--flows 2000 "${gen[@]}") && pcap=$out/bench-quick.pcap
runs=${RUNS:-$((quick ? 3 : 1))}
cores=$(nproc)
[[ -n ${WIREWALK:-} ]] && build=0

say() { printf '== %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------------------
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v tshark >/dev/null || missing+=(tshark)
command -v tcpdump >/dev/null || missing+=(tcpdump)
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ww_ok=1 ww_why=""
if ((build)); then
  say "cargo build --release"
  if ! cargo build --release >"$tmp/build.log" 2>&1; then
    ww_ok=0 ww_why="cargo build --release failed: $(grep -m1 '^error' "$tmp/build.log" || tail -n 1 "$tmp/build.log")"
  fi
  tail -n 2 "$tmp/build.log" >&2
fi
if ((ww_ok)) && [[ ! -x $ww ]]; then ww_ok=0 ww_why="no $ww (build it, or drop --no-build)"; fi

# --- the capture ---------------------------------------------------------------------
mkdir -p "$out"
if ((reuse)) && [[ -s $pcap ]]; then
  say "reusing $pcap"
else
  say "python3 $shared/bench/make_pcap.py $pcap ${gen[*]}"
  python3 "$shared/bench/make_pcap.py" "$pcap" "${gen[@]}"
fi
size_mb=$(awk -v b="$(stat -c %s "$pcap")" 'BEGIN { printf "%.1f", b / 1048576 }')
packets=$(tcpdump -nn -r "$pcap" 2>/dev/null | wc -l)
say "$pcap: $size_mb MB, $packets packets"

# --- timing --------------------------------------------------------------------------

# run LABEL CMD...: times CMD (stdout to /dev/null) with hyperfine, then once more
# under /usr/bin/time for its peak RSS; sets secs, mb, rc, err
run() {
  local label=$1
  shift
  say "$label"
  rc=0
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || rc=$?
  read -r secs kb < <(tail -n 1 "$tmp/time") || true
  [[ $secs =~ ^[0-9.]+$ ]] || secs=0
  [[ $kb =~ ^[0-9]+$ ]] || kb=0
  mb=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
  err=$(grep -v '^Command exited with non-zero status' "$tmp/err" | head -n 1 || true)
  if ((rc == 0)); then
    # -i: tcpdump and tshark may exit non-zero on a cut last packet; the time counts
    if hyperfine -N -i --runs "$runs" --style none --export-json "$tmp/hf.json" \
      "$(printf '%q ' "$@")" >/dev/null 2>"$tmp/hf.err"; then
      secs=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$tmp/hf.json")
    fi
  fi
}

# wirewalk must print something: the skeleton's `inspect` exits 0 with no output, and
# an empty run would look very fast
ww_sanity() { # ARGS...: "" when fine, else why not
  local bytes
  bytes=$(timeout 60 "$ww" "$@" "$pcap" 2>"$tmp/sanity.err" | head -c 4096 | wc -c) || true
  if ((bytes == 0)); then
    local e
    e=$(head -n 1 "$tmp/sanity.err")
    echo "wirewalk ${*} printed nothing${e:+: $e}"
  fi
}

rows=()
row() { rows+=("$(printf '%-54s %9s %9s %9s  %s' "$@")"); }
verdict() { # CONDITION-TEXT OK(0/1)
  if (($2)); then echo "PASS $1"; else echo "FAIL $1"; fi
}

# ww ARGS...: times wirewalk ARGS on the capture; sets w_secs, w_mb, w_bad
ww_time() {
  w_secs="-" w_mb="-" w_bad=""
  if ((!ww_ok)); then
    w_bad=$ww_why
    return
  fi
  w_bad=$(ww_sanity "$@")
  [[ -z $w_bad ]] || return 0
  run "wirewalk $*" "$ww" "$@" "$pcap"
  if ((rc != 0)); then
    w_bad="wirewalk $* failed (exit $rc)${err:+: $err}"
  else
    w_secs=$secs w_mb=$mb
  fi
}

ratio_of() { # OTHER-SECS WW-SECS
  awk -v o="$1" -v w="$2" 'BEGIN { if (w < 0.001) w = 0.001; printf "%.1fx", o / w }'
}

compare() { # NAME TARGET-RATIO WW-ARGS -- OTHER...
  local name=$1 target=$2
  shift 2
  local wwargs=()
  while [[ $1 != -- ]]; do wwargs+=("$1"); shift; done
  shift
  local other=("$@")

  run "${other[*]}" "${other[@]}" "$pcap"
  local o_secs=$secs o_mb=$mb
  local o_note=""
  ((rc == 0)) || o_note="(exit $rc${err:+: $err})"
  row "${other[*]}" "$o_secs" "$o_mb" "" "$o_note"

  local t
  for t in all 1; do
    local targs=()
    [[ $t == 1 ]] && targs=(--threads 1)
    ww_time "${wwargs[@]}" "${targs[@]}"
    local label="wirewalk ${wwargs[*]}${targs:+ ${targs[*]}}"
    local ratio="-"
    [[ -z $w_bad ]] && ratio=$(ratio_of "$o_secs" "$w_secs")
    row "$label" "$w_secs" "$w_mb" "$ratio" "$([[ $t == all ]] && echo "($cores cores)" || echo "(1 thread)")"
    if [[ -n $w_bad ]]; then
      checks+=("$(verdict "$name ($t): $w_bad" 0)")
      continue
    fi
    if [[ $t == all ]]; then
      local ok
      ok=$(awk -v o="$o_secs" -v w="$w_secs" -v t="$target" \
        'BEGIN { if (w < 0.001) w = 0.001; print (o / w >= t) ? 1 : 0 }')
      checks+=("$(verdict "$name: ${other[0]} / wirewalk = $ratio on $cores cores (target >= ${target}x)" "$ok")")
    else
      checks+=("info $name: ${other[0]} / wirewalk = $ratio with --threads 1")
    fi
    ok=$(awk -v m="$w_mb" 'BEGIN { print (m < 64) ? 1 : 0 }')
    checks+=("$(verdict "$name ($t): wirewalk peak memory $w_mb MB (target < 64 MB)" "$ok")")
  done
}

checks=()
compare "tree" 10 inspect --color never -- tshark -V -r
compare "json" 50 inspect --json -- tshark -T json -r
compare "summary" 3 inspect --summary --color never -- tcpdump -nn -r
compare "hex" 2 inspect --hex --color never -- tcpdump -nn -X -r

echo
echo "capture: $pcap ($size_mb MB, $packets packets); $cores cores; mean of $runs run(s) (hyperfine)"
printf '%-54s %9s %9s %9s\n' "command" "seconds" "peak MB" "ratio"
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${checks[@]}"
echo
fails=$(printf '%s\n' "${checks[@]}" | grep -c '^FAIL' || true)
if ((fails)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
