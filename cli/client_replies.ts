/**
 * The client's side of the server's answers: counted in a {@linkcode Ledger}, printed through an
 * {@linkcode Output} (stdout), or, with `--no-reply`, read and dropped.
 *
 * @module
 */

import { type Connection, DuctError } from "../lib/mod.ts";
import { writePayloadEvent } from "./json_event.ts";
import { displayPayload, LineWriter, payloadFields } from "./output.ts";
import { stylerFor } from "./style.ts";

const encoder = new TextEncoder();
/** The buffer unwanted answers are read into (`--no-reply`), reused for each. */
const DISCARD_BUFFER = 64 * 1024;

/** No reply came within `--reply-timeout` while messages awaited one. */
export class ReplyTimeoutError extends DuctError {
  /**
   * Says that the server sent no reply for `milliseconds`.
   *
   * @example
   * ```ts
   * import { ReplyTimeoutError } from "./client_replies.ts";
   * console.log(new ReplyTimeoutError(30_000).message);
   * ```
   */
  constructor(milliseconds: number) {
    super(
      `the server sent no reply for ${milliseconds / 1000} s (--reply-timeout; if it never ` +
        "answers, as with --reply none, use --no-reply)",
    );
    this.name = "ReplyTimeoutError";
  }
}

/**
 * Counts sent and answered messages, and lets the sender wait for answers.
 *
 * @example
 * ```ts
 * import { Ledger } from "./client_replies.ts";
 * const ledger = new Ledger();
 * ledger.sent++;
 * ledger.confirmed++;
 * await ledger.settled(); // at once: every message is answered
 * ```
 */
export class Ledger {
  /** Messages handed to the connection. */
  sent = 0;
  /** Replies received. */
  confirmed = 0;
  /** Set once no more replies can come: `error` is absent when the server closed cleanly. */
  ended: { error?: unknown } | undefined;
  #waiter: PromiseWithResolvers<void> | undefined;
  readonly #end = Promise.withResolvers<void>();

  /** Settles once no more replies can come. */
  get whenEnded(): Promise<void> {
    return this.#end.promise;
  }

  /** Records that no more replies can come, and why (`error`), the first time only. */
  end(error?: unknown): void {
    this.ended ??= error === undefined ? {} : { error };
    this.#end.resolve();
    this.update();
  }

  /** Wakes a sender waiting in {@linkcode Ledger.settled}, after `confirmed` has changed. */
  update(): void {
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  /** Resolves once every sent message is answered or no more answers can come. */
  async settled(): Promise<void> {
    while (this.confirmed < this.sent && this.ended === undefined) {
      this.#waiter ??= Promise.withResolvers<void>();
      await this.#waiter.promise;
    }
  }
}

/**
 * stdout, through a {@linkcode LineWriter}, remembering the first write error, and whether the
 * prompt (`prompt`) is what was written last.
 *
 * @example
 * ```ts ignore
 * import { Output } from "./client_replies.ts";
 * const out = new Output("> ");
 * await out.raw("> ");
 * await out.endPromptLine(); // a newline, since the prompt's line is open
 * ```
 */
export class Output {
  /** The lines written to stdout. */
  readonly lines: LineWriter = new LineWriter(Deno.stdout);
  /** The first error writing to stdout (`BrokenPipe` once its reader has gone). */
  error: unknown;
  /** Whether the prompt is the last thing written (its line not ended yet). */
  atPrompt = false;
  readonly #failed = Promise.withResolvers<void>();
  readonly #prompt: string;
  #last: Promise<void> | undefined;

  /** Writes to stdout; `prompt` is the text `raw` writes to prompt for input. */
  constructor(prompt: string) {
    this.#prompt = prompt;
  }

  /** Settles once a write to stdout has failed. */
  get whenFailed(): Promise<void> {
    return this.#failed.promise;
  }

  /** Queues `text` as a line; resolves once written, or at once when stdout is congested. */
  line(text: string): Promise<void> {
    return this.#watch(this.lines.line(text));
  }

  /** Queues `bytes` as they are and a newline; resolves as {@linkcode Output.line} does. */
  data(bytes: Uint8Array): Promise<void> {
    return this.#watch(this.lines.data(bytes));
  }

  #watch(written: Promise<void>): Promise<void> {
    // Lines queued together share a promise: one handler per write, not per line.
    if (written !== this.#last) {
      this.#last = written;
      written.catch((error) => this.#fail(error));
    }
    return this.lines.congested ? written.catch(() => {}) : Promise.resolve();
  }

