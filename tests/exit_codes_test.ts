/**
 * `cli/exit_codes.ts`: the status and one-line message of each error that ends a program, with
 * the library's option names turned into the flags that set them.
 */

import {
  AddressInUseError,
  ConnectTimeoutError,
  DuctError,
  encodeFrame,
  FrameTooLargeError,
  InvalidFrameError,
} from "../lib/mod.ts";
import { win32Error } from "../lib/windows/errors.ts";
import { ERROR_ACCESS_DENIED } from "../lib/windows/ffi.ts";
import { UsageError } from "../cli/args.ts";
import {
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  failureOf,
  withFlagHints,
} from "../cli/exit_codes.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "./_assert.ts";

Deno.test("failureOf: a frame too large names --max-frame; the library says maxFrame", () => {
  const error = new FrameTooLargeError(5, 4);
  assertStringIncludes(error.message, "(maxFrame)");
  assertEquals(failureOf(error), {
    status: EXIT_FAILURE,
    message: "frame of 5 bytes is larger than the maximum of 4 bytes (--max-frame)",
  });
  const unterminated = new FrameTooLargeError(2048, 1024, { unterminated: "newline" });
  assertEquals(
    failureOf(unterminated).message,
    "more than the maximum of 1024 bytes (--max-frame) arrived without a newline",
  );
});

Deno.test("failureOf: a payload the framing cannot carry points to --framing length", () => {
  for (const text of ["a\nb", "a\r"]) {
    const payload = new TextEncoder().encode(text);
    const error = assertThrows(() => encodeFrame(payload, { framing: "line" }), InvalidFrameError);
    assertStringIncludes(error.message, 'use framing "length"');
    assert(failureOf(error).message.endsWith("; use --framing length"), failureOf(error).message);
  }
});

Deno.test("failureOf: allowOthers and maxClients become their flags", () => {
  const denied = win32Error(ERROR_ACCESS_DENIED, "cannot open x");
  assertStringIncludes(failureOf(denied).message, "start that server with --allow-others");
  const full = new ConnectTimeoutError("the server is full (is it at its maxClients limit?)");
  assertEquals(failureOf(full), {
    status: EXIT_UNAVAILABLE,
    message: "the server is full (is it at its --max-clients limit?)",
  });
  assertEquals(
    withFlagHints("without confirming any message (with the same framing?)"),
    "without confirming any message (with the same --framing?)",
  );
});

Deno.test("failureOf: statuses by class; words that only look like options stay", () => {
  assertEquals(failureOf(new UsageError("bad")), {
    status: EXIT_USAGE,
    message: "bad (see --help)",
  });
  assertEquals(failureOf(new AddressInUseError("taken")).status, EXIT_UNAVAILABLE);
  assertEquals(
    failureOf(new DuctError("a payload in line framing")).message,
    "a payload in line framing",
  );
  assertEquals(
    failureOf(new Deno.errors.BrokenPipe("x")).message,
    "the peer closed the connection",
  );
  assertEquals(failureOf("plain"), { status: EXIT_FAILURE, message: "plain" });
});
