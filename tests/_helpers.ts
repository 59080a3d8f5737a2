/**
 * Test helpers: an in-memory {@linkcode ByteConn} pair, a seeded PRNG and small byte utilities.
 *
 * @module
 */

import type { ByteConn } from "../lib/transport.ts";
import { concat, encodeFrame, type Framing, type FramingOptions } from "../lib/framing.ts";
import { FrameDecoder } from "../lib/frame_decoder.ts";

/** One call of {@linkcode MemoryConn.write}. */
export interface WriteCall {
  /** The very array the caller passed (to check that large frames are not copied). */
  data: Uint8Array;
  /** A copy of the bytes at the time of the call. */
  bytes: Uint8Array;
}

/** Options of {@linkcode memoryPair}. */
export interface MemoryPairOptions {
  /** Largest number of bytes one `write` accepts (a short write returns fewer). */
  maxWrite?: number;
}

/**
 * One end of an in-memory duplex byte stream with the semantics of a socket: `closeWrite` gives
 * the peer end of stream after the bytes already sent; `close` gives the peer end of stream too,
 * makes this end's pending and later reads and writes fail, and later peer writes fail with
 * `BrokenPipe`. Every write call is recorded; writes can be paused to hold them in flight.
 */
export class MemoryConn implements ByteConn {
  /** Every write call, in order. */
  readonly writes: WriteCall[] = [];
  peer!: MemoryConn;
  readonly #maxWrite: number;
  #inbox: Uint8Array[] = [];
  #eof = false;
  #closed = false;
  #writeClosed = false;
  #readWaiter: PromiseWithResolvers<void> | undefined;
  #pause: PromiseWithResolvers<void> | undefined;
  #writeWaiters: (() => void)[] = [];

  constructor(options: MemoryPairOptions = {}) {
    this.#maxWrite = options.maxWrite ?? Infinity;
  }

  /** Whether `close` was called on this end. */
  get closed(): boolean {
    return this.#closed;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw new Deno.errors.BadResource("the connection is closed");
      if (this.#inbox.length > 0) {
        const chunk = this.#inbox[0];
        const count = Math.min(chunk.length, buffer.length);
        buffer.set(chunk.subarray(0, count));
        if (count === chunk.length) this.#inbox.shift();
        else this.#inbox[0] = chunk.subarray(count);
        return count;
      }
      if (this.#eof) return null;
      this.#readWaiter ??= Promise.withResolvers<void>();
      await this.#readWaiter.promise;
    }
  }

  async write(data: Uint8Array): Promise<number> {
    this.writes.push({ data, bytes: data.slice() });
    for (const notify of this.#writeWaiters.splice(0)) notify();
    if (this.#pause !== undefined) await this.#pause.promise;
    if (this.#closed) throw new Deno.errors.BadResource("the connection is closed");
    if (this.#writeClosed) throw new Deno.errors.BrokenPipe("write after closeWrite");
    if (this.peer.#closed) throw new Deno.errors.BrokenPipe("the peer closed the connection");
    const count = Math.min(data.length, this.#maxWrite);
    if (count > 0) this.peer.#deliver(data.slice(0, count));
    return count;
  }

  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    this.#writeClosed = true;
    this.peer.#end();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("the connection is already closed");
    this.#closed = true;
    this.#writeClosed = true;
    this.peer.#end();
    this.#wake();
    this.resumeWrites();
  }

  /** Holds every write call in flight until {@linkcode MemoryConn.resumeWrites}. */
  pauseWrites(): void {
    this.#pause ??= Promise.withResolvers<void>();
  }

  /** Lets held and later writes complete. */
  resumeWrites(): void {
    this.#pause?.resolve();
    this.#pause = undefined;
  }

  /** Resolves once `write` has been called `count` times in total. */
  writeCalls(count: number): Promise<void> {
    if (this.writes.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.writes.length >= count) resolve();
        else this.#writeWaiters.push(check);
      };
      this.#writeWaiters.push(check);
    });
  }

  /** Bytes delivered to this end and not read yet, removed from the inbox. */
  takeReceived(): Uint8Array {
    const bytes = concat(this.#inbox.length === 0 ? [new Uint8Array(0)] : this.#inbox);
    this.#inbox = [];
    return bytes;
  }

  /** Whether the peer has signalled end of stream. */
  get ended(): boolean {
    return this.#eof;
  }

  #deliver(bytes: Uint8Array): void {
    this.#inbox.push(bytes);
    this.#wake();
  }

  #end(): void {
    this.#eof = true;
    this.#wake();
  }

  #wake(): void {
    this.#readWaiter?.resolve();
    this.#readWaiter = undefined;
  }
}

/** Two connected in-memory ends. */
export function memoryPair(options: MemoryPairOptions = {}): [MemoryConn, MemoryConn] {
  const a = new MemoryConn(options);
  const b = new MemoryConn(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A seeded PRNG (mulberry32), so that a failing property test can be replayed. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** `size` random bytes. */
  bytes(size: number): Uint8Array {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `bytes` decoded as UTF-8. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * Feeds `chunks` to a fresh decoder, taking frames out after each chunk, then ends it: the frames
 * a receiver would see.
 */
export function decodeChunks(
  chunks: Iterable<Uint8Array>,
  options: FramingOptions = {},
): Uint8Array[] {
  const decoder = new FrameDecoder(options);
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame; (frame = decoder.next()) !== undefined;) frames.push(frame);
  }
  const last = decoder.end();
  if (last !== undefined) frames.push(last);
  return frames;
}

/** Cuts `data` at the given sorted offsets. */
export function cut(data: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, data.length]) {
    pieces.push(data.slice(start, offset));
    start = offset;
  }
  return pieces;
}

/** Frames that every framing can carry: empty ones, one byte, UTF-8, binary without delimiters. */
export const SAMPLE: readonly string[] = [
  "hello",
  "",
  "x",
  "",
  "ünïcødé ✓",
  "a longer frame, with spaces",
];

/** `payloads` encoded one after another, as one byte stream. */
export function encodeAll(
  payloads: readonly Uint8Array[],
  framing: Framing,
  maxFrame?: number,
): Uint8Array {
  return concat(payloads.flatMap((payload) => encodeFrame(payload, { framing, maxFrame })));
}

/** Bytes a frame of `size` payload bytes takes on the wire beyond its payload, in `framing`. */
export function frameOverhead(framing: Framing, size: number): number {
  if (framing === "length") return 4;
  if (framing === "content-length") return `Content-Length: ${size}\r\n\r\n`.length;
  return 1;
}

/** The delimiter byte of a delimiter framing: NUL for `nul`, `\n` otherwise. */
export function delimiterOf(framing: Framing): number {
  return framing === "nul" ? 0 : 0x0a;
}

/** Whether `promise` has settled once every pending task (two timer turns) has run. */
export async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}
