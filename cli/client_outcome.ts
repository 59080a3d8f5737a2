/**
 * How a client session ended, put into an exit status and one line a user can act on.
 *
 * @module
 */

import {
  ConnectionClosedError,
  FrameTooLargeError,
  type Framing,
  ProtocolError,
} from "../lib/mod.ts";
import type { InputMode } from "./client_input.ts";
import {
  EXIT_FAILURE,
  EXIT_INPUT_LEFT,
  EXIT_OK,
  EXIT_UNCONFIRMED,
  failureOf,
} from "./exit_codes.ts";
import { textHeaderHint } from "./output.ts";

/** What happened during a session, as {@linkcode outcomeOf} needs it. */
export interface SessionFacts {
  /** Whether replies were awaited (no `--no-reply`). */
  reply: boolean;
  /** The client's framing. */
  framing: Framing;
  /** The client's `--max-frame`. */
  maxFrame: number;
  /** How stdin was cut into messages (`--input`); default `line`. */
  input?: InputMode;
  /** Messages handed to the connection. */
  sent: number;
  /** Replies received. */
  confirmed: number;
  /** Set if the replies stopped before the client was done: `error` is absent for a clean close. */
  repliesEnded?: { error?: unknown };
  /** The replies stopped while input was still to be read. */
  inputLeft: boolean;
  /** Input came from a terminal (typed), not from a pipe or file. */
  interactive?: boolean;
  /** Every message was sent and the write side closed before the replies stopped. */
  halfClosed: boolean;
  /** The first error of writing to the connection. */
  sendError?: unknown;
  /** A line of stdin the framing cannot carry: its number (from 1) and the error. */
  badLine?: { number: number; error: unknown };
}

/** An exit status with what to print on stderr: an error line, or a note. */
export interface Outcome {
  status: number;
  error?: string;
  note?: string;
}

/** The note printed when the server hung up with nothing outstanding. */
export const SERVER_CLOSED_NOTE = "server closed the connection";
const INPUT_LEFT = "; the rest of the input was not sent";

/**
 * The exit status and message of a finished session.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { outcomeOf } from "./client_outcome.ts";
 * const outcome = outcomeOf({
 *   reply: true, framing: "length", maxFrame: 1024, sent: 2, confirmed: 2,
 *   repliesEnded: {}, inputLeft: true, halfClosed: false, interactive: true,
 * });
 * assertEquals(outcome, { status: 0, note: "server closed the connection" });
 * ```
 */
export function outcomeOf(facts: SessionFacts): Outcome {
  const { reply, sent, confirmed, repliesEnded, sendError } = facts;
  const unconfirmed = reply ? sent - confirmed : 0;
  if (facts.badLine !== undefined) {
    const { number, error } = facts.badLine;
    if (facts.input === "whole") {
      return {
        status: EXIT_FAILURE,
        error: error instanceof FrameTooLargeError
          ? `the input is larger than --max-frame (${facts.maxFrame} bytes); nothing was sent`
          : `the input: ${failureOf(error).message} (nothing was sent)`,
      };
    }
    const unit = facts.input === "nul" ? "record" : "line";
    return {
      status: EXIT_FAILURE,
      error: `${unit} ${number} of the input: ${failureOf(error).message} (${
        linesBefore(number - 1, reply ? confirmed : undefined, unit)
      })`,
    };
  }
  const failure = sendError ?? repliesEnded?.error;
  if (unconfirmed === 0 && sendError === undefined && (reply || !facts.inputLeft)) {
    if (failure !== undefined) return { status: EXIT_FAILURE, error: failureOf(failure).message };
    if (repliesEnded === undefined || !facts.inputLeft) return { status: EXIT_OK };
    // Typed input has no "rest"; piped input does, and a crashed server must not look like
    // success to a script.
    if (facts.interactive) return { status: EXIT_OK, note: SERVER_CLOSED_NOTE };
    const all = sent === 0
      ? "nothing was sent yet"
      : sent === 1
      ? "the 1 message sent was answered"
      : `all ${sent} sent were answered`;
    return {
      status: EXIT_INPUT_LEFT,
      error: `${SERVER_CLOSED_NOTE} (${all})${INPUT_LEFT}`,
    };
  }
  const reason = failure === undefined ? "the server closed the connection" : reasonOf(failure);
  const rest = facts.inputLeft ? INPUT_LEFT : "";
  if (!reply) {
    // Nothing is ever confirmed without replies: say what is known.
    const messages = sent === 1 ? "1 message was" : `${sent} messages were`;
    return {
      status: EXIT_UNCONFIRMED,
      error: `${reason} after ${messages} sent (with --no-reply, how many it read is ` +
        `unknown)${rest}`,
    };
  }
  return {
    status: EXIT_UNCONFIRMED,
    error: `${reason}: ${unconfirmed} of ${sent} messages were not confirmed${
      hintOf(facts)
    }${rest}`,
  };
}

