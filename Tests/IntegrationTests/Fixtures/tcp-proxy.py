#!/usr/bin/env python3
"""A TCP proxy for fault tests: forwards a loopback port to a target, and can be told,
through a control file it re-reads every 50 ms, to cut or slow the traffic.

    tcp-proxy.py CONTROL_FILE TARGET_PORT

It prints "listening PORT" once it accepts connections. The control file holds one word:
  pass       forward everything (the default)
  blackhole  forward nothing: bytes are dropped, connections are held open and hang;
             when it passes again, the connections that lost bytes are closed
  delay:S    forward every chunk S seconds after it arrived, in order
  target:P   forward new connections to port P (a fresh API server at the same address)
Only loopback is ever connected to.
"""
import asyncio
import os
import sys

CONTROL = sys.argv[1]
target_port = int(sys.argv[2])
mode = "pass"
poisoned = set()


def read_control():
    global mode, target_port
    try:
        with open(CONTROL) as f:
            word = f.read().strip()
    except OSError:
        return
    if word.startswith("target:"):
        target_port = int(word.split(":", 1)[1])
        mode = "pass"
    elif word:
        mode = word


async def control_loop():
    global poisoned
    while True:
        before = mode
        read_control()
        if before == "blackhole" and mode != "blackhole":
            for w in list(poisoned):
                w.close()
            poisoned = set()
        await asyncio.sleep(0.05)


async def pump(reader, writer, key):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if mode == "blackhole":
                poisoned.add(key)
                continue
            if mode.startswith("delay:"):
                await asyncio.sleep(float(mode.split(":", 1)[1]))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    if mode == "blackhole":
        poisoned.add(client_writer)
    await asyncio.gather(pump(client_reader, upstream_writer, client_writer), pump(upstream_reader, client_writer, client_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    asyncio.get_running_loop().create_task(control_loop())
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
