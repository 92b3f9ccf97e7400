#!/usr/bin/env python3
"""Check a fixture's NAME.expected.json against what tshark decodes from NAME.pcap.

usage: verify.py tests/fixtures/NAME.pcap [...]

The expected.json was logged by the peers as they sent; this reads the capture with
tshark, independently, and checks that the two agree:
  - WebSocket: every frame, per direction, in order: opcode, FIN, RSV, payload length
    on the wire; text, close code/reason, ping/pong and binary data where tshark shows
    them (not for compressed messages: tshark 4.0 inflates some of them wrongly, see
    README.md — those differences are printed as notes, not failures).
  - Engine.IO over WebSocket: each packet is one frame, "<type digit><data>" or binary.
  - Engine.IO over HTTP long-polling: the bodies of the POSTs (client) and of the
    responses to the polling GETs (server), split on the record separator \\x1e.
Exit status 1 when something disagrees.
"""
import base64, json, os, subprocess, sys

EIO_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"]


class Multi(list):
    """The values of a key that tshark -T json repeated in one object."""


def pairs(items):
    """JSON object hook keeping repeated keys (tshark -T json repeats "websocket")."""
    d = {}
    for k, v in items:
        if k not in d:
            d[k] = v
        elif isinstance(d[k], Multi):
            d[k].append(v)
        else:
            d[k] = Multi([d[k], v])
    return d


def many(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def tshark(pcap):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "json"], check=True,
                         capture_output=True, text=True).stdout
    return [p["_source"]["layers"] for p in json.loads(out, object_pairs_hook=pairs)]


def find(d, key):
    """First value of `key` anywhere inside a tshark JSON tree."""
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(d, list):
        for v in d:
            r = find(v, key)
            if r is not None:
                return r
    return None


def hexbytes(s):
    return s.replace(":", "") if s else ""


class Checker:
    def __init__(self, name):
        self.name, self.errors, self.notes = name, 0, 0

    def fail(self, msg):
        self.errors += 1
        print(f"  FAIL {msg}")

    def note(self, msg):
        self.notes += 1
        print(f"  note {msg}")


def ws_frames_seen(layers, server_port):
    """Per direction, the WebSocket frames tshark decoded, in order."""
    seen = {"client": [], "server": []}
    for lay in layers:
        tcp = lay.get("tcp", {})
        side = "server" if int(tcp.get("tcp.srcport", 0)) == server_port else "client"
        wss = many(lay.get("websocket"))
        data = many(lay.get("data"))
        for ws in wss:
            n = int(ws["websocket.payload_length"])
            if n == 126:
                n = int(ws["websocket.payload_length_ext_16"])
            elif n == 127:
                n = int(ws["websocket.payload_length_ext_64"])
            f = {"frame": int(lay["frame"]["frame.number"]), "fin": int(ws["websocket.fin"]),
                 "rsv": int(ws["websocket.rsv"], 16), "opcode": int(ws["websocket.opcode"]), "len": n,
                 "text": find(ws, "websocket.payload.text"),
                 "close_code": find(ws, "websocket.payload.close.status_code"),
                 "close_reason": find(ws, "websocket.payload.close.reason"),
                 "ping": find(ws, "websocket.payload.ping"), "pong": find(ws, "websocket.payload.pong")}
            if len(wss) == 1 and len(data) == 1:
                f["data_hex"] = hexbytes(data[0].get("data.data"))
            seen[side].append(f)
    return seen


