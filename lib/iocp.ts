/**
 * One I/O completion port for the whole process and its single waiter.
 *
 * Every overlapped operation gets an `OVERLAPPED` from a pool of slabs that are never freed, and is
 * found again by that structure's address when its completion packet arrives. One call to
 * `GetQueuedCompletionStatusEx` (an FFI call declared `nonblocking`, so it blocks a worker thread,
 * not the event loop) waits for all of them: no thread per pending read, no polling.
 *
 * Every associated handle is set to `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` (as libuv and go-winio
 * do), once a probe has shown that the system honours it (`iocp_probe.ts`): a write with room in
 * the pipe or a read with data waiting then completes inside `submit`, with no packet and no trip
 * through the waiter. When a wake-up brings a full batch of packets, the waiter takes the ones left
 * behind with a zero-timeout call on the event loop's thread before it blocks again.
 *
 * The waiter re-arms itself only while operations are outstanding. Each outstanding operation is
 * owed exactly one packet (a cancelled one too: connections close by `CancelIoEx`, then wait for
 * it), so the packet of the last one ends the wait for good and the process is free to exit. The
 * waiter is therefore never left blocked with nothing to wait for, and needs no wake-up packet;
 * a packet posted with {@linkcode WAKE_KEY} is nevertheless skipped harmlessly.
 *
 * Caveat: Deno runs `nonblocking` FFI calls on its bounded blocking-task pool, which on Windows
 * also serves child-process pipe reads. A program keeping many such reads pending (measured under
 * Wine: about eight) delays the waiter until one of them finishes; duct's own programs never do.
 *
 * @module
 */

import {
  DWORD_SIZE,
  ENTRY_BYTES,
  ENTRY_COMPLETION_KEY,
  ENTRY_OVERLAPPED,
  ERROR_INVALID_HANDLE,
  ERROR_IO_PENDING,
  ERROR_MORE_DATA,
  ERROR_SUCCESS,
  INFINITE,
  INVALID_HANDLE_VALUE,
  kernel32Symbols,
  ntdllSymbols,
  OVERLAPPED_ENTRY_SIZE,
  OVERLAPPED_INTERNAL,
  OVERLAPPED_INTERNAL_HIGH,
  OVERLAPPED_SIZE,
} from "./win32_ffi.ts";
import { win32Error } from "./win32_errors.ts";
import { probeSkipOnSuccess, SKIP_MODES } from "./iocp_probe.ts";

/** The outcome of one overlapped operation. */
export interface Completion {
  /** A Win32 error code; `ERROR_SUCCESS` (0) when it succeeded. */
  error: number;
  /** Bytes transferred. */
  bytes: number;
}

/** Starts an overlapped operation with the given `OVERLAPPED`; returns the Win32 `BOOL`. */
export type Start = (overlapped: Deno.PointerObject) => number;

interface Slot {
  address: bigint;
  pointer: Deno.PointerObject;
  view: DataView;
  offset: number;
}

interface Operation {
  slot: Slot;
  // Buffers the kernel reads or writes until the packet arrives; referenced so they stay alive.
  keepAlive: unknown;
  resolve: (completion: Completion) => void;
}

/** The completion key of every I/O packet; operations are told apart by `OVERLAPPED` address. */
const IO_KEY = 0n;
/** The completion key of a packet posted with `PostQueuedCompletionStatus`: not an operation. */
export const WAKE_KEY = 1n;
/** Packets taken per wait. */
const ENTRIES_PER_WAIT = 64;
/** `OVERLAPPED` structures per slab. */
const SLOTS_PER_SLAB = 64;
/** `NumberOfConcurrentThreads` 0: as many as there are processors (only one waiter here). */
const DEFAULT_CONCURRENCY = 0;
/** The timeout of a look at the queue that must not block. */
const NO_WAIT = 0;
const FALSE = 0;

/**
 * The completion port and its waiter. Use the shared instance from {@linkcode completionPort}.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./iocp.ts";
 * const port = completionPort();
 * port.associate(handle);
 * const { error, bytes } = await port.submit(
 *   (overlapped) => kernel32.ReadFile(handle, buffer, buffer.length, null, overlapped),
 *   buffer,
 * );
 * ```
 */
