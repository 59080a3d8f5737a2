/**
 * Tests of `cli/client_outcome.ts`: the exit status and message of each way a session ends.
 *
 * @module
 */

import { assertEquals, assertStringIncludes, assertThrows } from "./_assert.ts";
import { framingGuard, outcomeOf, type SessionFacts } from "../cli/client_outcome.ts";
import { ConnectionClosedError, FrameTooLargeError, ProtocolError } from "../lib/mod.ts";

const encoder = new TextEncoder();

const BASE: SessionFacts = {
  reply: true,
  framing: "length",
  maxFrame: 16 * 1024 * 1024,
  sent: 0,
  confirmed: 0,
  inputLeft: false,
  halfClosed: false,
};

Deno.test("outcome: dropped with nothing outstanding: typed input exit 0 and a note; piped input left unsent exit 5", () => {
  assertEquals(outcomeOf({ ...BASE, repliesEnded: {}, inputLeft: true, interactive: true }), {
    status: 0,
    note: "server closed the connection",
  });
  // Piped input left unsent is a failure: a crashed server must not look like success.
  assertEquals(outcomeOf({ ...BASE, repliesEnded: {}, inputLeft: true }), {
    status: 5,
    error:
      "server closed the connection (nothing was sent yet); the rest of the input was not sent",
  });
  assertEquals(
    outcomeOf({ ...BASE, sent: 48_900, confirmed: 48_900, repliesEnded: {}, inputLeft: true }),
    {
      status: 5,
      error: "server closed the connection (all 48900 sent were answered); the rest of the input " +
        "was not sent",
    },
  );
  assertEquals(outcomeOf({ ...BASE, sent: 3, confirmed: 3 }), { status: 0 });
});

Deno.test("outcome: a reset before any answer says the server hung up unread, a clean close does not", () => {
  const reset = outcomeOf({
    ...BASE,
    sent: 1,
    sendError: new Deno.errors.BrokenPipe("Broken pipe (os error 32)"),
  });
  assertEquals(reset.status, 3);
  assertStringIncludes(reset.error!, "the server hung up without reading what was sent");
  // A message over the server's --max-frame is one reason a server hangs up.
  assertStringIncludes(reset.error!, "larger than its --max-frame");
  // As the library may wrap it.
  const wrapped = outcomeOf({
    ...BASE,
    sent: 1,
    repliesEnded: {
      error: new ConnectionClosedError("closed", { cause: new Deno.errors.ConnectionReset("x") }),
    },
  });
  assertStringIncludes(wrapped.error!, "the server hung up without reading what was sent");
  const early = outcomeOf({ ...BASE, sent: 2, repliesEnded: {}, inputLeft: true });
  assertEquals(
    early.error,
    "the server closed the connection: 2 of 2 messages were not confirmed (the server hung up " +
      "before answering any: does it use --framing length too, and is every message within its " +
      "--max-frame?); the rest of the input was not sent",
  );
});

Deno.test("outcome: a refused reply: text in the header means another framing", () => {
  const text = outcomeOf({
    ...BASE,
    sent: 1,
    repliesEnded: { error: new FrameTooLargeError(0x4d657373, BASE.maxFrame) },
  });
  assertStringIncludes(text.error!, `its length header reads "Mess"`);
  const binary = outcomeOf({
    ...BASE,
    sent: 1,
    repliesEnded: { error: new FrameTooLargeError(0xffff_ffff, BASE.maxFrame) },
  });
  assertStringIncludes(binary.error!, "larger than this client's --max-frame");
  // A line client's over-long reply has no header to read.
  const line = outcomeOf({
    ...BASE,
    framing: "line",
    sent: 1,
    repliesEnded: { error: new FrameTooLargeError(0x4d657373, BASE.maxFrame) },
  });
  assertStringIncludes(line.error!, "larger than this client's --max-frame");
});

Deno.test("outcome: --no-reply counts nothing as confirmed and gives no hint", () => {
  assertEquals(outcomeOf({ ...BASE, reply: false, sent: 4 }), { status: 0 });
  const failed = outcomeOf({
    ...BASE,
    reply: false,
    sent: 4,
    sendError: new Deno.errors.BrokenPipe("x"),
  });
  assertEquals(
    failed.error,
    "the peer closed the connection after 4 messages were sent (with --no-reply, how many it " +
      "read is unknown)",
  );
  // The server gone before the end of input (it was "some of 0" once).
  assertEquals(outcomeOf({ ...BASE, reply: false, repliesEnded: {}, inputLeft: true, sent: 0 }), {
    status: 3,
    error: "the server closed the connection after 0 messages were sent (with --no-reply, how " +
      "many it read is unknown); the rest of the input was not sent",
  });
});

Deno.test("outcome: --input nul and whole name records and the input, not lines", () => {
  const error = new FrameTooLargeError(70_000, 65_536);
  const record = outcomeOf({ ...BASE, input: "nul", badLine: { number: 3, error } });
  assertStringIncludes(record.error!, "record 3 of the input: ");
  assertStringIncludes(record.error!, "the 2 records before it were sent");
  const whole = outcomeOf({
    ...BASE,
    input: "whole",
    maxFrame: 65_536,
    badLine: { number: 1, error },
  });
  assertEquals(whole, {
    status: 1,
    error: "the input is larger than --max-frame (65536 bytes); nothing was sent",
  });
});

Deno.test("outcome: a server that answered none after the end of input may have refused a message over its --max-frame", () => {
  const none = outcomeOf({ ...BASE, sent: 1, repliesEnded: {}, halfClosed: true });
  assertStringIncludes(none.error!, "that no message was larger than its --max-frame");
});

Deno.test("framingGuard: a first reply ending in the other framing's delimiter is a framing mismatch", () => {
  const line = framingGuard("line");
  line.sent(encoder.encode("hello"));
  assertThrows(
    () => line.check(encoder.encode("Message received successfully\0")),
    ProtocolError,
    "does the server use --framing nul? this client uses line",
  );
  const nul = framingGuard("nul");
  nul.sent(encoder.encode("hello"));
  assertThrows(
    () => nul.check(encoder.encode("Message received successfully\n")),
    ProtocolError,
    "does the server use --framing line? this client uses nul",
  );
  // An echo of a first message that ended so is the message, not a mismatch; later replies are
  // not checked (a mismatch shows on the first).
  const echo = framingGuard("line");
  echo.sent(encoder.encode("ends in nul\0"));
  echo.check(encoder.encode("ends in nul\0"));
  const later = framingGuard("line");
  later.sent(encoder.encode("a"));
  later.check(encoder.encode("a"));
  later.check(encoder.encode("b\0"));
  // length has no delimiter to confuse.
  framingGuard("length").check(encoder.encode("x\0"));
});
