/**
 * `duct-client`: sends messages to a duct server and prints its replies.
 *
 * @module
 */

import {
  connect,
  type Connection,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_FRAME,
  DEFAULT_NAME,
  encodeFrame,
  FrameDecoderStream,
} from "./lib/mod.ts";
import { parseArgs, parseBytes, parseFraming, parseSeconds } from "./cli/args.ts";
import { EXIT_OK, EXIT_UNCONFIRMED, failureOf } from "./cli/exit_codes.ts";
import { displayPayload, LineWriter, payloadFields, reportError } from "./cli/output.ts";
import { stylerFor } from "./cli/style.ts";
import { runMain } from "./cli/main.ts";

const PROGRAM = "duct-client";
/** The prompt of the original Win32 example, shown when stdin is a terminal. */
export const PROMPT = "Enter a message to be sent to the server: ";
/** Unsent bytes past which reading stdin pauses. */
const SEND_HIGH_WATER = 1024 * 1024;

const HELP = `Usage: ${PROGRAM} [options] [MESSAGE...]

Sends each MESSAGE to a duct server as one message, or else every line of stdin (prompting when
stdin is a terminal), and prints each reply.

Options:
  --name NAME            endpoint name or path (default: ${DEFAULT_NAME})
  --framing MODE         length | line | nul (default: length)
  --max-frame BYTES      largest message sent or accepted, e.g. 65536 or 16MiB (default: 16MiB)
  --timeout SECS         wait this long for a server that is absent or busy (default: ${
  DEFAULT_CONNECT_TIMEOUT / 1000
})
  --no-reply             send without waiting for replies (for servers that never answer)
  --json                 print replies as JSON objects, one per line
  -h, --help             show this help and exit
  -V, --version          print the version and exit

Exit status: 0 when every message was sent (and answered, unless --no-reply); 2 if no server
listens on NAME within --timeout; 3 if the connection closed before every message was
answered; 64 for a wrong command line; 1 for any other error.`;

interface ClientOptions {
  name: string;
  framing: ReturnType<typeof parseFraming>;
  maxFrame: number;
  timeout: number;
  reply: boolean;
  json: boolean;
  messages: string[];
}