export class CompletionPort {
  readonly #handle: Deno.PointerValue;
  readonly #operations = new Map<bigint, Operation>();
  readonly #free: Slot[] = [];
  // Slabs backing every OVERLAPPED ever handed out; never released, so no pointer dangles.
  readonly #slabs: ArrayBuffer[] = [];
  readonly #entries = new Uint8Array(new ArrayBuffer(ENTRIES_PER_WAIT * OVERLAPPED_ENTRY_SIZE));
  readonly #entryView = new DataView(this.#entries.buffer);
  readonly #removed = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  #waiting = false;
  #settledAtOnce = 0;
  // Whether operations completing at once queue no packet (see the module notes).
  readonly #skipOnSuccess: boolean;

  /**
   * Creates a completion port not yet tied to any handle.
   *
   * @throws {Win32Error} if Windows refuses to create the port.
   */
  constructor() {
    const kernel32 = kernel32Symbols();
    const handle = kernel32.CreateIoCompletionPort(
      Deno.UnsafePointer.create(INVALID_HANDLE_VALUE),
      null,
      IO_KEY,
      DEFAULT_CONCURRENCY,
    );
    if (handle === null) {
      throw win32Error(kernel32.GetLastError(), "cannot create an I/O completion port");
    }
    this.#handle = handle;
    this.#skipOnSuccess = probeSkipOnSuccess();
  }

  /** Operations started and not yet completed. */
  get pending(): number {
    return this.#operations.size;
  }

  /** Whether an operation that completes at once skips the port (and is settled by `submit`). */
  get skipsOnSuccess(): boolean {
    return this.#skipOnSuccess;
  }

  /** Operations that completed inside `submit`, with no packet (a count for tests). */
  get settledAtOnce(): number {
    return this.#settledAtOnce;
  }

  /** Whether a `GetQueuedCompletionStatusEx` call is outstanding. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /**
   * Routes the completions of an overlapped handle to this port.
   *
   * @throws {Win32Error} if the handle cannot be associated.
   */
  associate(handle: Deno.PointerValue): void {
    const kernel32 = kernel32Symbols();
    const result = kernel32.CreateIoCompletionPort(
      handle,
      this.#handle,
      IO_KEY,
      DEFAULT_CONCURRENCY,
    );
    if (result === null) {
      throw win32Error(kernel32.GetLastError(), "cannot attach a pipe to the completion port");
    }
    // Every handle must skip alike: `submit` cannot tell them apart.
    if (this.#skipOnSuccess && !kernel32.SetFileCompletionNotificationModes(handle, SKIP_MODES)) {
      throw win32Error(kernel32.GetLastError(), "cannot set a pipe's completion modes");
    }
  }

