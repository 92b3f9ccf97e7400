#!/usr/bin/env python3
"""Python `websockets` client: connects, acts out the scenario, closes.
usage: ws_client.py SCENARIO PORT LOG.jsonl"""
import asyncio, sys
from websockets.asyncio.client import connect
from ws_scenarios import SCENARIOS
from wslog import Log, act


async def main(name, port, logpath):
    deflate, steps = SCENARIOS[name]
    log = Log(logpath, "client")
    async with connect(f"ws://127.0.0.1:{port}/lesson", compression="deflate" if deflate else None,
                       ping_interval=None) as ws:
        await act(ws, "client", steps, log)
        await ws.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
