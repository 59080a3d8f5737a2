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
  kernel32Symbols,
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
  const kernel32 = kernel32Symbols();
  const mode = new Uint8Array(new ArrayBuffer(DWORD_SIZE));
  new DataView(mode.buffer).setUint32(0, PIPE_READMODE_MESSAGE, true);
  if (kernel32.SetNamedPipeHandleState(handle, mode, null, null)) return ERROR_SUCCESS;
  // Read at once: the next FFI call could replace it.
  return kernel32.GetLastError();
}
