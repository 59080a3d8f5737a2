/**
 * A framed connection over any transport's byte stream: `send` and `receive` whole frames, or use
 * the same frames as Web streams.
 *
 * @module
 */

import { ConnectionClosedError } from "./errors.ts";
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder, type Framing } from "./framing.ts";
import type { ByteConn } from "./transport.ts";

/** Size of each read from the transport. */
const READ_SIZE = 64 * 1024;
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
}

interface Batch {
  parts: Uint8Array[];
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
  #ended = false;
  #closed = false;
  #reading: Promise<void> | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /** Wraps a transport's byte stream; see {@linkcode ConnectionOptions}. */
  constructor(conn: ByteConn, options: ConnectionOptions = {}) {
    this.#conn = conn;
    this.#options = {
      framing: options.framing ?? "length",
      maxFrame: options.maxFrame ?? DEFAULT_MAX_FRAME,
      writePerFrame: options.writePerFrame ?? false,
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
   * @throws {InvalidFrameError} if the payload holds the delimiter of `line` or `nul` framing.
   */
  send(message: string | Uint8Array): Promise<void> {
    if (this.#closed || this.#writeClosed) {
      return Promise.reject(new ConnectionClosedError("cannot send: the connection is closed"));
    }
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    const payload = typeof message === "string" ? encoder.encode(message) : message;
    let parts: Uint8Array[];
    try {
      parts = encodeFrame(payload, this.#options);
    } catch (error) {
      return Promise.reject(error);
    }
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#batch = newBatch();
      this.#tail = batch.promise;
    }
    for (const part of parts) {
      batch.parts.push(part);
      this.#pendingBytes += part.length;
    }
    if (this.#options.writePerFrame) batch.parts.push(FRAME_END);
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
   * @throws {FrameTooLargeError} or {@linkcode ProtocolError} if the peer breaks the protocol;
   * the connection is then unusable and should be closed.
   */
  async receive(): Promise<Uint8Array | null> {
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

  /** Waits until every frame sent so far is written. */
  async flush(): Promise<void> {
    for (let tail = this.#tail;; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }

  /** Sends every pending frame, then tells the peer that nothing more will come. */
  async closeWrite(): Promise<void> {
    await this.#drained();
    this.#writeClosed = true;
    await this.#conn.closeWrite();
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
    const buffer = new Uint8Array(READ_SIZE);
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
    this.#decoder.push(count === buffer.length ? buffer : buffer.subarray(0, count));
  }

  async #flush(): Promise<void> {
    while (this.#batch !== undefined) {
      const batch = this.#batch;
      this.#batch = undefined;
      try {
        for (const chunk of chunksOf(batch.parts, this.#options.writePerFrame)) {
          await writeAll(this.#conn, chunk);
          this.#pendingBytes -= chunk.length;
        }
        batch.resolve();
      } catch (error) {
        this.#writeError = this.#closed
          ? new ConnectionClosedError("cannot send: the connection is closed")
          : error;
        batch.reject(this.#writeError);
        (this.#batch as Batch | undefined)?.reject(this.#writeError);
        this.#batch = undefined;
      }
    }
    this.#flushing = false;
  }
}

// Marks a frame boundary inside a batch when each frame needs its own write.
const FRAME_END = new Uint8Array(0);

function newBatch(): Batch {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  // A sender that does not await must not see an unhandled rejection.
  promise.catch(() => {});
  return { parts: [], promise, resolve, reject };
}

// Groups a batch's pieces into writes: small pieces merged, large ones written as they are.
function* chunksOf(parts: Uint8Array[], perFrame: boolean): Generator<Uint8Array> {
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const merged = () => {
    const out = new Uint8Array(runBytes);
    let offset = 0;
    for (const part of run) {
      out.set(part, offset);
      offset += part.length;
    }
    run = [];
    runBytes = 0;
    return out;
  };
  for (const part of parts) {
    if (part === FRAME_END) {
      if (runBytes > 0) yield merged();
      continue;
    }
    if (part.length >= COPY_LIMIT && !perFrame) {
      if (runBytes > 0) yield merged();
      yield part;
      continue;
    }
    run.push(part);
    runBytes += part.length;
  }
  if (runBytes > 0) yield merged();
}

async function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}