def ws_frames_expected(msgs):
    exp = {"client": [], "server": []}
    for m in msgs:
        op = m["opcode"]
        if op in ("text", "binary"):
            k = len(m["wire_payload_lens"])
            for i, n in enumerate(m["wire_payload_lens"]):
                exp[m["from"]].append({
                    "opcode": (1 if op == "text" else 2) if i == 0 else 0, "fin": int(i == k - 1),
                    "rsv": 4 if (m["compressed"] and i == 0) else 0, "len": n,
                    "msg": m if i == k - 1 else None, "single": k == 1})
        elif op in ("ping", "pong"):
            exp[m["from"]].append({"opcode": 9 if op == "ping" else 10, "fin": 1, "rsv": 0,
                                   "len": len(m["data_hex"]) // 2, "msg": m})
        elif op == "close":
            n = 0 if m["close_code"] is None else 2 + len(m["close_reason"].encode())
            exp[m["from"]].append({"opcode": 8, "fin": 1, "rsv": 0, "len": n, "msg": m})
    return exp


def check_websocket(c, seen, msgs):
    exp = ws_frames_expected(msgs)
    for side in ("client", "server"):
        s, e = seen[side], exp[side]
        if len(s) != len(e):
            c.fail(f"{side}: tshark shows {len(s)} WebSocket frames, expected.json {len(e)}")
        for f, x in zip(s, e):
            where = f"{side} frame {f['frame']}"
            for k in ("opcode", "fin", "rsv", "len"):
                if f[k] != x[k]:
                    c.fail(f"{where}: {k} {f[k]} != expected {x[k]}")
            m = x["msg"]
            if m is None:
                continue
            if m["opcode"] == "text" and x["single"]:
                if f["text"] != m["text"]:
                    (c.note if m["compressed"] else c.fail)(
                        f"{where}: tshark text {f['text']!r} != sent {m['text']!r}")
            if m["opcode"] == "binary" and x["single"] and not m["compressed"] and "data_hex" in f:
                if f["data_hex"] != m["data_hex"]:
                    c.fail(f"{where}: data {f['data_hex']} != sent {m['data_hex']}")
            if m["opcode"] == "close" and m["close_code"] is not None:
                if (int(f["close_code"]), f["close_reason"] or "") != (m["close_code"], m["close_reason"]):
                    c.fail(f"{where}: close {f['close_code']} {f['close_reason']!r} != sent {m}")
            if m["opcode"] in ("ping", "pong"):
                got = hexbytes(f[m["opcode"]])
                if got != m["data_hex"]:
                    c.fail(f"{where}: {m['opcode']} data {got} != sent {m['data_hex']}")


def eio_encode(p):
    d = p["data"]
    if isinstance(d, dict):
        return ("binary", d["_binary_hex"])
    return ("text", str(EIO_TYPES.index(p["type"])) + (d or ""))


def check_engineio(c, layers, seen, eio):
    # over WebSocket: one frame per packet
    for side in ("client", "server"):
        got = [f for f in seen[side] if f["opcode"] in (1, 2)]
        exp = [eio_encode(p) for p in eio if p["from"] == side and p["transport"] == "websocket"]
        if len(got) != len(exp):
            c.fail(f"{side}: {len(got)} WebSocket data frames, expected.json has {len(exp)} Engine.IO packets")
        for f, (kind, val) in zip(got, exp):
            if kind == "text" and f["text"] != val:
                c.fail(f"{side} frame {f['frame']}: {f['text']!r} != {val!r}")
            if kind == "binary" and (f["opcode"] != 2 or f.get("data_hex", val) != val):
                c.fail(f"{side} frame {f['frame']}: binary {f.get('data_hex')} != {val}")
    # over HTTP long-polling
    methods = {}
    bodies = {"client": [], "server": []}
    for lay in layers:
        for h in many(lay.get("http")):
            num = int(lay["frame"]["frame.number"])
            method = find(h, "http.request.method")
            if method:
                methods[num] = (method, find(h, "http.request.uri") or "")
                if method == "POST" and "transport=polling" in methods[num][1]:
                    bodies["client"].append(find(h, "http.file_data") or "")
            elif find(h, "http.response.code") == "200":
                req = methods.get(int(find(h, "http.request_in") or 0), ("", ""))
                if req[0] == "GET" and "transport=polling" in req[1]:
                    bodies["server"].append(find(h, "http.file_data") or "")
    for side in ("client", "server"):
        got = []
        for b in bodies[side]:
            for rec in b.split("\x1e"):
                if rec.startswith("b"):
                    got.append(("binary", base64.b64decode(rec[1:]).hex()))
                else:
                    got.append(("text", rec))
        exp = [eio_encode(p) for p in eio if p["from"] == side and p["transport"] == "polling"]
        nb = len({p["http_body"] for p in eio if p["from"] == side and p["transport"] == "polling"})
        if got != exp:
            c.fail(f"{side} polling: tshark {got} != expected.json {exp}")
        if len(bodies[side]) != nb:
            c.fail(f"{side} polling: {len(bodies[side])} HTTP bodies, expected.json {nb}")


def verify(pcap):
    name = os.path.basename(pcap)[: -len(".pcap")]
    exp_path = pcap[: -len(".pcap")] + ".expected.json"
    c = Checker(name)
    print(f"{name}:")
    layers = tshark(pcap)
    server_port = int(layers[0]["tcp"]["tcp.dstport"])  # the first packet is the client's SYN
    exp = json.load(open(exp_path, encoding="utf-8"))
    seen = ws_frames_seen(layers, server_port)
    if exp.get("websocket_messages"):
        check_websocket(c, seen, exp["websocket_messages"])
    if exp.get("engineio"):
        check_engineio(c, layers, seen, exp["engineio"])
        if exp["engineio_sid"] not in json.dumps(exp["engineio"]):
            c.fail("the Engine.IO sid is not in the open packet")
    n101 = sum(1 for lay in layers for h in many(lay.get("http")) if find(h, "http.response.code") == "101")
    if n101 != 1:
        c.fail(f"{n101} '101 Switching Protocols' responses, expected 1")
    nws = sum(len(v) for v in seen.values())
    print(f"  {'ok' if not c.errors else 'FAILED'}: {len(layers)} packets, {nws} WebSocket frames,"
          f" {c.errors} failures, {c.notes} notes")
    return c.errors == 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    ok = all([verify(p) for p in sys.argv[1:]])
    sys.exit(0 if ok else 1)
