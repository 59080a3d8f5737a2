/**
 * The `content-length` framing's header, in one place: the LSP base protocol's
 * `Content-Length: N\r\n` (other `Name: value\r\n` lines allowed, names case-insensitive, any
 * order), then a blank `\r\n`, then exactly `N` payload bytes. The encoder, the decoder and a
 * connection's write batches all use these.
 *
 * @module
 */

import { FrameTooLargeError, ProtocolError } from "./errors.ts";

/**
 * Longest header section, its blank line included: a peer that sends more without the blank line
 * is refused rather than buffered.
 */
export const MAX_CONTENT_LENGTH_HEADER = 8 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const ZERO = 0x30;
const PREFIX = "Content-Length: ";
const PREFIX_BYTES = new TextEncoder().encode(PREFIX);
const latin1 = new TextDecoder("latin1");

/**
 * Bytes of the header announcing a payload of `size` bytes (`Content-Length: N\r\n\r\n`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { contentLengthHeaderBytes } from "./content_length.ts";
 * assertEquals(contentLengthHeaderBytes(42), "Content-Length: 42\r\n\r\n".length);
 * ```
 */
export function contentLengthHeaderBytes(size: number): number {
  return PREFIX.length + String(size).length + 4;
}

/**
 * Writes the header announcing a payload of `size` bytes at `target[at…]` and returns its length
 * ({@linkcode contentLengthHeaderBytes}); the caller makes sure it fits.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { writeContentLengthHeader } from "./content_length.ts";
 * const target = new Uint8Array(32);
 * const size = writeContentLengthHeader(target, 0, 7);
 * assertEquals(new TextDecoder().decode(target.subarray(0, size)), "Content-Length: 7\r\n\r\n");
 * ```
 */
export function writeContentLengthHeader(target: Uint8Array, at: number, size: number): number {
  const start = at;
  for (let i = 0; i < PREFIX.length; i++) target[at++] = PREFIX.charCodeAt(i);
  const digits = String(size);
  for (let i = 0; i < digits.length; i++) target[at++] = digits.charCodeAt(i);
  target[at++] = CR;
  target[at++] = LF;
  target[at++] = CR;
  target[at++] = LF;
  return at - start;
}

/**
 * The payload size announced by a header section that is exactly `Content-Length: N\r\n\r\n`
 * at `bytes[at…]` (how duct, vscode-jsonrpc and most LSP peers write it: no other header, no
 * leading zero), read without decoding text; -1 for anything else, which
 * {@linkcode parseContentLengthHeader} then reads (and judges) in full. The section's length is
 * {@linkcode contentLengthHeaderBytes} of the size.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { plainContentLength } from "./content_length.ts";
 * const bytes = new TextEncoder().encode("Content-Length: 12\r\n\r\n{}");
 * assertEquals(plainContentLength(bytes, 0), 12);
 * assertEquals(plainContentLength(new TextEncoder().encode("content-length: 12\r\n\r\n"), 0), -1);
 * ```
 */
export function plainContentLength(bytes: Uint8Array, at: number): number {
  const end = bytes.length;
  if (end - at < PREFIX.length + 5) return -1;
  for (let i = 0; i < PREFIX.length; i++) {
    if (bytes[at + i] !== PREFIX_BYTES[i]) return -1;
  }
  let i = at + PREFIX.length;
  let size = 0;
  const first = i;
  // At most 15 digits: a number that is still exact.
  for (; i < end && i - first < 16; i++) {
    const digit = bytes[i] - ZERO;
    if (digit < 0 || digit > 9) break;
    size = size * 10 + digit;
  }
  const digits = i - first;
  if (digits === 0 || digits > 15 || (digits > 1 && bytes[first] === ZERO)) return -1;
  if (end - i < 4) return -1;
  if (bytes[i] !== CR || bytes[i + 1] !== LF || bytes[i + 2] !== CR || bytes[i + 3] !== LF) {
    return -1;
  }
  return size;
}

/**
 * Where the blank line ending a header section starts in `bytes` (the index of its `\r\n\r\n`),
 * searching from `from`; -1 if it is not there yet.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { findHeaderEnd } from "./content_length.ts";
 * assertEquals(findHeaderEnd(new TextEncoder().encode("A: 1\r\n\r\nbody"), 0), 4);
 * ```
 */
export function findHeaderEnd(bytes: Uint8Array, from: number): number {
  for (
    let i = bytes.indexOf(CR, from);
    i >= 0 && i + 3 < bytes.length;
    i = bytes.indexOf(CR, i + 1)
  ) {
    if (bytes[i + 1] === LF && bytes[i + 2] === CR && bytes[i + 3] === LF) return i;
  }
  return -1;
}

/**
 * The payload size a header section announces (`header` without its final `\r\n\r\n`).
 *
 * @throws {ProtocolError} naming what is wrong: a line without a colon, no `Content-Length`, one
 * given twice, or a value that is negative, not a decimal number, or larger than `maxFrame` (the
 * `cause` is then a {@linkcode FrameTooLargeError}). Nothing of the announced size is allocated.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseContentLengthHeader } from "./content_length.ts";
 * const header = new TextEncoder().encode("content-type: application/json\r\nCONTENT-LENGTH: 12");
 * assertEquals(parseContentLengthHeader(header, 1024), 12);
 * ```
 */
export function parseContentLengthHeader(header: Uint8Array, maxFrame: number): number {
  let size = -1;
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(CR, start);
    while (end >= 0 && header[end + 1] !== LF) end = header.indexOf(CR, end + 1);
    if (end < 0) end = header.length;
    const colon = header.indexOf(COLON, start);
    if (colon < 0 || colon >= end) {
      throw new ProtocolError(
        `content-length framing: header line ${quote(header.subarray(start, end))} has no colon`,
      );
    }
    const name = latin1.decode(header.subarray(start, colon)).trim().toLowerCase();
    if (name === "content-length") {
      if (size >= 0) throw new ProtocolError("content-length framing: Content-Length given twice");
      size = parseSize(header.subarray(colon + 1, end), maxFrame);
    }
    start = end + 2;
  }
  if (size < 0) {
    throw new ProtocolError("content-length framing: a header section has no Content-Length");
  }
  return size;
}

function parseSize(raw: Uint8Array, maxFrame: number): number {
  const value = latin1.decode(raw).trim();
  if (value.startsWith("-") && /^-\d+$/.test(value)) {
    throw new ProtocolError(`content-length framing: Content-Length is negative (${value})`);
  }
  if (!/^\d+$/.test(value)) {
    throw new ProtocolError(
      `content-length framing: Content-Length ${quote(raw)} is not a decimal number`,
    );
  }
  // Compared as a number only once short enough to be exact.
  const size = value.length > 15 ? Infinity : Number(value);
  if (size > maxFrame) {
    const tooLarge = new FrameTooLargeError(size, maxFrame);
    throw new ProtocolError(
      `content-length framing: Content-Length ${value} is larger than the maximum of ` +
        `${maxFrame} bytes (maxFrame)`,
      { cause: tooLarge },
    );
  }
  return size;
}

// At most 40 characters of what the peer sent, escaped, for an error message.
function quote(bytes: Uint8Array): string {
  const text = latin1.decode(bytes.subarray(0, 40)).trim();
  return JSON.stringify(bytes.length > 40 ? `${text}…` : text);
}
