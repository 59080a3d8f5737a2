/**
 * `duct-server`: serves a named endpoint, prints every message and answers it.
 *
 * @module
 */

import { type Connection, DEFAULT_NAME, type Framing, listen } from "./lib/mod.ts";
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
import { EXIT_OK, failureOf } from "./cli/exit_codes.ts";
import {
  displayPayload,
  escapeName,
  LineWriter,
  secondsText,
  textHeaderHint,
} from "./cli/output.ts";
import { stylerFor } from "./cli/style.ts";
import { writePayloadEvent } from "./cli/json_event.ts";
import { endpointNames, runMain } from "./cli/main.ts";
import { PendingReplies } from "./cli/server_replies.ts";

const PROGRAM = "duct-server";
/** The answer of `--reply ack`, as in the original Win32 example. */
export const ACK = "Message received successfully";
const ACK_PAYLOAD = new TextEncoder().encode(ACK);
const ACK_BYTES = ACK_PAYLOAD.length;
/** Pending reply bytes per client past which the server stops reading from that client. */
const REPLY_HIGH_WATER = 1024 * 1024;

const HELP = `Usage: ${PROGRAM} [options]

Serves a local endpoint (a Unix domain socket, or a named pipe on Windows), prints every message
it receives and answers it.

Options:
  --name NAME            endpoint name or path (default: ${DEFAULT_NAME})
  --framing MODE         length | line | nul | content-length (default: length)
  --max-frame BYTES      largest message accepted, e.g. 65536 or 16MiB (default: 16MiB)
${SIZE_UNITS_HELP}
  --reply MODE           ack: answer "${ACK}" after printing;
                         echo: answer with the message itself; none: answer nothing (default: ack)
  --json                 print one JSON object per event instead of text
  --max-clients N        serve at most N clients at once; others wait (default: no limit)
  --idle-timeout SECS    close a client that completes no message for SECS seconds (default: off)
  --allow-others         let other local users connect (default: only you); refused at start
                         where they cannot enter a directory above the socket (XDG_RUNTIME_DIR)
  -h, --help             show this help and exit
  -V, --version          print the version and exit

Exit status: 0 after SIGINT, SIGTERM or SIGHUP, 2 if another server already listens on NAME,
64 for a wrong command line, 1 for any other error (stdout closed, for one).`;

/** Parsed server options. */
interface ServerOptions extends EndpointArgs {
  reply: "ack" | "echo" | "none";
  json: boolean;
  maxClients?: number;
  idleTimeout?: number;
  allowOthers: boolean;
}

