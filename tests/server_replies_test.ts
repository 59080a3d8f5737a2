/**
 * Unit tests of `cli/server_replies.ts`: replies waiting for their printed lines go out whole and
 * in order, short echoes copied (so the caller may reuse its buffer), long ones as given.
 *
 * @module
 */

import { Connection } from "../lib/connection.ts";
import { PendingReplies } from "../cli/server_replies.ts";
import { assertEquals, assertRejects } from "./_assert.ts";
import { bytes, memoryPair } from "./_helpers.ts";

const ACK = bytes("ok");

function connectionPair(framing: "length" | "line" = "length") {
  const [rawA, rawB] = memoryPair();
  return { a: new Connection(rawA, { framing }), b: new Connection(rawB, { framing }) };
}

async function receiveAll(conn: Connection): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for (let frame; (frame = await conn.receive()) !== null;) frames.push(frame.slice());
  return frames;
}

Deno.test("PendingReplies: echoes of every size go out whole, in order, after reuse of the input", async () => {
  for (const framing of ["length", "line"] as const) {
    const { a, b } = connectionPair(framing);
    const replies = new PendingReplies(Promise.resolve(), { ack: ACK });
    const sent: Uint8Array[] = [];
    const scratch = new Uint8Array(70_000);
    // Short and long echoes mixed, past the first buffer's size several times over.
    for (let i = 0; i < 3000; i++) {
      const size = i % 500 === 7 ? 1025 + i * 20 : i % 37;
      const payload = new Uint8Array(size).map((_, j) => 0x20 + ((i + j) % 90));
      sent.push(payload);
      // Short echoes come from a buffer the caller overwrites at once, as the decoder's are.
      if (size <= 1024) {
        scratch.set(payload);
        replies.echo(scratch.subarray(0, size));
        scratch.fill(0);
      } else {
        replies.echo(payload);
      }
    }
    await replies.sendTo(a);
    await a.closeWrite();
    const received = await receiveAll(b);
    assertEquals(received.length, sent.length, framing);
    assertEquals(received, sent, framing);
  }
});

Deno.test("PendingReplies: acks are counted and sent as the one ack payload", async () => {
  const { a, b } = connectionPair();
  const replies = new PendingReplies(Promise.resolve(), { ack: ACK });
  for (let i = 0; i < 1000; i++) replies.ack();
  await replies.sendTo(a);
  await a.closeWrite();
  const received = await receiveAll(b);
  assertEquals(received, Array.from({ length: 1000 }, () => ACK));
});

Deno.test("PendingReplies: sending to a closed connection rejects", async () => {
  const { a } = connectionPair();
  await a.close();
  const replies = new PendingReplies(Promise.resolve(), { ack: ACK });
  replies.ack();
  replies.ack();
  await assertRejects(() => replies.sendTo(a));
});
