/**
 * Tests of `cli/json_event.ts`: a large payload's event line, made piece by piece, is byte for
 * byte what `JSON.stringify` of the whole event gives, whatever the payload holds and wherever
 * its pieces end.
 *
 * @module
 */

import { payloadEventBytes, writePayloadEvent } from "../cli/json_event.ts";
import { payloadFields } from "../cli/output.ts";
import { assertEquals } from "./_assert.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PIECE = 3 * 16 * 1024;

function whole(fields: Record<string, string | number>, payload: Uint8Array): string {
  return JSON.stringify({ ...fields, ...payloadFields(payload) });
}

Deno.test("json event: a large payload's line is JSON.stringify's, byte for byte", () => {
  const fields = { event: "message", client: 7, bytes: 0 };
  // Text whose characters of 1 to 4 bytes straddle every piece boundary, with what JSON escapes.
  const unit = 'a\u00e9\u20ac\u{1f600}"\\\n\t\u0001\u2028\ufeff';
  const texts = [unit.repeat(20_000), "\ufeff" + "x".repeat(PIECE - 1) + "\u{1f600}".repeat(9)];
  for (const text of texts) {
    const payload = encoder.encode(text);
    const line = decoder.decode(payloadEventBytes(fields, payload, true));
    assertEquals(line, whole(fields, payload));
    assertEquals(JSON.parse(line).text, text);
  }
  // Binary of sizes around the pieces (base64 padding only at the very end).
  for (const size of [PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 2, 200_001]) {
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 131 + 7) & 0xff;
    payload[0] = 0xff; // not UTF-8
    assertEquals(decoder.decode(payloadEventBytes(fields, payload, false)), whole(fields, payload));
  }
  // No fields at all.
  const empty = payloadEventBytes({}, Uint8Array.of(0xff), false);
  assertEquals(decoder.decode(empty), '{"base64":"/w=="}');
});

Deno.test("json event: writePayloadEvent queues one line, small or large", async () => {
  const lines: string[] = [];
  const out = {
    line: (text: string) => (lines.push(text), Promise.resolve()),
    data: (bytes: Uint8Array) => (lines.push(decoder.decode(bytes)), Promise.resolve()),
  };
  const small = encoder.encode("hi");
  const large = new Uint8Array(100_000).fill(0xfe);
  await writePayloadEvent(out, { event: "reply" }, small);
  await writePayloadEvent(out, { event: "reply" }, large);
  assertEquals(lines, [whole({ event: "reply" }, small), whole({ event: "reply" }, large)]);
});
