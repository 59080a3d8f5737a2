/**
 * Output shared by both CLIs: a batching line writer and safe renderings of payloads.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
import { FrameTooLargeError, type Framing } from "../lib/mod.ts";
import { BYTE_TEXT, escapeMessage, escapeText } from "./escape.ts";

export { escapeName, escapeText, showNamesEscaped } from "./escape.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes queued for stdout past which callers are asked to wait (backpressure). */
const HIGH_WATER = 1024 * 1024;
/** Lines are encoded back to back into buffers of this size; a longer line gets its own. */
const RUN_SIZE = 64 * 1024;
const NEWLINE = Uint8Array.of(0x0a);

/** A writable byte sink such as `Deno.stdout`. */
export interface Sink {
  write(data: Uint8Array): Promise<number>;
}

/**
 * Writes lines in order, merging lines queued in the same task into one write. Each `line`
 * promise settles once that line has been handed to the operating system. After a write fails
 * (stdout closed, disk full) nothing more is written: every line rejects with that first error.
 *
 * A line is encoded as it is queued, into a reused buffer: a backlog of lines is bytes outside
 * the JavaScript heap rather than strings in it, so a long stream of replies leaves V8 nothing
 * to keep from one collection to the next (its young generation would grow with what survives).
 *
 * @example
 * ```ts
 * import { LineWriter } from "./output.ts";
 * const out = new LineWriter(Deno.stdout);
 * await out.line("hello");
 * ```
 */
export class LineWriter {
  readonly #sink: Sink;
  readonly #failure = Promise.withResolvers<unknown>();
  #failed = false;
  #error: unknown;
  // Encoded lines not yet taken to write, in order; then `#run[#runStart, #runUsed)`.
  #parts: Uint8Array[] = [];
  #run: Uint8Array | undefined;
  #runStart = 0;
  #runUsed = 0;
  // A run whose bytes are all written, ready to be filled again.
  #spare: Uint8Array | undefined;
  // The last line queued and where its bytes are in `#run`: a line repeated as is (a client's
  // answers are mostly the same ack) is copied from there rather than encoded again.
  #lastText: string | undefined;
  #lastAt = 0;
  #lastSize = 0;
  // Bytes queued and not yet written.
  #queued = 0;
  #waiters: PromiseWithResolvers<void> | undefined;
  #writing: Promise<void> | undefined;

  /** Writes to `sink`. */
  constructor(sink: Sink) {
    this.#sink = sink;
  }

  /** Whether callers should wait for the promise of their last line before queueing more. */
  get congested(): boolean {
    return this.#queued > HIGH_WATER;
  }

  /** Resolves with the error of the first write that failed; pending until one does. */
  get failure(): Promise<unknown> {
    return this.#failure.promise;
  }

