#!/usr/bin/env python3
"""Merge the JSON Lines logs the peers wrote while they ran into NAME.expected.json.

usage: merge_expected.py NAME LOG.jsonl OUT.json PEER...
Records are ordered by the time they were sent (both peers run on one machine, one
clock); see README.md for the format.
"""
import json, sys


def main(name, logpath, out, peers):
    recs = [json.loads(line) for line in open(logpath, encoding="utf-8") if line.strip()]
    recs.sort(key=lambda r: r["ts"])  # stable: records of one side keep their order
    ws, eio, sio, sids = [], [], [], set()
    for r in recs:
        kind = r.pop("kind", "websocket")
        del r["ts"]
        if kind == "websocket":
            ws.append(r)
        elif kind == "engineio":
            eio.append(r)
        elif kind == "socketio":
            sio.append(r)
        elif kind == "meta":
            sids.add(r["engineio_sid"])
        # "note" records are for debugging only
    if len(sids) > 1:
        raise SystemExit(f"{name}: client and server disagree on the Engine.IO sid: {sids}")
    doc = {
        "fixture": f"{name}.pcap",
        "peers": peers,
        "websocket_messages": ws if ws else None,
        "engineio_sid": sids.pop() if sids else None,
        "engineio": eio if eio else None,
        "socketio": sio if sio else None,
    }
    with open(out, "w", encoding="utf-8") as f:
        f.write(dumps(doc))


def dumps(doc):
    """JSON with one message a line: easy to read and to diff."""
    one = lambda x: json.dumps(x, ensure_ascii=False)
    lines = []
    for k, v in doc.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            body = ",\n".join("  " + one(x) for x in v)
            lines.append(f" {one(k)}: [\n{body}\n ]")
        else:
            lines.append(f" {one(k)}: {one(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
