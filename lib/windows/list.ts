/**
 * Listing the named pipes of the machine: `FindFirstFileW`/`FindNextFileW` on `\\.\pipe\*`.
 *
 * @module
 */

import type { EndpointInfo } from "../list.ts";
import { PIPE_PREFIX } from "../endpoint.ts";
import { win32Error } from "./errors.ts";
import {
  ERROR_BAD_DEV_TYPE,
  ERROR_FILE_NOT_FOUND,
  ERROR_NO_MORE_FILES,
  FIND_DATA_FILE_NAME,
  FIND_DATA_FILE_NAME_CHARS,
  isInvalidHandle,
  kernel32Symbols,
  wideString,
  WIN32_FIND_DATAW_SIZE,
} from "./ffi.ts";

/**
 * Every named pipe on the machine, each once, sorted by name: a snapshot, as pipes come and go
 * while it is taken (see {@linkcode pipeEntries}).
 *
 * @throws {Win32Error} if the pipe directory cannot be read (under Wine, which cannot list it,
 * with `ERROR_BAD_DEV_TYPE`).
 *
 * @example
 * ```ts ignore
 * import { listPipes } from "./list.ts";
 * console.log(listPipes().map((pipe) => pipe.name));
 * ```
 */
export function listPipes(): EndpointInfo[] {
  const kernel32 = kernel32Symbols();
  const data = new Uint8Array(WIN32_FIND_DATAW_SIZE);
  const handle = kernel32.FindFirstFileW(wideString(`${PIPE_PREFIX}*`), data);
  if (isInvalidHandle(handle)) {
    // Read at once. Only which failure is reported depends on it: Windows always has pipes
    // (lsass, InitShutdown, …), so this call fails only on a system that cannot list them.
    const error = kernel32.GetLastError();
    if (error === ERROR_FILE_NOT_FOUND || error === ERROR_NO_MORE_FILES) return [];
    if (error === ERROR_BAD_DEV_TYPE) {
      throw win32Error(
        error,
        `cannot list the pipes in ${PIPE_PREFIX}: this system does not list its pipe directory ` +
          "(Wine does not); check one name by connecting to it",
      );
    }
    throw win32Error(error, `cannot list the pipes in ${PIPE_PREFIX}`);
  }
  const names: string[] = [];
  try {
    // FindNextFileW fails only at the end of the pipe directory (ERROR_NO_MORE_FILES): its code
    // is not read, since a second FFI call's last error may have been overwritten by then, and a
    // listing cut short by any other failure is still a snapshot of what was there.
    do names.push(fileName(data)); while (kernel32.FindNextFileW(handle, data));
  } finally {
    kernel32.FindClose(handle);
  }
  return pipeEntries(names);
}

/**
 * The entries of a listing of `\\.\pipe\`: each name once, sorted. Pipes created and closed
 * between `FindNextFileW` batches can make the pipe file system return a name twice (or miss
 * one): the listing is a snapshot, not a consistent view.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { pipeEntries } from "./list.ts";
 * assertEquals(pipeEntries(["b", "a", "b"]).map((entry) => entry.name), ["a", "b"]);
 * ```
 */
export function pipeEntries(names: readonly string[]): EndpointInfo[] {
  const unique = [...new Set(names)].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  return unique.map((name) => ({
    name,
    path: PIPE_PREFIX + name,
    state: "live",
    plainName: !name.includes("\\"),
  }));
}

// `cFileName`: NUL-terminated UTF-16.
function fileName(data: Uint8Array): string {
  const chars = new Uint16Array(
    data.buffer,
    data.byteOffset + FIND_DATA_FILE_NAME,
    FIND_DATA_FILE_NAME_CHARS,
  );
  const end = chars.indexOf(0);
  return String.fromCharCode(...chars.subarray(0, end < 0 ? chars.length : end));
}
