/**
 * A one-time check, on a private pipe pair and a private completion port, that this system honours
 * `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` the way `iocp.ts` relies on: an overlapped write or read
 * that completes at once, and a read that returns `ERROR_MORE_DATA` at once, queue no packet.
 * Windows and Wine 10 both do; a system that still queued one would have every such operation
 * dispatched twice (the second time onto a reused `OVERLAPPED`), so there the port keeps the flag
 * off and waits for every packet instead.
 *
 * @module
 */

import {
  DWORD_SIZE,
  ERROR_MORE_DATA,
  FILE_FLAG_FIRST_PIPE_INSTANCE,
  FILE_FLAG_OVERLAPPED,
  FILE_SKIP_COMPLETION_PORT_ON_SUCCESS,
  FILE_SKIP_SET_EVENT_ON_HANDLE,
  GENERIC_READ,
  GENERIC_WRITE,
  INVALID_HANDLE_VALUE,
  isInvalidHandle,
  kernel32Symbols,
  OPEN_EXISTING,
  OVERLAPPED_ENTRY_SIZE,
  OVERLAPPED_SIZE,
  PIPE_ACCESS_DUPLEX,
  PIPE_READMODE_MESSAGE,
  PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_MESSAGE,
  PIPE_WAIT,
  WAIT_TIMEOUT,
  wideString,
} from "./win32_ffi.ts";

/** The modes `iocp.ts` sets on every handle it associates, when the probe allows. */
export const SKIP_MODES = FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE;

/** One instance, each direction buffering a few bytes: the probe moves two. */
const PROBE_INSTANCES = 1;
const PROBE_BUFFER = 64;
/** The probe's three operations: one write, two reads. */
const PROBE_OPERATIONS = 3;
const FALSE = 0;

/**
 * Whether completions that happen at once can skip the port (see the module notes). Costs a dozen
 * system calls, once per process.
 *
 * @example
 * ```ts ignore
 * import { probeSkipOnSuccess } from "./iocp_probe.ts";
 * console.log(probeSkipOnSuccess()); // true on Windows and under Wine 10
 * ```
 */
export function probeSkipOnSuccess(): boolean {
  const kernel32 = kernel32Symbols();
  const handles: Deno.PointerObject[] = [];
  const keep = (handle: Deno.PointerValue): handle is Deno.PointerObject => {
    if (isInvalidHandle(handle)) return false;
    handles.push(handle as Deno.PointerObject);
    return true;
  };
  try {
    const port = kernel32.CreateIoCompletionPort(
      Deno.UnsafePointer.create(INVALID_HANDLE_VALUE),
      null,
      0n,
      0,
    );
    if (!keep(port)) return false;
    // A name nobody else uses; the first-instance flag refuses a squatter's pipe.
    const path = wideString(`\\\\.\\pipe\\duct-probe-${Deno.pid}-${crypto.randomUUID()}`);
    const server = kernel32.CreateNamedPipeW(
      path,
      PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PROBE_INSTANCES,
      PROBE_BUFFER,
      PROBE_BUFFER,
      0,
      null,
    );
    if (!keep(server)) return false;
    const client = kernel32.CreateFileW(
      path,
      (GENERIC_READ | GENERIC_WRITE) >>> 0,
      0,
      null,
      OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED,
      null,
    );
    if (!keep(client)) return false;
    const mode = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
    new DataView(mode.buffer).setUint32(0, PIPE_READMODE_MESSAGE, true);
    if (!kernel32.SetNamedPipeHandleState(client, mode, null, null)) return false;
    for (const handle of [server, client]) {
      if (kernel32.CreateIoCompletionPort(handle, port, 0n, 0) === null) return false;
      if (!kernel32.SetFileCompletionNotificationModes(handle, SKIP_MODES)) return false;
    }

    // Off the V8 heap, so the OVERLAPPED structures never move.
    const slab = new ArrayBuffer(PROBE_OPERATIONS * OVERLAPPED_SIZE);
    const base = Deno.UnsafePointer.of(slab);
    const overlapped = (i: number) => Deno.UnsafePointer.offset(base!, i * OVERLAPPED_SIZE);
    const message = new Uint8Array(new ArrayBuffer(2));
    const into = new Uint8Array(new ArrayBuffer(1));
    const wrote = kernel32.WriteFile(client, message, message.length, null, overlapped(0));
    // Half of the two-byte message: ERROR_MORE_DATA at once, then the other half at once.
    const half = kernel32.ReadFile(server, into, into.length, null, overlapped(1));
    const halfError = kernel32.GetLastError();
    const rest = kernel32.ReadFile(server, into, into.length, null, overlapped(2));
    if (!wrote || half || halfError !== ERROR_MORE_DATA || !rest) return false;

    // A packet for any of them would have been queued before its call returned.
    const entries = new Uint8Array(new ArrayBuffer(PROBE_OPERATIONS * OVERLAPPED_ENTRY_SIZE));
    const removed = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
    const got = kernel32.GetQueuedCompletionStatusExNow(
      port,
      entries,
      PROBE_OPERATIONS,
      removed,
      0,
      FALSE,
    );
    return !got && kernel32.GetLastError() === WAIT_TIMEOUT;
  } finally {
    for (const handle of handles.reverse()) kernel32.CloseHandle(handle);
  }
}