function parseServerArgs(args: string[]): ServerOptions | "help" | "version" {
  const { values } = parseArgs(args, {
    ...ENDPOINT_OPTIONS,
    reply: { type: "string" },
    json: { type: "boolean" },
    "max-clients": { type: "string" },
    "idle-timeout": { type: "string" },
    "allow-others": { type: "boolean" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
  });
  if (values.help) return "help";
  if (values.version) return "version";
  const reply = (values.reply as string | undefined) ?? "ack";
  if (reply !== "ack" && reply !== "echo" && reply !== "none") {
    throw new UsageError(`--reply must be one of ack, echo, none, not "${reply}"`);
  }
  const idle = values["idle-timeout"] as string | undefined;
  const maxClients = values["max-clients"] as string | undefined;
  const endpoint = endpointArgs(values);
  const { maxFrame } = endpoint;
  // The limit holds both ways (a client with the same --max-frame refuses larger frames), so an
  // ack that does not fit could never be sent: refuse the combination instead of dropping acks.
  if (reply === "ack" && maxFrame < ACK_BYTES) {
    throw new UsageError(
      `--max-frame must be at least ${ACK_BYTES} bytes with --reply ack (the size of its answer)`,
    );
  }
  return {
    ...endpoint,
    reply,
    json: values.json === true,
    maxClients: maxClients === undefined ? undefined : parseCount(maxClients, "--max-clients"),
    idleTimeout: idle === undefined
      ? undefined
      : parseSeconds(idle, "--idle-timeout", { positive: true }),
    allowOthers: values["allow-others"] === true,
  };
}

/**
 * Reports server events as text or JSON lines, rendering only the active one. Only `message`
 * rejects when stdout fails (its reply must then not be sent); the server learns of the failure
 * from {@linkcode LineWriter.failure} and stops.
 */

function eventPrinter(out: LineWriter, json: boolean) {
  const style = stylerFor(Deno.stdout);
  const emit = (event: () => Record<string, unknown>, text: () => string) =>
    out.line(json ? JSON.stringify(event()) : text());
  const report = (event: () => Record<string, unknown>, text: () => string) =>
    emit(event, text).catch(() => {});
  return {
    listening: (name: string, path: string) =>
      report(
        () => ({ event: "listening", name, path }),
        () => `listening on ${escapeName(name)} ${style("dim", `(${escapeName(path)})`)}`,
      ),
    connected: (client: number) =>
      report(
        () => ({ event: "connected", client }),
        () => style("green", `client ${client} connected`),
      ),
    // Once per message: built directly, without the two closures of `emit`.
    message: (client: number, payload: Uint8Array) =>
      json
        ? writePayloadEvent(out, { event: "message", client, bytes: payload.length }, payload)
        : out.line(`${style("cyan", `client ${client}:`)} ${displayPayload(payload)}`),
    error: (client: number, message: string) =>
      report(
        () => ({ event: "error", client, message }),
        () => style("red", `client ${client} error: ${message}`),
      ),
    disconnected: (client: number) =>
      report(
        () => ({ event: "disconnected", client }),
        () => style("dim", `client ${client} disconnected`),
      ),
    /** Whether stdout lags so far behind that reading should pause. */
    get congested(): boolean {
      return out.congested;
    },
  };
}

/** stdout can no longer be written (closed early, as by `| head`, or full); `cause` says why. */
class OutputError extends Error {
  constructor(cause: unknown) {
    const why = cause instanceof Deno.errors.BrokenPipe
      ? "stdout was closed"
      : `cannot write to stdout (${cause instanceof Error ? cause.message : String(cause)})`;
    super(`${why}: events can no longer be printed, so the server stopped`, { cause });
    this.name = "OutputError";
  }
}

interface Client {
  stop(): Promise<void>;
  done: Promise<void>;
}

async function serve(options: ServerOptions): Promise<number> {
  const out = new LineWriter(Deno.stdout);
  const events = eventPrinter(out, options.json);
  const listener = await listen({
    name: options.name,
    framing: options.framing,
    maxFrame: options.maxFrame,
    allowOthers: options.allowOthers,
    maxClients: options.maxClients,
    // A client that breaks the protocol still gets the answers to its earlier messages (each
    // sent after printing); serveClient closes the connection after them.
    keepOpenAfterError: true,
  });
  const clients = new Map<number, Client>();
  let nextId = 1;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      listener.close();
      await Promise.all([...clients.values()].map((client) => client.stop()));
    })();
  };
  // Messages that cannot be printed cannot be acknowledged either: stop as on a signal, so the
  // clients see the connection close instead of waiting for answers that never come.
  let outputFailure: { error: unknown } | undefined;
  out.failure.then((error) => {
    outputFailure = { error };
    stop();
  });
  // SIGHUP (the terminal closed) stops the server as SIGTERM does.
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  // Ctrl+C on a terminal echoes `^C` where the cursor is: end that line, so that the lines the
  // server prints while it stops do not run on after it.
  const interrupted = () => {
    if (stopping === undefined && Deno.stdout.isTerminal()) out.line("").catch(ignore);
    stop();
  };
  const handlers = signals.map((signal) =>
    [signal, signal === "SIGINT" ? interrupted : stop] as const
  );
  for (const [signal, handler] of handlers) Deno.addSignalListener(signal, handler);
  await events.listening(listener.endpoint.name, listener.endpoint.path);

  for await (const conn of listener) {
    // The listener hands out at most --max-clients connections at once (see listen's maxClients).
    const id = nextId++;
    const client = serveClient(conn, id, options, events);
    clients.set(id, client);
    client.done.finally(() => clients.delete(id));
  }
  stop();
  await stopping;
  for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  await out.flush();
  if (outputFailure !== undefined) throw new OutputError(outputFailure.error);
  return EXIT_OK;
}

