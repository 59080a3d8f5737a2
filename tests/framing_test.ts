/**
 * Tests of `lib/framing.ts`: encoding a frame, the checks of a payload, `concat`. The decoder:
 * `frame_decoder_test.ts`.
 *
 * @module
 */

import { concat, DEFAULT_MAX_FRAME, encodeFrame, FRAMINGS } from "../lib/framing.ts";
import { FrameTooLargeError, InvalidFrameError } from "../lib/errors.ts";
import { assertEquals, assertStrictEquals, assertStringIncludes, assertThrows } from "./_assert.ts";
import { bytes, frameOverhead } from "./_helpers.ts";

// ---------------------------------------------------------------------------------------------
// encodeFrame

Deno.test("encodeFrame length: 4-byte big-endian header, payload passed through uncopied", () => {
  const payload = new Uint8Array(0x010203);
  const [header, body] = encodeFrame(payload);
  assertEquals(header, Uint8Array.of(0x00, 0x01, 0x02, 0x03));
  assertStrictEquals(body, payload);
  assertEquals(encodeFrame(new Uint8Array(0)), [Uint8Array.of(0, 0, 0, 0), new Uint8Array(0)]);
});

Deno.test("encodeFrame line and nul: payload then terminator", () => {
  assertEquals(concat(encodeFrame(bytes("hi"), { framing: "line" })), bytes("hi\n"));
  assertEquals(concat(encodeFrame(bytes("hi"), { framing: "nul" })), bytes("hi\0"));
  assertEquals(concat(encodeFrame(new Uint8Array(0), { framing: "line" })), bytes("\n"));
  assertEquals(concat(encodeFrame(new Uint8Array(0), { framing: "nul" })), bytes("\0"));
});

Deno.test("encodeFrame rejects a payload holding the delimiter with InvalidFrameError", () => {
  assertThrows(() => encodeFrame(bytes("a\nb"), { framing: "line" }), InvalidFrameError, "newline");
  assertThrows(() => encodeFrame(bytes("\n"), { framing: "line" }), InvalidFrameError);
  assertThrows(() => encodeFrame(bytes("a\0b"), { framing: "nul" }), InvalidFrameError, "NUL");
  // Each framing only cares about its own delimiter; length framing carries anything.
  assertEquals(concat(encodeFrame(bytes("a\0b"), { framing: "line" })), bytes("a\0b\n"));
  assertEquals(concat(encodeFrame(bytes("a\nb"), { framing: "nul" })), bytes("a\nb\0"));
  assertEquals(concat(encodeFrame(bytes("\n\0"))), Uint8Array.of(0, 0, 0, 2, 0x0a, 0));
});

Deno.test("encodeFrame accepts exactly maxFrame and rejects maxFrame + 1, in every framing", () => {
  for (const framing of FRAMINGS) {
    const max = 10;
    const ok = encodeFrame(new Uint8Array(max).fill(65), { framing, maxFrame: max });
    assertEquals(concat(ok).length, max + frameOverhead(framing, max), framing);
    const error = assertThrows(
      () => encodeFrame(new Uint8Array(max + 1).fill(65), { framing, maxFrame: max }),
      FrameTooLargeError,
      "(maxFrame)",
    );
    assertEquals([error.size, error.maxFrame], [max + 1, max], framing);
  }
});

Deno.test("encodeFrame defaults to a 16 MiB maximum", () => {
  assertEquals(DEFAULT_MAX_FRAME, 16 * 1024 * 1024);
  assertEquals(encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME)).length, 2);
  assertThrows(() => encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME + 1)), FrameTooLargeError);
});

// ---------------------------------------------------------------------------------------------
// concat

Deno.test("concat joins parts and returns a single part as is", () => {
  const one = Uint8Array.of(1, 2);
  assertStrictEquals(concat([one]), one);
  assertEquals(concat([one, new Uint8Array(0), Uint8Array.of(3)]), Uint8Array.of(1, 2, 3));
  assertEquals(concat([]), new Uint8Array(0));
});

Deno.test("FRAMINGS lists the four framings", () => {
  assertEquals([...FRAMINGS], ["length", "line", "nul", "content-length"]);
  assertStringIncludes(new FrameTooLargeError(2, 1).message, "2 bytes");
});

Deno.test("encoder (line): a payload ending in \\r is refused, since receivers drop it", () => {
  assertThrows(() => encodeFrame(bytes("abc\r"), { framing: "line" }), InvalidFrameError);
  assertEquals(encodeFrame(bytes("abc\r"), { framing: "nul" }).length, 2);
});
