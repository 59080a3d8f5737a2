/**
 * The client's `--call METHOD [PARAMS_JSON]` and `--notify METHOD [PARAMS_JSON]`: one JSON-RPC
 * 2.0 request (or notification) to the server, its result printed as JSON.
 *
 * @module
 */

import { connect, ConnectionClosedError, type Framing, RpcError, RpcPeer } from "../lib/mod.ts";
import { UsageError } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_RPC_ERROR, EXIT_UNCONFIRMED } from "./exit_codes.ts";
import { escapeText, reportError } from "./output.ts";

/** What `--call` or `--notify` asks for. */
export interface CallArgs {
  kind: "call" | "notify";
  method: string;
  /** The parsed PARAMS_JSON (an array or an object), `undefined` when none was given. */
  params: unknown;
}

/** Options of the client that `--call` and `--notify` cannot go with. */
const EXCLUSIVE = ["no-reply", "reconnect", "window", "list", "ping", "input", "reply-timeout"];

/**
 * The `--call`/`--notify` request of a parsed command line, or `undefined` if it has neither.
 *
 * @throws {UsageError} for both at once, an option that makes no sense with them, more than one
 * positional argument, or a PARAMS_JSON that is not a JSON array or object.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { callArgs } from "./client_call.ts";
 * assertEquals(callArgs({ call: "add" }, ["[1, 2]"]), { kind: "call", method: "add", params: [1, 2] });
 * assertEquals(callArgs({}, ["hello"]), undefined);
 * ```
 */
export function callArgs(
  values: Record<string, string | boolean | undefined>,
  positionals: string[],
): CallArgs | undefined {
  const { call, notify } = values;
  if (call === undefined && notify === undefined) return undefined;
  if (call !== undefined && notify !== undefined) {
    throw new UsageError("--call and --notify go one at a time");
  }
  const kind = call !== undefined ? "call" : "notify";
  const extra = EXCLUSIVE.find((option) => values[option] !== undefined);
  if (extra !== undefined) throw new UsageError(`--${kind} does not go with --${extra}`);
  if (positionals.length > 1) {
    throw new UsageError(
      `--${kind} takes METHOD and at most one PARAMS_JSON, not ${positionals.length} arguments ` +
        "(quote the JSON)",
    );
  }
  let params: unknown;
  if (positionals.length === 1) {
    try {
      params = JSON.parse(positionals[0]);
    } catch (error) {
      throw new UsageError(`PARAMS_JSON is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof params !== "object" || params === null) {
      throw new UsageError(`PARAMS_JSON must be a JSON array or object, not ${positionals[0]}`);
    }
  }
  return { kind, method: String(call ?? notify), params };
}

/** What {@linkcode runCall} needs. */
export interface CallOptions {
  program: string;
  name: string;
  framing: Framing;
  maxFrame: number;
  /** Milliseconds to wait for the server, and then again for the reply (0: no limit on it). */
  timeout: number;
  /** Print the whole response object rather than its result. */
  json: boolean;
  call: CallArgs;
}

/**
 * Connects, sends the request or notification, and prints the result (or with `json` the whole
 * response) on stdout. Returns the exit status: 0, 4 ({@linkcode EXIT_RPC_ERROR}) for an error
 * response (`PROGRAM: METHOD failed: MESSAGE (code N)` on stderr), 3 if the connection closed
 * first, 1 if no reply came within `timeout`. Throws `ConnectTimeoutError` (exit 2) if no server
 * answers.
 *
 * @example
 * ```ts ignore
 * import { runCall } from "./client_call.ts";
 * const call = { kind: "call", method: "ping", params: undefined } as const;
 * Deno.exit(await runCall({ program: "duct-client", name: "testPipe", framing: "content-length",
 *   maxFrame: 1 << 24, timeout: 5000, json: false, call }));
 * ```
 */
export async function runCall(options: CallOptions): Promise<number> {
  const { name, framing, maxFrame, timeout, call, program } = options;
  const peer = new RpcPeer(await connect({ name, framing, maxFrame, timeout }));
  try {
    if (call.kind === "notify") {
      await peer.notify(call.method, call.params);
      return EXIT_OK;
    }
    let result: unknown;
    const deadline = new AbortController();
    const timer = timeout > 0 ? setTimeout(() => deadline.abort(), timeout) : undefined;
    try {
      result = await peer.request(call.method, call.params, { signal: deadline.signal });
    } catch (error) {
      return failed(error, options, deadline.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
    // This peer's first request has id 1: the response it got is this one.
    print(options.json ? { jsonrpc: "2.0", id: 1, result: result ?? null } : result ?? null);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ConnectionClosedError) {
      return reportError(program, `${call.method}: ${error.message}`, EXIT_UNCONFIRMED);
    }
    throw error;
  } finally {
    await peer.close();
  }
}

function failed(error: unknown, options: CallOptions, timedOut: boolean): number {
  const { program, call, timeout } = options;
  if (error instanceof ConnectionClosedError) {
    const detail = "the connection closed before the reply came (does the server speak " +
      `JSON-RPC in --framing ${options.framing}?)`;
    return reportError(program, `${call.method}: ${detail}`, EXIT_UNCONFIRMED);
  }
  if (timedOut) {
    const seconds = timeout / 1000;
    return reportError(program, `${call.method}: no reply within ${seconds} s`, EXIT_FAILURE);
  }
  if (!(error instanceof RpcError)) throw error;
  if (options.json) print({ jsonrpc: "2.0", id: 1, error: error.toJSON() });
  // Not `reportError`'s "error:" line: the server answered, and this says what it answered.
  const line = `${call.method} failed: ${error.message} (code ${error.code})`;
  const text = escapeText(line.replaceAll("\n", " "), { keepBackslash: true });
  Deno.stderr.writeSync(new TextEncoder().encode(`${program}: ${text}\n`));
  return EXIT_RPC_ERROR;
}

function print(value: unknown): void {
  const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}
