"""Shared by ws_server.py and ws_client.py: act out a scenario, log every frame sent.

The log is written from inside the `websockets` protocol object (its send_frame, which
every outgoing frame goes through, including the pong and the close echo the library
sends by itself), so it records what was really put on the wire: frame by frame, with
the header bits and payload length read back from the serialized bytes (after
compression), and each data message joined from its frames.
"""
import json, struct, time

OPCODE_NAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


class Log:
    def __init__(self, path, side):
        self.f = open(path, "a", encoding="utf-8")
        self.side = side

    def write(self, rec):
        self.f.write(json.dumps({"ts": time.time(), "from": self.side, **rec}) + "\n")
        self.f.flush()


def wire_header(b):
    """(fin, rsv, opcode, payload_len) of one serialized frame."""
    fin, rsv, opcode = b[0] >> 7, (b[0] >> 4) & 7, b[0] & 15
    n = b[1] & 127
    if n == 126:
        n = struct.unpack("!H", b[2:4])[0]
    elif n == 127:
        n = struct.unpack("!Q", b[2:10])[0]
    return fin, rsv, opcode, n


def hook(ws, log):
    """Log every frame `ws` sends. Returns the object whose .script flag says whether the
    script (True) or the library on its own (False) is sending."""
    proto = ws.protocol
    orig = proto.send_frame
    state = {"message": None, "script": False}

    def send_frame(frame):
        orig(frame)
        wire = proto.writes[-1] if proto.writes else None
        fin, rsv, opcode, wire_len = wire_header(bytes(wire))
        data = bytes(frame.data)
        if opcode in (1, 2):
            state["message"] = {"opcode": OPCODE_NAMES[opcode], "rsv1": bool(rsv & 4), "parts": [], "wire": []}
        if opcode in (0, 1, 2):
            m = state["message"]
            m["parts"].append(data)
            m["wire"].append(wire_len)
            if fin:
                whole = b"".join(m["parts"])
                rec = {"opcode": m["opcode"]}
                if m["opcode"] == "text":
                    rec["text"] = whole.decode()
                else:
                    rec["data_hex"] = whole.hex()
                rec.update({
                    "message_len": len(whole),
                    "fragments": len(m["parts"]),
                    "fragment_lens": [len(p) for p in m["parts"]],
                    "wire_payload_lens": m["wire"],
                    "compressed": m["rsv1"],
                })
                log.write(rec)
                state["message"] = None
        elif opcode in (9, 10):
            log.write({"opcode": OPCODE_NAMES[opcode], "data_hex": data.hex(), "auto": not state["script"]})
        elif opcode == 8:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
            log.write({"opcode": "close", "close_code": code, "close_reason": data[2:].decode(),
                       "auto": not state["script"]})

    proto.send_frame = send_frame
    return state


def expected_received(kind, payload):
    if kind == "text-fragments":
        return "".join(payload)
    if kind == "binary-fragments":
        return b"".join(payload)
    return payload


async def act(ws, side, steps, log):
    state = hook(ws, log)
    for sender, kind, payload in steps:
        if sender == side:
            state["script"] = True
            if kind in ("text", "binary"):
                await ws.send(payload)
            elif kind.endswith("-fragments"):
                await ws.send(list(payload))  # websockets ends it with an empty FIN frame
            elif kind == "ping":
                waiter = await ws.ping(payload)
                state["script"] = False
                await waiter
            elif kind == "close":
                await ws.close(code=payload[0], reason=payload[1])
            state["script"] = False
        else:
            if kind in ("ping",):
                continue  # answered by our library
            if kind == "close":
                await ws.wait_closed()
                continue
            got = await ws.recv()
            want = expected_received(kind, payload)
            if got != want:
                raise SystemExit(f"{side}: expected {want!r}, got {got!r}")
