/**
 * The client's `--reconnect`: a {@linkcode ReliableSender} that says on stderr when it
 * reconnects, and how a session that gave up is reported.
 *
 * @module
 */

import {
  type Connection,
  type Framing,
  type ReconnectInfo,
  ReliableSender,
  type UnconfirmedError,
} from "../lib/mod.ts";
import { EXIT_UNCONFIRMED, withFlagHints } from "./exit_codes.ts";
import { displayPayload, payloadFields } from "./output.ts";

const encoder = new TextEncoder();

/** What {@linkcode reliableSession} needs. */
export interface ReconnectOptions {
  program: string;
  name: string;
  framing: Framing;
  maxFrame: number;
  /** How long to wait for a server to come back, in milliseconds (`--timeout`). */
  timeout: number;
  /** `--window`: most unconfirmed messages. */
  window: number;
  /** `--reply-timeout`: how long the server may stay silent with messages unconfirmed (0: ever). */
  replyTimeout: number;
  /** Prints one note line on stderr (the caller keeps it off the prompt's line). */
  note: (text: string) => void;
  /** Called with each reply; a promise it returns is awaited before the next. */
  onReply: (reply: Uint8Array) => void | Promise<void>;
}

/**
 * A reliable sender over `conn`, announcing each break and reconnection on stderr.
 *
 * @example
 * ```ts ignore
 * import { connect } from "../lib/mod.ts";
 * import { reliableSession } from "./client_reconnect.ts";
 * const options = { name: "testPipe", framing: "length" as const, maxFrame: 1024, timeout: 5000 };
 * const sender = reliableSession(await connect(options), {
 *   ...options, program: "duct-client", window: 1000, replyTimeout: 30_000,
 *   onReply: () => {}, note: (text) => console.error(text),
 * });
 * await sender.send("hello");
 * await sender.end();
 * ```
 */
export function reliableSession(conn: Connection, options: ReconnectOptions): ReliableSender {
  const say = options.note;
  const name = displayPayload(encoder.encode(options.name));
  return new ReliableSender(conn, {
    name: options.name,
    framing: options.framing,
    maxFrame: options.maxFrame,
    timeout: options.timeout,
    window: options.window,
    replyTimeout: options.replyTimeout,
    onReply: (reply) => options.onReply(reply),
    onBreak: ({ unconfirmed, timeout }) =>
      say(
        `the connection to ${name} was lost with ${plural(unconfirmed)} unconfirmed; ` +
          `reconnecting (waiting up to ${timeout / 1000} s for a server)…`,
      ),
    onReconnect: (info) => say(`reconnected to ${name}; ${reconnectedText(info)}`),
  });
}

/**
 * What a reconnection sent: the messages unconfirmed at the break again, then those queued while
 * reconnecting for the first time (counted apart: they had never been sent).
 *
 * @example
 * ```ts
 * import { reconnectedText } from "./client_reconnect.ts";
 * console.log(reconnectedText({ resent: 10, queued: 990 }));
 * // sent 10 messages again, then 990 queued while reconnecting
 * ```
 */
export function reconnectedText(info: ReconnectInfo): string {
  const again = info.resent === 0 ? "nothing to send again" : `sent ${plural(info.resent)} again`;
  return info.queued === 0
    ? again
    : `${again}, then ${plural(info.queued)} queued while reconnecting`;
}

function plural(count: number): string {
  return `${count} ${count === 1 ? "message" : "messages"}`;
}

/**
 * The error line of a `--reconnect` session that gave up, with its exit status: the exact number
 * never confirmed out of all sent.
 *
 * @example
 * ```ts
 * import { UnconfirmedError } from "../lib/mod.ts";
 * import { gaveUp } from "./client_reconnect.ts";
 * const error = new UnconfirmedError("no server came back on x within 5 s", [new Uint8Array()]);
 * console.log(gaveUp(error, { sent: 10, inputLeft: false }).error);
 * // no server came back on x within 5 s: 1 of 10 messages were never confirmed
 * ```
 */
export function gaveUp(
  error: UnconfirmedError,
  facts: { sent: number; inputLeft: boolean },
): { status: number; error: string } {
  const rest = facts.inputLeft ? "; the rest of the input was not sent" : "";
  return {
    status: EXIT_UNCONFIRMED,
    error:
      `${
        withFlagHints(error.reason)
      }: ${error.messages.length} of ${facts.sent} messages were never ` +
      `confirmed${rest}`,
  };
}

/**
 * The `--json` lines listing messages never confirmed: `{"event":"unconfirmed","text":…}`, or
 * `base64` for bytes that are not UTF-8.
 *
 * @example
 * ```ts
 * import { unconfirmedLines } from "./client_reconnect.ts";
 * console.log(unconfirmedLines([new TextEncoder().encode("hi")]));
 * // [ '{"event":"unconfirmed","text":"hi"}' ]
 * ```
 */
export function unconfirmedLines(messages: Uint8Array[]): string[] {
  return messages.map((message) =>
    JSON.stringify({ event: "unconfirmed", ...payloadFields(message) })
  );
}
