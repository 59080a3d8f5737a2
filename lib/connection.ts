/**
 * A framed connection over any transport's byte stream: `send` and `receive` whole frames, or use
 * the same frames as Web streams.
 *
 * @module
 */

import { ABORTED, type ReceiveOptions, untilAborted } from "./abort.ts";
import { asDuctError, ConnectionClosedError } from "./errors.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { concat, delimiterOf, frameParts, type Framing, payloadError } from "./framing.ts";
import { HEADER_BYTES } from "./length_header.ts";
import { resolveOptions } from "./options.ts";
import type { ByteConn } from "./transport.ts";
import { WriteBatcher } from "./write_batcher.ts";

/**
 * Size of a connection's first read. Small, because every connection waiting for data holds a
 * read buffer: a server with a thousand idle clients should not hold a thousand large ones.
 */
const READ_MIN = 4 * 1024;
/** Reads grow, doubling each time one comes back full, up to this size. */
const READ_MAX = 256 * 1024;

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions {
  /** How frames are delimited. Default `"length"`. */
  framing?: Framing;
  /** Largest payload in bytes, both directions. Default 16 MiB. */
  maxFrame?: number;
  /**
   * Unsent bytes up to which `send` settles at once; past it, `send` settles once the buffer has
   * drained to it. Default 1 MiB.
   */
  highWaterMark?: number;
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
  readonly #writer: WriteBatcher;
  #writeClosed = false;
  #last: Uint8Array | undefined;
  #unfinished: Uint8Array | undefined;
  // Why receiving failed (a broken protocol or a lost connection): every later receive rejects.
  #readError: unknown;
  // A reset that came after an unterminated last `line`/`nul` frame: reported once that frame
  // has been received.
  #resetAfterLast: unknown;
  #ended = false;
  // Set once a receive has returned `null`: the conversation is over on the peer's side.
  #finished = false;
  #closed = false;
  #reading: Promise<void> | undefined;
  // Why the last read failed: kept here, not as a rejection, so that a read left running by an
  // aborted receive fails the next receive instead of going unhandled.
  #fillError: unknown;
  // The last read buffer, reused while the decoder holds none of its bytes.
  #readBuffer: Uint8Array | undefined;
  #readSize = READ_MIN;
  #afterDirect = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * Wraps a transport's byte stream; see {@linkcode ConnectionOptions}.
   *
   * @throws {TypeError} or {@linkcode RangeError} for a bad `framing`, `maxFrame`,
   * `highWaterMark` or `keepOpenAfterError`.
   */
  constructor(conn: ByteConn, options: ConnectionOptions = {}) {
    const { framing, maxFrame, highWaterMark, keepOpenAfterError } = options;
    this.#conn = conn;
    this.#options = {
      ...resolveOptions({ framing, maxFrame, highWaterMark, keepOpenAfterError }),
      writePerFrame: options.writePerFrame ?? false,
    };
    this.#decoder = new FrameDecoder(this.#options);
    this.#writer = new WriteBatcher(conn, {
      highWaterMark: this.#options.highWaterMark,
      // Frames already received are still being answered: answers to one read share writes
      // (the write starts once `receive` has to wait for the transport).
      answering: () => this.#decoder.buffered > 0 && this.#reading === undefined,
      failure: (error) =>
        this.#closed
          ? new ConnectionClosedError("cannot send: the connection is closed")
          : asDuctError(error, "cannot send"),
    });
  }

  /** The framing in use. */
  get framing(): Framing {
    return this.#options.framing;
  }

  /**
   * The bytes of a frame that this side's `abort()` or `close()` cut short while it arrived
   * (after a `length` header, the payload so far), else `undefined`. `receive` never returns it:
   * the peer did not finish it, and this side's close is not the peer's end of stream.
   */
  get unfinished(): Uint8Array | undefined {
    return this.#unfinished;
  }

  /** Bytes accepted by `send` but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#writer.bufferedAmount;
  }

  /**
   * Sends one frame. Frames go out in call order, those sent close together merged into few
   * writes. The promise settles once the frame is accepted, not written: at once while
   * {@linkcode Connection.bufferedAmount} is at most `highWaterMark` (1 MiB by default), else
   * once it has drained to that mark. A `Uint8Array` of 16 KiB or more is written from your
   * buffer without copying, so its promise settles only once it is written: leave it unchanged
   * until then. Use {@linkcode Connection.flush} to wait until everything is written.
   *
   * Writing needs the peer to read. Against a peer that answers (an echo server), read while you
   * send: sending everything before reading any reply stops for good after a few MiB, each side
   * waiting for the other (docs/library.md, "Sending a lot", shows the pattern).
   *
   * A write that fails rejects every later `send`, `flush` and `closeWrite`, and `close` too
   * unless a rejected promise has already carried the error.
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
    const writer = this.#writer;
    if (writer.error !== undefined) return writer.failed();
    const payload = typeof message === "string" ? encoder.encode(message) : message;
    const options = this.#options;
    // Checked once, before touching the batch: a refused frame leaves no trace.
    const refused = payloadError(payload, options);
    if (refused !== undefined) return Promise.reject(refused);
    if (options.writePerFrame) return writer.whole(concat(frameParts(payload, options.framing)));
    if (options.framing === "length") return writer.lengthFrame(payload);
    if (options.framing === "content-length") return writer.contentLengthFrame(payload);
    return writer.delimitedFrame(payload, delimiterOf(options.framing));
  }

  /**
   * Receives the next frame; resolves `null` once the peer has closed. The frame is the caller's:
   * nothing later writes to it (small frames are views of one shared block of memory). To reuse
   * one buffer instead, see {@linkcode Connection.receiveInto}.
   *
   * @throws {FrameTooLargeError} or {@linkcode ProtocolError} if the peer breaks the protocol.
   * @throws {ConnectionClosedError} if the connection is lost (reset by the peer, for example).
   * After any of these every later `receive` rejects with the same error, and the connection
   * closes itself (sending what is pending, then releasing it) so that the peer sees end of
   * stream — unless `keepOpenAfterError` is set.
   * @throws The `signal`'s reason once it is aborted; see {@linkcode ReceiveOptions.signal}.
   *
   * @example Wait at most 5 seconds for a reply
   * ```ts ignore
   * import { connect } from "./mod.ts";
   * await using conn = await connect({ name: "testPipe" });
   * await conn.send("hello");
   * const reply = await conn.receive({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  receive(options?: ReceiveOptions): Promise<Uint8Array | null> {
    const signal = options?.signal;
    if (signal === undefined) return this.#next(undefined);
    if (signal.aborted) return Promise.reject(signal.reason);
    return this.#next(undefined, signal);
  }

  /**
   * Receives the next frame into `buffer`, which the caller owns and may reuse for every call:
   * resolves to a view of `buffer` when the frame fits (a large `length` frame is then read from
   * the transport straight into `buffer`, never copied), to a new `Uint8Array` when it does not,
   * and to `null` once the peer has closed. The view is overwritten by the next call that is
   * given the same buffer.
   *
   * @throws {FrameTooLargeError} or {@linkcode ProtocolError} as {@linkcode Connection.receive}.
   * @throws {ConnectionClosedError} if the connection is lost, as {@linkcode Connection.receive}.
   *
   * @example
   * ```ts ignore
   * import { connect } from "./mod.ts";
   * await using conn = await connect({ name: "testPipe" });
   * const buffer = new Uint8Array(1024 * 1024);
   * for (let frame; (frame = await conn.receiveInto(buffer)) !== null;) {
   *   console.log(frame.length);
   * }
   * ```
   */
  receiveInto(buffer: Uint8Array): Promise<Uint8Array | null> {
    return this.#next(buffer);
  }

  // A frame already decoded is returned without entering an async function: in a pipelined
  // exchange most frames are, and the async function's own objects were a large part of the
  // garbage per frame (bench/README.md, "Echo").
  #next(into: Uint8Array | undefined, signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#readError === undefined) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#decoder.next(into);
      } catch (error) {
        return Promise.reject(this.#failed(error));
      }
      if (frame !== undefined) return Promise.resolve(frame);
    }
    return this.#receive(into, signal);
  }

  async #receive(
    into: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | null> {
    if (this.#readError !== undefined) throw this.#readError;
    try {
      for (;;) {
        const frame = this.#decoder.next(into);
        if (frame !== undefined) return frame;
        if (this.#ended) {
          const last = this.#last;
          this.#last = undefined;
          if (last === undefined && this.#resetAfterLast !== undefined) throw this.#resetAfterLast;
          if (last === undefined) {
            this.#finished = true;
            return null;
          }
          if (into === undefined || last.length > into.length) return last;
          into.set(last);
          return into.subarray(0, last.length);
        }
        if (this.#reading === undefined) {
          this.#writer.startDeferred();
          this.#reading = this.#fill(into);
        }
        const reading = this.#reading;
        if (signal !== undefined && await untilAborted(reading, signal)) throw ABORTED;
        await reading;
        if (this.#fillError !== undefined) throw this.#fillError;
      }
    } catch (error) {
      // Only this call stops: the read goes on, and its bytes wait for the next receive.
      if (error === ABORTED) throw signal!.reason;
      throw this.#failed(error);
    }
  }

  // Records why receiving failed and returns the error every later receive rejects with.
  #failed(error: unknown): unknown {
    this.#readError ??= asDuctError(error, "cannot receive");
    // Nothing more can be read: release the connection rather than leave the peer waiting.
    if (!this.#options.keepOpenAfterError) this.close().catch(() => {});
    return this.#readError;
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
      // `send` settles at once below the high-water mark, so back-to-back chunks share writes.
      write: (chunk) => this.send(chunk),
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
  }

  /**
   * Waits until every frame sent so far is written.
   *
   * @throws {ConnectionClosedError} if a write failed (then some frames were not delivered).
   */
  async flush(): Promise<void> {
    this.#writer.startDeferred();
    await this.#writer.settled();
    if (this.#writer.error !== undefined) return this.#writer.failed();
  }

  /**
   * Writes every pending frame, then tells the peer that nothing more will come.
   *
   * @throws {ConnectionClosedError} if a pending frame could not be written or the connection is
   * gone.
   */
  async closeWrite(): Promise<void> {
    await this.flush();
    this.#writeClosed = true;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw asDuctError(error, "cannot close the connection for writing");
    }
  }

  /**
   * Writes every pending frame, then releases the connection. Rejects, once the connection is
   * released, if a write failed and no earlier rejection carried that error.
   *
   * @throws {ConnectionClosedError} if a frame could not be written because the peer has gone
   * (it left before reading what was sent); the operating system's error is the `cause`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writer.startDeferred();
    await this.#writer.settled();
    this.#closed = true;
    this.#ended = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the transport.
    }
    if (this.#writer.error !== undefined && !this.#writer.errorReported) {
      await this.#writer.failed();
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

  /**
   * {@linkcode Connection.close}, for `await using`, but once `receive` has returned `null` (the
   * peer ended the conversation) a frame that could not be written does not make it reject: a
   * finished conversation is not a crash. {@linkcode Connection.flush} and `close` always report.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.close();
    } catch (error) {
      if (!(this.#finished && error instanceof ConnectionClosedError)) throw error;
    }
  }

  async #fill(into: Uint8Array | undefined): Promise<void> {
    // Frames are copies (see `FrameDecoder`), so once the decoder holds no bytes, nothing refers
    // to the previous buffer and it can take the next read: no allocation per read.
    // A large frame is read straight into its own buffer, saving a copy of every byte.
    let buffer = this.#decoder.directTarget(READ_MAX, into);
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
    this.#afterDirect = direct && this.#options.framing === "length";
    let count: number | null;
    try {
      count = await this.#conn.read(buffer);
    } catch (error) {
      if (this.#closed) count = null;
      else if (this.#unterminatedAtReset(error)) {
        // A peer that closes with replies unread resets the connection (Linux), yet what it sent
        // before is whole: its unterminated last line is delivered, as at a clean end.
        this.#resetAfterLast = error;
        count = null;
      } else {
        this.#fillError = error;
        return;
      }
    } finally {
      // After the first await, so `receive` has stored the promise this clears.
      this.#reading = undefined;
    }
    if (count === null) {
      this.#ended = true;
      // Closed by this side (`abort`, an idle timeout): not the peer's end of stream, so a frame
      // it left unfinished is not delivered as its last (see `unfinished`).
      if (this.#closed) {
        if (this.#decoder.buffered > 0) this.#unfinished = this.#decoder.rest();
      } else this.#last = this.#decoder.end();
      return;
    }
    if (count === buffer.length && buffer === this.#readBuffer) {
      this.#readSize = Math.min(this.#readSize * 2, READ_MAX);
    }
    this.#decoder.push(count === buffer.length ? buffer : buffer.subarray(0, count));
  }

  #unterminatedAtReset(error: unknown): boolean {
    const delimited = this.#options.framing === "line" || this.#options.framing === "nul";
    return error instanceof Deno.errors.ConnectionReset && delimited &&
      this.#decoder.buffered > 0;
  }
}
