/**
 * A one-time check, on a private pipe pair and a private completion port, of how this system
 * honours `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS`, in two cases probed separately:
 *
 * - a true success (a write with room, a read of a whole waiting message): Windows and Wine 10
 *   queue no packet. A system that still queued one would have every such operation dispatched
 *   twice (the second time onto a reused `OVERLAPPED`), so there the port leaves the flag off and
 *   waits for every packet.
 * - a warning (a read returning `STATUS_BUFFER_OVERFLOW`, `ERROR_MORE_DATA`, at once): Windows 8
 *   and later still queue a packet (Wine's Windows-verified test `dlls/ntoskrnl.exe/tests/ntoskrnl.c`,
 *   `do_return_status`, expects one), while Wine 10 follows Windows 7 and queues none. The port then
 *   awaits the packet, or settles at once, accordingly. Some Windows 10 builds pend that read
 *   instead (`STATUS_PENDING`, marked `broken` for win10 in that test): a packet then comes too,
 *   and the success rule, measured separately, still holds.
 *
 * @module
 */

import {
  DWORD_SIZE,
  ERROR_SUCCESS,
  FILE_FLAG_FIRST_PIPE_INSTANCE,
  FILE_FLAG_OVERLAPPED,
  FILE_SKIP_COMPLETION_PORT_ON_SUCCESS,
  FILE_SKIP_SET_EVENT_ON_HANDLE,
  GENERIC_READ,
  GENERIC_WRITE,
  INVALID_HANDLE_VALUE,
  isInvalidHandle,
  kernel32Symbols,
  ntdllSymbols,
  OPEN_EXISTING,
  OVERLAPPED_ENTRY_SIZE,
  OVERLAPPED_OFFSET,
  OVERLAPPED_SIZE,
  STATUS_BUFFER_OVERFLOW,
  STATUS_PENDING,
  STATUS_SUCCESS,
  wideString,
} from "./ffi.ts";
import { PIPE_MODE, PIPE_OPEN_MODE, setMessageReadMode } from "./pipe_mode.ts";

/** The modes `completion_port.ts` sets on every handle it associates, when the probe allows. */
export const SKIP_MODES = FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE;

/** One instance, each direction buffering a few bytes: the probe moves two. */
const PROBE_INSTANCES = 1;
const PROBE_BUFFER = 64;
/** The probe's three operations: one write, two reads. */
const PROBE_OPERATIONS = 3;
/** How long the probe waits for the packet of a read that was pended though its data was there. */
const PENDING_PACKET_MS = 1000;
const FALSE = 0;

/**
 * What the probe found: whether an operation that succeeds at once (`success`), and one that ends
 * at once with a warning such as `STATUS_BUFFER_OVERFLOW` (`warning`), queue no packet when
 * `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` is set.
 */
export interface SkipProbe {
  success: boolean;
  warning: boolean;
}

/** Neither is skipped: the port sets no skip mode and awaits every packet. */
const NO_SKIPPING: SkipProbe = { success: false, warning: false };

/**
 * Which completions that happen at once skip the port (see the module notes). Costs a dozen system
 * calls, once per process.
 *
 * @example
 * ```ts ignore
 * import { probeSkipOnSuccess } from "./completion_port_probe.ts";
 * console.log(probeSkipOnSuccess()); // { success: true, warning: false } on Windows 8 and later
 * ```
 */
