import { Connection, type ConnectionOptions } from "../lib/connection.ts";
import {
  AddressInUseError,
  ConnectionClosedError,
  ConnectTimeoutError,
  FrameTooLargeError,
  InvalidFrameError,
  ProtocolError,
} from "../lib/errors.ts";
import { concat, encodeFrame, type Framing, FRAMINGS } from "../lib/framing.ts";
import { connect, listen } from "../lib/mod.ts";
import {
  assert,
  assertEquals,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "./_assert.ts";
import { bytes, decodeChunks, memoryPair, type MemoryPairOptions, text } from "./_helpers.ts";

/** Two framed connections over an in-memory pair, plus the raw ends for inspection. */
function connectionPair(options: ConnectionOptions = {}, pair: MemoryPairOptions = {}) {
  const [rawA, rawB] = memoryPair(pair);
  return { a: new Connection(rawA, options), b: new Connection(rawB, options), rawA, rawB };
}

/** Every frame `conn` receives until end of stream. */
async function receiveAll(conn: Connection): Promise<string[]> {
  const frames: string[] = [];
  for (let frame; (frame = await conn.receive()) !== null;) frames.push(text(frame));
  return frames;
}

/** Lets every pending microtask and I/O callback run (never used to wait for an outcome). */
function drainTasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// ---------------------------------------------------------------------------------------------
// Sending and receiving

for (const framing of FRAMINGS) {
  Deno.test(`connection (${framing}): frames go both ways, strings and bytes`, async () => {
    const { a, b } = connectionPair({ framing });
    assertStrictEquals(a.framing, framing);
    await a.send("hello");
    await a.send(bytes("bytes ✓"));
    await a.send("");
    await b.send("reply");
    assertEquals(text((await b.receive())!), "hello");
    assertEquals(text((await b.receive())!), "bytes ✓");
    assertEquals((await b.receive())!, new Uint8Array(0));
    assertEquals(text((await a.receive())!), "reply");
    await a.close();
    await b.close();
  });
}

Deno.test("connection: many sends without awaiting are coalesced into few writes, in order", async () => {
  const { a, b, rawA } = connectionPair();
  const count = 500;
  const sent = Array.from({ length: count }, (_, i) => a.send(`message ${i}`));
  await Promise.all(sent);
  await a.flush();
  assertLessOrEqual(rawA.writes.length, 2, `${rawA.writes.length} writes for ${count} frames`);
  assertEquals(a.bufferedAmount, 0);
  await a.closeWrite();
  assertEquals(await receiveAll(b), Array.from({ length: count }, (_, i) => `message ${i}`));
});

Deno.test("connection: frames sent during a write follow it in one more write, in order", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  const first = a.send("first");
  await rawA.writeCalls(1);
  const rest = Array.from({ length: 100 }, (_, i) => a.send(`later ${i}`));
  assert(a.bufferedAmount > 0, "frames waiting behind the write are counted");
  rawA.resumeWrites();
  await Promise.all([first, ...rest]);
  await a.flush();
  assertStrictEquals(rawA.writes.length, 2);
  assertEquals(decodeChunks([rawA.writes[0].bytes]), [bytes("first")]);
  await a.closeWrite();
  assertEquals(await receiveAll(b), [
    "first",
    ...Array.from({ length: 100 }, (_, i) => `later ${i}`),
  ]);
});

Deno.test("connection: a frame of 16 KiB or more is written from the caller's buffer", async () => {
  for (const size of [16 * 1024, 200 * 1024]) {
    const { a, b, rawA } = connectionPair();
    const large = new Uint8Array(size).map((_, i) => i % 251);
    const sends = [a.send("before"), a.send(large), a.send("after")];
    await Promise.all(sends);
    const uncopied = rawA.writes.filter((call) => call.data.buffer === large.buffer);
    assertStrictEquals(uncopied.length, 1, `${size}: the payload is written uncopied`);
    assertStrictEquals(uncopied[0].data.byteOffset, 0);
    assertStrictEquals(uncopied[0].data.length, size);
    await a.closeWrite();
    assertEquals(await b.receive(), bytes("before"));
    assertEquals(await b.receive(), large);
    assertEquals(await b.receive(), bytes("after"));
    assertStrictEquals(await b.receive(), null);
  }
});

