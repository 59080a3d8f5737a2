/**
 * A framed connection over any transport's byte stream: `send` and `receive` whole frames, or use
 * the same frames as Web streams.
 *
 * @module
 */

import { ConnectionClosedError, DuctError, FrameTooLargeError } from "./errors.ts";
import {
  concat,
  DEFAULT_MAX_FRAME,
  directTarget,
  encodeFrame,
  FrameDecoder,
  type Framing,
} from "./framing.ts";
import { checkOptions } from "./options.ts";
import type { ByteConn } from "./transport.ts";

/**
 * Size of a connection's first read. Small, because every connection waiting for data holds a
 * read buffer: a server with a thousand idle clients should not hold a thousand large ones.
 */
const READ_MIN = 4 * 1024;
/** Reads grow, doubling each time one comes back full, up to this size. */
const READ_MAX = 256 * 1024;
/** Small frames are copied back to back into buffers of this size, each written at once. */
const RUN_SIZE = 64 * 1024;
/** Bytes of the `length` framing's header. */
const HEADER_BYTES = 4;
/** Unsent bytes past which `writable` waits for the transport (backpressure). */
const WRITABLE_HIGH_WATER = 1024 * 1024;
/** Frames at least this large are written from the caller's buffer instead of being copied. */
const COPY_LIMIT = 16 * 1024;

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions {
  /** How frames are delimited. Default `"length"`. */
  framing?: Framing;
  /** Largest payload in bytes, both directions. Default 16 MiB. */
  maxFrame?: number;
  /**
   * Write each frame with its own write (message-mode pipes in delimiter framings), so that a
   * classic peer reading one message at a time gets exactly one frame per read.
   */
  writePerFrame?: boolean;
  /**
   * Keep the connection open after a failed `receive`, for replies to the frames received before
   * the failure; closing it is then the caller's job. Default `false`: the connection closes
   * itself once the frames sent so far are written, so that a peer is never left waiting.
   */
  keepOpenAfterError?: boolean;
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
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const encoder = new TextEncoder();

/**
 * One framed, duplex connection. Created by `listen` (server side) and `connect` (client side).
 *
 * @example
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * await using conn = await connect({ name: "testPipe" });
 * await conn.send("hello");
 * console.log(await conn.receive());
 * ```
 */
export class Connection implements AsyncDisposable {
  readonly #conn: ByteConn;
  readonly #options: Required<ConnectionOptions>;
  readonly #decoder: FrameDecoder;
  #batch: Batch | undefined;
  // Settles once the newest batch is written: what `flush` waits for.
  #tail: Promise<void> = Promise.resolve();
  #writeClosed = false;
  #last: Uint8Array | undefined;
  #flushing = false;
  #pendingBytes = 0;
  #writeError: unknown;
  // Why receiving failed (a broken protocol or a lost connection): every later receive rejects.
  #readError: unknown;
  #ended = false;
  #closed = false;
  #reading: Promise<void> | undefined;
  // The last read buffer, reused while the decoder holds none of its bytes.
  #readBuffer: Uint8Array | undefined;
  #readSize = READ_MIN;
  #afterDirect = false;
  // A run buffer whose batch is written, ready for the next batch.
  #spare: Uint8Array | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * Wraps a transport's byte stream; see {@linkcode ConnectionOptions}.
   *
   * @throws {TypeError} or {@linkcode RangeError} for a bad `framing` or `maxFrame`.
   */
  constructor(conn: ByteConn, options: ConnectionOptions = {}) {
    const { framing, maxFrame, keepOpenAfterError } = options;
    checkOptions({ framing, maxFrame, keepOpenAfterError });
    this.#conn = conn;
    this.#options = {
      framing: options.framing ?? "length",
      maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
      writePerFrame: options.writePerFrame ?? false,
      keepOpenAfterError: options.keepOpenAfterError ?? false,
    };
    this.#decoder = new FrameDecoder(this.#options);
  }

  /** The framing in use. */
  get framing(): Framing {
    return this.#options.framing;
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#pendingBytes;
  }

  /**
   * Sends one frame. Calls made without awaiting go out in call order, merged into few writes;
   * the promise settles once the frame's bytes are written. A `Uint8Array` of 16 KiB or more is
   * written without copying: leave it unchanged until the promise settles.
   *
   * @throws {FrameTooLargeError} if the payload exceeds `maxFrame`.
   * @throws {InvalidFrameError} if the payload holds the delimiter of `line` or `nul` framing, or
   * ends in `\r` in `line` framing.
   * @throws {ConnectionClosedError} if the connection is closed, or the peer has gone (the
   * operating system's error is the `cause`); after a failed write every later send rejects too.
   */
  send(message: string | Uint8Array): Promise<void> {
    if (this.#closed || this.#writeClosed) {
      return Promise.reject(new ConnectionClosedError("cannot send: the connection is closed"));
    }
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    const payload = typeof message === "string" ? encoder.encode(message) : message;
    const { framing, maxFrame, writePerFrame } = this.#options;
    // Validate before touching the batch: a refused frame leaves no trace.
    let parts: Uint8Array[] | undefined;
    if (framing === "length" && !writePerFrame) {
      if (payload.length > maxFrame) {
        return Promise.reject(new FrameTooLargeError(payload.length, maxFrame));
      }
    } else {
      try {
        parts = encodeFrame(payload, this.#options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = newBatch();
      this.#tail = batch.promise;
    }
    if (parts === undefined) {
      // The `length` header (see `encodeFrame`), written in place instead of allocated.
      const run = this.#reserve(batch, HEADER_BYTES);
      const at = batch.runUsed;
      const size = payload.length;
      run[at] = size >>> 24;
      run[at + 1] = (size >>> 16) & 0xff;
      run[at + 2] = (size >>> 8) & 0xff;
      run[at + 3] = size & 0xff;
      batch.runUsed += HEADER_BYTES;
      this.#append(batch, payload);
      this.#pendingBytes += HEADER_BYTES + size;
    } else if (writePerFrame) {
      closeRun(batch);
      const frame = concat(parts);
      batch.parts.push(frame);
      this.#pendingBytes += frame.length;
    } else {
      for (const part of parts) {
        this.#append(batch, part);
        this.#pendingBytes += part.length;
      }
    }
    if (!this.#flushing) {
      this.#flushing = true;
      // Let the current task queue more frames before the first write.
      queueMicrotask(() => this.#flush());
    }
    return batch.promise;
  }

  /**
   * Receives the next frame; resolves `null` once the peer has closed.
   *
   * @throws {FrameTooLargeError} or {@linkcode ProtocolError} if the peer breaks the protocol.
   * @throws {ConnectionClosedError} if the connection is lost (reset by the peer, for example).
   * After any of these every later `receive` rejects with the same error, and the connection
   * closes itself (sending what is pending, then releasing it) so that the peer sees end of
   * stream — unless `keepOpenAfterError` is set.
   */
  async receive(): Promise<Uint8Array | null> {
    if (this.#readError !== undefined) throw this.#readError;
    try {
      for (;;) {
        const frame = this.#decoder.next();
        if (frame !== undefined) return frame;
        if (this.#ended) {
          const last = this.#last;
          this.#last = undefined;
          return last ?? null;
        }
        if (this.#reading === undefined) {
          this.#reading = this.#fill().finally(() => this.#reading = undefined);
        }
        await this.#reading;
      }
    } catch (error) {
      this.#readError ??= asDuctError(error, "cannot receive");
      // Nothing more can be read: release the connection rather than leave the peer waiting.
      if (!this.#options.keepOpenAfterError) void this.close();
      throw this.#readError;
    }
  }

  /** Frames received, as a stream; ends when the peer closes. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const frame = await this.receive();
        if (frame === null) controller.close();
        else controller.enqueue(frame);
      },
    }, { highWaterMark: 0 });
  }

  /** A stream each chunk of which is sent as one frame; closing it half-closes the connection. */
  get writable(): WritableStream<Uint8Array | string> {
    return this.#writable ??= new WritableStream<Uint8Array | string>({
      // Not awaiting each frame lets back-to-back writes share one write; a failure still
      // surfaces in the next write or in close.
      write: (chunk) => {
        const sent = this.send(chunk);
        return this.#pendingBytes > WRITABLE_HIGH_WATER ? sent : undefined;
      },
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
  }

  /**
   * Waits until every frame sent so far is written.
   *
   * @throws {ConnectionClosedError} if a write failed (see {@linkcode Connection.send}).
   */
  async flush(): Promise<void> {
    for (let tail = this.#tail;; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }

  /**
   * Sends every pending frame, then tells the peer that nothing more will come.
   *
   * @throws {ConnectionClosedError} if a pending frame could not be written or the connection is
   * gone.
   */
  async closeWrite(): Promise<void> {
    await this.#drained();
    this.#writeClosed = true;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw asDuctError(error, "cannot close the connection for writing");
    }
  }

  /** Sends every pending frame that can still be sent, then releases the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#drained();
    } catch {
      // The peer is gone; nothing more can be delivered.
    }
    this.#closed = true;
    this.#ended = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the transport.
    }
  }

  /** Closes the connection now, without waiting for pending frames. */
  abort(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the transport.
    }
  }

  /** Same as {@linkcode Connection.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #drained(): Promise<void> {
    await this.flush();
    if (this.#writeError !== undefined) throw this.#writeError;
  }

  async #fill(): Promise<void> {
    // Frames are copies (see `FrameDecoder`), so once the decoder holds no bytes, nothing refers
    // to the previous buffer and it can take the next read: no allocation per read.
    // A large frame is read straight into its own buffer, saving a copy of every byte.
    let buffer = directTarget(this.#decoder, READ_MAX);
    const direct = buffer !== undefined;
    if (buffer === undefined) {
      let reusable = this.#readBuffer;
      if (
        reusable === undefined || reusable.length < this.#readSize || this.#decoder.buffered > 0
      ) {
        reusable = this.#readBuffer = new Uint8Array(this.#readSize);
      }
      // Right after a large frame, read the next header alone: if it announces another large
      // frame, the whole payload then goes straight into that frame's buffer.
      buffer = this.#afterDirect && this.#decoder.buffered === 0
        ? reusable.subarray(0, HEADER_BYTES)
        : reusable;
    }
    this.#afterDirect = direct;
    let count: number | null;
    try {
      count = await this.#conn.read(buffer);
    } catch (error) {
      if (this.#closed) count = null;
      else throw error;
    }
    if (count === null) {
      this.#ended = true;
      this.#last = this.#decoder.end();
      return;
    }
    if (count === buffer.length && buffer === this.#readBuffer) {
      this.#readSize = Math.min(this.#readSize * 2, READ_MAX);
    }
    this.#decoder.push(count === buffer.length ? buffer : buffer.subarray(0, count));
  }

  // Copies a small piece into the batch's run, or adds a large one as a write of its own.
  #append(batch: Batch, part: Uint8Array): void {
    if (part.length >= COPY_LIMIT) {
      closeRun(batch);
      batch.parts.push(part);
      return;
    }
    this.#reserve(batch, part.length).set(part, batch.runUsed);
    batch.runUsed += part.length;
  }

  // The batch's run, with room for `size` more bytes (`size` ≤ COPY_LIMIT < RUN_SIZE).
  #reserve(batch: Batch, size: number): Uint8Array {
    if (batch.run !== undefined && batch.runUsed + size <= batch.run.length) return batch.run;
    closeRun(batch);
    batch.run = this.#spare ?? new Uint8Array(RUN_SIZE);
    this.#spare = undefined;
    batch.runStart = batch.runUsed = 0;
    return batch.run;
  }

  async #flush(): Promise<void> {
    while (this.#batch !== undefined) {
      const batch = this.#batch;
      this.#batch = undefined;
      closeRun(batch);
      try {
        for (const part of batch.parts) {
          await writeAll(this.#conn, part);
          this.#pendingBytes -= part.length;
        }
        // Written: the run buffer can carry the next batch.
        this.#spare ??= batch.run;
        batch.resolve();
      } catch (error) {
        this.#writeError = this.#closed
          ? new ConnectionClosedError("cannot send: the connection is closed")
          : asDuctError(error, "cannot send");
        batch.reject(this.#writeError);
        (this.#batch as Batch | undefined)?.reject(this.#writeError);
        this.#batch = undefined;
      }
    }
    this.#flushing = false;
  }
}

// A transport failure (`BrokenPipe`, `ConnectionReset`, a Windows pipe error…) as a
// `ConnectionClosedError`, so that callers catch one class; duct's own errors pass unchanged.
function asDuctError(error: unknown, action: string): unknown {
  if (error instanceof DuctError) return error;
  const gone = error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset;
  const detail = gone
    ? "the peer closed the connection"
    : `the connection failed (${error instanceof Error ? error.message : String(error)})`;
  return new ConnectionClosedError(`${action}: ${detail}`, { cause: error });
}

// One shared handler instead of a new closure per batch.
const ignore = () => {};

function newBatch(): Batch {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  // A sender that does not await must not see an unhandled rejection.
  promise.catch(ignore);
  return { parts: [], run: undefined, runStart: 0, runUsed: 0, promise, resolve, reject };
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
