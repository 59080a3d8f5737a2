/**
 * One end of a connected message-mode named pipe as a {@linkcode ByteConn}, over overlapped I/O
 * on the shared completion port.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Completion, completionPort, type IoRequest } from "./completion_port.ts";
import { ntRead, ntWrite } from "./nt_io.ts";
import type { ByteConn } from "../transport.ts";
import { ERROR_MORE_DATA, ERROR_OPERATION_ABORTED, ERROR_SUCCESS, kernel32Symbols } from "./ffi.ts";
import { isPeerGone, win32Error } from "./errors.ts";

/**
 * Writes shorter than this are copied into a buffer the pipe owns; longer ones are written from
 * the caller's memory, which V8 never moves at that size and which stays referenced until done,
 * if it is a plain fixed-length `ArrayBuffer`. A resizable one could shrink (its pages decommitted
 * under the kernel) and a `SharedArrayBuffer` could change while the kernel reads it: both are
 * copied. The caller must not transfer or detach the buffer of a pending write (the reference
 * kept would then be the emptied `ArrayBuffer`, not the memory the kernel reads); duct's
 * `Connection` never does, and `send` resolves only once the write is done.
 */
const COPY_BELOW = 64 * 1024;

/** A read buffer up to this size is kept for the next read (Connection reads up to 256 KiB). */
const REUSE_UP_TO = 256 * 1024;

// The source of the zero-length message of `closeWrite`. Off the V8 heap, so it never moves.
const NO_BYTES = new Uint8Array(new ArrayBuffer(1));

/**
 * A connected pipe handle. Each read is one overlapped `ReadFile` into a buffer of its own: when a
 * message is already waiting it completes inside the call (see `completion_port.ts`), otherwise it waits in
 * the kernel for the next one. (libuv waits with a zero-byte read instead, so that an idle pipe
 * pins no buffer; that costs a second system call and a second completion for every message, and
 * duct's idle connections read with a 4 KiB buffer.) `ERROR_MORE_DATA` just means the rest of the
 * message follows in the next read. A read that found a whole message already waiting also takes
 * the messages waiting behind it (`PeekNamedPipe`), as far as its buffer goes, so that a backlog
 * is read as a byte stream's would be. Closing cancels what is pending, waits for every cancelled completion, and only
 * then closes the handle.
 *
 * Half-close: pipes have none, so `closeWrite` sends a zero-length message, and a zero-length
 * message read from the peer is taken as its end of stream. duct never sends empty messages
 * otherwise (every frame has a header or a delimiter), and classic Win32 servers already stop
 * reading a client when `ReadFile` returns 0 bytes.
 *
 * @example
 * ```ts ignore
 * import { PipeConn } from "./pipe.ts";
 * const conn = new PipeConn(handle, () => console.log("closed"));
 * await conn.write(new TextEncoder().encode("hello\0"));
 * conn.close();
 * ```
 */
export class PipeConn implements ByteConn {
  readonly #handle: Deno.PointerValue;
  readonly #onClosed: (() => void) | undefined;
  #pending = 0;
  #closed = false;
  #handleClosed = false;
  #ended = false;
  #writeClosed = false;
  // The read buffer of the last completed read, for the next one.
  #readBuffer: Uint8Array<ArrayBuffer> | undefined;
  // What `PeekNamedPipe` writes the bytes waiting to.
  readonly #available = new Uint32Array(1);
  // A read of `#drain` that failed after others had succeeded: what the next read reports.
  #failedRead: Completion | undefined;

