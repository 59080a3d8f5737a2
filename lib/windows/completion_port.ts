/**
 * One I/O completion port for the whole process and its single waiter.
 *
 * Every overlapped operation gets an `OVERLAPPED` from a pool of slabs that are never freed, and is
 * found again by that structure's address when its completion packet arrives. One call to
 * `GetQueuedCompletionStatusEx` (an FFI call declared `nonblocking`, so it blocks a worker thread,
 * not the event loop) waits for all of them: no thread per pending read, no polling.
 *
 * Operations start with the ntdll calls (`NtReadFile`, `NtWriteFile`, `NtFsControlFile` with
 * `FSCTL_PIPE_LISTEN`, as kernel32's `ReadFile`, `WriteFile` and `ConnectNamedPipe` do), which
 * return the NTSTATUS itself: whether an operation is pending never depends on a second FFI call
 * to `GetLastError`, whose thread-local value the runtime (a GC, a runtime call) could overwrite in
 * between. A pending operation misread as failed would have its `OVERLAPPED` reused while the
 * kernel still owns it.
 *
 * Every associated handle is set to `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` (as libuv and go-winio
 * do), once a probe has shown that the system honours it (`completion_port_probe.ts`): a write with room in
 * the pipe or a read with data waiting then completes inside `submit`, with no packet and no trip
 * through the waiter. A read ending at once with the warning `STATUS_BUFFER_OVERFLOW` still queues
 * a packet on Windows 8 and later (not under Wine): the probe tells, and `submit` awaits it then.
 *
 * Before it blocks, the waiter looks at the port with zero-timeout calls on the event loop's
 * thread, one per turn of the loop, for up to a millisecond: a reply that comes within that time
 * (a request/response exchange) then costs no trip through Deno's blocking pool, whose hand-off
 * and wake-up of the event loop cost more than the exchange itself under Wine (a `nonblocking`
 * call 30-40 µs, a look 4 µs). An idle connection costs that millisecond of looks once, then waits
 * blocked. The looks take at most a fifth of each 100 ms, so that traffic always due within the
 * millisecond (a message every 0.5 ms) cannot keep a core busy (bench/README.md).
 *
 * The waiter re-arms itself only while operations are outstanding. Each outstanding operation is
 * owed exactly one packet (a cancelled one too: connections close by `CancelIoEx`, then wait for
 * it), so the packet of the last one ends the wait for good and the process is free to exit. The
 * waiter is therefore never left blocked with nothing to wait for, and needs no wake-up packet.
 *
 * Caveat: Deno runs `nonblocking` FFI calls on its bounded blocking-task pool, which on Windows
 * also serves child-process pipe reads. A program keeping many such reads pending (measured under
 * Wine: about eight) delays the waiter until one of them finishes; duct's own programs never do.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import {
  DWORD_SIZE,
  ENTRY_BYTES,
  ENTRY_OVERLAPPED,
  ERROR_ABANDONED_WAIT_0,
  ERROR_MORE_DATA,
  ERROR_SUCCESS,
  INFINITE,
  INVALID_HANDLE_VALUE,
  kernel32Symbols,
  ntdllSymbols,
  ntSeverity,
  OVERLAPPED_ENTRY_SIZE,
  OVERLAPPED_INTERNAL,
  OVERLAPPED_INTERNAL_HIGH,
  OVERLAPPED_OFFSET,
  OVERLAPPED_SIZE,
  SEVERITY_ERROR,
  SEVERITY_WARNING,
  STATUS_BUFFER_OVERFLOW,
  STATUS_PENDING,
  STATUS_SUCCESS,
} from "./ffi.ts";
import { win32Error } from "./errors.ts";
import { probeSkipOnSuccess, SKIP_MODES, type SkipProbe } from "./completion_port_probe.ts";

/** The outcome of one overlapped operation. */
export interface Completion {
  /** A Win32 error code; `ERROR_SUCCESS` (0) when it succeeded. */
  error: number;
  /** Bytes transferred. */
  bytes: number;
  /**
   * Whether it completed inside `submit` (a read that found its data already waiting), rather
   * than in the kernel later.
   */
  atOnce?: boolean;
}

