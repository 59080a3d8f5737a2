/**
 * Tests of `lib/content_length.ts` and of the `content-length` framing through `FrameDecoder`:
 * the LSP header in every form a peer may send it, and every malformed header refused with a
 * `ProtocolError` naming what was wrong, before anything of the announced size is allocated.
 *
 * @module
 */

import { FrameDecoder } from "../lib/frame_decoder.ts";
import { concat, encodeFrame } from "../lib/framing.ts";
import { FrameTooLargeError, ProtocolError } from "../lib/errors.ts";
import {
  contentLengthHeaderBytes,
  findHeaderEnd,
  MAX_CONTENT_LENGTH_HEADER,
  plainContentLength,
  writeContentLengthHeader,
} from "../lib/content_length.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_assert.ts";
import { bytes, text } from "./_helpers.ts";

const framing = "content-length";

function decodeAll(wire: string | Uint8Array, maxFrame?: number): string[] {
  const decoder = new FrameDecoder({ framing, maxFrame });
  decoder.push(typeof wire === "string" ? bytes(wire) : wire);
  const frames: string[] = [];
  for (let frame; (frame = decoder.next()) !== undefined;) frames.push(text(frame));
  assertStrictEquals(decoder.end(), undefined);
  return frames;
}

function refusal(wire: string, maxFrame?: number): ProtocolError {
  const decoder = new FrameDecoder({ framing, maxFrame });
  decoder.push(bytes(wire));
  return assertThrows(() => {
    while (decoder.next() !== undefined);
  }, ProtocolError);
}

Deno.test("content-length: the encoder writes the LSP header", () => {
  const wire = concat(encodeFrame(bytes('{"a":1}'), { framing }));
  assertEquals(text(wire), 'Content-Length: 7\r\n\r\n{"a":1}');
  const target = new Uint8Array(40);
  assertEquals(writeContentLengthHeader(target, 3, 1234), contentLengthHeaderBytes(1234));
  assertEquals(text(target.subarray(3, 3 + 24)), "Content-Length: 1234\r\n\r\n");
});

Deno.test("content-length: names case-insensitive, any order, Content-Type and spaces allowed", () => {
  const wire =
    "content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:2\r\n\r\nhi" +
    "Content-Length:   3  \r\nX-Other: x\r\n\r\nabc" + "Content-Length: 0\r\n\r\n";
  assertEquals(decodeAll(wire), ["hi", "abc", ""]);
});

Deno.test("content-length: a body holding blank lines and headers is taken by its length", () => {
  const body = "\r\n\r\nContent-Length: 99\r\n\r\n";
  assertEquals(decodeAll(`Content-Length: ${body.length}\r\n\r\n${body}`), [body]);
});

Deno.test("content-length: a header arriving byte by byte, each frame out when complete", () => {
  const wire = bytes("Content-Length: 3\r\n\r\nabcContent-Length: 1\r\n\r\nz");
  const decoder = new FrameDecoder({ framing });
  const frames: string[] = [];
  for (let i = 0; i < wire.length; i++) {
    decoder.push(wire.slice(i, i + 1));
    for (let frame; (frame = decoder.next()) !== undefined;) frames.push(text(frame));
    if (i === 23) assertEquals(frames, ["abc"]);
  }
  assertEquals(frames, ["abc", "z"]);
});

Deno.test("content-length: each malformed header is a ProtocolError naming what was wrong", () => {
  const cases: [string, string][] = [
    ["Content-Type: text/plain\r\n\r\nxx", "has no Content-Length"],
    ["Content-Length: 2\r\ncontent-length: 2\r\n\r\nxx", "Content-Length given twice"],
    ["Content-Length: -2\r\n\r\nxx", "Content-Length is negative (-2)"],
    ["Content-Length: 0x10\r\n\r\nxx", 'Content-Length "0x10" is not a decimal number'],
    ["Content-Length: 1e3\r\n\r\nxx", 'Content-Length "1e3" is not a decimal number'],
    ["Content-Length: \r\n\r\nxx", 'Content-Length "" is not a decimal number'],
    ["Content-Length: 2.0\r\n\r\nxx", 'Content-Length "2.0" is not a decimal number'],
    ["Content-Length 2\r\n\r\nxx", 'header line "Content-Length 2" has no colon'],
  ];
  for (const [wire, message] of cases) {
    const error = refusal(wire);
    assert(error.message.includes(message), `${JSON.stringify(wire)}: ${error.message}`);
  }
});

