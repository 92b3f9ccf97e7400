#!/usr/bin/env bash
# Runs each fuzz target briefly: the capture reader, one-frame dissection, the
# HTTP/WebSocket decoder (AppStream), the protocols chosen by content (TLS…) and every
# renderer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 25 s, all four targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable Rust through
# RUSTC_BOOTSTRAP=1, without a sanitizer (the code is safe Rust: what we look for is
# panics, hangs and memory blow-ups, which libFuzzer's own limits catch).
# Seeds: the shared captures in ../shared/captures (copied into fuzz/corpus/ at run time,
# never committed) plus a few built here. A crash leaves its input in
# fuzz/artifacts/TARGET/; make it a regression test (tests/hostile.rs) and fix it.
set -euo pipefail

cd "$(dirname "$0")/.."
secs="${1:-25}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(capture_reader dissect app_stream protocol_stream render)
captures="${WIREWALK_CAPTURES:-../shared/captures}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing — install it with: cargo install cargo-fuzz" >&2
    exit 2
fi

seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    case "$target" in
    capture_reader | render)
        if [ -d "$captures" ]; then
            find "$captures" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) -size -64k \
                -exec cp -n {} "$dir/" \;
        fi
        ;;
    dissect)
        # Each frame of the shared captures, behind the selector byte of its link type.
        [ -d "$captures" ] && python3 - "$captures" "$dir" <<'PY'
import os, struct, sys, hashlib
src, out = sys.argv[1], sys.argv[2]
links = [1, 113, 276, 0, 108, 101, 239, 228, 147]
for name in sorted(os.listdir(src)):
    if not name.endswith('.pcap'):
        continue
    b = open(os.path.join(src, name), 'rb').read()
    if len(b) < 24:
        continue
    magic = b[:4]
    e = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    link = struct.unpack(e + 'I', b[20:24])[0] & 0xffff
    if link not in links:
        continue
    sel, off = links.index(link), 24
    for _ in range(40):
        if off + 16 > len(b):
            break
        incl = struct.unpack(e + 'I', b[off + 8:off + 12])[0]
        frame = b[off + 16:off + 16 + incl]
        off += 16 + incl
        blob = bytes([sel]) + frame
        open(os.path.join(out, hashlib.sha1(blob).hexdigest()[:16]), 'wb').write(blob)
PY
        ;;
    app_stream)
        # Settings byte, then push ops (op, length, bytes).
        printf '\x00\x00\x30GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi' >"$dir/http-get"
        printf '\x01\x00\x0b\x81\x85\x01\x02\x03\x04\x49\x67\x6f\x68\x6e\x04\x07\x81\x05hello' >"$dir/ws-text"
        printf '\x03\x04\x09\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00' >"$dir/ws-deflate"
        printf '\x01\x04\x0c\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xf0\x06\x10' >"$dir/ws-huge-length"
        ;;
    protocol_stream)
        # The TLS fixtures' TCP payloads as push ops (bit 2: the server), with the key log.
        python3 - "$dir" tests/fixtures/tls*.pcap <<'PY'
import struct, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    b = open(path, "rb").read()
    i, ops, client = 24, bytearray([1]), None
    while i + 16 <= len(b):
        n = struct.unpack_from("<I", b, i + 8)[0]
        f = b[i + 16:i + 16 + n]
        i += 16 + n
        ip = 14
        ihl = (f[ip] & 15) * 4
        tcp = ip + ihl
        port = struct.unpack_from(">H", f, tcp)[0]
        client = client or port
        data = f[tcp + (f[tcp + 12] >> 4) * 4:]
        for k in range(0, len(data), 255):
            chunk = data[k:k + 255]
            ops += bytes([0 if port == client else 4, len(chunk)]) + chunk
    open(f"{out}/{path.split('/')[-1]}.ops", "wb").write(bytes(ops))
PY
        ;;
    esac
}

cargo fuzz build -s none
status=0
for t in "${targets[@]}"; do
    seed "$t"
    echo "== $t (${secs}s)"
    if ! cargo fuzz run -s none "$t" -- \
        -max_total_time="$secs" -timeout=5 -rss_limit_mb=512 -malloc_limit_mb=128 \
        -max_len=65536 -print_final_stats=1 2>"fuzz/$t.log"; then
        echo "!! $t found a problem: see fuzz/$t.log and fuzz/artifacts/$t/" >&2
        grep -m3 -E "panicked|ERROR|Timeout|out-of-memory|malloc" "fuzz/$t.log" >&2 || true
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "fuzz/$t.log" | tail -2
    fi
done
exit $status
