// `receiveInto`: frames received into a buffer the caller owns and reuses.
import { Connection, type ConnectionOptions } from "../lib/connection.ts";
import { ProtocolError } from "../lib/errors.ts";
import { concat, encodeFrame, type Framing, FRAMINGS } from "../lib/framing.ts";
import { connect, listen } from "../lib/mod.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { bytes, cut, memoryPair, Random, text } from "./_helpers.ts";

function connectionPair(options: ConnectionOptions = {}) {
  const [rawA, rawB] = memoryPair();
  return { a: new Connection(rawA, options), b: new Connection(rawB, options), rawA, rawB };
}

function isViewOf(frame: Uint8Array, buffer: Uint8Array): boolean {
  return frame.buffer === buffer.buffer && frame.byteOffset === buffer.byteOffset;
}

/** A payload valid in every framing: no newline, no NUL, no trailing `\r`. */
function payloadOf(size: number, seed: number): Uint8Array {
  const random = new Random(seed);
  return Uint8Array.from({ length: size }, () => 0x20 + Math.floor(random.next() * 90));
}

function wire(payloads: Uint8Array[], framing: Framing): Uint8Array {
  return concat(payloads.flatMap((payload) => encodeFrame(payload, { framing })));
}

for (const framing of FRAMINGS) {
  Deno.test(`receiveInto (${framing}): a frame that fits comes back as a view of the buffer`, async () => {
    const { a, b } = connectionPair({ framing });
    const buffer = new Uint8Array(64);
    await a.send("hello");
    await a.send("");
    await a.send("x".repeat(64));
    const first = (await b.receiveInto(buffer))!;
    assert(isViewOf(first, buffer), "a view of the caller's buffer");
    assertEquals(text(first), "hello");
    const empty = (await b.receiveInto(buffer))!;
    assertStrictEquals(empty.length, 0);
    const full = (await b.receiveInto(buffer))!;
    assert(isViewOf(full, buffer), "exactly the buffer's size still fits");
    assertEquals(text(full), "x".repeat(64));
    await a.close();
    assertStrictEquals(await b.receiveInto(buffer), null);
    assertStrictEquals(await b.receiveInto(buffer), null, "and keeps returning null");
    await b.close();
  });

  Deno.test(`receiveInto (${framing}): a frame that does not fit gets a new array`, async () => {
    const { a, b } = connectionPair({ framing });
    const buffer = new Uint8Array(8).fill(0x21);
    await a.send("longer than eight");
    await a.send("short");
    const large = (await b.receiveInto(buffer))!;
    assert(large.buffer !== buffer.buffer, "not a view of the buffer");
    assertEquals(text(large), "longer than eight");
    assertEquals(buffer, new Uint8Array(8).fill(0x21), "the buffer was left alone");
    assertEquals(text((await b.receiveInto(buffer))!), "short");
    await a.close();
    await b.close();
  });

  Deno.test(`receiveInto (${framing}): many frames in one read, and frames cut across reads`, async () => {
    const payloads = Array.from({ length: 300 }, (_, i) => payloadOf(i % 7 === 0 ? 3000 : i, i));
    const data = wire(payloads, framing);
    const random = new Random(framing.length);
    const offsets = new Set<number>();
    // Some reads carry many frames, others end inside a header, a payload or a delimiter.
    for (let i = 0; i < 60; i++) offsets.add(1 + Math.floor(random.next() * (data.length - 1)));
    for (let at = 1; at < 40; at++) offsets.add(at);
    const pieces = cut(data, [...offsets].sort((x, y) => x - y));
    const { b, rawA } = connectionPair({ framing });
    const writing = (async () => {
      for (const piece of pieces) await rawA.write(piece);
      await rawA.closeWrite();
    })();
    const buffer = new Uint8Array(2048);
    for (const [i, payload] of payloads.entries()) {
      const frame = (await b.receiveInto(buffer))!;
      assertEquals(frame, payload, `frame ${i}`);
      assertStrictEquals(isViewOf(frame, buffer), payload.length <= buffer.length, `frame ${i}`);
    }
    assertStrictEquals(await b.receiveInto(buffer), null);
    await writing;
    await b.close();
  });

  Deno.test(`receiveInto (${framing}): receive and receiveInto take turns on one stream`, async () => {
    const { a, b } = connectionPair({ framing });
    for (let i = 0; i < 10; i++) a.send(`frame ${i}`);
    await a.closeWrite();
    const buffer = new Uint8Array(100);
    for (let i = 0; i < 10; i++) {
      const frame = i % 2 ? await b.receive() : await b.receiveInto(buffer);
      assertEquals(text(frame!), `frame ${i}`);
    }
    assertStrictEquals(await b.receiveInto(buffer), null);
    await a.close();
    await b.close();
  });
}

