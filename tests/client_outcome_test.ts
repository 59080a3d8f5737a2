/**
 * Tests of `cli/client_outcome.ts`: the exit status and message of each way a session ends.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "./_assert.ts";
import { outcomeOf, type SessionFacts } from "../cli/client_outcome.ts";
import { ConnectionClosedError, FrameTooLargeError } from "../lib/mod.ts";

const BASE: SessionFacts = {
  reply: true,
  framing: "length",
  maxFrame: 16 * 1024 * 1024,
  sent: 0,
  confirmed: 0,
  inputLeft: false,
  halfClosed: false,
};

Deno.test("outcome: dropped with nothing sent or outstanding (idle timeout): exit 0, a note", () => {
  assertEquals(outcomeOf({ ...BASE, repliesEnded: {}, inputLeft: true, interactive: true }), {
    status: 0,
    note: "server closed the connection",
  });
  // Piped input may have lines left: the note says they were not sent.
  assertEquals(outcomeOf({ ...BASE, repliesEnded: {}, inputLeft: true }), {
    status: 0,
    note: "server closed the connection; the rest of the input was not sent",
  });
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
      "before answering any: does it use --framing length too?); the rest of the input was not sent",
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
