/**
 * `duct-client`: sends messages to a duct server and prints its replies.
 *
 * @module
 */

import {
  connect,
  type Connection,
  ConnectTimeoutError,
  DuctError,
  payloadError,
  type ReliableSender,
  UnconfirmedError,
} from "./lib/mod.ts";
import { type ClientOptions, HELP, parseClientArgs, PROGRAM } from "./cli/client_args.ts";
import { EXIT_BROKEN_PIPE, EXIT_FAILURE, EXIT_INTERRUPTED, failureOf } from "./cli/exit_codes.ts";
import { inputBatches } from "./cli/client_input.ts";
import { framingGuard, outcomeOf } from "./cli/client_outcome.ts";
import { gaveUp, reliableSession, unconfirmedLines } from "./cli/client_reconnect.ts";
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
import { runCall } from "./cli/client_call.ts";

/** The prompt of the original Win32 example, shown when stdin is a terminal. */
export const PROMPT = "Enter a message to be sent to the server: ";
/** Unsent bytes past which reading stdin pauses. */
const SEND_HIGH_WATER = 1024 * 1024;

const encoder = new TextEncoder();

/** With `--json`, lists on stdout the messages a failed `--reconnect` session never confirmed. */
function reportUnconfirmed(sender: ReliableSender, out: Output, json: boolean): number | undefined {
  if (sender.failure === undefined || sender.unconfirmed === 0) return undefined;
  if (json) listUnconfirmed(sender, out);
  return sender.unconfirmed;
}

/** Queues on stdout one `{"event":"unconfirmed",…}` line per message not yet confirmed. */
function listUnconfirmed(sender: ReliableSender, out: Output): void {
  for (const line of unconfirmedLines(sender.unconfirmedMessages())) out.line(line);
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
  if (sender !== undefined && options.json) listUnconfirmed(sender, out);
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