export function probeSkipOnSuccess(): SkipProbe {
  const kernel32 = kernel32Symbols();
  const ntdll = ntdllSymbols();
  const handles: Deno.PointerObject[] = [];
  const keep = (handle: Deno.PointerValue): handle is Deno.PointerObject => {
    if (isInvalidHandle(handle)) return false;
    handles.push(handle as Deno.PointerObject);
    return true;
  };
  // Off the V8 heap, so the OVERLAPPED structures never move; referenced by this frame until the
  // last call that uses them has returned (the kernel only sees their raw addresses).
  const slab = new ArrayBuffer(PROBE_OPERATIONS * OVERLAPPED_SIZE);
  const message = new Uint8Array(new ArrayBuffer(2));
  const into = new Uint8Array(new ArrayBuffer(1));
  const entries = new Uint8Array(new ArrayBuffer(PROBE_OPERATIONS * OVERLAPPED_ENTRY_SIZE));
  const removed = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  try {
    const port = kernel32.CreateIoCompletionPort(
      Deno.UnsafePointer.create(INVALID_HANDLE_VALUE),
      null,
      0n,
      0,
    );
    if (!keep(port)) return NO_SKIPPING;
    // A name nobody else uses; the first-instance flag refuses a squatter's pipe.
    const path = wideString(`\\\\.\\pipe\\duct-probe-${Deno.pid}-${crypto.randomUUID()}`);
    const server = kernel32.CreateNamedPipeW(
      path,
      PIPE_OPEN_MODE | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_MODE,
      PROBE_INSTANCES,
      PROBE_BUFFER,
      PROBE_BUFFER,
      0,
      null,
    );
    if (!keep(server)) return NO_SKIPPING;
    const client = kernel32.CreateFileW(
      path,
      (GENERIC_READ | GENERIC_WRITE) >>> 0,
      0,
      null,
      OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED,
      null,
    );
    if (!keep(client)) return NO_SKIPPING;
    if (setMessageReadMode(client) !== ERROR_SUCCESS) return NO_SKIPPING;
    for (const handle of [server, client]) {
      if (kernel32.CreateIoCompletionPort(handle, port, 0n, 0) === null) return NO_SKIPPING;
      if (!kernel32.SetFileCompletionNotificationModes(handle, SKIP_MODES)) return NO_SKIPPING;
    }

    const base = Deno.UnsafePointer.of(slab)!;
    const overlapped = (i: number) => Deno.UnsafePointer.offset(base, i * OVERLAPPED_SIZE)!;
    const offset = (i: number) =>
      Deno.UnsafePointer.offset(base, i * OVERLAPPED_SIZE + OVERLAPPED_OFFSET)!;
    // Packets queued by operations that completed inside their call are there when it returns.
    // The count is only meaningful when the call succeeds: under Wine a timeout leaves it at 1.
    const queued = (timeout = 0) => {
      const got = kernel32.GetQueuedCompletionStatusExNow(
        port,
        entries,
        PROBE_OPERATIONS,
        removed,
        timeout,
        FALSE,
      );
      return got ? new DataView(removed.buffer).getUint32(0, true) : 0;
    };
    // A true success: a write with room.
    const wrote = ntdll.NtWriteFile(
      client,
      null,
      null,
      overlapped(0),
      overlapped(0),
      message,
      message.length,
      offset(0),
      null,
    );
    if (wrote !== STATUS_SUCCESS) return NO_SKIPPING;
    const success = queued() === 0;
    if (!success) return NO_SKIPPING;
    // A warning: half of the two-byte message, STATUS_BUFFER_OVERFLOW at once.
    const half = ntdll.NtReadFile(
      server,
      null,
      null,
      overlapped(1),
      overlapped(1),
      into,
      into.length,
      offset(1),
      null,
    );
    let warning: boolean;
    if (half === STATUS_BUFFER_OVERFLOW) warning = queued() === 0;
    else if (half === STATUS_PENDING) {
      // Some Windows 10 builds pend this read (the same Wine test accepts it as
      // `broken(... /* win10 */)`): it then ends with a packet like any pending operation, so
      // warnings count as queuing one. Its packet is awaited here (it is due at once, the
      // message being there) before its OVERLAPPED and buffer are used again.
      if (queued(PENDING_PACKET_MS) !== 1) return NO_SKIPPING;
      warning = false;
    } else return NO_SKIPPING;
    // The rest of it: a success again, which must not queue one either.
    const rest = ntdll.NtReadFile(
      server,
      null,
      null,
      overlapped(2),
      overlapped(2),
      into,
      into.length,
      offset(2),
      null,
    );
    if (rest !== STATUS_SUCCESS || queued() !== 0) return NO_SKIPPING;
    return { success, warning };
  } finally {
    for (const handle of handles.reverse()) kernel32.CloseHandle(handle);
    // Reachable until here: the calls above only saw raw pointers into these.
    void [slab, message, into, entries, removed];
  }
}