  /** Queues one line (a newline is added); settles once it is written. */
  line(text: string): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    this.#append(text);
    return this.#scheduled();
  }

  /**
   * Queues `bytes` as they are, then a newline: a payload passed through whole (as `nc` does),
   * not rendered. Settles once written.
   */
  data(bytes: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#error);
    this.#appendBytes(bytes);
    return this.#scheduled();
  }

  /** Settles once every queued line is written (or has failed to be). */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  #append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3 + 1;
    if (most > RUN_SIZE) {
      this.#lastText = undefined;
      this.#closeRun();
      const data = encoder.encode(text);
      this.#parts.push(data, NEWLINE);
      this.#queued += data.length + 1;
      return;
    }
    let run = this.#run;
    const at = this.#runUsed;
    if (text === this.#lastText && run!.length - at >= this.#lastSize) {
      // Still in this run (a new run forgets the last line); a rewound run is overwritten only
      // after this copy, and `copyWithin` allows the overlap.
      run!.copyWithin(at, this.#lastAt, this.#lastAt + this.#lastSize);
      this.#lastAt = at;
      this.#runUsed = at + this.#lastSize;
      this.#queued += this.#lastSize;
      return;
    }
    if (run === undefined || run.length - at < most) run = this.#newRun();
    const start = this.#runUsed;
    const size = encodeLine(text, run, start);
    this.#runUsed = start + size;
    this.#queued += size;
    this.#lastText = text;
    this.#lastAt = start;
    this.#lastSize = size;
  }

  #appendBytes(bytes: Uint8Array): void {
    this.#lastText = undefined;
    const size = bytes.length + 1;
    if (size > RUN_SIZE / 4) {
      // Large: written from where it is, not copied (a received payload is the caller's).
      this.#closeRun();
      this.#parts.push(bytes, NEWLINE);
      this.#queued += size;
      return;
    }
    let run = this.#run;
    if (run === undefined || run.length - this.#runUsed < size) run = this.#newRun();
    run.set(bytes, this.#runUsed);
    run[this.#runUsed + bytes.length] = 0x0a;
    this.#runUsed += size;
    this.#queued += size;
  }

  // The promise of what was just queued, with a write scheduled to take it.
  #scheduled(): Promise<void> {
    const waiters = this.#waiters ??= Promise.withResolvers<void>();
    this.#writing ??= Promise.resolve().then(() => this.#drain());
    return waiters.promise;
  }

  // Closes the current run and starts an empty one (the spare, if there is one).
  #newRun(): Uint8Array {
    this.#closeRun();
    const run = this.#run = this.#spare ?? new Uint8Array(RUN_SIZE);
    this.#spare = undefined;
    this.#runStart = this.#runUsed = 0;
    return run;
  }

  // Moves the run's bytes queued so far into `#parts`.
  #closeRun(): void {
    if (this.#runUsed === this.#runStart) return;
    this.#parts.push(this.#run!.subarray(this.#runStart, this.#runUsed));
    this.#runStart = this.#runUsed;
  }

  async #drain(): Promise<void> {
    for (;;) {
      this.#closeRun();
      if (this.#parts.length === 0) break;
      const parts = this.#parts;
      const waiters = this.#waiters!;
      // Runs other than this one are full: once their parts are written they can be reused.
      const filling = this.#run?.buffer;
      this.#parts = [];
      this.#waiters = undefined;
      try {
        if (this.#failed) throw this.#error;
        for (const part of parts) {
          for (let offset = 0; offset < part.length;) {
            offset += await this.#sink.write(part.subarray(offset));
          }
          this.#queued -= part.length;
        }
        // Only now: a run may carry more than one part of the batch.
        const full = parts.find((part) =>
          part.buffer !== filling && part.buffer.byteLength === RUN_SIZE
        );
        if (full !== undefined) this.#spare = new Uint8Array(full.buffer);
        waiters.resolve();
      } catch (error) {
        if (!this.#failed) {
          this.#failed = true;
          this.#error = error;
          this.#failure.resolve(error);
        }
        this.#queued = 0;
        waiters.reject(this.#error);
      }
    }
    // Everything is written: the run can start over.
    if (!this.#failed) this.#runStart = this.#runUsed = 0;
    this.#writing = undefined;
  }
}

/** Lines up to this many UTF-16 code units are tried as ASCII first (see `encodeLine`). */
const ASCII_TRY = 256;

// Encodes `text` and a newline into `run` at `at` (room for the worst case is there) and returns
// the size. A short ASCII line, the usual one, is copied code unit by code unit: `encodeInto`
// would cost a view of the run and a result object, garbage that adds up over millions of lines.
function encodeLine(text: string, run: Uint8Array, at: number): number {
  const length = text.length;
  if (length <= ASCII_TRY) {
    let i = 0;
    for (let code; i < length && (code = text.charCodeAt(i)) < 0x80; i++) run[at + i] = code;
    if (i === length) {
      run[at + length] = 0x0a;
      return length + 1;
    }
  }
  const size = encoder.encodeInto(text, run.subarray(at)).written;
  run[at + size] = 0x0a;
  return size + 1;
}

/** Bytes of a payload {@linkcode displayPayload} shows before cutting it short. */
export const DISPLAY_HEAD_BYTES = 1024;

/** Options of {@linkcode displayPayload}. */
export interface DisplayOptions {
  /** Bytes shown before the rest is cut and the total size given instead; default 1 KiB. */
  headBytes?: number;
}

/**
 * Renders a payload for a human: valid UTF-8 is shown as text with control characters escaped;
 * anything else byte by byte, printable ASCII as is and the rest as `\xNN`. A payload longer
 * than `headBytes` is cut to its head, followed by `…` and its total size: a line stays
 * readable, and rendering costs the same for 16 MiB as for 1 KiB.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { displayPayload } from "./output.ts";
 * assertEquals(displayPayload(Uint8Array.of(104, 105, 0xff)), "hi\\xff");
 * assertEquals(displayPayload(new Uint8Array(5).fill(0x61), { headBytes: 2 }), "aa… (5 bytes)");
 * ```
 */
export function displayPayload(payload: Uint8Array, options: DisplayOptions = {}): string {
  const limit = options.headBytes ?? DISPLAY_HEAD_BYTES;
  const cut = payload.length > limit;
  const rest = cut ? `… (${payload.length} bytes)` : "";
  if (isUtf8(payload)) {
    // Cut at a character boundary: back over UTF-8 continuation bytes (0b10xxxxxx).
    let end = cut ? limit : payload.length;
    while (end > 0 && end < payload.length && (payload[end] & 0xc0) === 0x80) end--;
    return escapeText(strictDecoder.decode(cut ? payload.subarray(0, end) : payload)) + rest;
  }
  const head = cut ? payload.subarray(0, limit) : payload;
  return Array.from(head, (byte) => BYTE_TEXT[byte]).join("") + rest;
}

/**
 * The payload fields of a JSON event: `{ text }` for valid UTF-8, else `{ base64 }`. Both take
 * time linear in the payload's size (milliseconds for 16 MiB), as does `JSON.stringify` of them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { payloadFields } from "./output.ts";
 * assertEquals(payloadFields(Uint8Array.of(0xff)), { base64: "/w==" });
 * ```
 */
export function payloadFields(payload: Uint8Array): { text: string } | { base64: string } {
  return isUtf8(payload) ? { text: strictDecoder.decode(payload) } : { base64: payload.toBase64() };
}

/**
 * The hint for a refused frame whose length header reads as text (`"Mess"`, `"hell"`): the peer
 * (`"server"` or `"client"`) sends another framing than this `length` program. `undefined` when
 * the error is something else, or the four header bytes are not all printable ASCII.
 *
 * @example
 * ```ts
 * import { assertEquals, assertMatch } from "@std/assert";
 * import { FrameTooLargeError } from "../lib/mod.ts";
 * import { textHeaderHint } from "./output.ts";
 * const hint = textHeaderHint(new FrameTooLargeError(0x68656c6c, 64), "length", "client");
 * assertMatch(hint!, /reads "hell"/);
 * assertEquals(textHeaderHint(new FrameTooLargeError(5, 4), "length", "client"), undefined);
 * ```
 */
export function textHeaderHint(
  error: unknown,
  framing: Framing,
  peer: "server" | "client",
): string | undefined {
  if (!(error instanceof FrameTooLargeError) || framing !== "length") return undefined;
  const size = error.size;
  const bytes = [size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff];
  if (!bytes.every((byte) => byte >= 0x20 && byte < 0x7f)) return undefined;
  const self = peer === "server" ? "client" : "server";
  return `its length header reads "${String.fromCharCode(...bytes)}", which looks like text: ` +
    `does the ${peer} use another --framing? this ${self} uses length`;
}

/**
 * A duration in milliseconds as seconds for a sentence: `1 second`, `0.5 seconds`, `90 seconds`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { secondsText } from "./output.ts";
 * assertEquals(secondsText(1000), "1 second");
 * ```
 */
export function secondsText(milliseconds: number): string {
  const seconds = milliseconds / 1000;
  return `${seconds} ${seconds === 1 ? "second" : "seconds"}`;
}

/**
 * Prints a one-line error to stderr and returns the exit status to use. Control characters (from
 * a name, a path or a peer) are escaped as in {@linkcode escapeText}, so that the line cannot
 * drive the terminal; the names given to {@linkcode showNamesEscaped} as {@linkcode escapeName}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { reportError } from "./output.ts";
 * const status = reportError("duct-client", "no server", 2);
 * assertEquals(status, 2);
 * ```
 */
export function reportError(program: string, message: string, status: number): number {
  const text = escapeMessage(message);
  const line = `${program}: error: ${text}\n`;
  Deno.stderr.writeSync(encoder.encode(line));
  return status;
}
