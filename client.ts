/**
 * `duct-client`: sends messages to a duct server and prints its replies.
 *
 * @module
 */

import {
  connect,
  type Connection,
  ConnectTimeoutError,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_MAX_FRAME,
  DEFAULT_NAME,
  DuctError,
  encodeFrame,
} from "./lib/mod.ts";
import { parseArgs, parseBytes, parseFraming, parseSeconds } from "./cli/args.ts";
import { EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED, failureOf } from "./cli/exit_codes.ts";
import { inputBatches } from "./cli/client_input.ts";
import { outcomeOf } from "./cli/client_outcome.ts";
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
                         (K, KiB = 1024 bytes but KB = 1000: 64k = 65536, 64kb = 64000;
                         M, MiB, MB and G, GiB, GB likewise)
  --timeout SECS         wait this long for a server that is absent or busy (default: ${
  DEFAULT_CONNECT_TIMEOUT / 1000
})
  --no-reply             send without waiting for replies (for servers that never answer)
  --json                 print replies as JSON objects, one per line
  -h, --help             show this help and exit
  -V, --version          print the version and exit

Exit status: 0 when every message was sent (and answered, unless --no-reply), also when the
server then closed the connection first (a note says so); 2 if no server listens on NAME within
--timeout; 3 if the connection closed before every message was answered; 64 for a wrong command
line; 130 after Ctrl+C; 141 when stdout was closed (| head), quietly, as cat does; 1 for
any other error, such as a message the framing cannot carry (positional messages are all
checked before any is sent).`;

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
  /** Set once no more replies can come: `error` is absent when the server closed cleanly. */
  ended: { error?: unknown } | undefined;
  #waiter: PromiseWithResolvers<void> | undefined;
  readonly #end = Promise.withResolvers<void>();

  /** Settles once no more replies can come. */
  get whenEnded(): Promise<void> {
    return this.#end.promise;
  }

  end(error?: unknown): void {
    this.ended ??= error === undefined ? {} : { error };
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

/** stdout, through a {@linkcode LineWriter}, remembering the first write error. */
class Output {
  readonly lines = new LineWriter(Deno.stdout);
  /** The first error writing to stdout (`BrokenPipe` once its reader has gone). */
  error: unknown;
  /** Whether the prompt is the last thing written (its line not ended yet). */
  atPrompt = false;
  readonly #failed = Promise.withResolvers<void>();
  #last: Promise<void> | undefined;

  /** Settles once a write to stdout has failed. */
  get whenFailed(): Promise<void> {
    return this.#failed.promise;
  }

  /** Queues `text` as a line; resolves once written, or at once when stdout is congested. */
  line(text: string): Promise<void> {
    const written = this.lines.line(text);
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
    try {
      await Deno.stdout.write(encoder.encode(text));
      this.atPrompt = text === PROMPT;
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

const encoder = new TextEncoder();

async function readReplies(conn: Connection, ledger: Ledger, out: Output, json: boolean) {
  const style = stylerFor(Deno.stdout);
  try {
    for (let reply; (reply = await conn.receive()) !== null;) {
      ledger.confirmed++;
      const written = out.line(
        json
          ? JSON.stringify({ event: "reply", ...payloadFields(reply) })
          : `${style("cyan", "server:")} ${displayPayload(reply)}`,
      );
      ledger.update();
      await written;
    }
    ledger.end();
  } catch (error) {
    ledger.end(error);
  }
}

/** Connects; on a terminal, says so once if the server is not there yet. */
async function connectTo(options: ClientOptions): Promise<Connection> {
  const { name, framing, maxFrame, timeout } = options;
  if (timeout === 0 || !Deno.stderr.isTerminal()) {
    return await connect({ name, framing, maxFrame, timeout });
  }
  const start = Date.now();
  try {
    return await connect({ name, framing, maxFrame, timeout: 0 });
  } catch (error) {
    if (!(error instanceof ConnectTimeoutError)) throw error;
  }
  Deno.stderr.writeSync(encoder.encode(`${PROGRAM}: waiting for ${displayName(name)}…\n`));
  return await connect({
    name,
    framing,
    maxFrame,
    timeout: Math.max(0, timeout - (Date.now() - start)),
  });
}

function displayName(name: string): string {
  return displayPayload(encoder.encode(name));
}

/** The first positional message the framing cannot carry, as an error line; else undefined. */
function invalidMessage(messages: Uint8Array[], options: ClientOptions): string | undefined {
  for (const [index, message] of messages.entries()) {
    try {
      encodeFrame(message, options);
    } catch (error) {
      return `message ${index + 1} of ${messages.length}: ${failureOf(error).message} ` +
        "(nothing was sent)";
    }
  }
  return undefined;
}

async function run(options: ClientOptions): Promise<number> {
  const messages = options.messages.map((message) => encoder.encode(message));
  const invalid = invalidMessage(messages, options);
  if (invalid !== undefined) return reportError(PROGRAM, invalid, EXIT_FAILURE);
  const interactive = messages.length === 0 && Deno.stdin.isTerminal();
  const out = new Output();
  const conn = await connectTo(options);
  const ledger = new Ledger();
  // Ctrl+C at the prompt: end its line first, so the shell's prompt starts on a fresh one.
  const interrupted = () => {
    if (out.atPrompt) Deno.stdout.writeSync(encoder.encode("\n"));
    Deno.exit(EXIT_INTERRUPTED);
  };
  if (interactive) Deno.addSignalListener("SIGINT", interrupted);
  const replies = options.reply ? readReplies(conn, ledger, out, options.json) : undefined;
  let sendError: unknown;
  let lastSending: Promise<void> | undefined;
  const send = (message: Uint8Array) => {
    const sending = conn.send(message);
    ledger.sent++;
    // Frames sent in one go share a promise: one handler per batch, not one per message.
    if (sending !== lastSending) {
      lastSending = sending;
      sending.catch((error) => sendError ??= error);
    }
  };
  const stopped = () =>
    sendError !== undefined || ledger.ended !== undefined || out.error !== undefined;
  let badLine: { number: number; error: unknown } | undefined;
  let inputLeft = false;
  let halfClosed = false;
  try {
    if (messages.length > 0) {
      for (const message of messages) send(message);
    } else {
      const stop = Promise.race([ledger.whenEnded, out.whenFailed]);
      const input = inputBatches(Deno.stdin.readable, { maxFrame: options.maxFrame, stop });
      let number = 0;
      if (interactive) await out.raw(PROMPT);
      try {
        batches: for await (const lines of input) {
          out.atPrompt = false;
          for (const line of lines) {
            number++;
            try {
              // A line the framing cannot carry is the user's mistake, not a lost message.
              encodeFrame(line, options);
            } catch (error) {
              badLine = { number, error };
              break batches;
            }
            send(line);
            if (interactive && options.reply) {
              await ledger.settled();
              await out.lines.flush();
            }
            if (stopped()) break batches;
            if (interactive) await out.raw(PROMPT);
          }
          if (conn.bufferedAmount > SEND_HIGH_WATER) {
            // A failed write surfaces here or in the next send (`send` settles once accepted).
            await conn.flush().catch((error) => sendError ??= error);
          }
          if (stopped()) break;
        }
      } catch (error) {
        // The decoder refused a line over --max-frame.
        if (!(error instanceof DuctError)) throw error;
        badLine = { number: number + 1, error };
      }
      inputLeft = badLine === undefined && stopped();
    }
    await conn.flush().catch((error) => sendError ??= error);
    if (!stopped()) {
      // Half-close where the transport can, so the server sees the end of input.
      await conn.closeWrite().catch(() => {});
      halfClosed = ledger.ended === undefined;
    }
    if (options.reply) await ledger.settled();
  } finally {
    conn.abort();
    await replies;
    await out.lines.flush();
    await out.endPromptLine();
    if (interactive) Deno.removeSignalListener("SIGINT", interrupted);
  }
  if (out.error !== undefined) {
    // Whoever closed stdout wanted no more: end quietly, as `cat` does.
    if (out.error instanceof Deno.errors.BrokenPipe) return EXIT_BROKEN_PIPE;
    return reportError(PROGRAM, `cannot write to stdout: ${failureOf(out.error).message}`, 1);
  }
  const outcome = outcomeOf({
    reply: options.reply,
    framing: options.framing,
    maxFrame: options.maxFrame,
    sent: ledger.sent,
    confirmed: ledger.confirmed,
    repliesEnded: ledger.ended,
    inputLeft,
    halfClosed,
    sendError,
    badLine,
  });
  if (outcome.error !== undefined) return reportError(PROGRAM, outcome.error, outcome.status);
  if (outcome.note !== undefined) {
    Deno.stderr.writeSync(encoder.encode(`${PROGRAM}: ${outcome.note}\n`));
  }
  return outcome.status;
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