Deno.test("connection: short writes are continued until the whole frame is out", async () => {
  const { a, b, rawA } = connectionPair({}, { maxWrite: 7 });
  const large = new Uint8Array(40_000).fill(9);
  await Promise.all([a.send("x".repeat(100)), a.send(large), a.send("y")]);
  assert(rawA.writes.length > 40_000 / 7, "the transport only took 7 bytes per write");
  await a.closeWrite();
  assertEquals(await b.receive(), bytes("x".repeat(100)));
  assertEquals(await b.receive(), large);
  assertEquals(await b.receive(), bytes("y"));
  assertStrictEquals(await b.receive(), null);
});

for (const framing of FRAMINGS) {
  Deno.test(`connection (${framing}): writePerFrame gives exactly one write per frame`, async () => {
    const { a, rawA } = connectionPair({ framing, writePerFrame: true });
    const payloads = ["one", "", "three", "x".repeat(20_000), "five"];
    await Promise.all(payloads.map((payload) => a.send(payload)));
    await a.flush();
    assertStrictEquals(rawA.writes.length, payloads.length);
    rawA.writes.forEach((call, i) => {
      assertEquals(call.bytes, concat(encodeFrame(bytes(payloads[i]), { framing })), `write ${i}`);
    });
    await a.close();
  });
}

Deno.test("connection: receive returns null at end of stream, and keeps returning it", async () => {
  const { a, b } = connectionPair();
  const pending = b.receive();
  await a.send("only");
  await a.closeWrite();
  assertEquals(await pending, bytes("only"));
  assertStrictEquals(await b.receive(), null);
  assertStrictEquals(await b.receive(), null);
});

Deno.test("connection (line): an unterminated last line is received before null", async () => {
  const { b, rawA } = connectionPair({ framing: "line" });
  await rawA.write(bytes("one\r\ntwo"));
  await rawA.closeWrite();
  assertEquals(await receiveAll(b), ["one", "two"]);
});

Deno.test("connection: concurrent receive calls get successive frames", async () => {
  const { a, b } = connectionPair();
  const first = b.receive();
  const second = b.receive();
  const third = b.receive();
  await a.send("1");
  await a.send("2");
  await a.closeWrite();
  assertEquals([await first, await second, await third], [bytes("1"), bytes("2"), null]);
});

Deno.test("connection: a peer closing mid-frame makes receive reject with ProtocolError", async () => {
  const { b, rawA } = connectionPair();
  await rawA.write(Uint8Array.of(0, 0, 0, 1, 65, 0, 0, 0, 10, 1, 2));
  await rawA.closeWrite();
  assertEquals(await b.receive(), Uint8Array.of(65));
  await assertRejects(() => b.receive(), ProtocolError, "2 of 10 bytes");
});

Deno.test("connection: a peer closing right after a header makes receive reject", async () => {
  const { b, rawA } = connectionPair();
  await rawA.write(Uint8Array.of(0, 0, 0, 3));
  await rawA.closeWrite();
  await assertRejects(() => b.receive(), ProtocolError);
});

Deno.test("connection: a peer announcing an oversize frame makes receive reject", async () => {
  const { b, rawA } = connectionPair({ maxFrame: 10 });
  await rawA.write(Uint8Array.of(0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 11));
  assertEquals(await b.receive(), Uint8Array.of(1, 2, 3, 4));
  const error = await assertRejects(() => b.receive(), FrameTooLargeError);
  assertEquals([error.size, error.maxFrame], [11, 10]);

  const huge = connectionPair();
  await huge.rawA.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  await assertRejects(() => huge.b.receive(), FrameTooLargeError, "4294967295");
});

Deno.test("connection (nul): a peer streaming past maxFrame without a NUL is refused", async () => {
  const { b, rawA } = connectionPair({ framing: "nul", maxFrame: 100 });
  await rawA.write(new Uint8Array(101).fill(65));
  await assertRejects(() => b.receive(), FrameTooLargeError);
});

// ---------------------------------------------------------------------------------------------
// Streams

