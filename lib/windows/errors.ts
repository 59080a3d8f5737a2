/**
 * Win32 error codes turned into duct's named errors, with messages a user can act on.
 *
 * @module
 */

import {
  ConnectionClosedError,
  type DuctError,
  InvalidNameError,
  PermissionDeniedError,
  Win32Error,
} from "../errors.ts";
import {
  ERROR_ABANDONED_WAIT_0,
  ERROR_ACCESS_DENIED,
  ERROR_BAD_PATHNAME,
  ERROR_BAD_PIPE,
  ERROR_BROKEN_PIPE,
  ERROR_FILE_NOT_FOUND,
  ERROR_INVALID_HANDLE,
  ERROR_INVALID_NAME,
  ERROR_INVALID_PARAMETER,
  ERROR_NO_DATA,
  ERROR_NOT_ENOUGH_MEMORY,
  ERROR_OPERATION_ABORTED,
  ERROR_PATH_NOT_FOUND,
  ERROR_PIPE_BUSY,
  ERROR_PIPE_NOT_CONNECTED,
} from "./ffi.ts";

/** Short names of the codes duct meets, for messages. */
const NAMES: Record<number, string> = {
  [ERROR_FILE_NOT_FOUND]: "ERROR_FILE_NOT_FOUND",
  [ERROR_PATH_NOT_FOUND]: "ERROR_PATH_NOT_FOUND",
  [ERROR_ACCESS_DENIED]: "ERROR_ACCESS_DENIED",
  [ERROR_INVALID_HANDLE]: "ERROR_INVALID_HANDLE",
  [ERROR_NOT_ENOUGH_MEMORY]: "ERROR_NOT_ENOUGH_MEMORY",
  [ERROR_INVALID_PARAMETER]: "ERROR_INVALID_PARAMETER",
  [ERROR_BROKEN_PIPE]: "ERROR_BROKEN_PIPE",
  [ERROR_INVALID_NAME]: "ERROR_INVALID_NAME",
  [ERROR_BAD_PATHNAME]: "ERROR_BAD_PATHNAME",
  [ERROR_BAD_PIPE]: "ERROR_BAD_PIPE",
  [ERROR_PIPE_BUSY]: "ERROR_PIPE_BUSY",
  [ERROR_NO_DATA]: "ERROR_NO_DATA",
  [ERROR_PIPE_NOT_CONNECTED]: "ERROR_PIPE_NOT_CONNECTED",
  [ERROR_OPERATION_ABORTED]: "ERROR_OPERATION_ABORTED",
  [ERROR_ABANDONED_WAIT_0]: "ERROR_ABANDONED_WAIT_0",
};

/**
 * Whether a code means the other end of the pipe is gone (closed, crashed, or disconnected).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isPeerGone } from "./errors.ts";
 * assertEquals(isPeerGone(109), true);
 * ```
 */
export function isPeerGone(code: number): boolean {
  return code === ERROR_BROKEN_PIPE || code === ERROR_NO_DATA ||
    code === ERROR_PIPE_NOT_CONNECTED;
}

/**
 * Describes a Win32 error code as `NAME (Win32 error N)`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { describeCode } from "./errors.ts";
 * assertEquals(describeCode(231), "ERROR_PIPE_BUSY (Win32 error 231)");
 * ```
 */
export function describeCode(code: number): string {
  const name = NAMES[code];
  return name ? `${name} (Win32 error ${code})` : `Win32 error ${code}`;
}

/**
 * Turns a Win32 error code into the matching named error. `context` says what was being done,
 * for example `cannot open \\.\pipe\testPipe`; `path` is the pipe path, when there is one. A
 * named error other than {@linkcode Win32Error} has a `Win32Error` with the code as its `cause`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { win32Error } from "./errors.ts";
 * const error = win32Error(5, "cannot open \\\\.\\pipe\\demo", "\\\\.\\pipe\\demo");
 * assertEquals(error.name, "PermissionDeniedError");
 * ```
 */
export function win32Error(code: number, context: string, path?: string): DuctError {
  const detail = describeCode(code);
  // The named errors keep the code: their cause is the plain Win32Error.
  const cause = new Win32Error(code, `${context}: ${detail}`);
  if (code === ERROR_ACCESS_DENIED) {
    return new PermissionDeniedError(
      `${context}: access denied (${detail}); the pipe belongs to another user, or its server ` +
        `admits only its own user (start that server with allowOthers to open it)`,
      { cause },
    );
  }
  if (code === ERROR_INVALID_NAME || code === ERROR_BAD_PATHNAME) {
    return new InvalidNameError(
      `${context}: Windows rejects the pipe name${path ? ` ${path}` : ""} (${detail}); ` +
        `use letters, digits, '-', '_' or '.'`,
      { cause },
    );
  }
  if (isPeerGone(code)) {
    return new ConnectionClosedError(`${context}: the other end closed the pipe (${detail})`, {
      cause,
    });
  }
  if (code === ERROR_OPERATION_ABORTED) {
    return new ConnectionClosedError(`${context}: the pipe was closed (${detail})`, { cause });
  }
  if (code === ERROR_ABANDONED_WAIT_0) {
    return new Win32Error(
      code,
      `${context}: ${detail}: duct's I/O completion port failed, so no pipe I/O can complete in ` +
        `this process any more; restart it`,
    );
  }
  return cause;
}
