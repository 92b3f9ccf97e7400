#!/usr/bin/env python3
"""Python `websockets` server: serves ONE connection, acts out the scenario, exits.
usage: ws_server.py SCENARIO PORT LOG.jsonl"""
import asyncio, sys
from websockets.asyncio.server import serve
from ws_scenarios import SCENARIOS
from wslog import Log, act


async def main(name, port, logpath):
    deflate, steps = SCENARIOS[name]
    log = Log(logpath, "server")
    done = asyncio.get_running_loop().create_future()

    async def handler(ws):
        try:
            await act(ws, "server", steps, log)
            await ws.wait_closed()
            done.set_result(None)
        except BaseException as e:  # report, don't hang the capture
            if not done.done():
                done.set_exception(e)
            raise

    async with serve(handler, "127.0.0.1", port, compression="deflate" if deflate else None,
                     ping_interval=None) as server:
        print(f"listening {port}", flush=True)
        await done
    # give the TCP teardown a moment before the process exits
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
