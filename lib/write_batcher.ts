/**
 * The write side of a `Connection`: frames sent close together are merged into few writes, with
 * backpressure past a high-water mark and the bookkeeping of a failed write.
 *
 * @module
 */

import { HEADER_BYTES, writeLengthHeader } from "./length_header.ts";
import type { ByteConn } from "./transport.ts";

/** Small frames are copied back to back into buffers of this size, each written at once. */
const RUN_SIZE = 64 * 1024;
/** Frames at least this large are written from the caller's buffer instead of being copied. */
const COPY_LIMIT = 16 * 1024;

/** Options of {@linkcode WriteBatcher}. */
export interface WriteBatcherOptions {
  /**
   * Unsent bytes up to which a frame's promise settles at once; past it, once the bytes have
   * drained to it.
   */
  highWaterMark: number;
  /**
   * Whether frames already received are still being answered: a batch started then is written
   * once {@linkcode WriteBatcher.startDeferred} is called (or after a zero-delay timer), so that
   * the answers to one read share writes.
   */
  answering: () => boolean;
  /** The error a failed write becomes, as every later caller sees it. */
  failure: (error: unknown) => unknown;
}

// The frames of one batch, as the writes that will carry them. Small frames are copied into
// `run` (an owned buffer) as they are sent, so that a batch of many frames costs few writes and
// no per-frame allocation; large payloads are written from the caller's buffer.
interface Batch {
  parts: Uint8Array[];
  run: Uint8Array | undefined;
  // `run[runStart, runUsed)` holds bytes not yet moved into `parts`.
  runStart: number;
  runUsed: number;
  // Made only for a frame written from the caller's buffer: settles once the batch is written.
  written: PromiseWithResolvers<void> | undefined;
}

/**
 * Queues encoded frames and writes them in order, those queued in one task merged into few
 * writes. Each queueing method returns the promise `Connection.send` returns: settled at once
 * while {@linkcode WriteBatcher.bufferedAmount} is at most the high-water mark, else once it has
 * drained to it, and for a frame written from the caller's buffer once that frame is written.
 * Payloads are checked by the caller; nothing here refuses a frame.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WriteBatcher } from "./write_batcher.ts";
 * const writes: Uint8Array[] = [];
 * const conn = {
 *   write: (data: Uint8Array) => (writes.push(data.slice()), Promise.resolve(data.length)),
 *   read: () => Promise.resolve(null), closeWrite: () => Promise.resolve(), close() {},
 * };
 * const batcher = new WriteBatcher(conn, {
 *   highWaterMark: 1024, answering: () => false, failure: (error) => error,
 * });
 * batcher.lengthFrame(Uint8Array.of(1));
 * batcher.lengthFrame(Uint8Array.of(2));
 * await batcher.settled();
 * assertEquals(writes, [Uint8Array.of(0, 0, 0, 1, 1, 0, 0, 0, 1, 2)]);
 * ```
 */
export class WriteBatcher {
  readonly #conn: ByteConn;
  readonly #highWaterMark: number;
  readonly #answering: () => boolean;
  readonly #failure: (error: unknown) => unknown;
  #batch: Batch | undefined;
  // Made by `settled` while writes are under way: settles once they are all done.
  #idle: PromiseWithResolvers<void> | undefined;
  // A write loop is queued or running; `#started` once it runs.
  #flushing = false;
  #started = false;
  // The timer of a write deferred while received frames are being answered.
  #deferred: ReturnType<typeof setTimeout> | undefined;
  #pendingBytes = 0;
  #error: unknown;
  // Whether a rejected promise has already told the caller about `#error`.
  #errorReported = false;
  // Settles the frames waiting for `bufferedAmount` to come down to the high-water mark.
  #drain: PromiseWithResolvers<void> | undefined;
  // A run buffer whose batch is written, ready for the next batch.
  #spare: Uint8Array | undefined;

  /** Writes to `conn`; see {@linkcode WriteBatcherOptions}. */
  constructor(conn: ByteConn, options: WriteBatcherOptions) {
    this.#conn = conn;
    this.#highWaterMark = options.highWaterMark;
    this.#answering = options.answering;
    this.#failure = options.failure;
  }

  /** Bytes queued but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#pendingBytes;
  }

  /** Why a write failed (as `failure` made it), or `undefined` while none has. */
  get error(): unknown {
    return this.#error;
  }

  /** Whether a rejected promise has carried {@linkcode WriteBatcher.error} to a caller. */
  get errorReported(): boolean {
    return this.#errorReported;
  }

