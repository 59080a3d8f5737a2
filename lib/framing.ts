/**
 * Wire framing shared by every transport: `length` (4-byte big-endian length prefix), `line`
 * (terminated by `\n`, a trailing `\r` dropped) and `nul` (terminated by `\0`). The encoding
 * side and the checks of a payload are here; the decoder is in `frame_decoder.ts`.
 *
 * @module
 */

import { type DuctError, FrameTooLargeError, InvalidFrameError } from "./errors.ts";
import { HEADER_BYTES, writeLengthHeader } from "./length_header.ts";

/** The three ways frames are delimited on the wire. */
export type Framing = "length" | "line" | "nul";

/** Every framing, in the order the CLI lists them. */
export const FRAMINGS: readonly Framing[] = ["length", "line", "nul"];

/** Default largest frame payload: 16 MiB. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/** The largest payload the 4-byte length header can announce. */
export const MAX_LENGTH_HEADER = 0xffff_ffff;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** Options of the encoder and decoder. */
export interface FramingOptions {
  /** How frames are delimited. Default `"length"`. */
  framing?: Framing;
  /** Largest payload in bytes. Default 16 MiB. */
  maxFrame?: number;
}

/** The byte that ends a frame of a delimited framing: `\n` for `line`, NUL for `nul`. */
export function delimiterOf(framing: Framing): number {
  return framing === "nul" ? NUL : LF;
}

/**
 * Encodes one payload as the pieces to write: a header and the payload (`length`), or the payload
 * and its terminator. Returns the pieces rather than one buffer so that large payloads are never
 * copied.
 *
 * @throws {FrameTooLargeError} if the payload exceeds `maxFrame`.
 * @throws {InvalidFrameError} if the payload holds the delimiter of `line` or `nul` framing, or
 * ends in `\r` in `line` framing.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./mod.ts";
 * const [header, payload] = encodeFrame(new TextEncoder().encode("hi"));
 * console.log(header, payload); // Uint8Array [0, 0, 0, 2], Uint8Array [104, 105]
 * ```
 */
export function encodeFrame(payload: Uint8Array, options: FramingOptions = {}): Uint8Array[] {
  const framing = options.framing ?? "length";
  const error = payloadError(payload, { framing, maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME });
  if (error !== undefined) throw error;
  return frameParts(payload, framing);
}

/**
 * The pieces {@linkcode encodeFrame} returns, for a payload {@linkcode payloadError} has
 * accepted: no check of its own, so that a send checks its payload once.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { frameParts } from "./framing.ts";
 * assertEquals(frameParts(Uint8Array.of(7), "nul"), [Uint8Array.of(7), Uint8Array.of(0)]);
 * ```
 */
export function frameParts(payload: Uint8Array, framing: Framing): Uint8Array[] {
  if (framing === "length") {
    const header = new Uint8Array(HEADER_BYTES);
    writeLengthHeader(header, 0, payload.length);
    return [header, payload];
  }
  return [payload, Uint8Array.of(delimiterOf(framing))];
}

/**
 * The send side's one check of a payload: the error sending it must fail with, or `undefined` if
 * the framing can carry it. Refused: a payload over `maxFrame`; in `line` and `nul` framing one
 * holding the delimiter, and in `line` framing one ending in `\r` (the receiver would drop it).
 * Returns the error rather than throwing it, so that `Connection.send` rejects without a `try`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertMatch } from "@std/assert";
 * import { payloadError } from "./mod.ts";
 * const options = { framing: "line", maxFrame: 8 } as const;
 * assertEquals(payloadError(new TextEncoder().encode("hi"), options), undefined);
 * assertMatch(payloadError(new TextEncoder().encode("a\nb"), options)!.message, /newline/);
 * ```
 */
export function payloadError(
  payload: Uint8Array,
  options: Required<FramingOptions>,
): DuctError | undefined {
  // Kept small so that V8 inlines it into `send`, where nearly every call is a `length` frame
  // within the limit; the other checks are out of line.
  if (options.framing === "length" && payload.length <= options.maxFrame) return undefined;
  return refusalOf(payload, options);
}

function refusalOf(payload: Uint8Array, options: Required<FramingOptions>): DuctError | undefined {
  if (payload.length > options.maxFrame) {
    return new FrameTooLargeError(payload.length, options.maxFrame);
  }
  const framing = options.framing;
  if (framing === "length") return undefined;
  if (payload.includes(delimiterOf(framing))) {
    const what = framing === "nul" ? "a NUL byte" : "a newline";
    return new InvalidFrameError(
      `a payload in ${framing} framing cannot contain ${what}; use framing "length"`,
    );
  }
  if (framing === "line" && payload.at(-1) === CR) {
    return new InvalidFrameError(
      'a payload in line framing cannot end with \\r (receivers drop it); use framing "length"',
    );
  }
  return undefined;
}

/**
 * Turns a stream of payloads into wire bytes, one chunk per frame. (A duct connection
 * goes further and merges frames sent back to back into few writes.)
 *
 * @example
 * ```ts
 * import { FrameEncoderStream } from "./mod.ts";
 * const bytes = ReadableStream.from([new TextEncoder().encode("hi")])
 *   .pipeThrough(new FrameEncoderStream({ framing: "nul" }));
 * for await (const chunk of bytes) console.log(chunk); // Uint8Array [104, 105, 0]
 * ```
 */
export class FrameEncoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stream; see {@linkcode FramingOptions}. */
  constructor(options: FramingOptions = {}) {
    super({
      transform(payload, controller) {
        controller.enqueue(concat(encodeFrame(payload, options)));
      },
    });
  }
}

/**
 * Joins byte arrays into one.
 *
 * @example
 * ```ts
 * import { concat } from "./mod.ts";
 * console.log(concat([Uint8Array.of(1), Uint8Array.of(2)])); // Uint8Array [1, 2]
 * ```
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