function serveClient(
  conn: Connection,
  id: number,
  options: ServerOptions,
  events: ReturnType<typeof eventPrinter>,
): Client {
  let stopping = false;
  // The last message's print-then-reply step; replies go out in message order.
  let chain: Promise<void> = Promise.resolve();
  // The replies waiting for the same write to stdout: one step per write, not per message.
  let waiting: PendingReplies | undefined;
  // Set once a reply could not be written (the client closed its end): the messages it sent
  // before leaving are still read and printed, only no longer answered.
  let repliesFailed = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let idleExpired = false;
  const armIdle = () => {
    if (options.idleTimeout === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idleExpired = true;
      conn.abort();
    }, options.idleTimeout);
  };

  const done = (async () => {
    await events.connected(id);
    armIdle();
    try {
      for (let payload; (payload = await conn.receive()) !== null;) {
        if (stopping) break;
        armIdle();
        const printed = events.message(id, payload);
        if (options.reply === "none" || repliesFailed) {
          if (printed !== chain) (chain = printed).catch(ignore);
        } else {
          if (printed !== waiting?.printed) {
            const replies = waiting = new PendingReplies(printed, { ack: ACK_PAYLOAD });
            (chain = printed.then(() => replies.sendTo(conn))).catch(ignore);
          }
          if (options.reply === "ack") waiting.ack();
          else waiting.echo(payload);
        }
        // Backpressure: a client that does not read, or a slow stdout, stops further reads.
        if (!repliesFailed && conn.bufferedAmount > REPLY_HIGH_WATER) {
          await conn.flush().catch(() => repliesFailed = true);
        } else if (events.congested) await chain.catch(() => {});
      }
    } catch (error) {
      if (!idleExpired && !stopping) events.error(id, clientError(error, options.framing));
    } finally {
      clearTimeout(idleTimer);
      // Reported here, not in `catch`: the abort usually ends the pending receive quietly, as if
      // the client had left, and an idle client dropped without a word is a mystery to debug.
      if (idleExpired) events.error(id, idleError(conn, options.idleTimeout!));
      try {
        await chain;
      } catch {
        // The client left before its replies could be written.
      }
      // Rejects if the client left before its replies were written: nothing more to do.
      await conn.close().catch(() => {});
      await events.disconnected(id);
    }
  })();

  // Stopping: messages already taken in are printed and answered, then the connection closes,
  // which also ends a receive still waiting for data.
  const stop = async () => {
    stopping = true;
    try {
      await chain;
    } catch {
      // Reported by the serving loop.
    }
    await conn.close().catch(() => {});
    await done;
  };
  return { stop, done };
}

const ignore = () => {};

// An idle cut is not an end of stream: a message the client had begun is named here, and never
// printed as a message of its own (it was not finished, and it is not answered).
function idleError(conn: Connection, timeout: number): string {
  const idle = `idle for more than ${secondsText(timeout)}`;
  const unfinished = conn.unfinished;
  if (unfinished === undefined) return idle;
  return `${idle}, in the middle of a message: its ${unfinished.length} bytes received so far ` +
    `were dropped, not printed (${displayPayload(unfinished, { headBytes: 64 })})`;
}

// Why a client was dropped; for a length header that reads as text, the likely cause too.
function clientError(error: unknown, framing: Framing): string {
  const message = failureOf(error).message;
  const hint = textHeaderHint(error, framing, "client");
  return hint === undefined ? message : `${message} (${hint})`;
}

/**
 * Runs the server CLI with `args`; resolves to the exit status.
 *
 * @example
 * ```ts ignore
 * import { main } from "./server.ts";
 * Deno.exit(await main(["--help"]));
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runMain({
    name: PROGRAM,
    help: HELP,
    parse: parseServerArgs,
    names: (options) => endpointNames(options.name),
    run: serve,
  }, args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
