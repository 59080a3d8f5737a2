import { ConnectionClosedError } from "../lib/errors.ts";
import { WriteBatcher, type WriteBatcherOptions } from "../lib/write_batcher.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { bytes, memoryPair, settledSoon } from "./_helpers.ts";

function batcherPair(options: Partial<WriteBatcherOptions> = {}) {
  const [raw, peer] = memoryPair();
  const batcher = new WriteBatcher(raw, {
    highWaterMark: 1024 * 1024,
    answering: () => false,
    failure: (error) => error,
    ...options,
  });
  return { batcher, raw, peer };
}

Deno.test("write batcher: frames queued in one task go out in one write, in order", async () => {
  const { batcher, raw, peer } = batcherPair();
  batcher.lengthFrame(bytes("ab"));
  batcher.delimitedFrame(bytes("cd"), 0);
  batcher.lengthFrame(new Uint8Array(0));
  assertEquals(batcher.bufferedAmount, 6 + 3 + 4);
  await batcher.settled();
  assertEquals(raw.writes.length, 1);
  assertEquals(peer.takeReceived(), Uint8Array.of(0, 0, 0, 2, 97, 98, 99, 100, 0, 0, 0, 0, 0));
  assertEquals(batcher.bufferedAmount, 0);
});

Deno.test("write batcher: frames filling several 64 KiB runs keep every byte, in order", async () => {
  // A frame's header and payload go into one run, so a frame that would not fit the rest of a
  // run starts the next one: sizes chosen to end runs at every offset near their end.
  const { batcher, raw, peer } = batcherPair();
  const expected: number[] = [];
  for (let i = 0; i < 40; i++) {
    const size = [16 * 1024 - 1, 64, 5000, 0, 16 * 1024 - 4][i % 5];
    const payload = new Uint8Array(size).fill(i);
    batcher.lengthFrame(payload);
    expected.push(0, size >>> 16, (size >>> 8) & 0xff, size & 0xff, ...payload);
  }
  await batcher.settled();
  assert(raw.writes.length > 4, `${raw.writes.length} writes`);
  assertEquals(peer.takeReceived(), Uint8Array.from(expected));
});

Deno.test("write batcher: a large payload is written from the caller's buffer, settling once written", async () => {
  const { batcher, raw } = batcherPair();
  const large = new Uint8Array(16 * 1024).fill(7);
  raw.pauseWrites();
  const sent = batcher.lengthFrame(large);
  await raw.writeCalls(1);
  assertEquals(await settledSoon(sent), false, "settled before the write");
  raw.resumeWrites();
  await sent;
  assertEquals(raw.writes.map((call) => call.bytes.length), [4, large.length]);
  assertStrictEquals(raw.writes[1].data, large);
});

Deno.test("write batcher: a large delimited payload is lent, its delimiter follows in the run", async () => {
  const { batcher, raw, peer } = batcherPair();
  const large = new Uint8Array(16 * 1024).fill(7);
  batcher.delimitedFrame(bytes("a"), 10);
  const sent = batcher.delimitedFrame(large, 10);
  batcher.delimitedFrame(bytes("b"), 10);
  assertEquals(batcher.bufferedAmount, 2 + large.length + 1 + 2);
  await sent;
  await batcher.settled();
  assertStrictEquals(raw.writes[1].data, large);
  assertEquals(peer.takeReceived(), Uint8Array.from([97, 10, ...large, 10, 98, 10]));
});

Deno.test("write batcher: whole frames each get a write of their own", async () => {
  const { batcher, raw } = batcherPair();
  batcher.whole(bytes("one\n"));
  batcher.whole(bytes("two\n"));
  await batcher.settled();
  assertEquals(raw.writes.map((call) => call.bytes), [bytes("one\n"), bytes("two\n")]);
});

Deno.test("write batcher: past the high-water mark a frame settles once the bytes drain", async () => {
  const { batcher, raw } = batcherPair({ highWaterMark: 10 });
  raw.pauseWrites();
  assertEquals(
    await settledSoon(batcher.lengthFrame(bytes("123456"))),
    true,
    "10 bytes: at the mark",
  );
  const over = batcher.lengthFrame(bytes("x"));
  assertEquals(batcher.bufferedAmount, 15);
  assertEquals(await settledSoon(over), false, "settled over the mark");
  raw.resumeWrites();
  await over;
  await batcher.settled();
  assertEquals(batcher.bufferedAmount, 0);
});

Deno.test("write batcher: while answering, the write waits for startDeferred", async () => {
  let answering = true;
  const { batcher, raw } = batcherPair({ answering: () => answering });
  batcher.lengthFrame(bytes("a"));
  batcher.lengthFrame(bytes("b"));
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(raw.writes.length, 0, "written before the answers were all queued");
  answering = false;
  batcher.startDeferred();
  await batcher.settled();
  assertEquals(raw.writes.length, 1);
});

Deno.test("write batcher: a deferred write still happens if startDeferred never comes", async () => {
  const { batcher, raw } = batcherPair({ answering: () => true });
  batcher.lengthFrame(bytes("a"));
  await batcher.settled();
  assertEquals(raw.writes.length, 1);
});

Deno.test("write batcher: a failed write is kept, as failure made it, and reported once asked", async () => {
  const { batcher, raw } = batcherPair({
    failure: (cause) => new ConnectionClosedError("cannot send: gone", { cause }),
  });
  raw.close();
  batcher.lengthFrame(bytes("lost"));
  await batcher.settled();
  assert(batcher.error instanceof ConnectionClosedError);
  assert((batcher.error as Error).cause instanceof Deno.errors.BadResource);
  assertEquals(batcher.errorReported, false, "nobody was waiting for that frame");
  const error = await assertRejects(() => batcher.failed(), ConnectionClosedError);
  assertStrictEquals(error, batcher.error);
  assertEquals(batcher.errorReported, true);
});

Deno.test("write batcher: a sender waiting on a failed write learns of it", async () => {
  const { batcher, raw } = batcherPair({ highWaterMark: 0 });
  raw.close();
  await assertRejects(() => batcher.lengthFrame(bytes("x")), Deno.errors.BadResource);
  assertEquals(batcher.errorReported, true);
});
