/**
 * The connection's buffer handling (added for speed, see bench/README.md): reused read buffers,
 * large frames read straight into their own buffer, small frames copied into shared write runs.
 * Every test checks contents and order only, never timings.
 */

import { Connection } from "../lib/connection.ts";
import { ProtocolError } from "../lib/errors.ts";
import { encodeFrame } from "../lib/framing.ts";
import { assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { memoryPair, type MemoryPairOptions, Random } from "./_helpers.ts";

function connectionPair(pair: MemoryPairOptions = {}) {
  const [rawA, rawB] = memoryPair(pair);
  return { a: new Connection(rawA), b: new Connection(rawB), rawA, rawB };
}

Deno.test("connection buffers: frames already received stay intact while more are read", async () => {
  const { a, b } = connectionPair();
  const random = new Random(7);
  const sent = Array.from({ length: 300 }, () => random.bytes(random.int(0, 3000)));
  const received: Uint8Array[] = [];
  for (const payload of sent) {
    await a.send(payload);
    received.push((await b.receive())!);
  }
  // Each frame is checked only after every later read has happened.
  assertEquals(received, sent);
  await a.close();
  await b.close();
});

Deno.test("connection buffers: large and small frames interleaved, cut into odd writes", async () => {
  for (const maxWrite of [Infinity, 65_537, 1_000]) {
    const { a, b } = connectionPair({ maxWrite });
    const random = new Random(maxWrite === Infinity ? 1 : maxWrite);
    const sizes = [300_000, 3, 1 << 20, 0, 256 * 1024, 256 * 1024 - 1, 17, 2_000_000, 5];
    const sent = sizes.map((size) => random.bytes(size));
    const sending = Promise.all(sent.map((payload) => a.send(payload)));
    for (const payload of sent) assertEquals(await b.receive(), payload);
    await sending;
    await a.closeWrite();
    assertStrictEquals(await b.receive(), null);
    await b.close();
  }
});

Deno.test("connection buffers: a large frame cut off by the peer is a ProtocolError", async () => {
  const { b, rawA } = connectionPair();
  const [header, payload] = encodeFrame(new Uint8Array(1 << 20));
  await rawA.write(header);
  await rawA.write(payload.subarray(0, 400_000));
  await rawA.closeWrite();
  await assertRejects(() => b.receive(), ProtocolError, "400000 of 1048576 bytes");
  await b.close();
});

Deno.test("connection buffers: many small frames share writes and keep their order", async () => {
  const { a, b, rawA } = connectionPair();
  const sent = Array.from({ length: 5_000 }, (_, i) => new TextEncoder().encode(`frame ${i}`));
  await Promise.all(sent.map((payload) => a.send(payload)));
  await a.flush();
  assertStrictEquals(a.bufferedAmount, 0);
  // 5,000 frames of at most 14 bytes fit in two 64 KiB runs.
  assertEquals(rawA.writes.length <= 3, true, `${rawA.writes.length} writes`);
  await a.closeWrite();
  for (const payload of sent) assertEquals(await b.receive(), payload);
  assertStrictEquals(await b.receive(), null);
  await b.close();
});
