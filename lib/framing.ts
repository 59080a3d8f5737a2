/**
 * Wire framing shared by every transport: `length` (4-byte big-endian length prefix), `line`
 * (terminated by `\n`, a trailing `\r` dropped) and `nul` (terminated by `\0`).
 *
 * @module
 */

import { type DuctError, FrameTooLargeError, InvalidFrameError, ProtocolError } from "./errors.ts";
import { HEADER_BYTES, readLengthHeader, writeLengthHeader } from "./length_header.ts";

/** The three ways frames are delimited on the wire. */
export type Framing = "length" | "line" | "nul";

/** Every framing, in the order the CLI lists them. */
export const FRAMINGS: readonly Framing[] = ["length", "line", "nul"];

/** Default largest frame payload: 16 MiB. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/** The largest payload the 4-byte length header can announce. */
export const MAX_LENGTH_HEADER = 0xffff_ffff;

/**
 * Frames up to this size are copied into a shared block (see `#take`) instead of each getting a
 * buffer of its own: allocating a buffer costs four times as much as the copy of a 64 B frame.
 */
const SMALL_FRAME = 1024;
/** Size of that block; a frame kept by the caller keeps at most this much memory alive. */
const SMALL_BLOCK = 16 * 1024;
/** Frames up to this size are copied byte by byte, without a view of their source. */
const COPY_BY_LOOP = 64;
/** A large frame gets its own buffer once 1/8 of it has arrived (see `directTarget`). */
const DIRECT_RESERVE_RATIO = 8;
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
 * import assert from "node:assert/strict";
 * import { frameParts } from "./framing.ts";
 * assert.deepEqual(frameParts(Uint8Array.of(7), "nul"), [Uint8Array.of(7), Uint8Array.of(0)]);
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
 * import assert from "node:assert/strict";
 * import { payloadError } from "./mod.ts";
 * const options = { framing: "line", maxFrame: 8 } as const;
 * assert.equal(payloadError(new TextEncoder().encode("hi"), options), undefined);
 * assert.match(payloadError(new TextEncoder().encode("a\nb"), options)!.message, /newline/);
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
 * Incremental frame decoder: feed it chunks cut anywhere, take whole frames out. Whatever a length
 * header claims, it holds at most eight times the bytes it has been given (see `directTarget`).
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./mod.ts";
 * const decoder = new FrameDecoder({ framing: "line" });
 * decoder.push(new TextEncoder().encode("he"));
 * decoder.push(new TextEncoder().encode("llo\nworld\n"));
 * for (let frame; (frame = decoder.next()) !== undefined;) console.log(frame);
 * decoder.end(); // throws a ProtocolError if a frame was cut off
 * ```
 */
export class FrameDecoder {
  readonly #framing: Framing;
  readonly #maxFrame: number;
  readonly #delimiter: number;
  // Unconsumed input: `#chunks[0]` starting at `#offset`, then whole later chunks.
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  // Length framing: payload size of the frame being read, or -1 while reading a header.
  #want = -1;
  // Delimiter framings: chunks before `#scanChunk` (`#scanBase` bytes) hold no delimiter.
  #scanChunk = 0;
  #scanBase = 0;
  // Length framing, large frame: its own buffer, read into directly, and how much of it is filled.
  // While it is set, every buffered byte is in it and `#chunks` is empty.
  #direct: Uint8Array | undefined;
  #directFilled = 0;
  // Small frames are copied into `#block` one after the other, from `#blockUsed` on.
  #block: Uint8Array | undefined;
  #blockUsed = 0;
  // Length framing: `#block[#mirrorAt, #mirrorAt + #mirrored)` is a copy of the next bytes of
  // `#chunks[0]` from `#offset` on, headers included, made many small frames at a time.
  #mirrorAt = 0;
  #mirrored = 0;
  readonly #smallLimit: number;

  /** Creates a decoder; see {@linkcode FramingOptions}. */
  constructor(options: FramingOptions = {}) {
    this.#framing = options.framing ?? "length";
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#delimiter = delimiterOf(this.#framing);
    this.#smallLimit = Math.min(SMALL_FRAME, this.#maxFrame);
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds received bytes. The decoder keeps a reference: do not reuse `chunk`. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const direct = this.#direct;
    if (direct !== undefined) {
      const size = Math.min(chunk.length, this.#want - this.#directFilled);
      const inPlace = chunk.buffer === direct.buffer &&
        chunk.byteOffset === direct.byteOffset + this.#directFilled;
      if (!inPlace) direct.set(chunk.subarray(0, size), this.#directFilled);
      this.#directFilled += size;
      this.#buffered += size;
      if (size === chunk.length) return;
      chunk = chunk.subarray(size);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * Returns the next whole frame, or `undefined` until more bytes arrive. Given `into`, a frame
   * that fits is copied there and returned as a view of `into`; a larger one gets its own buffer.
   */
  next(into?: Uint8Array): Uint8Array | undefined {
    return this.#framing === "length" ? this.#nextLength(into) : this.#nextDelimited(into);
  }

  /**
   * Declares the end of input. Throws a {@linkcode ProtocolError} if a length frame was cut off;
   * returns an unterminated last `line` or `nul` frame, as text tools do.
   */
  end(): Uint8Array | undefined {
    // A length frame whose header arrived but none of its payload is cut off too.
    if (this.#buffered === 0 && this.#want < 0) return undefined;
    if (this.#framing === "length") {
      const what = this.#want < 0
        ? `a length header (${this.#buffered} of ${HEADER_BYTES} bytes)`
        : `a frame (${this.#buffered} of ${this.#want} bytes)`;
      throw new ProtocolError(`connection closed in the middle of ${what}`);
    }
    const rest = this.#take(this.#buffered);
    this.#scanChunk = 0;
    this.#scanBase = 0;
    return this.#framing === "line" ? stripCr(rest) : rest;
  }

  #nextLength(into: Uint8Array | undefined): Uint8Array | undefined {
    if (this.#want < 0 && into === undefined) {
      const frame = this.#nextSmall();
      if (frame !== undefined) return frame;
    }
    if (this.#want < 0) {
      if (this.#buffered < HEADER_BYTES) return undefined;
      // Read in place when the header lies in one chunk (nearly always): no view per frame.
      const first = this.#chunks[0];
      const inFirst = first.length - this.#offset >= HEADER_BYTES;
      const header = inFirst ? first : this.#peek(HEADER_BYTES);
      const at = inFirst ? this.#offset : 0;
      const size = readLengthHeader(header, at);
      if (size > this.#maxFrame) throw new FrameTooLargeError(size, this.#maxFrame);
      this.#skip(HEADER_BYTES);
      this.#want = size;
    }
    if (this.#buffered < this.#want) return undefined;
    if (this.#direct !== undefined) {
      const frame = this.#direct;
      this.#direct = undefined;
      this.#buffered -= this.#want;
      this.#want = -1;
      return frame;
    }
    const frame = this.#take(this.#want, into);
    this.#want = -1;
    return frame;
  }

  // The common case of a pipelined exchange: a small frame lying whole in the first chunk, returned
  // as a view of the block of small frames without a copy of its own. The chunk's bytes are copied
  // to the block up to a block's worth at once, so a frame costs one view rather than two views
  // and a copy (bench/frame_cost_bench.ts); anything else takes the general path.
  #nextSmall(): Uint8Array | undefined {
    const first = this.#chunks[0];
    if (first === undefined) return undefined;
    const at = this.#offset;
    const available = first.length - at;
    if (available < HEADER_BYTES) return undefined;
    const size = readLengthHeader(first, at);
    const end = HEADER_BYTES + size;
    if (size > this.#smallLimit || end > available) return undefined;
    let block = this.#block;
    if (this.#mirrored < end) {
      if (block === undefined || SMALL_BLOCK - this.#blockUsed < end) {
        block = this.#block = new Uint8Array(SMALL_BLOCK);
        this.#blockUsed = 0;
      }
      const span = Math.min(available, SMALL_BLOCK - this.#blockUsed);
      block.set(first.subarray(at, at + span), this.#blockUsed);
      this.#mirrorAt = this.#blockUsed;
      this.#mirrored = span;
      this.#blockUsed += span;
    }
    const frame = new Uint8Array(block!.buffer, this.#mirrorAt + HEADER_BYTES, size);
    this.#mirrorAt += end;
    this.#mirrored -= end;
    this.#buffered -= end;
    if (end === available) {
      this.#chunks.shift();
      this.#offset = 0;
    } else this.#offset = at + end;
    return frame;
  }

  #nextDelimited(into: Uint8Array | undefined): Uint8Array | undefined {
    // Resume after the chunks already searched, so a long frame trickling in costs linear time.
    let position = this.#scanBase;
    let index = -1;
    for (let i = this.#scanChunk; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i];
      const start = i === 0 ? this.#offset : 0;
      const found = chunk.indexOf(this.#delimiter, start);
      if (found >= 0) {
        index = position + found - start;
        break;
      }
      position += chunk.length - start;
      this.#scanChunk = i + 1;
      this.#scanBase = position;
    }
    // A `line` frame may carry one `\r` beyond the payload limit: it is not part of the payload.
    const slack = this.#framing === "line" ? 1 : 0;
    if (index < 0) {
      const overLimit = this.#buffered > this.#maxFrame + slack ||
        (this.#buffered > this.#maxFrame && this.#chunks.at(-1)!.at(-1) !== CR);
      if (overLimit) {
        // The frame's size is unknown: say what is known, not the bytes that happen to be here.
        const unterminated = this.#framing === "nul" ? "NUL" : "newline";
        throw new FrameTooLargeError(this.#buffered, this.#maxFrame, { unterminated });
      }
      return undefined;
    }
    if (index > this.#maxFrame + slack) throw new FrameTooLargeError(index, this.#maxFrame);
    const taken = this.#take(index, into);
    this.#skip(1);
    this.#scanChunk = 0;
    this.#scanBase = 0;
    const frame = this.#framing === "line" ? stripCr(taken) : taken;
    if (frame.length > this.#maxFrame) throw new FrameTooLargeError(frame.length, this.#maxFrame);
    return frame;
  }

  // Returns the next `size` bytes without consuming them (copying only across chunks).
  #peek(size: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length - this.#offset >= size) {
      return first.subarray(this.#offset, this.#offset + size);
    }
    return this.#gather(size, false);
  }

  // The next `size` bytes, consumed, in `into` if they fit there.
  #take(size: number, into?: Uint8Array): Uint8Array {
    const out = into !== undefined && size <= into.length
      ? into.subarray(0, size)
      : size === 0
      ? new Uint8Array(0)
      : size <= SMALL_FRAME
      ? this.#small(size)
      : undefined;
    if (size === 0) return out!;
    const first = this.#chunks[0];
    if (first.length - this.#offset >= size) {
      // Copy so the frame does not pin the whole (possibly large) input chunk, and so the input
      // buffer can take the next read.
      const at = this.#offset;
      if (out !== undefined && size <= COPY_BY_LOOP) {
        // A short line costs no view of its source: a view is about 100 bytes of garbage.
        for (let i = 0; i < size; i++) out[i] = first[at + i];
        this.#skip(size);
        return out;
      }
      const from = first.subarray(at, at + size);
      this.#skip(size);
      if (out === undefined) return from.slice();
      out.set(from);
      return out;
    }
    return this.#gather(size, true, out);
  }

  // A view of `size` bytes of the shared block of small frames, never handed out before.
  #small(size: number): Uint8Array {
    if (this.#block === undefined || this.#blockUsed + size > SMALL_BLOCK) {
      this.#block = new Uint8Array(SMALL_BLOCK);
      this.#blockUsed = 0;
      this.#mirrored = 0;
    }
    const at = this.#blockUsed;
    this.#blockUsed += size;
    return this.#block.subarray(at, at + size);
  }

  /**
   * For `Connection` only, not part of duct's API: the buffer the next read from the transport
   * should fill, when a `length` frame of at least `minimum` bytes is partly received (the
   * unfilled tail of that frame's own buffer), else `undefined`. Give the bytes read there to
   * `push` as a prefix of that tail: the frame is then returned without being copied, which is
   * what keeps bulk transfers near the speed of a raw socket (see bench/README.md).
   *
   * The frame's own buffer is allocated only once an eighth of it has arrived, so a peer can make
   * the receiver reserve at most eight times what it has really sent (a bare header costs
   * nothing). Given `into` (a caller's buffer) that the frame fits in, the frame is read into
   * `into` at once.
   *
   * @internal
   */
  directTarget(minimum: number, into?: Uint8Array): Uint8Array | undefined {
    if (this.#direct === undefined) {
      if (this.#framing !== "length" || this.#want < minimum) return undefined;
      if (this.#buffered >= this.#want) return undefined;
      // The caller's buffer costs nothing more to fill: no need to wait for the first eighth.
      const fits = into !== undefined && this.#want <= into.length;
      if (!fits && this.#buffered * DIRECT_RESERVE_RATIO < this.#want) return undefined;
      const filled = this.#buffered;
      const target = fits ? into.subarray(0, this.#want) : new Uint8Array(this.#want);
      this.#direct = this.#gather(filled, true, target);
      this.#directFilled = filled;
      this.#buffered = filled;
    }
    return this.#direct.subarray(this.#directFilled);
  }

  #gather(size: number, consume: boolean, out?: Uint8Array): Uint8Array {
    out ??= new Uint8Array(size);
    let filled = 0;
    let offset = this.#offset;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(offset, offset + (size - filled));
      out.set(part, filled);
      filled += part.length;
      offset = 0;
      if (filled === size) break;
    }
    if (consume) this.#skip(size);
    return out;
  }

  #skip(size: number): void {
    // The copy of the first chunk no longer starts at `#offset`.
    this.#mirrored = 0;
    this.#buffered -= size;
    while (size > 0) {
      const available = this.#chunks[0].length - this.#offset;
      if (size < available) {
        this.#offset += size;
        return;
      }
      size -= available;
      this.#chunks.shift();
      this.#offset = 0;
    }
    if (this.#chunks.length > 0 && this.#offset === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

function stripCr(frame: Uint8Array): Uint8Array {
  return frame.length > 0 && frame[frame.length - 1] === CR ? frame.subarray(0, -1) : frame;
}

/**
 * Turns a byte stream into a stream of frame payloads.
 *
 * @example
 * ```ts
 * import { FrameDecoderStream } from "./mod.ts";
 * const frames = ReadableStream.from([Uint8Array.of(0, 0, 0, 1, 65)])
 *   .pipeThrough(new FrameDecoderStream());
 * for await (const frame of frames) console.log(frame); // Uint8Array [65]
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stream; see {@linkcode FramingOptions}. */
  constructor(options: FramingOptions = {}) {
    const decoder = new FrameDecoder(options);
    super({
      transform(chunk, controller) {
        decoder.push(chunk);
        for (let frame; (frame = decoder.next()) !== undefined;) controller.enqueue(frame);
      },
      flush(controller) {
        const last = decoder.end();
        if (last !== undefined) controller.enqueue(last);
      },
    });
  }
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