function linesBefore(count: number, answered: number | undefined, unit: string): string {
  if (count === 0) return `no ${unit} was sent before it`;
  const lines = count === 1 ? `the ${unit} before it was` : `the ${count} ${unit}s before it were`;
  if (answered === undefined) return `${lines} sent`;
  return answered === count ? `${lines} sent and answered` : `${lines} sent, ${answered} answered`;
}

function reasonOf(error: unknown): string {
  const message = failureOf(error).message;
  return error instanceof FrameTooLargeError ? `a reply was refused: ${message}` : message;
}

/** Why the replies may have stopped, when the facts point somewhere; else "". */
function hintOf(facts: SessionFacts): string {
  const error = facts.repliesEnded?.error;
  if (error instanceof FrameTooLargeError) {
    const hint = textHeaderHint(error, facts.framing, "server");
    return hint !== undefined
      ? ` (${hint})`
      : ` (the server's reply is larger than this client's --max-frame of ${facts.maxFrame} bytes)`;
  }
  if (!facts.reply || facts.confirmed > 0) return "";
  const failure = facts.sendError ?? error;
  if (failure !== undefined) {
    // A server that hangs up on a connection without reading it resets it; one that read and
    // then closed ends it cleanly. (duct's own --max-clients makes extra clients wait instead.)
    return isReset(failure)
      ? " (the server hung up without reading what was sent: did it crash, does it refuse " +
        "clients, or was a message larger than its --max-frame?)"
      : "";
  }
  if (facts.repliesEnded === undefined) return "";
  // The server read what was sent and answered none. After the client's end of input that is a
  // server that never answers, one that did not find a whole frame, or one that stopped (as when
  // its stdout closed); before it, a server that refused the first frame.
  return facts.halfClosed
    ? ` (the server answered none: if it never answers (--reply none), use --no-reply; ` +
      `else check that it uses --framing ${facts.framing} too, that no message was larger than ` +
      "its --max-frame, and that it did not stop)"
    : ` (the server hung up before answering any: does it use --framing ${facts.framing} too, ` +
      "and is every message within its --max-frame?)";
}

/** The byte that ends a frame of each delimited framing, named for a sentence. */
const DELIMITERS: Partial<Record<Framing, { byte: number; name: string }>> = {
  line: { byte: 0x0a, name: "a newline (\\n)" },
  nul: { byte: 0x00, name: "a NUL byte (\\0)" },
};

/**
 * Checks the first reply for the mark of a server that uses the other delimited framing: a
 * `line` client's reply ending in NUL (`Message received successfully\0` from a `nul` server),
 * or a `nul` client's ending in a newline. An echo of a first message that itself ended so is
 * not taken for one. `check` throws a {@linkcode ProtocolError} naming both framings.
 *
 * @example
 * ```ts
 * import { framingGuard } from "./client_outcome.ts";
 * const guard = framingGuard("line");
 * guard.sent(new TextEncoder().encode("hello"));
 * try {
 *   guard.check(new TextEncoder().encode("Message received successfully\0"));
 * } catch (error) {
 *   console.log((error as Error).message); // …does the server use --framing nul?…
 * }
 * ```
 */
export function framingGuard(
  framing: Framing,
): { sent(message: Uint8Array): void; check(reply: Uint8Array): void } {
  const other = (Object.keys(DELIMITERS) as Framing[]).find((name) =>
    name !== framing && DELIMITERS[framing] !== undefined
  );
  if (other === undefined) return { sent() {}, check() {} };
  const { byte, name } = DELIMITERS[other]!;
  let first: boolean | undefined;
  let checked = false;
  return {
    sent(message) {
      first ??= message.length > 0 && message[message.length - 1] === byte;
    },
    check(reply) {
      if (checked) return;
      checked = true;
      if (reply.length === 0 || reply[reply.length - 1] !== byte || first === true) return;
      throw new ProtocolError(
        `the server's reply ends in ${name}, the end of a --framing ${other} frame: does the ` +
          `server use --framing ${other}? this client uses ${framing}`,
      );
    },
  };
}

/** Whether `error` (or its cause, as the library wraps it) is the peer resetting the connection. */
function isReset(error: unknown): boolean {
  const cause = error instanceof ConnectionClosedError ? error.cause : error;
  return cause instanceof Deno.errors.ConnectionReset || cause instanceof Deno.errors.BrokenPipe;
}