  /**
   * Starts an overlapped operation and resolves with its outcome. `keepAlive` (the data buffers)
   * stays referenced until the packet arrives, even if the operation is cancelled. An operation
   * that fails at once (no packet will come) resolves at once with that error. One that succeeds
   * at once, or returns the warning `ERROR_MORE_DATA` at once, resolves at once too when the port
   * skips such packets; otherwise its packet is awaited like a pending operation's.
   */
  submit(start: Start, keepAlive?: unknown): Promise<Completion> {
    const kernel32 = kernel32Symbols();
    const slot = this.#take();
    // A fresh OVERLAPPED: status, byte count, file offset (unused by pipes) and event all zero.
    new Uint8Array(slot.view.buffer, slot.offset, OVERLAPPED_SIZE).fill(0);
    const ok = start(slot.pointer);
    // Read right after the call: nothing may run in between and overwrite it.
    const error = ok ? ERROR_SUCCESS : kernel32.GetLastError();
    const done = ok || error === ERROR_MORE_DATA;
    if (error === ERROR_IO_PENDING || (done && !this.#skipOnSuccess)) {
      const { promise, resolve } = Promise.withResolvers<Completion>();
      this.#operations.set(slot.address, { slot, keepAlive, resolve });
      this.#arm();
      return promise;
    }
    // No packet will come: done at once (its byte count is in the OVERLAPPED), or failed at once.
    let bytes = 0;
    if (done) {
      bytes = slot.view.getUint32(slot.offset + OVERLAPPED_INTERNAL_HIGH, true);
      this.#settledAtOnce++;
    }
    this.#free.push(slot);
    return Promise.resolve({ error, bytes });
  }

  #take(): Slot {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    const slab = new ArrayBuffer(SLOTS_PER_SLAB * OVERLAPPED_SIZE);
    this.#slabs.push(slab);
    const view = new DataView(slab);
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(slab));
    for (let i = SLOTS_PER_SLAB - 1; i >= 0; i--) {
      const offset = i * OVERLAPPED_SIZE;
      const address = BigInt(base) + BigInt(offset);
      const pointer = Deno.UnsafePointer.create(address);
      if (pointer === null) throw new RangeError("an OVERLAPPED slab has a null address");
      this.#free.push({ address, pointer, view, offset });
    }
    return this.#free.pop()!;
  }

  // Runs the waiter unless it already runs. It stops on its own once nothing is pending.
  #arm(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.#wait().catch(() => {
      // Only a broken port fails the wait; fail every operation rather than hang. (The wait's own
      // last error is on the worker thread, out of reach.)
      this.#waiting = false;
      for (const [address, operation] of this.#operations) {
        this.#operations.delete(address);
        operation.resolve({ error: ERROR_INVALID_HANDLE, bytes: 0 });
      }
    });
  }

  async #wait(): Promise<void> {
    const kernel32 = kernel32Symbols();
    while (this.#operations.size > 0) {
      const ok = await kernel32.GetQueuedCompletionStatusEx(
        this.#handle,
        this.#entries,
        ENTRIES_PER_WAIT,
        this.#removed,
        INFINITE,
        FALSE,
      );
      if (!ok) throw new Error("GetQueuedCompletionStatusEx failed");
      // A full batch may have left packets behind: take those on this thread, which saves a trip
      // through Deno's blocking pool. Only then: under Wine a look that finds nothing costs about
      // as much as a system call, and it would delay the settled operations' continuations.
      while (this.#dispatch() === ENTRIES_PER_WAIT && this.#operations.size > 0) {
        const more = kernel32.GetQueuedCompletionStatusExNow(
          this.#handle,
          this.#entries,
          ENTRIES_PER_WAIT,
          this.#removed,
          NO_WAIT,
          FALSE,
        );
        // Nothing queued: it fails with WAIT_TIMEOUT.
        if (!more) break;
      }
    }
    this.#waiting = false;
  }

  // Settles the operations of the packets in `#entries`; returns how many packets there were.
  #dispatch(): number {
    const ntdll = ntdllSymbols();
    const count = new DataView(this.#removed.buffer).getUint32(0, true);
    for (let i = 0; i < count; i++) {
      const at = i * OVERLAPPED_ENTRY_SIZE;
      const key = this.#entryView.getBigUint64(at + ENTRY_COMPLETION_KEY, true);
      if (key === WAKE_KEY) continue;
      const address = this.#entryView.getBigUint64(at + ENTRY_OVERLAPPED, true);
      const operation = this.#operations.get(address);
      if (operation === undefined) continue;
      this.#operations.delete(address);
      const { slot } = operation;
      // The status lives in the OVERLAPPED: the waiter's thread-local last error is not ours.
      const status = slot.view.getUint32(slot.offset + OVERLAPPED_INTERNAL, true);
      const bytes = this.#entryView.getUint32(at + ENTRY_BYTES, true);
      this.#free.push(slot);
      operation.resolve({ error: ntdll.RtlNtStatusToDosError(status), bytes });
    }
    return count;
  }
}

let shared: CompletionPort | undefined;

/**
 * The process's completion port, created on first use.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./iocp.ts";
 * console.log(completionPort().pending); // 0
 * ```
 */
export function completionPort(): CompletionPort {
  return shared ??= new CompletionPort();
}
