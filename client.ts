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
  DEFAULT_NAME,
  DuctError,
  payloadError,
  type ReliableSender,
  TRUST_SERVER_VALUES,
  type TrustServer,
  UnconfirmedError,
} from "./lib/mod.ts";
import {
  ENDPOINT_OPTIONS,
  type EndpointArgs,
  endpointArgs,
  parseArgs,
  parseCount,
  parseSeconds,
  SIZE_UNITS_HELP,
  UsageError,
} from "./cli/args.ts";
import { EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED, failureOf } from "./cli/exit_codes.ts";
import { INPUT_MODES, inputBatches, type InputMode } from "./cli/client_input.ts";
import { outcomeOf } from "./cli/client_outcome.ts";
import { gaveUp, reliableSession, unconfirmedLines } from "./cli/client_reconnect.ts";
import { framingGuard } from "./cli/client_outcome.ts";
import { runList, runPing } from "./cli/client_list.ts";
import { displayPayload, reportError, secondsText } from "./cli/output.ts";
import {
  discardReplies,
  Ledger,
  Output,
  readReplies,
  replyPrinter,
  ReplyTimeoutError,
} from "./cli/client_replies.ts";
import { watchStalls } from "./lib/stall_watch.ts";
import { endpointNames, runMain } from "./cli/main.ts";
import { type CallArgs, callArgs, runCall } from "./cli/client_call.ts";

const PROGRAM = "duct-client";
/** The prompt of the original Win32 example, shown when stdin is a terminal. */
export const PROMPT = "Enter a message to be sent to the server: ";
/** Unsent bytes past which reading stdin pauses. */
const SEND_HIGH_WATER = 1024 * 1024;

/** Default `--window`: most messages kept unconfirmed with `--reconnect`. */
const DEFAULT_WINDOW = 1000;
/** Default `--reply-timeout`: an acking server answers in milliseconds; 30 s is a hung one. */
const DEFAULT_REPLY_TIMEOUT = 30_000;

const HELP = `Usage: ${PROGRAM} [options] [MESSAGE...]
       ${PROGRAM} --list [--json]
       ${PROGRAM} --ping [--name NAME] [--timeout SECS] [--json]
       ${PROGRAM} --call METHOD [PARAMS_JSON] | --notify METHOD [PARAMS_JSON] [options]

Sends each MESSAGE to a duct server as one message, or else stdin (every line by default,
prompting when stdin is a terminal), and prints each reply: on a terminal as "server: TEXT"
(control characters escaped, long replies cut to their first KiB); else (a pipe or a file) each
reply's payload whole and as it is, then a newline, as nc and socat pass data on.

Options:
  --name NAME            endpoint name or path (default: ${DEFAULT_NAME})
  --framing MODE         length | line | nul | content-length (default: length)
  --max-frame BYTES      largest message sent or accepted, e.g. 65536 or 16MiB (default: 16MiB)
${SIZE_UNITS_HELP}
  --timeout SECS         wait this long for a server that is absent or busy, and with --no-reply
                         for it to close the connection after the end of input (default: ${
  DEFAULT_CONNECT_TIMEOUT / 1000
})
  --input MODE           how stdin is cut into messages: line (default; a \r before the \n is
                         dropped), nul (NUL-separated, as xargs -0), whole (all of it is one)
  --reply-timeout SECS   give up when the server has sent no reply for this long while messages
                         await one (0: wait for ever; default: ${DEFAULT_REPLY_TIMEOUT / 1000})
  --no-reply             send without waiting for replies (any that come are read and dropped);
                         at the end of input, wait up to --timeout for the server to close the
                         connection (a note says so if it does not)
  --reconnect            when the connection breaks, reconnect (waiting up to --timeout) and
                         send every message not yet answered again, in order: nothing is lost
                         across a server restart, but a message may arrive twice
  --window N             with --reconnect: most messages awaiting an answer; input is not read
                         while this many are (default: ${DEFAULT_WINDOW}, and at most 16MiB of them)
  --trust-server WHOM    self: talk only to an endpoint owned by you or the system (Windows:
                         you, SYSTEM or Administrators; Unix: you or root), else exit 1
                         before sending anything; any: to whoever owns it (default: self)
  --list                 list the endpoints reachable by plain name (Unix: live or stale)
  --ping                 connect to NAME and print how long it took (exit 2 if nobody answers)
  --call METHOD          send one JSON-RPC 2.0 request (PARAMS_JSON: a JSON array or object;
                         none: no params) and print its result as JSON; --timeout also bounds
                         the wait for the reply (0: no bound). Any framing; a language server
                         or vscode-jsonrpc peer needs --framing content-length
  --notify METHOD        send one JSON-RPC 2.0 notification and exit 0 once it is written
  --json                 print replies as JSON objects, one per line (with --reconnect, also the
                         messages never confirmed, after a failure or Ctrl+C; --call: the whole
                         response object, also for an error response)
  -h, --help             show this help and exit
  -V, --version          print the version and exit

Exit status: 0 when every message was sent (and answered, unless --no-reply), also when the
server closed the connection after answering every message typed at the prompt (a note says
so); 2 if no server listens on NAME within --timeout; 3 if a message was not answered: the
connection closed first, or no reply came within --reply-timeout (with --reconnect: no server
came back within --timeout; the error says how many were never answered; with --call: the
connection closed before the reply); 4 when --call got an error response ("METHOD failed:
MESSAGE (code N)" on stderr); 5 if the server closed the connection before all of piped input
was sent, though it answered every message sent; 64 for a wrong command line; 130 after Ctrl+C
(saying how many were not answered); 141 when stdout was closed (| head), quietly, as cat does;
1 for any other error, such as a message the framing cannot carry (positional messages are all
checked before any is sent) or no reply to --call within --timeout.`;

