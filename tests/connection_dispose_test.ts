/**
 * `await using conn` when the peer has gone (issue 18): a finished conversation (`receive()`
 * returned `null`) ends quietly even if a frame sent after it could not be written; before the end
 * of stream, and for `close()` and `flush()` always, the loss is still reported. And this side's
 * `abort()` is no end of stream either: a frame it cuts short is `unfinished`, never received.
 */

import { Connection } from "../lib/connection.ts";
import { ConnectionClosedError } from "../lib/errors.ts";
import { assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { memoryPair, text } from "./_helpers.ts";

Deno.test("dispose: after receive() returned null, a send the peer never read does not throw", async () => {
  const [near, far] = memoryPair();
  await new Connection(far).send("bye");
  far.close();
  {
    await using conn = new Connection(near);
    assertEquals(text((await conn.receive())!), "bye");
    assertStrictEquals(await conn.receive(), null);
    await conn.send("one more"); // accepted: written only at disposal, to a peer that has gone
  } // leaving the block used to throw ConnectionClosedError
});

Deno.test("dispose: flush() still reports a frame lost after the end of stream", async () => {
  const [near, far] = memoryPair();
  far.close();
  await using conn = new Connection(near);
  assertStrictEquals(await conn.receive(), null);
  await conn.send("lost");
  await assertRejects(() => conn.flush(), ConnectionClosedError);
});

Deno.test("dispose: before the end of stream, a frame that could not be written is reported", async () => {
  const [near, far] = memoryPair();
  far.close(); // gone, but this side has not received the end of stream
  const conn = new Connection(near);
  await conn.send("lost");
  await assertRejects(() => conn[Symbol.asyncDispose](), ConnectionClosedError);
});

Deno.test("abort() is not an end of stream: an unfinished frame is kept aside, not received", async () => {
  const [near, far] = memoryPair();
  const conn = new Connection(near, { framing: "line" });
  await far.write(new TextEncoder().encode("whole\npartial"));
  assertEquals(text((await conn.receive())!), "whole");
  const pending = conn.receive();
  conn.abort();
  assertStrictEquals(await pending, null);
  assertEquals(text(conn.unfinished!), "partial");
});
