/**
 * Tests of `lib/frame_decoder.ts`, case by case: frames split anywhere, limits, the end of input,
 * and frames that stay intact as input buffers are reused. Random splits: `framing_stream_test.ts`.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME, FRAMINGS, MAX_LENGTH_HEADER } from "../lib/framing.ts";
import { FrameDecoder } from "../lib/frame_decoder.ts";
import { FrameTooLargeError, ProtocolError } from "../lib/errors.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_assert.ts";
import {
  bytes,
  cut,
  decodeChunks,
  delimiterOf,
  encodeAll,
  frameOverhead,
  SAMPLE,
  text,
} from "./_helpers.ts";

// ---------------------------------------------------------------------------------------------
// FrameDecoder: splits

for (const framing of FRAMINGS) {
  Deno.test(`decoder (${framing}): every split point, single and double, of several frames`, () => {
    const payloads = SAMPLE.map(bytes);
    const wire = encodeAll(payloads, framing);
    for (let i = 0; i <= wire.length; i++) {
      assertEquals(decodeChunks(cut(wire, [i]), { framing }), payloads, `cut at ${i}`);
      for (let j = i; j <= wire.length; j++) {
        assertEquals(decodeChunks(cut(wire, [i, j]), { framing }), payloads, `cut at ${i},${j}`);
      }
    }
  });

  Deno.test(`decoder (${framing}): byte by byte, each frame out as soon as it is complete`, () => {
    const payloads = SAMPLE.map(bytes);
    // Where each frame's last byte lies on the wire.
    const ends: number[] = [];
    let offset = 0;
    for (const payload of payloads) {
      offset += payload.length + frameOverhead(framing, payload.length);
      ends.push(offset);
    }
    const wire = encodeAll(payloads, framing);
    const decoder = new FrameDecoder({ framing });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < wire.length; i++) {
      decoder.push(wire.slice(i, i + 1));
      for (let frame; (frame = decoder.next()) !== undefined;) frames.push(frame);
      assertEquals(frames.length, ends.filter((end) => end <= i + 1).length, `after byte ${i}`);
    }
    assertStrictEquals(decoder.end(), undefined);
    assertEquals(frames, payloads);
    assertStrictEquals(decoder.buffered, 0);
  });

  Deno.test(`decoder (${framing}): many frames in one chunk, in order`, () => {
    const payloads = Array.from({ length: 1000 }, (_, i) => bytes(`frame ${i}`));
    const decoder = new FrameDecoder({ framing });
    decoder.push(encodeAll(payloads, framing));
    const frames: Uint8Array[] = [];
    for (let frame; (frame = decoder.next()) !== undefined;) frames.push(frame);
    assertEquals(frames.map(text), payloads.map(text));
    assertStrictEquals(decoder.buffered, 0);
  });

  Deno.test(`decoder (${framing}): zero-length frames`, () => {
    const empty = new Uint8Array(0);
    const wire = encodeAll([empty, empty, bytes("a"), empty], framing);
    assertEquals(wire.length, 1 + 3 * frameOverhead(framing, 0) + frameOverhead(framing, 1));
    assertEquals(decodeChunks([wire], { framing }), [empty, empty, bytes("a"), empty]);
  });

  Deno.test(`decoder (${framing}): exactly maxFrame accepted, maxFrame + 1 rejected`, () => {
    const max = 64;
    const fits = new Uint8Array(max).fill(65);
    assertEquals(decodeChunks([encodeAll([fits], framing)], { framing, maxFrame: max }), [fits]);

    const tooBig = new Uint8Array(max + 1).fill(65);
    const wire = encodeAll([tooBig], framing, max + 1);
    const decoder = new FrameDecoder({ framing, maxFrame: max });
    decoder.push(wire);
    // content-length: a ProtocolError (the contract for a bad header) whose cause says
    // by how much, as the others' FrameTooLargeError does.
    const thrown = framing === "content-length"
      ? assertThrows(() => decoder.next(), ProtocolError, "Content-Length 65").cause
      : assertThrows(() => decoder.next(), FrameTooLargeError);
    assert(thrown instanceof FrameTooLargeError);
    assertEquals([thrown.size, thrown.maxFrame], [max + 1, max]);
  });
}

for (const framing of ["line", "nul"] as const) {
  Deno.test(`decoder (${framing}): an unterminated frame is rejected once it passes maxFrame`, () => {
    const max = 64;
    const decoder = new FrameDecoder({ framing, maxFrame: max });
    decoder.push(new Uint8Array(max).fill(65));
    assertStrictEquals(decoder.next(), undefined, "maxFrame bytes without delimiter may still fit");
    decoder.push(Uint8Array.of(65));
    assertThrows(() => decoder.next(), FrameTooLargeError);
  });

  Deno.test(`decoder (${framing}): an over-long frame's error names no made-up size`, () => {
    // 20 KiB arriving in one chunk against a 1 KiB limit: the frame's size is unknown.
    const decoder = new FrameDecoder({ framing, maxFrame: 1024 });
    decoder.push(new Uint8Array(20 * 1024).fill(65));
    const error = assertThrows(() => decoder.next(), FrameTooLargeError);
    const delimiter = framing === "nul" ? "NUL" : "newline";
    assertStrictEquals(
      error.message,
      `more than the maximum of 1024 bytes (maxFrame) arrived without a ${delimiter}`,
    );
    assertEquals([error.size, error.maxFrame], [20 * 1024, 1024]);
  });

  Deno.test(`decoder (${framing}): an unterminated last frame is delivered at end`, () => {
    const decoder = new FrameDecoder({ framing });
    decoder.push(bytes("first"));
    decoder.push(Uint8Array.of(delimiterOf(framing)));
    decoder.push(bytes("sec"));
    decoder.push(bytes("ond"));
    assertEquals(decoder.next(), bytes("first"));
    assertStrictEquals(decoder.next(), undefined);
    assertEquals(decoder.end(), bytes("second"));
    assertStrictEquals(decoder.buffered, 0);
  });

  Deno.test(`decoder (${framing}): end after whole frames returns undefined`, () => {
    const decoder = new FrameDecoder({ framing });
    assertStrictEquals(decoder.end(), undefined);
    decoder.push(encodeAll([bytes("a")], framing));
    assertEquals(decoder.next(), bytes("a"));
    assertStrictEquals(decoder.end(), undefined);
  });
}

Deno.test("decoder (line): a trailing \\r is stripped, only one, only at the end", () => {
  const frames = decodeChunks([bytes("a\r\nb\n\r\nc\rd\r\ne\r\r\n")], { framing: "line" });
  assertEquals(frames.map(text), ["a", "b", "", "c\rd", "e\r"]);
  // \r and \n in different chunks.
  assertEquals(decodeChunks([bytes("x\r"), bytes("\ny\r"), bytes("\n")], { framing: "line" }), [
    bytes("x"),
    bytes("y"),
  ]);
  // Also on the unterminated last line.
  assertEquals(decodeChunks([bytes("last\r")], { framing: "line" }), [bytes("last")]);
});

Deno.test("decoder (nul): \\r and \\n are payload bytes", () => {
  assertEquals(decodeChunks([bytes("a\r\n\0b\r\0")], { framing: "nul" }), [
    bytes("a\r\n"),
    bytes("b\r"),
  ]);
});

Deno.test("decoder (length): frames carry any byte, delimiters included", () => {
  const payloads = [Uint8Array.of(0, 10, 13, 255), bytes("a\r\n")];
  assertEquals(decodeChunks([encodeAll(payloads, "length")]), payloads);
});

Deno.test("decoder (length): a header of 0xFFFFFFFF is rejected without buffering", () => {
  assertEquals(MAX_LENGTH_HEADER, 0xffff_ffff);
  const decoder = new FrameDecoder();
  decoder.push(Uint8Array.of(0xff, 0xff));
  assertStrictEquals(decoder.next(), undefined);
  decoder.push(Uint8Array.of(0xff, 0xff, 1, 2, 3));
  const error = assertThrows(() => decoder.next(), FrameTooLargeError);
  assertEquals([error.size, error.maxFrame], [0xffff_ffff, DEFAULT_MAX_FRAME]);
  assertStrictEquals(decoder.buffered, 7);
});

Deno.test("decoder (length): an allowed huge header does not allocate the claimed size", () => {
  // With the maximum raised to 4 GiB - 1 the header is legal; allocating it up front would throw
  // a RangeError or exhaust memory. The decoder must wait, holding only what it was given.
  const decoder = new FrameDecoder({ maxFrame: MAX_LENGTH_HEADER });
  decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3));
  assertStrictEquals(decoder.next(), undefined);
  assertStrictEquals(decoder.buffered, 3);
  decoder.push(new Uint8Array(1000));
  assertStrictEquals(decoder.next(), undefined);
  assertStrictEquals(decoder.buffered, 1003);
  assertThrows(() => decoder.end(), ProtocolError, "1003 of 4294967295");
});

Deno.test("decoder (length): a header cut off at end is a ProtocolError", () => {
  for (let size = 1; size < 4; size++) {
    const decoder = new FrameDecoder();
    decoder.push(new Uint8Array(size));
    assertStrictEquals(decoder.next(), undefined);
    assertThrows(() => decoder.end(), ProtocolError, `length header (${size} of 4 bytes)`);
  }
});

Deno.test("decoder (length): a payload cut off at end is a ProtocolError", () => {
  const decoder = new FrameDecoder();
  decoder.push(Uint8Array.of(0, 0, 0, 5, 1, 2));
  assertStrictEquals(decoder.next(), undefined);
  assertThrows(() => decoder.end(), ProtocolError, "2 of 5 bytes");
});

Deno.test("decoder (length): a whole header and no payload at end is a ProtocolError", () => {
  const decoder = new FrameDecoder();
  decoder.push(Uint8Array.of(0, 0, 0, 5));
  assertStrictEquals(decoder.next(), undefined);
  assertStrictEquals(decoder.buffered, 0);
  assertThrows(() => decoder.end(), ProtocolError, "0 of 5 bytes");
});

Deno.test("decoder: returned frames are unaffected by later input", () => {
  for (const framing of FRAMINGS) {
    const decoder = new FrameDecoder({ framing });
    decoder.push(encodeAll([bytes("one"), bytes("two")], framing));
    const one = decoder.next();
    const two = decoder.next();
    decoder.push(encodeAll([bytes("three")], framing));
    assertEquals([one, two, decoder.next()].map((f) => f && text(f)), ["one", "two", "three"]);
  }
});

Deno.test("decoder (length): frames stay intact when the input buffer is reused, as a connection does", () => {
  // Small frames are copied out of the input many at a time (headers too) and handed out as views
  // of shared blocks; large ones are copied on their own. Whatever the cuts and the mix, every
  // frame must keep its bytes after the input buffer is overwritten by the next read.
  const sizes = [0, 1, 63, 64, 64, 1000, 1024, 1025, 3000, 17, 64, 16 * 1024, 5];
  const frames = Array.from({ length: 2000 }, (_, i) => {
    const frame = new Uint8Array(sizes[i % sizes.length]);
    for (let j = 0; j < frame.length; j++) frame[j] = (i * 31 + j) & 0xff;
    return frame;
  });
  const wire = encodeAll(frames, "length");
  const reads = [1, 7, 68, 4096, 16 * 1024 + 3, 70_000, 3];
  for (const maxFrame of [DEFAULT_MAX_FRAME, 16 * 1024]) {
    const decoder = new FrameDecoder({ maxFrame });
    const input = new Uint8Array(70_000);
    const received: Uint8Array[] = [];
    for (let at = 0, turn = 0; at < wire.length; turn++) {
      // Reused only once the decoder holds none of its bytes (see `Connection`'s reads).
      const buffer = decoder.buffered === 0 ? input.fill(0xee) : new Uint8Array(70_000);
      const count = Math.min(reads[turn % reads.length], wire.length - at);
      buffer.set(wire.subarray(at, at + count));
      at += count;
      decoder.push(buffer.subarray(0, count));
      for (let frame; (frame = decoder.next()) !== undefined;) received.push(frame);
    }
    assertStrictEquals(decoder.end(), undefined);
    assertStrictEquals(received.length, frames.length);
    for (let i = 0; i < frames.length; i++) assertEquals(received[i], frames[i], `frame ${i}`);
  }
});

Deno.test("decoder (line): a CRLF line whose payload is exactly maxFrame is accepted", () => {
  const max = 8;
  const decoder = new FrameDecoder({ framing: "line", maxFrame: max });
  decoder.push(new Uint8Array(max).fill(65));
  decoder.push(Uint8Array.of(0x0d));
  assertStrictEquals(decoder.next(), undefined);
  decoder.push(Uint8Array.of(0x0a));
  assertEquals(decoder.next(), new Uint8Array(max).fill(65));
});
