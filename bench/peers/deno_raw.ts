/**
 * Benchmark driver for a raw Deno Unix socket (`Deno.listen`/`Deno.connect`) with no framing:
 * the ceiling duct's framing is measured against. The server echoes bytes as they come, or
 * counts the bytes of a stream (see `TOTAL_DIGITS`) and answers with the count.
 *
 * @module
 */

import { main, type Params, TOTAL_DIGITS } from "./_driver.mjs";

/** Read size of the raw server and client: the same as duct's. */
const READ_SIZE = 64 * 1024;

interface Client {
  conn: Deno.UnixConn;
  buffer: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// One write of every message of a repetition: built once, outside the timed loop.
let batch: Uint8Array | undefined;

await main({
  serve(mode: "echo" | "sink", path: string) {
    const listener = Deno.listen({ transport: "unix", path });
    let connections = 0;
    (async () => {
      for await (const conn of listener) {
        connections++;
        (mode === "echo" ? echo(conn) : sink(conn)).catch(() => {}).finally(() => connections--);
      }
    })();
    return Promise.resolve({
      connections: () => connections,
      close: () => listener.close(),
    });
  },
  async open(path: string): Promise<Client> {
    const conn = await Deno.connect({ transport: "unix", path });
    return { conn, buffer: new Uint8Array(READ_SIZE) };
  },
  async roundTrip({ conn, buffer }: Client, message: Uint8Array) {
    await writeAll(conn, message);
    for (let got = 0; got < message.length;) {
      const count = await conn.read(buffer);
      if (count === null) throw new Error("the server closed the connection");
      got += count;
    }
  },
  async echo({ conn, buffer }: Client, message: Uint8Array, count: number) {
    const total = message.length * count;
    const replies = (async () => {
      for (let got = 0; got < total;) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("the server closed the connection");
        got += n;
      }
    })();
    for (let i = 0; i < count; i++) await writeAll(conn, message);
    await replies;
  },
  async stream({ conn, buffer }: Client, message: Uint8Array, count: number, params: Params) {
    const expected = String(message.length * count).padStart(TOTAL_DIGITS, "0");
    await writeAll(conn, encoder.encode(expected));
    if (params.write === "once") {
      if (batch?.length !== message.length * count) batch = repeat(message, count);
      await writeAll(conn, batch);
    } else {
      for (let i = 0; i < count; i++) await writeAll(conn, message);
    }
    let reply = "";
    while (reply.length < TOTAL_DIGITS) {
      const n = await conn.read(buffer);
      if (n === null) break;
      reply += decoder.decode(buffer.subarray(0, n));
    }
    if (reply !== expected) throw new Error(`the server counted ${reply} of ${expected} bytes`);
  },
  close: ({ conn }: Client) => conn.close(),
});

async function echo(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(READ_SIZE);
  for (let n; (n = await conn.read(buffer)) !== null;) await writeAll(conn, buffer.subarray(0, n));
  conn.close();
}

async function sink(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(READ_SIZE);
  let head = "";
  let total = Infinity;
  let bytes = 0;
  for (let n; bytes < total && (n = await conn.read(buffer)) !== null;) {
    let data = buffer.subarray(0, n);
    if (total === Infinity) {
      const take = Math.min(TOTAL_DIGITS - head.length, n);
      head += decoder.decode(data.subarray(0, take));
      if (head.length < TOTAL_DIGITS) continue;
      total = Number(head);
      data = data.subarray(take);
    }
    bytes += data.length;
  }
  await writeAll(conn, encoder.encode(String(bytes).padStart(TOTAL_DIGITS, "0")));
  conn.close();
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}

function repeat(message: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(message.length * count);
  for (let i = 0; i < count; i++) out.set(message, i * message.length);
  return out;
}