/** The `OVERLAPPED` of one operation, as the `Nt…` calls take it. */
export interface IoSlot {
  /** The `OVERLAPPED`: the APC context (what the packet carries) and the `IO_STATUS_BLOCK`. */
  overlapped: Deno.PointerObject;
  /** Its `Offset` field (zero), the `ByteOffset` argument. */
  offset: Deno.PointerObject;
}

/**
 * One overlapped operation: the handle it runs on, a function that starts it with the given
 * `OVERLAPPED` and returns the NTSTATUS of the `Nt…` call, and the buffers the kernel uses until
 * it completes (kept referenced until then). Build one with `ntRead`, `ntWrite` or `ntListen`
 * (`nt_io.ts`).
 */
export interface IoRequest {
  handle: Deno.PointerValue;
  start: (io: IoSlot) => number;
  keepAlive?: unknown;
}

interface Slot extends IoSlot {
  address: bigint;
  view: DataView;
  at: number;
}

interface Operation {
  slot: Slot;
  handle: Deno.PointerValue;
  // Buffers the kernel reads or writes until the packet arrives; referenced so they stay alive.
  keepAlive: unknown;
  resolve: (completion: Completion) => void;
}

/** The completion key of every I/O packet; operations are told apart by `OVERLAPPED` address. */
const IO_KEY = 0n;
/** Packets taken per wait. */
const ENTRIES_PER_WAIT = 64;
/** `OVERLAPPED` structures per slab. */
const SLOTS_PER_SLAB = 64;
/** `NumberOfConcurrentThreads` 0: as many as there are processors (only one waiter here). */
const DEFAULT_CONCURRENCY = 0;
/** How long the waiter looks for packets between the event loop's turns before it blocks. */
const POLL_MS = 1;
/**
 * The looks may take at most this share of each {@linkcode POLL_WINDOW_MS} (beyond it the waiter
 * blocks at once): with a packet always due within `POLL_MS` (a message every 0.5 ms) the looks
 * would otherwise never end and keep a core busy. Figures in bench/README.md.
 */
const POLL_SHARE = 0.2;
const POLL_WINDOW_MS = 100;
/** The timeout of a look at the queue that must not block. */
const NO_WAIT = 0;
const FALSE = 0;