function parseClientArgs(args: string[]): ClientOptions | "help" | "version" {
  const { values, positionals } = parseArgs(args, {
    name: { type: "string" },
    framing: { type: "string" },
    "max-frame": { type: "string" },
    timeout: { type: "string" },
    "no-reply": { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
  }, { positionals: true });
  if (values.help) return "help";
  if (values.version) return "version";
  return {
    name: (values.name as string | undefined) ?? DEFAULT_NAME,
    framing: parseFraming(values.framing),
    maxFrame: values["max-frame"] === undefined
      ? DEFAULT_MAX_FRAME
      : parseBytes(values["max-frame"] as string, "--max-frame", { max: 0xffff_ffff }),
    timeout: values.timeout === undefined
      ? DEFAULT_CONNECT_TIMEOUT
      : parseSeconds(values.timeout as string, "--timeout"),
    reply: values["no-reply"] !== true,
    json: values.json === true,
    messages: positionals,
  };
}

/** Counts sent and answered messages, and lets the sender wait for answers. */
class Ledger {
  sent = 0;
  confirmed = 0;
  /** Set once no more replies can come (peer closed, or a protocol error). */
  ended: string | undefined;
  #waiter: PromiseWithResolvers<void> | undefined;
  readonly #end = Promise.withResolvers<void>();

  /** Settles once no more replies can come. */
  get whenEnded(): Promise<void> {
    return this.#end.promise;
  }

  end(reason: string): void {
    this.ended ??= reason;
    this.#end.resolve();
    this.update();
  }

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

async function readReplies(conn: Connection, ledger: Ledger, out: LineWriter, json: boolean) {
  const style = stylerFor(Deno.stdout);
  try {
    for (let reply; (reply = await conn.receive()) !== null;) {
      ledger.confirmed++;
      out.line(
        json
          ? JSON.stringify({ event: "reply", ...payloadFields(reply) })
          : `${style("cyan", "server:")} ${displayPayload(reply)}`,
      );
      ledger.update();
    }
    ledger.end("the server closed the connection");
  } catch (error) {
    ledger.end(failureOf(error).message);
  }
}

/**
 * Messages to send: the positional arguments, else stdin's lines. Stops early once `stop`
 * settles, so a client whose server left does not sit waiting for more input.
 */
async function* messagesOf(options: ClientOptions, interactive: boolean, stop: Promise<void>) {
  const encoder = new TextEncoder();
  if (options.messages.length > 0) {
    for (const message of options.messages) yield encoder.encode(message);
    return;
  }
  const lines = Deno.stdin.readable.pipeThrough(
    new FrameDecoderStream({ framing: "line", maxFrame: options.maxFrame }),
  );
  const reader = lines.getReader();
  try {
    for (;;) {
      if (interactive) await Deno.stdout.write(encoder.encode(PROMPT));
      const next = await Promise.race([reader.read(), stop.then(() => undefined)]);
      if (next === undefined) {
        reader.cancel().catch(() => {});
        return;
      }
      const { value, done } = next;
      if (done) {
        // End the prompt's line so the shell prompt starts on a fresh one.
        if (interactive) await Deno.stdout.write(encoder.encode("\n"));
        return;
      }
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function run(options: ClientOptions): Promise<number> {
  const interactive = options.messages.length === 0 && Deno.stdin.isTerminal();
  const out = new LineWriter(Deno.stdout);
  const conn = await connect({
    name: options.name,
    framing: options.framing,
    maxFrame: options.maxFrame,
    timeout: options.timeout,
  });
  const ledger = new Ledger();
  const replies = options.reply ? readReplies(conn, ledger, out, options.json) : undefined;
  let sendError: unknown;
  // Set when the server went away before the input ran out.
  let cutShort = false;
  try {
    for await (const message of messagesOf(options, interactive, ledger.whenEnded)) {
      // A message the framing cannot carry is the user's mistake, not a lost message.
      encodeFrame(message, options);
      const sending = conn.send(message);
      ledger.sent++;
      sending.catch((error) => sendError ??= error);
      if (interactive && options.reply) {
        await ledger.settled();
        await out.flush();
      } else if (conn.bufferedAmount > SEND_HIGH_WATER) {
        // A failed write surfaces here or in the next send (`send` settles once accepted).
        await conn.flush().catch((error) => sendError ??= error);
      }
      if (sendError !== undefined || ledger.ended !== undefined) break;
    }
    cutShort = ledger.ended !== undefined;
    await conn.flush().catch((error) => sendError ??= error);
    if (sendError === undefined && ledger.ended === undefined) {
      // Half-close where the transport can, so the server sees the end of input.
      await conn.closeWrite().catch(() => {});
    }
    if (options.reply) await ledger.settled();
  } finally {
    conn.abort();
    await replies;
    await out.flush();
  }
  const unconfirmed = options.reply ? ledger.sent - ledger.confirmed : 0;
  if (sendError !== undefined || unconfirmed > 0 || cutShort) {
    const reason = sendError !== undefined
      ? failureOf(sendError).message
      : ledger.ended ?? "the connection closed";
    const count = options.reply ? unconfirmed : "some";
    const rest = cutShort ? "; the rest of the input was not sent" : "";
    // A server at its --max-clients limit accepts and hangs up at once; nothing on the wire tells
    // that from a crash, so a hang-up before any answer gets a hint.
    const hint = options.reply && ledger.confirmed === 0 && ledger.ended !== undefined
      ? " (the server hung up before answering any: is it at its --max-clients limit?)"
      : "";
    return reportError(
      PROGRAM,
      `${reason}: ${count} of ${ledger.sent} messages were not confirmed${hint}${rest}`,
      EXIT_UNCONFIRMED,
    );
  }
  return EXIT_OK;
}

/**
 * Runs the client CLI with `args`; resolves to the exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./client.ts";
 * Deno.exit(await main(["hello"]));
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runMain({ name: PROGRAM, help: HELP, parse: parseClientArgs, run: run }, args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