interface ClientOptions extends EndpointArgs {
  timeout: number;
  replyTimeout: number;
  input: InputMode;
  reply: boolean;
  json: boolean;
  messages: string[];
  reconnect: boolean;
  window: number;
  trustServer: TrustServer;
  command?: "list" | "ping";
  rpc?: CallArgs;
}

function parseClientArgs(args: string[]): ClientOptions | "help" | "version" {
  const { values, positionals } = parseArgs(args, {
    ...ENDPOINT_OPTIONS,
    timeout: { type: "string" },
    "reply-timeout": { type: "string" },
    input: { type: "string" },
    "no-reply": { type: "boolean" },
    json: { type: "boolean" },
    reconnect: { type: "boolean" },
    window: { type: "string" },
    "trust-server": { type: "string" },
    list: { type: "boolean" },
    ping: { type: "boolean" },
    call: { type: "string" },
    notify: { type: "string" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
  }, { positionals: true });
  if (values.help) return "help";
  if (values.version) return "version";
  checkCombinations(values, positionals);
  return {
    rpc: callArgs(values, positionals),
    ...endpointArgs(values),
    timeout: values.timeout === undefined
      ? DEFAULT_CONNECT_TIMEOUT
      : parseSeconds(values.timeout as string, "--timeout"),
    replyTimeout: values["reply-timeout"] === undefined
      ? DEFAULT_REPLY_TIMEOUT
      : parseSeconds(values["reply-timeout"] as string, "--reply-timeout"),
    input: parseInputMode(values.input),
    reply: values["no-reply"] !== true,
    json: values.json === true,
    messages: positionals,
    reconnect: values.reconnect === true,
    window: values.window === undefined
      ? DEFAULT_WINDOW
      : parseCount(values.window as string, "--window"),
    trustServer: parseTrust(values["trust-server"] as string | undefined),
    command: values.list ? "list" : values.ping ? "ping" : undefined,
  };
}

function parseInputMode(value: string | boolean | undefined): InputMode {
  if (value === undefined) return "line";
  if (INPUT_MODES.includes(value as InputMode)) return value as InputMode;
  throw new UsageError(`--input must be one of ${INPUT_MODES.join(", ")}, not "${value}"`);
}

function parseTrust(value: string | undefined): TrustServer {
  if (value === undefined) return "self";
  if ((TRUST_SERVER_VALUES as readonly string[]).includes(value)) return value as TrustServer;
  throw new UsageError(`--trust-server must be self or any, not ${JSON.stringify(value)}`);
}

function checkCombinations(
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): void {
  if (values.reconnect && values["no-reply"]) {
    throw new UsageError(
      "--reconnect needs the server's replies to know what arrived: it cannot go with --no-reply",
    );
  }
  if (values.window !== undefined && !values.reconnect) {
    throw new UsageError("--window applies only with --reconnect");
  }
  if (values["reply-timeout"] !== undefined && values["no-reply"]) {
    throw new UsageError(
      "--reply-timeout bounds the wait for replies: it cannot go with --no-reply",
    );
  }
  if (values.input !== undefined && positionals.length > 0) {
    throw new UsageError("--input says how to cut stdin: it cannot go with MESSAGE arguments");
  }
  if (values.list && values.ping) throw new UsageError("--list and --ping go one at a time");
  const command = values.list ? "--list" : values.ping ? "--ping" : undefined;
  if (command === undefined) return;
  const allowed = command === "--list"
    ? ["list", "json"]
    : ["ping", "json", "name", "timeout", "trust-server"];
  const extra = Object.keys(values).find((key) =>
    values[key] !== undefined && !allowed.includes(key)
  );
  if (extra !== undefined) throw new UsageError(`${command} does not take --${extra}`);
  if (positionals.length > 0) throw new UsageError(`${command} takes no MESSAGE`);
}

const encoder = new TextEncoder();

/** With `--json`, lists on stdout the messages a failed `--reconnect` session never confirmed. */
function reportUnconfirmed(sender: ReliableSender, out: Output, json: boolean): number | undefined {
  if (sender.failure === undefined || sender.unconfirmed === 0) return undefined;
  if (json) { for (const line of unconfirmedLines(sender.unconfirmedMessages())) out.line(line); }
  return sender.unconfirmed;
}

/** Connects; on a terminal, says so once if the server is not there yet. */
async function connectTo(options: ClientOptions): Promise<Connection> {
  const { name, framing, maxFrame, timeout, trustServer } = options;
  if (timeout === 0 || !Deno.stderr.isTerminal()) {
    return await connect({ name, framing, maxFrame, timeout, trustServer });
  }
  const start = Date.now();
  try {
    return await connect({ name, framing, maxFrame, timeout: 0, trustServer });
  } catch (error) {
    if (!(error instanceof ConnectTimeoutError)) throw error;
  }
  Deno.stderr.writeSync(encoder.encode(`${PROGRAM}: waiting for ${displayName(name)}…\n`));
  return await connect({
    name,
    framing,
    maxFrame,
    trustServer,
    timeout: Math.max(0, timeout - (Date.now() - start)),
  });
}

function displayName(name: string): string {
  return displayPayload(encoder.encode(name));
}

/** Whether `ended` settles within `milliseconds`. */
async function endsWithin(ended: Promise<void>, milliseconds: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => timer = setTimeout(resolve, milliseconds, false));
  try {
    return await Promise.race([ended.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first positional message the framing cannot carry, as an error line; else undefined. */
function invalidMessage(messages: Uint8Array[], options: ClientOptions): string | undefined {
  for (const [index, message] of messages.entries()) {
    const error = payloadError(message, options);
    if (error !== undefined) {
      return `message ${index + 1} of ${messages.length}: ${failureOf(error).message} ` +
        "(nothing was sent)";
    }
  }
  return undefined;
}

async function run(options: ClientOptions): Promise<number> {
  if (options.command === "list") return await runList({ program: PROGRAM, json: options.json });
  if (options.command === "ping") return await runPing({ ...options, program: PROGRAM });
  if (options.rpc) return await runCall({ ...options, call: options.rpc, program: PROGRAM });
  const messages = options.messages.map((message) => encoder.encode(message));
  const invalid = invalidMessage(messages, options);
  if (invalid !== undefined) return reportError(PROGRAM, invalid, EXIT_FAILURE);
  const interactive = messages.length === 0 && options.input === "line" &&
    Deno.stdin.isTerminal();
  const out = new Output(PROMPT);
  const conn = await connectTo(options);
  const ledger = new Ledger();
  // A note on stderr never lands on the prompt's line: end it, then show the prompt again.
  const note = (text: string) => {
    const atPrompt = out.atPrompt;
    if (atPrompt) Deno.stdout.writeSync(encoder.encode("\n"));
    Deno.stderr.writeSync(encoder.encode(`${PROGRAM}: ${text}\n`));
    if (atPrompt) Deno.stdout.writeSync(encoder.encode(PROMPT));
  };
  const format = options.json ? "json" : Deno.stdout.isTerminal() ? "text" : "data";
  const guard = framingGuard(options.framing);
  const print = replyPrinter(ledger, out, format);
  const show = (reply: Uint8Array) => {
    guard.check(reply);
    return print(reply);
  };
  const sender = options.reconnect
    ? reliableSession(conn, { ...options, program: PROGRAM, onReply: show, note })
    : undefined;
  sender?.done.catch((error) => ledger.end(error));
  const replies = sender !== undefined
    ? undefined
    : options.reply
    ? readReplies(conn, ledger, show)
    : discardReplies(conn, ledger);
  // The --reconnect sender bounds its own wait for replies.
  const stopWatch = sender === undefined && options.reply
    ? watchStalls({
      timeout: options.replyTimeout,
      progress: () => ledger.confirmed,
      owed: () => ledger.ended === undefined && ledger.confirmed < ledger.sent,
      onStall: () => {
        ledger.end(new ReplyTimeoutError(options.replyTimeout));
        // Unblocks a send waiting on a server that stopped reading too.
        conn.abort();
      },
    })
    : undefined;
  let interrupts = 0;
  const interrupted = () => {
    if (++interrupts > 1) Deno.exit(EXIT_INTERRUPTED);
    if (out.atPrompt) {
      out.atPrompt = false;
      Deno.stdout.writeSync(encoder.encode("\n"));
    }
    reportInterrupt({ sender, ledger, out, options }).finally(() => Deno.exit(EXIT_INTERRUPTED));
  };
  Deno.addSignalListener("SIGINT", interrupted);
  let sendError: unknown;
  let lastSending: Promise<void> | undefined;
  // Resolves once `message` is taken: with --reconnect, after waiting for room in the window.
  const send = (message: Uint8Array): Promise<void> | undefined => {
    guard.sent(message);
    if (sender !== undefined) {
      if (sender.hasRoom) {
        sender.send(message).catch(() => {});
        ledger.sent++;
        return undefined;
      }
      // Counted once taken: one still waiting for room when the sender gives up was never sent
      // (it is the rest of the input, not an unconfirmed message).
      return sender.send(message).then(() => void ledger.sent++, () => {});
    }
    const sending = conn.send(message);
    ledger.sent++;
    // Frames sent in one go share a promise: one handler per batch, not one per message.
    if (sending !== lastSending) {
      lastSending = sending;
      sending.catch((error) => sendError ??= error);
    }
    return undefined;
  };
  const stopped = () =>
    sendError !== undefined || ledger.ended !== undefined || out.error !== undefined;
  let badLine: { number: number; error: unknown } | undefined;
  let inputLeft = false;
  let halfClosed = false;
  try {
    if (messages.length > 0) {
      for (const message of messages) await send(message);
    } else {
      const stop = Promise.race([ledger.whenEnded, out.whenFailed]);
      const input = inputBatches(Deno.stdin.readable, {
        input: options.input,
        maxFrame: options.maxFrame,
        stop,
      });
      let number = 0;
      if (interactive) await out.raw(PROMPT);
      try {
        batches: for await (const lines of input) {
          out.atPrompt = false;
          for (const line of lines) {
            number++;
            // A line the framing cannot carry is the user's mistake, not a lost message. The check
            // alone, without encoding the frame: this runs once per input line.
            const error = payloadError(line, options);
            if (error !== undefined) {
              badLine = { number, error };
              break batches;
            }
            const taken = send(line);
            if (taken !== undefined) await taken;
            if (interactive && options.reply) {
              await ledger.settled();
              await out.lines.flush();
            }
            if (stopped()) break batches;
            if (interactive) await out.raw(PROMPT);
          }
          if (sender === undefined && conn.bufferedAmount > SEND_HIGH_WATER) {
            // A failed write surfaces here or in the next send (`send` settles once accepted).
            await conn.flush().catch((error) => sendError ??= error);
          }
          if (stopped()) break;
        }
      } catch (error) {
        // The input reader refused a message over --max-frame.
        if (!(error instanceof DuctError)) throw error;
        badLine = { number: number + 1, error };
      }
      inputLeft = badLine === undefined && stopped();
    }
    if (sender !== undefined) {
      if (!stopped()) await sender.end().catch(() => {});
    } else {
      await conn.flush().catch((error) => sendError ??= error);
    }
    if (sender === undefined && !stopped()) {
      // Half-close where the transport can, so the server sees the end of input.
      await conn.closeWrite().catch(() => {});
      halfClosed = ledger.ended === undefined;
    }
    if (options.reply) await ledger.settled();
    // Closing with answers unread would reset the connection, and a server may then drop the
    // messages it has not read yet: wait for it to close, which it does once it has read them
    // all; but not forever, for a server that keeps the connection open.
    else if (halfClosed && !(await endsWithin(ledger.whenEnded, options.timeout))) {
      note(
        `the server did not close the connection within --timeout ` +
          `(${secondsText(options.timeout)}) after the end of input; closing it`,
      );
    }
  } finally {
    stopWatch?.();
    if (sender !== undefined) sender.abort();
    else conn.abort();
    await replies;
    await out.lines.flush();
    await out.endPromptLine();
    Deno.removeSignalListener("SIGINT", interrupted);
  }
  if (out.error !== undefined) {
    // Whoever closed stdout wanted no more: end quietly, as `cat` does.
    if (out.error instanceof Deno.errors.BrokenPipe) return EXIT_BROKEN_PIPE;
    return reportError(PROGRAM, `cannot write to stdout: ${failureOf(out.error).message}`, 1);
  }
  const gone = sender !== undefined ? reportUnconfirmed(sender, out, options.json) : undefined;
  if (gone !== undefined) await out.lines.flush();
  if (ledger.ended?.error instanceof UnconfirmedError) {
    const failed = gaveUp(ledger.ended.error, { sent: ledger.sent, inputLeft });
    return reportError(PROGRAM, failed.error, failed.status);
  }
  // A reply timeout aborted the connection: the sends it failed are not the story.
  if (ledger.ended?.error instanceof ReplyTimeoutError) sendError = undefined;
  const outcome = outcomeOf({
    reply: options.reply,
    framing: options.framing,
    maxFrame: options.maxFrame,
    input: options.input,
    sent: ledger.sent,
    confirmed: ledger.confirmed,
    repliesEnded: ledger.ended,
    inputLeft,
    interactive,
    halfClosed,
    sendError,
    badLine,
  });
  if (outcome.error !== undefined) return reportError(PROGRAM, outcome.error, outcome.status);
  if (outcome.note !== undefined) note(outcome.note);
  return outcome.status;
}

/** On Ctrl+C: says how many messages were never answered, and lists them with `--json`. */
async function reportInterrupt(
  session: { sender?: ReliableSender; ledger: Ledger; out: Output; options: ClientOptions },
): Promise<void> {
  const { sender, ledger, out, options } = session;
  if (!options.reply) return;
  const sent = sender?.sent ?? ledger.sent;
  const owed = sender?.unconfirmed ?? ledger.sent - ledger.confirmed;
  if (sender !== undefined && options.json) {
    for (const line of unconfirmedLines(sender.unconfirmedMessages())) out.line(line);
  }
  await out.lines.flush();
  if (owed > 0) {
    const were = owed === 1 ? "was" : "were";
    reportError(PROGRAM, `interrupted: ${owed} of ${sent} messages ${were} not confirmed`, 0);
  }
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
  return runMain({
    name: PROGRAM,
    help: HELP,
    parse: parseClientArgs,
    names: (options) => endpointNames(options.name),
    run: run,
  }, args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
