/**
 * duct's own work per small frame, with no I/O and no second process: a `Connection` over an
 * in-memory transport that hands out the wire bytes of 30,000 64-byte frames in 64 KiB reads
 * and takes every write at once. The cross-process figures of `deno task bench` move by ±20 %
 * with the load and with how the two processes happen to interleave; these do not, so they are
 * what a change to the per-frame path is judged by. Run `deno bench bench/frame_cost_bench.ts`.
 *
 * @module
 */

import { Connection } from "../lib/connection.ts";
import { HEADER_BYTES, writeLengthHeader } from "../lib/length_header.ts";
import type { ByteConn } from "../lib/transport.ts";

const FRAMES = 30_000;
const SIZE = 64;
const READ = 64 * 1024;
const payload = new Uint8Array(SIZE).fill(0x78);
const wire = new Uint8Array(FRAMES * (HEADER_BYTES + SIZE));
for (let at = 0; at < wire.length; at += HEADER_BYTES + SIZE) {
  writeLengthHeader(wire, at, SIZE);
  wire.set(payload, at + HEADER_BYTES);
}

// Reads `source` (none: end of stream at once) in reads of at most `READ` bytes.
function memoryConn(source?: Uint8Array): ByteConn {
  let at = 0;
  return {
    read(buffer) {
      if (source === undefined || at === source.length) return Promise.resolve(null);
      const count = Math.min(buffer.length, READ, source.length - at);
      buffer.set(source.subarray(at, at + count));
      at += count;
      return Promise.resolve(count);
    },
    write: (data) => Promise.resolve(data.length),
    closeWrite: () => Promise.resolve(),
    close() {},
  };
}

Deno.bench("receive 30,000 × 64 B (awaiting each)", async () => {
  const conn = new Connection(memoryConn(wire));
  let frames = 0;
  while (await conn.receive() !== null) frames++;
  if (frames !== FRAMES) throw new Error(`received ${frames} of ${FRAMES} frames`);
});

Deno.bench("send 30,000 × 64 B (not awaited), then flush", async () => {
  const conn = new Connection(memoryConn());
  for (let i = 0; i < FRAMES; i++) conn.send(payload);
  await conn.flush();
});

Deno.bench("the README's echo loop over 30,000 × 64 B (awaiting each call)", async () => {
  const conn = new Connection(memoryConn(wire));
  for (let message; (message = await conn.receive()) !== null;) await conn.send(message);
  await conn.flush();
});
