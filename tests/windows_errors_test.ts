/**
 * `lib/windows/errors.ts`: every Win32 failure becomes a named error that keeps its code. Pure
 * mapping, no FFI: runs on every platform.
 */

import {
  ConnectionClosedError,
  type DuctError,
  InvalidNameError,
  PermissionDeniedError,
  Win32Error,
} from "../lib/mod.ts";
import { describeCode, win32Error } from "../lib/windows/errors.ts";
import {
  ERROR_ABANDONED_WAIT_0,
  ERROR_ACCESS_DENIED,
  ERROR_BAD_PATHNAME,
  ERROR_BROKEN_PIPE,
  ERROR_INVALID_NAME,
  ERROR_NO_DATA,
  ERROR_OPERATION_ABORTED,
  ERROR_PIPE_BUSY,
  ERROR_PIPE_NOT_CONNECTED,
} from "../lib/windows/ffi.ts";
import { assert, assertInstanceOf, assertStrictEquals, assertStringIncludes } from "./_assert.ts";

const PATH = "\\\\.\\pipe\\demo";

/** The code an error carries: its own `code`, or that of its `cause`. */
function codeOf(error: Error): number | undefined {
  if (error instanceof Win32Error) return error.code;
  return error.cause instanceof Win32Error ? error.cause.code : undefined;
}

Deno.test("win32Error: each mapped class keeps the Win32 code, as code or as cause", () => {
  // deno-lint-ignore no-explicit-any
  const cases: [number, abstract new (...args: any[]) => DuctError][] = [
    [ERROR_ACCESS_DENIED, PermissionDeniedError],
    [ERROR_INVALID_NAME, InvalidNameError],
    [ERROR_BAD_PATHNAME, InvalidNameError],
    [ERROR_BROKEN_PIPE, ConnectionClosedError],
    [ERROR_NO_DATA, ConnectionClosedError],
    [ERROR_PIPE_NOT_CONNECTED, ConnectionClosedError],
    [ERROR_OPERATION_ABORTED, ConnectionClosedError],
    [ERROR_ABANDONED_WAIT_0, Win32Error],
    [ERROR_PIPE_BUSY, Win32Error],
    [12345, Win32Error],
  ];
  for (const [code, Class] of cases) {
    const error = win32Error(code, `cannot open ${PATH}`, PATH);
    assertInstanceOf(error, Class);
    assertStrictEquals(codeOf(error), code, `${describeCode(code)}: ${error.message}`);
    assertStringIncludes(error.message, `cannot open ${PATH}`);
    assertStringIncludes(error.message, `Win32 error ${code}`);
  }
});

Deno.test("win32Error: the library's advice names its option, not a command-line flag", () => {
  const error = win32Error(ERROR_ACCESS_DENIED, `cannot open ${PATH}`, PATH);
  assertStringIncludes(error.message, "allowOthers");
  assert(!error.message.includes("--"), error.message);
});
