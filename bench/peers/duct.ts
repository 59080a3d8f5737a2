/**
 * Benchmark driver for duct itself, written as a user would: only the public API of
 * `lib/mod.ts`, length framing. Clients call `send` without awaiting each frame; the echo server
 * is the README's loop, awaiting each `receive` and each `send`.
 *
 * @module
 */

import { connect, type Connection, listen } from "../../lib/mod.ts";
import { main } from "./_driver.mjs";
import type { ServerParams } from "../_plan.ts";

/** A sender stops queueing and waits for the transport once this much is buffered. */
const HIGH_WATER = 1024 * 1024;
/** The one buffer a `receiveInto` server reads every frame into: the size of a bulk frame. */
const INTO_SIZE = 1024 * 1024;

const decoder = new TextDecoder();

await main({
  async serve(mode: "echo" | "sink", path: string, options: ServerParams) {
    const listener = await listen({ name: path });
    let connections = 0;
    const serving = mode === "echo" ? echo : options.receive === "into" ? sinkInto : sink;
    (async () => {
      for await (const conn of listener) {
        connections++;
        serving(conn).catch(() => {}).finally(() => connections--);
      }
    })();
    return { connections: () => connections, close: () => listener.close() };
  },
  open: (path: string) => connect({ name: path }),
  async roundTrip(conn: Connection, message: Uint8Array) {
    await conn.send(message);
    if (await conn.receive() === null) throw new Error("the server closed the connection");
  },
  async echo(conn: Connection, message: Uint8Array, count: number) {
    const replies = (async () => {
      for (let i = 0; i < count; i++) {
        if (await conn.receive() === null) throw new Error("the server closed the connection");
      }
    })();
    for (let i = 0; i < count; i++) conn.send(message);
    await replies;
  },
  async stream(conn: Connection, message: Uint8Array, count: number) {
    for (let i = 0; i < count; i++) {
      const sent = conn.send(message);
      if (conn.bufferedAmount >= HIGH_WATER) await sent;
    }
    await conn.closeWrite();
    const reply = await conn.receive();
    const got = reply === null ? "nothing" : decoder.decode(reply);
    if (got !== String(count)) throw new Error(`the server counted ${got} of ${count} frames`);
  },
  close: (conn: Connection) => conn.abort(),
});

async function echo(conn: Connection): Promise<void> {
  for (let message; (message = await conn.receive()) !== null;) await conn.send(message);
  await conn.close();
}

async function sink(conn: Connection): Promise<void> {
  let frames = 0;
  while (await conn.receive() !== null) frames++;
  await conn.send(String(frames));
  await conn.close();
}

async function sinkInto(conn: Connection): Promise<void> {
  const buffer = new Uint8Array(INTO_SIZE);
  let frames = 0;
  while (await conn.receiveInto(buffer) !== null) frames++;
  await conn.send(String(frames));
  await conn.close();
}