Deno.test("connection: readable yields received frames and ends at end of stream", async () => {
  const { a, b } = connectionPair({ framing: "nul" });
  await Promise.all(["a", "b", "c"].map((message) => a.send(message)));
  await a.closeWrite();
  assertEquals((await Array.fromAsync(b.readable)).map(text), ["a", "b", "c"]);
  assertStrictEquals(b.readable, b.readable);
});

Deno.test("connection: readable errors when the peer breaks the protocol", async () => {
  const { b, rawA } = connectionPair({ maxFrame: 2 });
  await rawA.write(Uint8Array.of(0, 0, 0, 3, 1, 2, 3));
  await assertRejects(() => Array.fromAsync(b.readable), FrameTooLargeError);
});

Deno.test("connection: writable sends each chunk as a frame; closing it half-closes", async () => {
  const { a, b } = connectionPair({ framing: "line" });
  await ReadableStream.from(["x", "y", "z"]).pipeTo(a.writable);
  assertEquals(await receiveAll(b), ["x", "y", "z"]);
  // Half-closed: a can still receive.
  await b.send("still open");
  assertEquals(await a.receive(), bytes("still open"));
});

Deno.test("connection: readable piped into writable echoes every frame", async () => {
  const { a, b } = connectionPair();
  const echo = b.readable.pipeTo(b.writable);
  const messages = Array.from({ length: 50 }, (_, i) => `echo ${i}`);
  for (const message of messages) a.send(message);
  await a.closeWrite();
  await echo;
  assertEquals(await receiveAll(a), messages);
});

// ---------------------------------------------------------------------------------------------
// Flushing, closing, errors

Deno.test("connection: flush waits until every frame sent so far is written", async () => {
  const { a, rawA, rawB } = connectionPair();
  rawA.pauseWrites();
  a.send("one");
  await rawA.writeCalls(1);
  a.send("two");
  let flushed = false;
  const flush = a.flush().then(() => flushed = true);
  await drainTasks();
  assertStrictEquals(flushed, false, "flush resolved while a write was held");
  rawA.resumeWrites();
  await flush;
  assertEquals(decodeChunks([rawB.takeReceived()]), [bytes("one"), bytes("two")]);
  assertStrictEquals(a.bufferedAmount, 0);
});

Deno.test("connection: send after close or closeWrite rejects with ConnectionClosedError", async () => {
  const { a, b } = connectionPair();
  await a.closeWrite();
  await assertRejects(() => a.send("late"), ConnectionClosedError);
  await b.close();
  await assertRejects(() => b.send("late"), ConnectionClosedError);
  await assertRejects(() => b.send(new Uint8Array(1)), ConnectionClosedError);
  await b.close(); // closing twice is harmless
  assertStrictEquals(await b.receive(), null);
});

Deno.test("connection: send rejects (does not throw) an oversize or undeliverable payload", async () => {
  const { a, rawA } = connectionPair({ framing: "line", maxFrame: 4 });
  // Rejected promises, like every other send failure, so `send(x).catch(...)` catches them.
  await assertRejects(() => a.send("12345"), FrameTooLargeError);
  await assertRejects(() => a.send("a\nb"), InvalidFrameError);
  await a.send("1234");
  assertEquals(rawA.writes.map((call) => text(call.bytes)), ["1234\n"]);
});

Deno.test("connection: close sends pending frames, then the peer sees end of stream", async () => {
  const { a, b } = connectionPair();
  const sends = ["x", "y"].map((message) => a.send(message));
  await a.close();
  await Promise.all(sends);
  assertEquals(await receiveAll(b), ["x", "y"]);
});

Deno.test("connection: await using closes the connection", async () => {
  const { a, rawA } = connectionPair();
  {
    await using conn = a;
    await conn.send("bye");
  }
  assert(rawA.closed, "the transport was closed");
  await assertRejects(() => a.send("late"), ConnectionClosedError);
});

Deno.test("connection: abort closes at once and fails the frames still in flight", async () => {
  const { a, b, rawA } = connectionPair();
  rawA.pauseWrites();
  await a.send("never"); // accepted, not written
  await rawA.writeCalls(1);
  a.abort();
  assert(rawA.closed, "the transport was closed");
  await assertRejects(() => a.flush(), ConnectionClosedError);
  await assertRejects(() => a.send("late"), ConnectionClosedError);
  assertStrictEquals(await b.receive(), null);
});