for (const framing of ["line", "nul"] as const) {
  Deno.test(`receiveInto (${framing}): an unterminated last frame at end of stream`, async () => {
    const { b, rawA } = connectionPair({ framing });
    await rawA.write(bytes("last, no terminator"));
    await rawA.closeWrite();
    const buffer = new Uint8Array(100);
    const frame = (await b.receiveInto(buffer))!;
    assert(isViewOf(frame, buffer));
    assertEquals(text(frame), "last, no terminator");
    assertStrictEquals(await b.receiveInto(buffer), null);
    await b.close();
  });
}

Deno.test("receiveInto: a large frame is read from the transport straight into the buffer", async () => {
  const { a, b, rawB } = connectionPair();
  const size = 3 * 1024 * 1024;
  const buffer = new Uint8Array(4 * 1024 * 1024);
  let readIntoBuffer = 0;
  const read = rawB.read.bind(rawB);
  rawB.read = async (target: Uint8Array) => {
    const count = await read(target);
    if (target.buffer === buffer.buffer && count !== null) readIntoBuffer += count;
    return count;
  };
  const payload = payloadOf(size, 7);
  const sending = Promise.all([a.send(payload), a.send("after")]);
  const frame = (await b.receiveInto(buffer))!;
  assert(isViewOf(frame, buffer));
  assertEquals(frame, payload);
  // The first read (4 KiB) goes to the connection's own buffer; every later byte of the frame
  // goes into the caller's.
  assert(readIntoBuffer >= size - 4096, `${readIntoBuffer} of ${size} bytes read in place`);
  assertEquals(text((await b.receiveInto(buffer))!), "after");
  await sending;
  await a.close();
  await b.close();
});

Deno.test("receiveInto: a length frame cut off by end of stream is a ProtocolError", async () => {
  const { b, rawA } = connectionPair();
  const [header, payload] = encodeFrame(new Uint8Array(600_000));
  await rawA.write(header);
  await rawA.write(payload.subarray(0, 300_000));
  await rawA.closeWrite();
  await assertRejects(() => b.receiveInto(new Uint8Array(1 << 20)), ProtocolError);
  await b.close();
});

Deno.test({
  name: "receiveInto: 1 MiB frames over the platform transport, one buffer reused",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const name = `${Deno.makeTempDirSync()}/into.sock`;
    await using listener = await listen({ name });
    const payloads = Array.from({ length: 8 }, (_, i) => payloadOf(1024 * 1024 - i, i));
    const sending = (async () => {
      await using conn = (await listener.accept())!;
      for (const payload of payloads) conn.send(payload);
    })();
    await using conn = await connect({ name });
    const buffer = new Uint8Array(1024 * 1024);
    for (const [i, payload] of payloads.entries()) {
      const frame = (await conn.receiveInto(buffer))!;
      assert(isViewOf(frame, buffer), `frame ${i} is a view of the buffer`);
      assertEquals(frame, payload, `frame ${i}`);
    }
    assertStrictEquals(await conn.receiveInto(buffer), null);
    await sending;
  },
});