  /**
   * Takes ownership of `handle` (already associated with the completion port). `onClosed` runs
   * once no operation is pending any more, just before the handle is closed (so that a listener
   * can create the next instance while this one still holds the pipe's name).
   */
  constructor(handle: Deno.PointerValue, onClosed?: () => void) {
    this.#handle = handle;
    this.#onClosed = onClosed;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Reads part of the next message into `buffer`; `null` once the peer has gone. */
  async read(buffer: Uint8Array): Promise<number | null> {
    if (buffer.length === 0) return 0;
    if (this.#ended || this.#closed) return null;
    const failed = this.#failedRead;
    if (failed !== undefined) {
      this.#failedRead = undefined;
      return this.#readFailed(failed);
    }
    // The kernel may fill it after this call returns: a buffer of its own, off the V8 heap, reused
    // by the next read once this one has completed (never while a read is pending).
    let target = this.#readBuffer;
    if (target === undefined || target.length < buffer.length) {
      target = new Uint8Array(new ArrayBuffer(buffer.length));
    }
    this.#readBuffer = undefined;
    // Never more than the caller asked for: the rest of the message stays in the pipe.
    const result = await this.#start(ntRead(this.#handle, target.subarray(0, buffer.length)));
    try {
      // ERROR_MORE_DATA: a full buffer, and the rest of the message is still in the pipe.
      if (result.error !== ERROR_SUCCESS && result.error !== ERROR_MORE_DATA) {
        return this.#readFailed(result);
      }
      if (result.bytes === 0 && result.error === ERROR_SUCCESS) {
        // A zero-length message: the peer's closeWrite.
        this.#ended = true;
        return null;
      }
      let filled = result.bytes;
      // Only a read that found its message already waiting looks for more: one that waited in
      // the kernel got the message that just came (a round trip's reply), and a look costs a
      // call (under Wine about 90 µs, a `wineserver` request). A backlog shows itself as reads
      // that complete at once, so it is drained from the next read on.
      if (result.error === ERROR_SUCCESS && result.atOnce === true) {
        filled = await this.#drain(target, filled, buffer.length);
      }
      buffer.set(target.subarray(0, filled));
      return filled;
    } finally {
      if (target.length <= REUSE_UP_TO) this.#readBuffer = target;
    }
  }

  // Message mode hands out one message per read, where a byte stream's read takes every byte
  // waiting. Without this, a peer's small writes each cost a read and a wake-up, and an exchange
  // of many requests in flight, once split into one message per write, never merged again (100
  // JSON-RPC calls in flight ran at 4 k calls/s under Wine; bench/README.md, "JSON-RPC"). Takes
  // the whole messages already waiting, as far as `limit`; returns the bytes in `target`. One look
  // says how many bytes wait; their reads complete at once, and what comes later waits for the
  // next read.
  async #drain(target: Uint8Array<ArrayBuffer>, filled: number, limit: number): Promise<number> {
    let waiting = this.#waiting();
    while (waiting > 0 && filled < limit && !this.#closed) {
      const more = await this.#start(ntRead(this.#handle, target.subarray(filled, limit)));
      if (more.error === ERROR_SUCCESS && more.bytes === 0) {
        // The peer's closeWrite, after what it wrote: the next read ends the stream.
        this.#ended = true;
        break;
      }
      if (more.error !== ERROR_SUCCESS && more.error !== ERROR_MORE_DATA) {
        // Reported by the next read, after the bytes already in hand.
        this.#failedRead = more;
        break;
      }
      filled += more.bytes;
      waiting -= more.bytes;
      if (more.error === ERROR_MORE_DATA) break;
    }
    return filled;
  }

  // Bytes waiting in the pipe (`PeekNamedPipe`'s total), 0 if it cannot tell.
  #waiting(): number {
    const ok = kernel32Symbols().PeekNamedPipe(this.#handle, null, 0, null, this.#available, null);
    return ok === 0 ? 0 : this.#available[0];
  }

  /** Writes all of `data` as one message. */
  async write(data: Uint8Array): Promise<number> {
    if (this.#closed || this.#writeClosed) {
      throw new ConnectionClosedError("cannot write: the pipe is closed");
    }
    if (data.length === 0) return 0;
    let source: Uint8Array<ArrayBuffer>;
    if (data.length >= COPY_BELOW && isFixedArrayBuffer(data.buffer)) {
      source = data as Uint8Array<ArrayBuffer>;
    } else {
      source = new Uint8Array(new ArrayBuffer(data.length));
      source.set(data);
    }
    const result = await this.#start(ntWrite(this.#handle, source));
    if (result.error !== ERROR_SUCCESS) throw this.#failure(result.error, "cannot write");
    return result.bytes;
  }

  /** Sends the zero-length message that stands for end of stream (see the class notes). */
  async closeWrite(): Promise<void> {
    if (this.#closed || this.#writeClosed) return;
    this.#writeClosed = true;
    const result = await this.#start(ntWrite(this.#handle, NO_BYTES, 0));
    if (result.error !== ERROR_SUCCESS && !isPeerGone(result.error) && !this.#closed) {
      throw this.#failure(result.error, "cannot end the stream");
    }
  }

  /** Cancels pending reads and writes; the handle closes once their completions are in. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending === 0) this.#closeHandle();
    else kernel32Symbols().CancelIoEx(this.#handle, null);
  }

  async #start(request: IoRequest): Promise<Completion> {
    this.#pending++;
    try {
      return await completionPort().submit(request);
    } finally {
      this.#pending--;
      if (this.#closed && this.#pending === 0) this.#closeHandle();
    }
  }

  #readFailed(result: Completion): null {
    if (isPeerGone(result.error) || this.#closed) {
      this.#ended = true;
      return null;
    }
    throw this.#failure(result.error, "cannot read");
  }

  #failure(code: number, context: string): Error {
    if (this.#closed || code === ERROR_OPERATION_ABORTED) {
      return new ConnectionClosedError(`${context}: the pipe is closed`);
    }
    return win32Error(code, context);
  }

  #closeHandle(): void {
    if (this.#handleClosed) return;
    this.#handleClosed = true;
    this.#onClosed?.();
    kernel32Symbols().CloseHandle(this.#handle);
  }
}

function isFixedArrayBuffer(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return buffer instanceof ArrayBuffer && !buffer.resizable;
}
