/**
 * The decoding side of the wire framing (see `framing.ts`): {@linkcode FrameDecoder}, which takes
 * chunks cut anywhere and gives whole frames, and its `TransformStream`,
 * {@linkcode FrameDecoderStream}.
 *
 * @module
 */

import { FrameTooLargeError, ProtocolError } from "./errors.ts";
import {
  concat,
  DEFAULT_MAX_FRAME,
  delimiterOf,
  type Framing,
  type FramingOptions,
} from "./framing.ts";
import { HEADER_BYTES, readLengthHeader } from "./length_header.ts";
import {
  contentLengthHeaderBytes,
  findHeaderEnd,
  MAX_CONTENT_LENGTH_HEADER as MAX_HEADER,
  parseContentLengthHeader,
  plainContentLength,
} from "./content_length.ts";

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
const CR = 0x0d;

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
  // The delimiter byte, or -1 for the framings that announce sizes (`length`, `content-length`).
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
    this.#delimiter = isSized(this.#framing) ? -1 : delimiterOf(this.#framing);
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
    return this.#delimiter < 0 ? this.#nextLength(into) : this.#nextDelimited(into);
  }

  /**
   * Declares the end of input. Throws a {@linkcode ProtocolError} if a length frame was cut off;
   * returns an unterminated last `line` or `nul` frame, as text tools do.
   */
  end(): Uint8Array | undefined {
    // A length frame whose header arrived but none of its payload is cut off too.
    if (this.#buffered === 0 && this.#want < 0) return undefined;
    if (this.#delimiter < 0) {
      const what = this.#want >= 0
        ? `a frame (${this.#buffered} of ${this.#want} bytes)`
        : this.#framing === "length"
        ? `a length header (${this.#buffered} of ${HEADER_BYTES} bytes)`
        : `a Content-Length header (${this.#buffered} bytes without its blank line)`;
      throw new ProtocolError(`connection closed in the middle of ${what}`);
    }
    const rest = this.#take(this.#buffered);
    this.#scanChunk = 0;
    this.#scanBase = 0;
    return this.#framing === "line" ? stripCr(rest) : rest;
  }

  #nextLength(into: Uint8Array | undefined): Uint8Array | undefined {
    if (this.#want < 0 && into === undefined && this.#framing === "length") {
      const frame = this.#nextSmall();
      if (frame !== undefined) return frame;
    }
    if (this.#want < 0 && this.#framing === "content-length") {
      if (!this.#readContentLengthHeader()) return undefined;
    } else if (this.#want < 0) {
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

  // Consumes a whole `content-length` header section and sets `#want`; false while its blank line
  // has not arrived. `#scanBase` is how far earlier calls searched, so a header trickling in is
  // searched once; more than MAX_HEADER bytes without the blank line is refused.
  #readContentLengthHeader(): boolean {
    if (this.#buffered === 0) return false;
    // Nearly every header is the plain one, whole in the first chunk: read in place.
    const plain = plainContentLength(this.#chunks[0], this.#offset);
    if (plain >= 0 && plain <= this.#maxFrame) {
      this.#want = plain;
      this.#scanBase = 0;
      this.#skip(contentLengthHeaderBytes(plain));
      return true;
    }
    const view = this.#peek(Math.min(this.#buffered, MAX_HEADER));
    const end = findHeaderEnd(view, Math.max(0, this.#scanBase - 3));
    if (end < 0) {
      if (view.length >= MAX_HEADER) {
        throw new ProtocolError(
          `content-length framing: no blank line ends the header within ` +
            `${MAX_HEADER} bytes (is the peer using another framing?)`,
        );
      }
      this.#scanBase = view.length;
      return false;
    }
    this.#want = parseContentLengthHeader(view.subarray(0, end), this.#maxFrame);
    this.#scanBase = 0;
    this.#skip(end + 4);
    return true;
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
   * For `Connection` only, not part of duct's API: removes and returns every byte received and
   * not yet returned as a frame — once a `length` header is read, the payload so far — leaving
   * the decoder empty. For a frame cut short by this side, which is not an end of stream.
   *
   * @internal
   */
  rest(): Uint8Array {
    const direct = this.#direct?.subarray(0, this.#directFilled);
    const inChunks = this.#buffered - (direct?.length ?? 0);
    const tail = inChunks > 0 ? this.#gather(inChunks, true) : new Uint8Array(0);
    this.#direct = undefined;
    this.#directFilled = 0;
    this.#buffered = 0;
    this.#want = -1;
    this.#scanChunk = 0;
    this.#scanBase = 0;
    return direct === undefined ? tail : concat([direct, tail]);
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
      if (this.#delimiter >= 0 || this.#want < minimum) return undefined;
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

function isSized(framing: Framing): boolean {
  return framing === "length" || framing === "content-length";
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
