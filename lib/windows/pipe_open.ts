/**
 * Opening the client end of a pipe with `NtCreateFile`, the call `CreateFileW` makes, so that the
 * outcome comes back as the call's own NTSTATUS. `CreateFileW` reports failure through the
 * thread's last error, which takes a second FFI call to read; anything the runtime does on the
 * thread in between (a garbage collection, a runtime call) may overwrite it, and a retryable
 * `ERROR_FILE_NOT_FOUND` read back as something else would end `connect` with a bogus error
 * (`tests/windows_iocp_test.ts` makes every `GetLastError` lie and checks `connect` still waits).
 *
 * The arguments are the ones `CreateFileW` builds for `OPEN_EXISTING`, `FILE_FLAG_OVERLAPPED`,
 * `SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION` (ReactOS `CreateFileW`, Wine
 * `kernelbase/file.c`): `SYNCHRONIZE | FILE_READ_ATTRIBUTES` added to the access, `FILE_OPEN`,
 * `FILE_NON_DIRECTORY_FILE` (no `FILE_SYNCHRONOUS_IO_*`: overlapped), a case-insensitive name,
 * and a static identification-level quality of service.
 *
 * @module
 */

import { PIPE_PREFIX } from "../endpoint.ts";
import {
  DWORD_SIZE,
  FILE_NON_DIRECTORY_FILE,
  FILE_OPEN,
  FILE_READ_ATTRIBUTES,
  IO_STATUS_BLOCK_SIZE,
  ntdllSymbols,
  ntSuccess,
  OA_ATTRIBUTES,
  OA_NAME,
  OA_SQOS,
  OBJ_CASE_INSENSITIVE,
  OBJECT_ATTRIBUTES_SIZE,
  POINTER_SIZE,
  SECURITY_IDENTIFICATION_LEVEL,
  SQOS_SIZE,
  SYNCHRONIZE,
  UNICODE_STRING_SIZE,
  US_BUFFER,
} from "./ffi.ts";

/** The NT name of the pipe file system's directory, which `\\.\pipe\` stands for. */
const NT_PIPE_PREFIX = "\\??\\pipe\\";
/** No file attributes, no sharing: a client end has one owner. */
const NO_ATTRIBUTES = 0;
const NO_SHARING = 0;

/** The outcome of {@linkcode openPipeClient}: a handle, or the failure's Win32 error code. */
export type Opened = { handle: Deno.PointerObject; error?: undefined } | { error: number };

/**
 * Opens the existing pipe `path` (`\\.\pipe\NAME`) for `access`, overlapped, identification-level
 * impersonation only. Never reads the last error.
 *
 * @example
 * ```ts ignore
 * import { openPipeClient } from "./pipe_open.ts";
 * const opened = openPipeClient("\\\\.\\pipe\\demo", 0x80000102);
 * if (opened.error !== undefined) console.log(`Win32 error ${opened.error}`);
 * ```
 */
export function openPipeClient(path: string, access: number): Opened {
  const ntdll = ntdllSymbols();
  const ntName = NT_PIPE_PREFIX + path.slice(PIPE_PREFIX.length);
  // Every structure off the V8 heap, referenced below until the call has returned.
  const chars = new Uint16Array(new ArrayBuffer(ntName.length * 2));
  for (let i = 0; i < ntName.length; i++) chars[i] = ntName.charCodeAt(i);
  const name = new Uint8Array(new ArrayBuffer(UNICODE_STRING_SIZE));
  const nameView = new DataView(name.buffer);
  nameView.setUint16(0, chars.byteLength, true); // Length, in bytes, no NUL
  nameView.setUint16(2, chars.byteLength, true); // MaximumLength
  nameView.setBigUint64(US_BUFFER, addressOf(chars.buffer), true);
  const qos = new Uint8Array(new ArrayBuffer(SQOS_SIZE));
  const qosView = new DataView(qos.buffer);
  qosView.setUint32(0, SQOS_SIZE, true);
  qosView.setUint32(DWORD_SIZE, SECURITY_IDENTIFICATION_LEVEL, true);
  // ContextTrackingMode and EffectiveOnly stay 0: static tracking, as CreateFileW sets them.
  const attributes = new Uint8Array(new ArrayBuffer(OBJECT_ATTRIBUTES_SIZE));
  const view = new DataView(attributes.buffer);
  view.setUint32(0, OBJECT_ATTRIBUTES_SIZE, true);
  view.setBigUint64(OA_NAME, addressOf(name.buffer), true);
  view.setUint32(OA_ATTRIBUTES, OBJ_CASE_INSENSITIVE, true);
  view.setBigUint64(OA_SQOS, addressOf(qos.buffer), true);
  const handleOut = new Uint8Array(new ArrayBuffer(POINTER_SIZE));
  const status = new Uint8Array(new ArrayBuffer(IO_STATUS_BLOCK_SIZE));
  const result = ntdll.NtCreateFile(
    handleOut,
    (access | SYNCHRONIZE | FILE_READ_ATTRIBUTES) >>> 0,
    attributes,
    status,
    null,
    NO_ATTRIBUTES,
    NO_SHARING,
    FILE_OPEN,
    FILE_NON_DIRECTORY_FILE,
    null,
    0,
  );
  // Reachable until here: the call saw only raw pointers into these.
  void [chars, name, qos];
  const handle = Deno.UnsafePointer.create(new DataView(handleOut.buffer).getBigUint64(0, true));
  if (!ntSuccess(result) || handle === null) return { error: ntdll.RtlNtStatusToDosError(result) };
  return { handle };
}

function addressOf(buffer: ArrayBuffer): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}
