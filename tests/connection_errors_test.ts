/**
 * What a `Connection` throws when the transport fails or the peer breaks the protocol: always a
 * `DuctError`, and the connection closes itself so that the peer is not left waiting.
 */

import { Connection } from "../lib/connection.ts";
import { ConnectionClosedError, FrameTooLargeError, ProtocolError } from "../lib/errors.ts";
import { connect, listen } from "../lib/mod.ts";
import type { ByteConn } from "../lib/transport.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { bytes, memoryPair } from "./_helpers.ts";

const UNIX_ONLY = { ignore: Deno.build.os === "windows" };

/** A transport whose reads and writes fail with `error`, as a socket does after a reset. */
function failingConn(error: Error): ByteConn & { closed: boolean } {
  return {
    closed: false,
    read: () => Promise.reject(error),
    write: () => Promise.reject(error),
    closeWrite: () => Promise.reject(error),
    close() {
      this.closed = true;
    },
  };
}

Deno.test("connection errors: a reset read rejects with ConnectionClosedError, cause kept", async () => {
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
  const raw = failingConn(reset);
  const conn = new Connection(raw);
  const error = await assertRejects(() => conn.receive(), ConnectionClosedError);
  assertStrictEquals(error.message, "cannot receive: the peer closed the connection");
  assertStrictEquals(error.cause, reset);
  // Later calls fail the same way, and the library has released the transport.
  assertStrictEquals(await assertRejects(() => conn.receive(), ConnectionClosedError), error);
  assert(raw.closed, "the transport was closed");
});

Deno.test("connection errors: any other transport failure becomes ConnectionClosedError", async () => {
  // What a transport without named errors (or a platform error class) throws.
  const odd = new Error("The handle is invalid.");
  const conn = new Connection(failingConn(odd));
  await conn.send("x"); // accepted: the write fails afterwards
  const sent = await assertRejects(() => conn.flush(), ConnectionClosedError);
  assertStrictEquals(sent.message, "cannot send: the connection failed (The handle is invalid.)");
  assertStrictEquals(sent.cause, odd);
  const received = await assertRejects(() => conn.receive(), ConnectionClosedError);
  assertStrictEquals(received.cause, odd);
  const closing = new Connection(failingConn(odd));
  await assertRejects(() => closing.closeWrite(), ConnectionClosedError, "cannot close");
});

Deno.test("connection errors: after a protocol error the library closes the connection", async () => {
  const [rawA, rawB] = memoryPair();
  const b = new Connection(rawB);
  await rawA.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  const error = await assertRejects(() => b.receive(), FrameTooLargeError);
  // Nobody called close, yet the peer sees end of stream instead of waiting forever.
  assertStrictEquals(await rawA.read(new Uint8Array(8)), null);
  assert(rawB.closed, "the transport was closed");
  assertStrictEquals(await assertRejects(() => b.receive(), FrameTooLargeError), error);
  await assertRejects(() => b.send("late"), ConnectionClosedError);
});

Deno.test("connection errors: a bad header read together with good frames rejects in turn", async () => {
  // Frames already decoded take a path of their own in `receive`; the error must still come in
  // order, close the connection and repeat for every later call.
  const [rawA, rawB] = memoryPair();
  const b = new Connection(rawB);
  await rawA.write(Uint8Array.of(0, 0, 0, 1, 65, 0, 0, 0, 1, 66, 0xff, 0xff, 0xff, 0xff));
  assertEquals(await b.receive(), bytes("A"));
  assertEquals(await b.receive(), bytes("B"));
  const error = await assertRejects(() => b.receive(), FrameTooLargeError);
  assertStrictEquals(await assertRejects(() => b.receiveInto(new Uint8Array(8))), error);
  assertStrictEquals(await rawA.read(new Uint8Array(8)), null);
  assert(rawB.closed, "the transport was closed");
});

Deno.test("connection errors: replies sent before a protocol error still reach the peer", async () => {
  const [rawA, rawB] = memoryPair();
  const b = new Connection(rawB);
  await rawA.write(Uint8Array.of(0, 0, 0, 2, 104, 105, 0, 0, 0, 9, 1));
  await rawA.closeWrite();
  const first = await b.receive();
  const reply = b.send(first!);
  await assertRejects(() => b.receive(), ProtocolError, "1 of 9 bytes");
  await reply;
  const received = [];
  for (let count; (count = await rawA.read(new Uint8Array(16))) !== null;) received.push(count);
  assertEquals(received.reduce((sum, count) => sum + count, 0), 6, "the echo, then end of stream");
});

Deno.test({
  name:
    "connection errors: a real socket's BrokenPipe and ConnectionReset are ConnectionClosedError",
  ...UNIX_ONLY,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/reset.sock`;
      await using listener = await listen({ name: path });
      // A raw peer that sends a frame and closes without reading the echo: the echo then sits
      // unread in its buffer, so the kernel resets the connection.
      const peer = await Deno.connect({ transport: "unix", path });
      const conn = (await listener.accept())!;
      await peer.write(Uint8Array.of(0, 0, 0, 2, 104, 105));
      assertEquals(await conn.receive(), bytes("hi"));
      await conn.send("hi");
      peer.close();
      const reset = await assertRejects(() => conn.receive(), ConnectionClosedError);
      assert(reset.cause instanceof Deno.errors.ConnectionReset, String(reset.cause));
      await conn.close();

      // A client whose server has gone: its sends fail with the same class.
      const client = await connect({ name: path });
      const served = (await listener.accept())!;
      served.abort();
      let failure: unknown;
      for (let i = 0; i < 100 && failure === undefined; i++) {
        await client.send(new Uint8Array(64 * 1024)).catch((error) => failure = error);
      }
      assert(failure instanceof ConnectionClosedError, String(failure));
      assert(failure.cause instanceof Deno.errors.BrokenPipe, String(failure.cause));
      await client.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("connection errors: keepOpenAfterError leaves replies after the error to the caller", async () => {
  const [rawA, rawB] = memoryPair();
  const b = new Connection(rawB, { keepOpenAfterError: true });
  await rawA.write(Uint8Array.of(0, 0, 0, 2, 104, 105, 0xff, 0xff, 0xff, 0xff));
  const first = await b.receive();
  await assertRejects(() => b.receive(), FrameTooLargeError);
  assert(!rawB.closed, "the connection stayed open");
  // A reply sent after the error (as a server that prints first does) still goes out.
  await b.send(first!);
  await b.close();
  assertEquals(rawA.takeReceived(), Uint8Array.of(0, 0, 0, 2, 104, 105));
  assert(rawA.ended, "then the peer sees end of stream");
});