Deno.test("connection: a failed write fails every later send, flush and closeWrite", async () => {
  const { a, b } = connectionPair();
  await b.close();
  await a.send("lost"); // accepted: the write fails later
  const lost = await assertRejects(() => a.flush(), ConnectionClosedError);
  assertStrictEquals(lost.message, "cannot send: the peer closed the connection");
  assert(lost.cause instanceof Deno.errors.BrokenPipe, "the transport's error is the cause");
  await assertRejects(() => a.send("also lost"), ConnectionClosedError);
  await assertRejects(() => a.flush(), ConnectionClosedError);
  await assertRejects(() => a.closeWrite(), ConnectionClosedError);
  await a.close(); // close still releases the connection
  await assertRejects(() => a.send("closed"), ConnectionClosedError);
});

Deno.test("connection: a pending receive ends with null when the connection is closed", async () => {
  const { a } = connectionPair();
  const pending = a.receive();
  await a.close();
  assertStrictEquals(await pending, null);
});

// ---------------------------------------------------------------------------------------------
// listen / connect over the platform transport

const unixOnly = Deno.build.os === "windows";

Deno.test({
  name: "listen/connect: a Unix socket path, both directions, then the socket file is removed",
  ignore: unixOnly,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "duct-test-" });
    const path = `${tmp}/x.sock`;
    try {
      const listener = await listen({ name: path });
      assertStrictEquals(listener.endpoint.path, path);
      assert((await Deno.lstat(path)).isSocket, "the socket file exists");
      const server = (async () => {
        const conn = await listener.accept();
        assert(conn !== null);
        for (let message; (message = await conn.receive()) !== null;) {
          await conn.send(`echo ${text(message)}`);
        }
        await conn.close();
      })();
      const client = await connect({ name: path, timeout: 5000 });
      const messages = Array.from({ length: 100 }, (_, i) => `m${i}`);
      await Promise.all(messages.map((message) => client.send(message)));
      await client.closeWrite();
      assertEquals(await receiveAll(client), messages.map((message) => `echo ${message}`));
      await client.close();
      await server;
      listener.close();
      assertStrictEquals(await listener.accept(), null);
      await assertRejects(() => Deno.lstat(path), Deno.errors.NotFound);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "listen: a second server on a live Unix socket gets AddressInUseError",
  ignore: unixOnly,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "duct-test-" });
    const path = `${tmp}/x.sock`;
    try {
      await using listener = await listen({ name: path });
      await assertRejects(() => listen({ name: path }), AddressInUseError, "already listening");
      // The first server is untouched. (The refused listen probed it with a connection that
      // closes at once: skip such empty connections.)
      const client = await connect({ name: path, timeout: 5000 });
      await client.send("still served");
      let received: Uint8Array | null = null;
      while (received === null) {
        const accepted = await listener.accept();
        assert(accepted !== null);
        received = await accepted.receive();
        await accepted.close();
      }
      assertEquals(received, bytes("still served"));
      await client.close();
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "connect: no server at a Unix socket path gives ConnectTimeoutError naming it",
  ignore: unixOnly,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "duct-test-" });
    const path = `${tmp}/absent.sock`;
    try {
      await assertRejects(() => connect({ name: path, timeout: 50 }), ConnectTimeoutError, path);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("listen/connect: a plain name, with framing and maxFrame applied on both sides", async () => {
  const name = `duct-unit-${crypto.randomUUID().slice(0, 8)}`;
  const framing: Framing = "line";
  const listener = await listen({ name, framing, maxFrame: 8 });
  try {
    assertStrictEquals(listener.endpoint.name, name);
    const accepting = listener.accept();
    const client = await connect({ name, framing, maxFrame: 8, timeout: 5000 });
    const server = await accepting;
    assert(server !== null);
    assertStrictEquals(server.framing, "line");
    await client.send("fits");
    assertEquals(await server.receive(), bytes("fits"));
    await assertRejects(() => client.send("too long!"), FrameTooLargeError);
    await server.send("ok");
    assertEquals(await client.receive(), bytes("ok"));
    await client.close();
    assertStrictEquals(await server.receive(), null);
    await server.close();
  } finally {
    listener.close();
  }
});
