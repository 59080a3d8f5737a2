/**
 * `receive({ signal })` (issue 18): an aborted receive rejects with the signal's reason and loses
 * nothing — bytes read before or after the abort make whole frames for the next receive, and a
 * failure of the read it left running is reported by the next receive, never unhandled.
 */

import { Connection } from "../lib/connection.ts";
import { concat, encodeFrame } from "../lib/framing.ts";
import { FrameTooLargeError } from "../lib/errors.ts";
import { assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";
import { memoryPair, text } from "./_helpers.ts";

const encoder = new TextEncoder();

function frame(message: string): Uint8Array {
  return concat(encodeFrame(encoder.encode(message), { framing: "length" }));
}

Deno.test("receive({ signal }): AbortSignal.timeout rejects with TimeoutError, nothing read", async () => {
  const [near, far] = memoryPair();
  const conn = new Connection(near);
  const error = await assertRejects(() => conn.receive({ signal: AbortSignal.timeout(20) }));
  assertStrictEquals((error as DOMException).name, "TimeoutError");
  // The read the aborted receive started goes on: the frame it brings is the next one received.
  await far.write(frame("after"));
  assertEquals(text((await conn.receive())!), "after");
  far.close();
  assertStrictEquals(await conn.receive(), null);
});

Deno.test("receive({ signal }): aborted in the middle of a frame, the frame still arrives whole", async () => {
  const [near, far] = memoryPair();
  const conn = new Connection(near);
  const second = frame("second, in two parts");
  // The first frame and half the second in one write: once the first is received, the half is
  // in the connection's buffer.
  await far.write(Uint8Array.of(...frame("first"), ...second.subarray(0, 7)));
  assertEquals(text((await conn.receive())!), "first");
  const controller = new AbortController();
  const pending = conn.receive({ signal: controller.signal });
  const reason = new Error("gave up");
  controller.abort(reason);
  assertStrictEquals(await pending.catch((error) => error), reason);
  await far.write(second.subarray(7));
  await far.write(frame("third"));
  assertEquals(text((await conn.receive())!), "second, in two parts");
  assertEquals(text((await conn.receive({ signal: AbortSignal.timeout(5000) }))!), "third");
  // An already aborted signal takes nothing either.
  await far.write(frame("fourth"));
  await assertRejects(() => conn.receive({ signal: AbortSignal.abort() }));
  assertEquals(text((await conn.receive())!), "fourth");
  // And the connection is still usable both ways.
  await conn.send("still open");
  await conn.close();
});

Deno.test("receive({ signal }): a failure of the read left running is the next receive's", async () => {
  const [near, far] = memoryPair();
  const conn = new Connection(near, { maxFrame: 16 });
  const controller = new AbortController();
  const pending = conn.receive({ signal: controller.signal });
  controller.abort();
  await assertRejects(() => pending);
  // A header announcing more than maxFrame arrives while nobody waits.
  await far.write(frame("x".repeat(100)));
  await assertRejects(() => conn.receive(), FrameTooLargeError);
  await assertRejects(() => conn.receive(), FrameTooLargeError);
});