Deno.test("content-length: an oversized length is refused without allocating it", () => {
  for (const announced of ["65", "4294967296", "99999999999999999999999999"]) {
    const error = refusal(`Content-Length: ${announced}\r\n\r\n`, 64);
    assert(error.message.includes(`Content-Length ${announced} is larger than the maximum of 64`));
    assert(error.cause instanceof FrameTooLargeError);
  }
  // 2 GiB announced with the default limit raised: nothing is reserved until bytes arrive.
  const decoder = new FrameDecoder({ framing, maxFrame: 0xffff_ffff });
  decoder.push(bytes("Content-Length: 2147483648\r\n\r\nab"));
  assertStrictEquals(decoder.next(), undefined);
  assertStrictEquals(decoder.directTarget(1024), undefined, "no buffer of the announced size");
  assertStrictEquals(decoder.buffered, 2);
});

Deno.test("content-length: a header longer than 8 KiB without its blank line is refused", () => {
  const decoder = new FrameDecoder({ framing });
  const line = bytes(`X-Padding: ${"p".repeat(1000)}\r\n`);
  let error: unknown;
  try {
    for (let i = 0; i < 20 && error === undefined; i++) {
      decoder.push(line.slice());
      decoder.next();
    }
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof ProtocolError, `got ${error}`);
  assert(
    error.message.includes(`no blank line ends the header within ${MAX_CONTENT_LENGTH_HEADER}`),
  );
  assert(decoder.buffered < MAX_CONTENT_LENGTH_HEADER + line.length);
  // Just under the bound is still fine.
  const padding = "p".repeat(MAX_CONTENT_LENGTH_HEADER - 50);
  assertEquals(decodeAll(`X-Padding: ${padding}\r\nContent-Length: 1\r\n\r\nq`), ["q"]);
});

Deno.test("content-length: a stream cut in the header or the body is a ProtocolError", () => {
  for (
    const [wire, what] of [["Content-Len", "a Content-Length header"], [
      "Content-Length: 5\r\n\r\nab",
      "a frame (2 of 5 bytes)",
    ]]
  ) {
    const decoder = new FrameDecoder({ framing });
    decoder.push(bytes(wire));
    assertStrictEquals(decoder.next(), undefined);
    assertThrows(() => decoder.end(), ProtocolError, what);
  }
});

Deno.test("content-length: findHeaderEnd finds the blank line from where it was left", () => {
  const wire = bytes("A: 1\r\nB: 2\r\n\r\n");
  assertEquals(findHeaderEnd(wire, 0), 10);
  assertEquals(findHeaderEnd(wire, 9), 10);
  assertEquals(findHeaderEnd(wire.subarray(0, 13), 0), -1);
});

Deno.test("content-length: the plain header is read in place; every other form as before", () => {
  const at = (wire: string, offset = 0) => plainContentLength(bytes(wire), offset);
  assertEquals(at("Content-Length: 12\r\n\r\n"), 12);
  assertEquals(at("xxContent-Length: 0\r\n\r\n", 2), 0);
  assertEquals(at(`Content-Length: ${"9".repeat(15)}\r\n\r\n`), 999_999_999_999_999);
  // Anything else is left to the general parser, which reads or refuses it.
  for (
    const other of [
      "content-length: 12\r\n\r\n", // another case
      "Content-Length:  12\r\n\r\n", // another spacing
      "Content-Length: 012\r\n\r\n", // a leading zero
      "Content-Length: 12\r\nContent-Type: x\r\n\r\n", // another header
      "Content-Length: -1\r\n\r\n",
      "Content-Length: 12\r\n\r", // not all here yet
      `Content-Length: ${"9".repeat(16)}\r\n\r\n`, // too long to be exact
    ]
  ) assertEquals(at(other), -1, other);
  // Both paths give the same frames, cut anywhere: plain headers mixed with the other forms.
  const wire = bytes(
    "Content-Length: 2\r\n\r\nhicontent-length: 3\r\n\r\nabcContent-Length: 003\r\n\r\nxyz" +
      "Content-Length: 0\r\n\r\nContent-Length: 1\r\nContent-Type: t\r\n\r\n!",
  );
  for (let cut = 1; cut < wire.length; cut++) {
    const decoder = new FrameDecoder({ framing });
    const frames: string[] = [];
    for (const part of [wire.slice(0, cut), wire.slice(cut)]) {
      decoder.push(part);
      for (let frame; (frame = decoder.next()) !== undefined;) frames.push(text(frame));
    }
    assertEquals(frames, ["hi", "abc", "xyz", "", "!"], `cut at ${cut}`);
  }
  // A plain header over maxFrame gets the general path's refusal.
  const error = refusal("Content-Length: 11\r\n\r\n", 10);
  assert(error.message.includes("maxFrame") && error.cause instanceof FrameTooLargeError);
});
