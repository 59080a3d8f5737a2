/**
 * The overlapped pipe operations duct submits to the completion port, as the `Nt…` calls that
 * kernel32's `ReadFile`, `WriteFile` and `ConnectNamedPipe` make: each returns the NTSTATUS itself
 * (see `completion_port.ts` for why that matters).
 *
 * @module
 */

import type { IoRequest } from "./completion_port.ts";
import { FSCTL_PIPE_LISTEN, ntdllSymbols } from "./ffi.ts";

/**
 * A read of one pipe message (or its next part) into `buffer`, as `NtReadFile`.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./completion_port.ts";
 * import { ntRead } from "./nt_io.ts";
 * const { error, bytes } = await completionPort().submit(ntRead(handle, buffer));
 * ```
 */
export function ntRead(handle: Deno.PointerValue, buffer: Uint8Array<ArrayBuffer>): IoRequest {
  return ntTransfer("NtReadFile", handle, buffer, buffer.length);
}

/**
 * A write of `buffer` as one pipe message, as `NtWriteFile`.
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./completion_port.ts";
 * import { ntWrite } from "./nt_io.ts";
 * const { error, bytes } = await completionPort().submit(ntWrite(handle, data));
 * ```
 */
export function ntWrite(
  handle: Deno.PointerValue,
  buffer: Uint8Array<ArrayBuffer>,
  length = buffer.length,
): IoRequest {
  return ntTransfer("NtWriteFile", handle, buffer, length);
}

// `length` bytes of `buffer` read or written by `call`, overlapped on the port.
function ntTransfer(
  call: "NtReadFile" | "NtWriteFile",
  handle: Deno.PointerValue,
  buffer: Uint8Array<ArrayBuffer>,
  length: number,
): IoRequest {
  return {
    handle,
    keepAlive: buffer,
    start: (io) =>
      ntdllSymbols()[call](
        handle,
        null,
        null,
        io.overlapped,
        io.overlapped,
        buffer,
        length,
        io.offset,
        null,
      ),
  };
}

/**
 * A wait for a client on a server instance, as `ConnectNamedPipe` sends it:
 * `NtFsControlFile(FSCTL_PIPE_LISTEN)`. A client that came first gives `STATUS_PIPE_CONNECTED`
 * (`ERROR_PIPE_CONNECTED`), one that came and went `STATUS_PIPE_CLOSING` (`ERROR_NO_DATA`).
 *
 * @example
 * ```ts ignore
 * import { completionPort } from "./completion_port.ts";
 * import { ntListen } from "./nt_io.ts";
 * const { error } = await completionPort().submit(ntListen(handle));
 * ```
 */
export function ntListen(handle: Deno.PointerValue): IoRequest {
  return {
    handle,
    start: (io) =>
      ntdllSymbols().NtFsControlFile(
        handle,
        null,
        null,
        io.overlapped,
        io.overlapped,
        FSCTL_PIPE_LISTEN,
        null,
        0,
        null,
        0,
      ),
  };
}
