/**
 * The client's command line: its `--help`, its options and the rules for combining them.
 *
 * @module
 */

import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_NAME,
  TRUST_SERVER_VALUES,
  type TrustServer,
} from "../lib/mod.ts";
import {
  ENDPOINT_OPTIONS,
  type EndpointArgs,
  endpointArgs,
  parseArgs,
  parseCount,
  parseSeconds,
  SIZE_UNITS_HELP,
  UsageError,
} from "./args.ts";
import { INPUT_MODES, type InputMode } from "./client_input.ts";
import { type CallArgs, callArgs } from "./client_call.ts";

/** The program's name, as errors and `--help` give it. */
export const PROGRAM = "duct-client";

/** Default `--window`: most messages kept unconfirmed with `--reconnect`. */
const DEFAULT_WINDOW = 1000;
/** Default `--reply-timeout`: an acking server answers in milliseconds; 30 s is a hung one. */
const DEFAULT_REPLY_TIMEOUT = 30_000;

/** The text of `--help`. */
export const HELP = `Usage: ${PROGRAM} [options] [MESSAGE...]
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

/** The client's command line, checked and with its defaults. */
export interface ClientOptions extends EndpointArgs {
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

/**
 * Parses the client's command line: its options, or `"help"`/`"version"`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseClientArgs } from "./client_args.ts";
 * const options = parseClientArgs(["--name", "demo", "--input", "nul"]);
 * assertEquals(options !== "help" && options !== "version" && options.input, "nul");
 * ```
 */
export function parseClientArgs(args: string[]): ClientOptions | "help" | "version" {
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
