/**
 * The modes of every duct pipe, in one place for the transport and the completion port's probe:
 * duplex, overlapped, message-type instances that refuse remote clients, read in message mode on
 * both ends.
 *
 * @module
 */

import {
  DWORD_SIZE,
  ERROR_SUCCESS,
  FILE_FLAG_OVERLAPPED,
  FILE_PIPE_INFORMATION_CLASS,
  FILE_PIPE_MESSAGE_MODE,
  FILE_PIPE_QUEUE_OPERATION,
  IO_STATUS_BLOCK_SIZE,
  ntdllSymbols,
  ntSuccess,
  PIPE_ACCESS_DUPLEX,
  PIPE_READMODE_MESSAGE,
  PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_MESSAGE,
  PIPE_WAIT,
} from "./ffi.ts";

/** `dwOpenMode` of `CreateNamedPipeW` (the first instance adds `FILE_FLAG_FIRST_PIPE_INSTANCE`). */
export const PIPE_OPEN_MODE = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
/** `dwPipeMode` of `CreateNamedPipeW`: messages, read as messages, local clients only. */
export const PIPE_MODE = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
  PIPE_REJECT_REMOTE_CLIENTS;

/**
 * Switches a client end, which `CreateFileW` opens in byte read mode, to message read mode, so that
 * each read returns (part of) one message. Returns `ERROR_SUCCESS`, or the Win32 error code of the
 * failed `SetNamedPipeHandleState`.
 *
 * @example
 * ```ts ignore
 * import { setMessageReadMode } from "./pipe_mode.ts";
 * if (setMessageReadMode(handle) !== 0) console.log("still in byte mode");
 * ```
 */
export function setMessageReadMode(handle: Deno.PointerValue): number {
  // What SetNamedPipeHandleState(PIPE_READMODE_MESSAGE | PIPE_WAIT) does (ReactOS, Wine), called
  // directly for its NTSTATUS: the last error, read by a second FFI call, could be overwritten
  // by the runtime in between.
  const ntdll = ntdllSymbols();
  const info = new Uint8Array(new ArrayBuffer(2 * DWORD_SIZE));
  const view = new DataView(info.buffer);
  view.setUint32(0, FILE_PIPE_MESSAGE_MODE, true); // ReadMode
  view.setUint32(DWORD_SIZE, FILE_PIPE_QUEUE_OPERATION, true); // CompletionMode
  const status = new Uint8Array(new ArrayBuffer(IO_STATUS_BLOCK_SIZE));
  const result = ntdll.NtSetInformationFile(
    handle,
    status,
    info,
    info.length,
    FILE_PIPE_INFORMATION_CLASS,
  );
  return ntSuccess(result) ? ERROR_SUCCESS : ntdll.RtlNtStatusToDosError(result);
}