  /** Writes `text` as is, after every queued line. */
  async raw(text: string): Promise<void> {
    await this.lines.flush();
    if (this.error !== undefined) return;
    // Set before the write: once the prompt can be on the screen, a Ctrl+C must end its line.
    this.atPrompt = text === this.#prompt;
    try {
      await Deno.stdout.write(encoder.encode(text));
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Ends the prompt's line, so that what follows starts on a fresh one. */
  endPromptLine(): Promise<void> {
    return this.atPrompt ? this.raw("\n") : Promise.resolve();
  }

  #fail(error: unknown): void {
    this.error ??= error;
    this.#failed.resolve();
  }
}

/** Replies up to this size are remembered, so that a repeated one is not rendered again. */
const REMEMBERED_REPLY = 64;

/**
 * How replies are printed: `text` for a person (`server: …`, escaped, long ones cut), `data` for a
 * program (each payload whole and unescaped, then a newline), `json` (one event per line).
 */
export type ReplyFormat = "text" | "data" | "json";

/**
 * Counts and prints each reply in `format`; the function it returns resolves once the reply is
 * written, or at once unless stdout is congested.
 *
 * @example
 * ```ts ignore
 * import { Ledger, Output, replyPrinter } from "./client_replies.ts";
 * const show = replyPrinter(new Ledger(), new Output("> "), "text");
 * await show(new TextEncoder().encode("Message received successfully"));
 * ```
 */
export function replyPrinter(
  ledger: Ledger,
  out: Output,
  format: ReplyFormat,
): (reply: Uint8Array) => Promise<void> {
  if (format === "data") {
    return (reply: Uint8Array): Promise<void> => {
      ledger.confirmed++;
      const written = out.data(reply);
      ledger.update();
      return written;
    };
  }
  const json = format === "json";
  const style = stylerFor(Deno.stdout);
  // The last reply (when short) and its line: most replies are the same ack, and the same
  // string lets the LineWriter copy its bytes too.
  const last = new Uint8Array(REMEMBERED_REPLY);
  let lastSize = -1;
  let lastLine = "";
  return (reply: Uint8Array): Promise<void> => {
    ledger.confirmed++;
    if (json && reply.length > REMEMBERED_REPLY) {
      // Large: rendered piece by piece, never remembered.
      lastSize = -1;
      const written = writePayloadEvent(out, { event: "reply" }, reply);
      ledger.update();
      return written;
    }
    if (!sameBytes(reply, last, lastSize)) {
      lastLine = json
        ? JSON.stringify({ event: "reply", ...payloadFields(reply) })
        : `${style("cyan", "server:")} ${displayPayload(reply)}`;
      lastSize = reply.length <= REMEMBERED_REPLY ? reply.length : -1;
      if (lastSize >= 0) last.set(reply);
    }
    const written = out.line(lastLine);
    ledger.update();
    return written;
  };
}

// Whether `bytes` equals the first `size` bytes of `buffer`.
function sameBytes(bytes: Uint8Array, buffer: Uint8Array, size: number): boolean {
  if (bytes.length !== size) return false;
  for (let i = 0; i < size; i++) if (bytes[i] !== buffer[i]) return false;
  return true;
}

/**
 * Receives every reply and hands it to `show`, one at a time; ends the ledger when the server
 * closes (or with the error that ended the replies).
 *
 * @example
 * ```ts ignore
 * import { Ledger, Output, readReplies, replyPrinter } from "./client_replies.ts";
 * const ledger = new Ledger();
 * await readReplies(conn, ledger, replyPrinter(ledger, new Output("> "), "text"));
 * ```
 */
export async function readReplies(
  conn: Connection,
  ledger: Ledger,
  show: (reply: Uint8Array) => Promise<void>,
): Promise<void> {
  try {
    for (let reply; (reply = await conn.receive()) !== null;) await show(reply);
    ledger.end();
  } catch (error) {
    ledger.end(error);
  }
}

/**
 * With `--no-reply`, answers are read and dropped: a server that answers anyway stops reading
 * once its unsent answers pile up, and both ends would then wait on each other for good. The end
 * of the stream still tells the client that the server has gone.
 *
 * @example
 * ```ts ignore
 * import { discardReplies, Ledger } from "./client_replies.ts";
 * await discardReplies(conn, new Ledger());
 * ```
 */
export async function discardReplies(conn: Connection, ledger: Ledger): Promise<void> {
  const scratch = new Uint8Array(DISCARD_BUFFER);
  try {
    while ((await conn.receiveInto(scratch)) !== null);
    ledger.end();
  } catch (error) {
    ledger.end(error);
  }
}