/**
 * The completion port and its waiter. Use the shared instance from {@linkcode completionPort}.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./completion_port.ts";
 * import { ntRead } from "./nt_io.ts";
 * const port = completionPort();
 * port.associate(handle);
 * const { error, bytes } = await port.submit(ntRead(handle, buffer));
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
  // Operations whose packets can no longer arrive (the waiter failed): their OVERLAPPED and buffers
  // stay referenced for the life of the process, as the kernel may still write into them.
  readonly #abandoned: Operation[] = [];
  #waiting = false;
  #broken = false;
  #settledAtOnce = 0;
  #strayPackets = 0;
  // The current window of POLL_WINDOW_MS, and the time spent looking in it.
  #windowStart = 0;
  #polled = 0;
  // Which operations completing at once queue no packet (see the module notes).
  readonly #skip: SkipProbe;

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
    this.#skip = probeSkipOnSuccess();
  }

  /** Operations started and not yet completed. */
  get pending(): number {
    return this.#operations.size;
  }

  /** Whether an operation that succeeds at once skips the port (and is settled by `submit`). */
  get skipsOnSuccess(): boolean {
    return this.#skip.success;
  }

  /**
   * Whether one that ends at once with a warning (`STATUS_BUFFER_OVERFLOW`, `ERROR_MORE_DATA`)
   * skips it too: under Wine 10 (Windows 7's rule), not on Windows 8 and later, where its packet
   * is awaited.
   */
  get skipsWarnings(): boolean {
    return this.#skip.warning;
  }

  /** Packets that matched no outstanding operation (a count for tests: always 0). */
  get strayPackets(): number {
    return this.#strayPackets;
  }

  /** Operations given up when the waiter failed, whose memory is kept for good (tests). */
  get abandoned(): number {
    return this.#abandoned.length;
  }

  /** The port's handle (for tests). */
  get handle(): Deno.PointerValue {
    return this.#handle;
  }

  /** Operations that completed inside `submit`, with no packet (a count for tests). */
  get settledAtOnce(): number {
    return this.#settledAtOnce;
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
    if (this.#skip.success && !kernel32.SetFileCompletionNotificationModes(handle, SKIP_MODES)) {
      throw win32Error(kernel32.GetLastError(), "cannot set a pipe's completion modes");
    }
  }

  /**
   * Starts an overlapped operation and resolves with its outcome. The request's `keepAlive` (the
   * data buffers) and its `OVERLAPPED` stay referenced until the packet arrives, even if the
   * operation is cancelled. The status comes back from the `Nt…` call itself, never from a second
   * call to `GetLastError`, which anything running on this thread in between could overwrite.
   * An operation that fails at once (an error NTSTATUS: no packet will come) resolves at once with
   * that error; one that succeeds at once, or ends at once with a warning, resolves at once too
   * when the port skips such packets (see {@linkcode skipsOnSuccess}, {@linkcode skipsWarnings});
   * otherwise its packet is awaited like a pending operation's.
   */
  submit(request: IoRequest): Promise<Completion> {
    if (this.#broken) return Promise.resolve({ error: ERROR_ABANDONED_WAIT_0, bytes: 0 });
    const slot = this.#take();
    // A fresh OVERLAPPED: status, byte count, file offset (unused by pipes) and event all zero.
    new Uint8Array(slot.view.buffer, slot.at, OVERLAPPED_SIZE).fill(0);
    const status = request.start(slot);
    const severity = ntSeverity(status);
    const failed = severity === SEVERITY_ERROR;
    // Windows 8 and later skip the port for every NT_SUCCESS status, informational ones included
    // (severity 0 and 1, STATUS_PENDING aside), and queue a packet for warnings (severity 2)
    // unless the probe found otherwise (Wine's Windows-verified dlls/ntoskrnl.exe/tests/ntoskrnl.c,
    // do_return_status). Keyed on STATUS_SUCCESS alone, an informational status would wait for a
    // packet that never comes.
    const skipped = severity === SEVERITY_WARNING ? this.#skip.warning : this.#skip.success;
    if (status === STATUS_PENDING || (!failed && !skipped)) {
      const { promise, resolve } = Promise.withResolvers<Completion>();
      const { handle, keepAlive } = request;
      this.#operations.set(slot.address, { slot, handle, keepAlive, resolve });
      this.#arm();
      return promise;
    }
    // No packet will come: done at once (its byte count is in the OVERLAPPED), or failed at once.
    let bytes = 0;
    if (!failed) {
      bytes = slot.view.getUint32(slot.at + OVERLAPPED_INTERNAL_HIGH, true);
      this.#settledAtOnce++;
    }
    this.#free.push(slot);
    return Promise.resolve({ error: dosError(status), bytes, atOnce: !failed });
  }

  #take(): Slot {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    const slab = new ArrayBuffer(SLOTS_PER_SLAB * OVERLAPPED_SIZE);
    this.#slabs.push(slab);
    const view = new DataView(slab);
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(slab));
    for (let i = SLOTS_PER_SLAB - 1; i >= 0; i--) {
      const at = i * OVERLAPPED_SIZE;
      const address = BigInt(base) + BigInt(at);
      const overlapped = Deno.UnsafePointer.create(address);
      const offset = Deno.UnsafePointer.create(address + BigInt(OVERLAPPED_OFFSET));
      if (overlapped === null || offset === null) {
        throw new RangeError("an OVERLAPPED slab has a null address");
      }
      this.#free.push({ address, overlapped, offset, view, at });
    }
    return this.#free.pop()!;
  }

  // Runs the waiter unless it already runs. It stops on its own once nothing is pending.
  #arm(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.#wait().catch(() => this.#abandon());
  }

  // Only a broken port fails the wait (ERROR_ABANDONED_WAIT_0 when its handle is closed; the
  // wait's own last error is on the worker thread, out of reach). No packet can be taken any more,
  // so nothing tells when the kernel is done with an operation's memory: cancel every operation,
  // keep its OVERLAPPED and buffers referenced for good (never back to the free list), and settle
  // it with ERROR_ABANDONED_WAIT_0 rather than hang. Later operations fail at once the same way.
  #abandon(): void {
    this.#broken = true;
    this.#waiting = false;
    const kernel32 = kernel32Symbols();
    for (const operation of this.#operations.values()) {
      this.#abandoned.push(operation);
      kernel32.CancelIoEx(operation.handle, operation.slot.overlapped);
      operation.resolve({ error: ERROR_ABANDONED_WAIT_0, bytes: 0 });
    }
    this.#operations.clear();
  }

  async #wait(): Promise<void> {
    const kernel32 = kernel32Symbols();
    while (this.#operations.size > 0) {
      if (await this.#poll()) continue;
      const ok = await kernel32.GetQueuedCompletionStatusEx(
        this.#handle,
        this.#entries,
        ENTRIES_PER_WAIT,
        this.#removed,
        INFINITE,
        FALSE,
      );
      if (!ok) throw new Error("GetQueuedCompletionStatusEx failed");
      this.#dispatch();
    }
    this.#waiting = false;
  }

  // Looks for packets from the event loop's thread, between its turns, for up to POLL_MS before
  // the waiter blocks on Deno's pool: a reply that comes within that time then costs no trip
  // through the pool (measured under Wine: a look about 4 µs, the pool's round trip 30-40 µs
  // before the blocked call's own wake-up). True when packets were taken or nothing is pending.
  async #poll(): Promise<boolean> {
    const start = performance.now();
    if (start - this.#windowStart >= POLL_WINDOW_MS) {
      this.#windowStart = start;
      this.#polled = 0;
    }
    if (this.#polled >= POLL_WINDOW_MS * POLL_SHARE) return false;
    try {
      return await this.#look(start + POLL_MS);
    } finally {
      this.#polled += performance.now() - start;
    }
  }

  async #look(until: number): Promise<boolean> {
    const kernel32 = kernel32Symbols();
    do {
      // A turn of the event loop (setImmediate: setTimeout(0) waits a millisecond or two), so
      // that the continuations of what was settled run first, and so do
      // the writes they make, which is what the reply waits for.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#operations.size === 0) return true;
      const found = kernel32.GetQueuedCompletionStatusExNow(
        this.#handle,
        this.#entries,
        ENTRIES_PER_WAIT,
        this.#removed,
        NO_WAIT,
        FALSE,
      );
      // Nothing queued: it fails with WAIT_TIMEOUT (and a broken port fails the blocking wait).
      if (found) {
        this.#dispatch();
        return true;
      }
    } while (performance.now() < until);
    return false;
  }

  // Settles the operations of the packets in `#entries`; returns how many packets there were.
  #dispatch(): number {
    const count = new DataView(this.#removed.buffer).getUint32(0, true);
    for (let i = 0; i < count; i++) {
      const at = i * OVERLAPPED_ENTRY_SIZE;
      const address = this.#entryView.getBigUint64(at + ENTRY_OVERLAPPED, true);
      const operation = this.#operations.get(address);
      if (operation === undefined) {
        this.#strayPackets++;
        continue;
      }
      this.#operations.delete(address);
      const { slot } = operation;
      // The status lives in the OVERLAPPED: the waiter's thread-local last error is not ours.
      const status = slot.view.getUint32(slot.at + OVERLAPPED_INTERNAL, true);
      const bytes = this.#entryView.getUint32(at + ENTRY_BYTES, true);
      this.#free.push(slot);
      operation.resolve({ error: dosError(status), bytes });
    }
    return count;
  }
}

// The Win32 error of an operation's NTSTATUS. The two outcomes of every message read and written
// are answered here, which saves an FFI call per operation; the rest ask ntdll.
function dosError(status: number): number {
  if (status === STATUS_SUCCESS) return ERROR_SUCCESS;
  if (status === STATUS_BUFFER_OVERFLOW) return ERROR_MORE_DATA;
  return ntdllSymbols().RtlNtStatusToDosError(status);
}

let shared: CompletionPort | undefined;

/**
 * The process's completion port, created on first use.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./completion_port.ts";
 * console.log(completionPort().pending); // 0
 * ```
 */
export function completionPort(): CompletionPort {
  return shared ??= new CompletionPort();
}
