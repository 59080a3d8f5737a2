/**
 * Benchmark driver for duct itself, written as a user would: only the public API of
 * `lib/mod.ts`, length framing, `send` called without awaiting each frame.
 *
 * @module
 */

import { connect, type Connection, listen } from "../../lib/mod.ts";
import { main } from "./_driver.mjs";

/** A sender stops queueing and waits for the transport once this much is buffered. */
const HIGH_WATER = 1024 * 1024;

const decoder = new TextDecoder();

await main({
  async serve(mode: "echo" | "sink", path: string) {
    const listener = await listen({ name: path });
    let connections = 0;
    (async () => {
      for await (const conn of listener) {
        connections++;
        (mode === "echo" ? echo(conn) : sink(conn)).catch(() => {}).finally(() => connections--);
      }
    })();
    return { connections: () => connections, close: () => listener.close() };
  },
  open: (path: string) => connect({ name: path }),
  async roundTrip(conn: Connection, message: Uint8Array) {
    await conn.send(message);
    if (await conn.receive() === null) throw new Error("the server closed the connection");
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
