// `send` settles once a frame is accepted, not written: what that promises and what it does not.
import { Connection, type ConnectionOptions } from "../lib/connection.ts";
import { ConnectionClosedError } from "../lib/errors.ts";
import { concat, encodeFrame, FRAMINGS } from "../lib/framing.ts";
import { connect, listen } from "../lib/mod.ts";
import {
  assert,
  assertEquals,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "./_assert.ts";
import { bytes, memoryPair, settledSoon, text } from "./_helpers.ts";

function connectionPair(options: ConnectionOptions = {}) {
  const [rawA, rawB] = memoryPair();
  return { a: new Connection(rawA, options), b: new Connection(rawB, options), rawA, rawB };
}

async function receiveAll(conn: Connection): Promise<string[]> {
  const frames: string[] = [];
  for (let frame; (frame = await conn.receive()) !== null;) frames.push(text(frame));
  return frames;
}

Deno.test("send: a small frame is accepted at once while the transport holds every write", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  await a.send("one");
  await a.send("two");
  assert(a.bufferedAmount > 0, "accepted, not written");
  const flushed = a.flush();
  assertStrictEquals(await settledSoon(flushed), false, "flush waits for the write");
  rawA.resumeWrites();
  await flushed;
  assertStrictEquals(a.bufferedAmount, 0);
  await a.closeWrite();
  assertEquals(await receiveAll(b), ["one", "two"]);
});

Deno.test("send: a loop awaiting each send shares writes", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  for (let i = 0; i < 1_000; i++) await a.send(`frame ${i}`);
  rawA.resumeWrites();
  await a.flush();
  assertLessOrEqual(rawA.writes.length, 2, `${rawA.writes.length} writes for 1,000 frames`);
  await a.closeWrite();
  assertEquals(await receiveAll(b), Array.from({ length: 1_000 }, (_, i) => `frame ${i}`));
});

Deno.test("send: past highWaterMark it settles once the buffer has drained to the mark", async () => {
  const { a, b, rawA } = connectionPair({ highWaterMark: 100 });
  rawA.pauseWrites();
  await a.send("x".repeat(40)); // 44 bytes: under the mark
  await a.send("x".repeat(40)); // 88
  const over = a.send("x".repeat(40)); // 132: over the mark
  assertStrictEquals(await settledSoon(over), false, "backpressure holds the sender");
  rawA.resumeWrites();
  await over;
  assertLessOrEqual(a.bufferedAmount, 100);
  await a.closeWrite();
  assertEquals((await receiveAll(b)).length, 3);
});

Deno.test("send: a large frame written from the caller's buffer settles once written", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  const large = new Uint8Array(64 * 1024).fill(7);
  const sent = a.send(large);
  assertStrictEquals(await settledSoon(sent), false, "the caller's buffer is still in use");
  rawA.resumeWrites();
  await sent;
  assert(rawA.writes.some((call) => call.data.buffer === large.buffer), "written uncopied");
  await a.closeWrite();
  assertEquals(await b.receive(), large);
});

for (const framing of ["line", "nul"] as const) {
  Deno.test(`send (${framing}): writePerFrame still makes one write per frame, awaited or not`, async () => {
    const { a, rawA } = connectionPair({ framing, writePerFrame: true });
    const payloads = ["one", "two", "x".repeat(20_000), "four"];
    for (const payload of payloads) await a.send(payload);
    await a.flush();
    assertStrictEquals(rawA.writes.length, payloads.length);
    rawA.writes.forEach((call, i) => {
      assertEquals(call.bytes, concat(encodeFrame(bytes(payloads[i]), { framing })));
    });
    await a.close();
  });
}

Deno.test("send: close and await using deliver every accepted frame", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  {
    await using conn = a;
    for (let i = 0; i < 300; i++) conn.send(`frame ${i}`);
    conn.send(new Uint8Array(100_000).fill(1)); // written from this buffer, once writes resume
    setTimeout(() => rawA.resumeWrites(), 0);
  }
  assert(rawA.closed, "closed once everything was written");
  const frames = await receiveAll(b);
  assertStrictEquals(frames.length, 301);
  assertEquals(frames.slice(0, 300), Array.from({ length: 300 }, (_, i) => `frame ${i}`));
});

Deno.test("send: a write failure nobody saw rejects close", async () => {
  const { a, b } = connectionPair();
  await b.close();
  await a.send("lost"); // accepted; its write fails afterwards
  await assertRejects(() => a.close(), ConnectionClosedError);
  await a.close(); // already closed: nothing more to report
  await assertRejects(() => a.send("late"), ConnectionClosedError);
});

Deno.test("send: a write failure already reported does not reject close again", async () => {
  const { a, b } = connectionPair();
  await b.close();
  await a.send("lost");
  await assertRejects(() => a.flush(), ConnectionClosedError);
  await assertRejects(() => a.send("next"), ConnectionClosedError);
  await a.close();
});

Deno.test("send: a sender waiting on backpressure learns of a failed write", async () => {
  const { a, b, rawA } = connectionPair({ highWaterMark: 10 });
  rawA.pauseWrites();
  const waiting = a.send("x".repeat(50));
  await b.close();
  rawA.resumeWrites();
  await assertRejects(() => waiting, ConnectionClosedError);
  await a.close(); // the waiting send carried the error
});

Deno.test("send: answers to frames received together share a write", async () => {
  const { a, b, rawB } = connectionPair();
  for (let i = 0; i < 200; i++) a.send(`request ${i}`);
  await a.closeWrite();
  // The README's server loop, awaiting each receive and each send.
  for (let message; (message = await b.receive()) !== null;) await b.send(message);
  await b.flush();
  assertLessOrEqual(rawB.writes.length, 2, `${rawB.writes.length} writes for 200 answers`);
  assertEquals(
    await Promise.all(Array.from({ length: 200 }, async () => text((await a.receive())!))),
    Array.from({ length: 200 }, (_, i) => `request ${i}`),
  );
  await b.close();
  await a.close();
});

Deno.test("send: an answer is written even if the caller stops receiving", async () => {
  const { a, b } = connectionPair();
  a.send("first");
  a.send("second");
  const first = await b.receive(); // "second" is still buffered, unread
  await b.send(first!);
  // No more receive and no flush on b: the answer must still go out.
  assertEquals(text((await a.receive())!), "first");
  await a.close();
  await b.close();
});

Deno.test("send: highWaterMark must be a whole number of bytes", async () => {
  for (const highWaterMark of [-1, 1.5, NaN]) {
    await assertRejects(() => connect({ name: "never-used", highWaterMark }), RangeError);
    await assertRejects(() => listen({ name: "never-used", highWaterMark }), RangeError);
  }
});

for (const framing of FRAMINGS) {
  Deno.test({
    name: `send (${framing}): an echo over the platform transport, sends and receives awaited`,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const name = `${Deno.makeTempDirSync()}/echo.sock`;
      await using listener = await listen({ name, framing, highWaterMark: 4096 });
      const serving = (async () => {
        await using conn = (await listener.accept())!;
        for (let m; (m = await conn.receive()) !== null;) await conn.send(m);
      })();
      await using conn = await connect({ name, framing, highWaterMark: 4096 });
      const count = 5_000;
      const replies = (async () => {
        for (let i = 0; i < count; i++) assertEquals(text((await conn.receive())!), `m${i}`);
      })();
      for (let i = 0; i < count; i++) await conn.send(`m${i}`);
      await replies;
      await conn.closeWrite();
      await serving;
    },
  });
}