  /** A promise rejected with {@linkcode WriteBatcher.error}, which then counts as reported. */
  failed(): Promise<never> {
    this.#errorReported = true;
    return Promise.reject(this.#error);
  }

  /** Queues a `length` frame: its header, written in place, then `payload`. */
  lengthFrame(payload: Uint8Array): Promise<void> {
    const batch = this.#batch ??= newBatch();
    const size = payload.length;
    this.#pendingBytes += HEADER_BYTES + size;
    if (size >= COPY_LIMIT) {
      // Reserve first: a new run starts at 0.
      const run = this.#reserve(batch, HEADER_BYTES);
      writeLengthHeader(run, batch.runUsed, size);
      batch.runUsed += HEADER_BYTES;
      return this.#queued(batch, this.#append(batch, payload));
    }
    // Header and payload in one reservation: the path of nearly every frame of a busy sender.
    const run = this.#reserve(batch, HEADER_BYTES + size);
    const at = batch.runUsed;
    writeLengthHeader(run, at, size);
    run.set(payload, at + HEADER_BYTES);
    batch.runUsed = at + HEADER_BYTES + size;
    return this.#queued(batch, false);
  }

  /** Queues a `line` or `nul` frame: `payload`, then its `delimiter` byte written in place. */
  delimitedFrame(payload: Uint8Array, delimiter: number): Promise<void> {
    const batch = this.#batch ??= newBatch();
    const size = payload.length;
    this.#pendingBytes += size + 1;
    if (size >= COPY_LIMIT) {
      const lent = this.#append(batch, payload);
      const run = this.#reserve(batch, 1);
      run[batch.runUsed++] = delimiter;
      return this.#queued(batch, lent);
    }
    // Payload and delimiter in one reservation, as `lengthFrame` does: no object per frame.
    const run = this.#reserve(batch, size + 1);
    const at = batch.runUsed;
    run.set(payload, at);
    run[at + size] = delimiter;
    batch.runUsed = at + size + 1;
    return this.#queued(batch, false);
  }

  /** Queues a whole frame as a write of its own, merged with no other frame. */
  whole(frame: Uint8Array): Promise<void> {
    const batch = this.#batch ??= newBatch();
    closeRun(batch);
    batch.parts.push(frame);
    this.#pendingBytes += frame.length;
    return this.#queued(batch, false);
  }

  /** Starts a write held back while received frames were being answered, if there is one. */
  startDeferred(): void {
    if (this.#deferred !== undefined) this.#startFlush();
  }

  /** Waits until every frame queued so far is written or its write has failed. */
  async settled(): Promise<void> {
    if (this.#flushing) await (this.#idle ??= settlement()).promise;
  }

  // Schedules the batch's write and returns the promise of the frame just added to it. Kept
  // small (the scheduling itself is in `#schedule`, once a batch) so that V8 inlines it.
  #queued(batch: Batch, lent: boolean): Promise<void> {
    if (!this.#flushing) this.#schedule();
    else if (this.#deferred !== undefined && this.#pendingBytes > this.#highWaterMark) {
      this.#startFlush();
    }
    if (lent) return (batch.written ??= settlement()).promise;
    if (this.#pendingBytes <= this.#highWaterMark) return RESOLVED;
    return (this.#drain ??= settlement()).promise;
  }

  #schedule(): void {
    this.#flushing = true;
    if (this.#answering()) {
      // Write once the caller has taken every received frame (`startDeferred`), or after a
      // timer if it stops receiving.
      this.#deferred = setTimeout(this.#startFlush, 0);
    } else {
      // Let the current task queue more frames before the first write.
      queueMicrotask(this.#startFlush);
    }
  }

  // Copies a small piece into the batch's run, or adds a large one as a write of its own (and
  // then returns true: the caller's buffer is in use until the batch is written).
  #append(batch: Batch, part: Uint8Array): boolean {
    if (part.length >= COPY_LIMIT) {
      closeRun(batch);
      batch.parts.push(part);
      return true;
    }
    this.#reserve(batch, part.length).set(part, batch.runUsed);
    batch.runUsed += part.length;
    return false;
  }

  // The batch's run, with room for `size` more bytes (`size` < COPY_LIMIT + HEADER_BYTES ≤ RUN_SIZE).
  #reserve(batch: Batch, size: number): Uint8Array {
    if (batch.run !== undefined && batch.runUsed + size <= batch.run.length) return batch.run;
    closeRun(batch);
    batch.run = this.#spare ?? new Uint8Array(RUN_SIZE);
    this.#spare = undefined;
    batch.runStart = batch.runUsed = 0;
    return batch.run;
  }

  // Starts writing now (once), whether it was deferred or queued.
  readonly #startFlush = (): void => {
    if (this.#deferred !== undefined) {
      clearTimeout(this.#deferred);
      this.#deferred = undefined;
    } else if (this.#batch === undefined || this.#started) return;
    this.#started = true;
    this.#flush();
  };

  async #flush(): Promise<void> {
    while (this.#batch !== undefined) {
      const batch = this.#batch;
      this.#batch = undefined;
      closeRun(batch);
      try {
        for (const part of batch.parts) {
          await writeAll(this.#conn, part);
          this.#pendingBytes -= part.length;
          if (this.#drain !== undefined && this.#pendingBytes <= this.#highWaterMark) {
            this.#drain.resolve();
            this.#drain = undefined;
          }
        }
        // Written: the run buffer can carry the next batch.
        this.#spare ??= batch.run;
        batch.written?.resolve();
      } catch (error) {
        this.#error = this.#failure(error);
        const next = this.#batch as Batch | undefined;
        // Senders still waiting learn of the failure; `close` then need not report it again.
        if (batch.written || next?.written || this.#drain) this.#errorReported = true;
        batch.written?.reject(this.#error);
        next?.written?.reject(this.#error);
        this.#drain?.reject(this.#error);
        this.#drain = undefined;
        this.#batch = undefined;
      }
    }
    this.#flushing = false;
    this.#started = false;
    this.#idle?.resolve();
    this.#idle = undefined;
  }
}

// One shared handler instead of a new closure per batch.
const ignore = () => {};
// What a frame accepted at once gets: no promise per frame.
const RESOLVED = Promise.resolve();

function newBatch(): Batch {
  return { parts: [], run: undefined, runStart: 0, runUsed: 0, written: undefined };
}

function settlement(): PromiseWithResolvers<void> {
  const settled = Promise.withResolvers<void>();
  // A sender that does not await must not see an unhandled rejection.
  settled.promise.catch(ignore);
  return settled;
}

// Moves the bytes copied into the run so far into the batch's writes.
function closeRun(batch: Batch): void {
  if (batch.runUsed === batch.runStart) return;
  batch.parts.push(batch.run!.subarray(batch.runStart, batch.runUsed));
  batch.runStart = batch.runUsed;
}

async function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  // A view is made only after a short write: most writes take everything at once.
  let offset = await conn.write(data);
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}
