"""The WebSocket conversations that ws_server.py and ws_client.py act out.

Each scenario is a list of steps, in order. A step is (sender, kind, payload):
  sender  "client" or "server"
  kind    "text" | "binary"            one frame
          "text-fragments" | "binary-fragments"   one message, one frame per list item
          "ping"                       a ping; the peer's library answers with a pong
          "close"                      (code, reason); the peer's library echoes it
Each side performs its own steps and, for the other side's steps, receives and checks
that what arrived is exactly what the table says. Both sides log every frame they send
(see wslog.py) to a JSON Lines file; merge_expected.py turns the logs into
tests/fixtures/NAME.expected.json.
"""

LONG_TEXT = ("This message is longer than 125 bytes, so its WebSocket header needs the "
             "16-bit extended payload length field (payload length 126 on the wire). ")
LONG_TEXT = (LONG_TEXT * 3)[:300]
assert len(LONG_TEXT.encode()) == 300

REPEATED = "the same sentence, sent again: with context takeover the second copy compresses to a few bytes"

BASE = [
    # server push: the very first message, no client message came before it
    ("server", "text", "welcome! the server speaks first, no request needed"),
    ("client", "text", "hello"),
    ("server", "text", "echo: hello"),
    ("client", "text", LONG_TEXT),
    ("server", "text", "got 300 bytes"),
    ("client", "binary", bytes(range(16))),
    ("server", "binary", bytes(reversed(range(16)))),
    ("client", "ping", b"proof-of-life"),
    # (the server cannot see a ping arrive through the websockets API, so a client message
    # follows it before the server speaks again: that keeps the wire order fixed)
    ("client", "text", "pong received, still here"),
    ("server", "text", "one more push from the server"),
]

CLOSE = [("client", "close", (1000, "bye, lesson over"))]

FRAGMENTS = [
    ("client", "text-fragments", ["frag-one ", "frag-two ", "frag-three"]),
    ("server", "text", "reassembled: frag-one frag-two frag-three"),
    ("client", "binary-fragments", [b"\x00\x01\x02\x03", b"\x04\x05\x06\x07", b"\x08\x09"]),
    ("server", "binary-fragments", [b"\xff\xfe", b"\xfd\xfc"]),
]

SCENARIOS = {
    # name: (permessage-deflate?, steps)
    "ws-python-plain": (False, BASE + CLOSE),
    "ws-python-deflate": (True, BASE + [
        ("client", "text", REPEATED),
        ("server", "text", REPEATED),
        ("client", "text", REPEATED),
        ("server", "text", REPEATED),
        ("client", "text", REPEATED),
    ] + CLOSE),
    "ws-python-fragmented": (False, [
        ("server", "text", "welcome! send me fragments"),
    ] + FRAGMENTS + CLOSE),
    "ws-python-deflate-fragmented": (True, [
        ("server", "text", "welcome! send me compressed fragments"),
    ] + FRAGMENTS + [
        ("client", "text-fragments", [REPEATED[:40], REPEATED[40:]]),
        ("server", "text", REPEATED),
    ] + CLOSE),
}
