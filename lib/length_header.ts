/**
 * The `length` framing's header, in one place: 4 bytes, the payload's size as an unsigned
 * big-endian integer. The encoder, the decoder and a connection's write batches all use these.
 *
 * @module
 */

/** Bytes of the `length` framing's header. */
export const HEADER_BYTES = 4;

/**
 * Writes the header announcing a payload of `size` bytes into `target[at, at + HEADER_BYTES)`.
 * `size` must be a whole number from 0 to `MAX_LENGTH_HEADER` (the frame limit's checks make sure).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { writeLengthHeader } from "./length_header.ts";
 * const header = new Uint8Array(4);
 * writeLengthHeader(header, 0, 258);
 * assertEquals(header, Uint8Array.of(0, 0, 1, 2));
 * ```
 */
export function writeLengthHeader(target: Uint8Array, at: number, size: number): void {
  target[at] = size >>> 24;
  target[at + 1] = (size >>> 16) & 0xff;
  target[at + 2] = (size >>> 8) & 0xff;
  target[at + 3] = size & 0xff;
}

/**
 * Reads the payload size announced by the header at `source[at, at + HEADER_BYTES)`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { readLengthHeader } from "./length_header.ts";
 * assertEquals(readLengthHeader(Uint8Array.of(9, 0xff, 0xff, 0xff, 0xff), 1), 0xffff_ffff);
 * ```
 */
export function readLengthHeader(source: Uint8Array, at: number): number {
  return ((source[at] << 24) | (source[at + 1] << 16) | (source[at + 2] << 8) | source[at + 3]) >>>
    0;
}
