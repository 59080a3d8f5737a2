/**
 * Subprocess helpers for the integration tests: run `server.ts` and `client.ts` (or a `deno eval`
 * snippet) with the running Deno, read their stdout line by line, wait for output events instead
 * of sleeping, and always clean up (`await using`).
 *
 * Everything here is platform-neutral: endpoints are plain names, the runtime is
 * `Deno.execPath()`, and processes are stopped with `SIGKILL` (TerminateProcess on Windows).
 *
 * @module
 */

import { concat, resolveEndpoint } from "../lib/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";

/** `server.ts`, the server entrypoint (a file URL, which `deno run` takes on every OS). */
export const SERVER_SCRIPT: string = new URL("../server.ts", import.meta.url).href;
/** `client.ts`, the client entrypoint. */
export const CLIENT_SCRIPT: string = new URL("../client.ts", import.meta.url).href;
/** `lib/mod.ts`, for `deno eval` snippets that speak the protocol themselves. */
export const LIB_URL: string = new URL("../lib/mod.ts", import.meta.url).href;
/** Whether the tests run on Windows (named pipes, no POSIX signals). */
export const IS_WINDOWS: boolean = Deno.build.os === "windows";
/** The reply of `--reply ack`, where the server defines it. */
export { ACK } from "../server.ts";

/** Longest a test waits for an expected output line before failing (a guard, not a sync). */
const WAIT_LIMIT_MS = 45_000;
/** Longest {@linkcode runScript} lets a process run before killing it (a guard, not a sync). */
const RUN_LIMIT_MS = 90_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A fresh endpoint name for one test: short enough for `sun_path`, unique across parallel runs.
 */
export function uniqueName(label: string): string {
  const random = crypto.getRandomValues(new Uint8Array(5));
  return `duct-${label}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The OS path of endpoint `name`, as the entrypoints resolve it. */
export function endpointPath(name: string): string {
  return resolveEndpoint(name).path;
}

/** How a finished process ended and everything it wrote. */
export interface Output {
  /** Exit status (for a killed process: 128 + signal on Unix, as Deno reports it). */
  code: number;
  /** The signal that ended the process, if any. */
  signal: Deno.Signal | null;
  /** stdout decoded as UTF-8. */
  stdout: string;
  /** stdout's raw bytes. */
  stdoutBytes: Uint8Array;
  /** stdout's lines, without their `\n`. */
  lines: string[];
  /** stderr decoded as UTF-8. */
  stderr: string;
}

/** Options of {@linkcode Proc}. */
export interface ProcOptions {
  /** `"piped"` to write to the process's stdin with {@linkcode Proc.write}; default `"null"`. */
  stdin?: "piped" | "null";
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Executable to run instead of Deno (the arguments are then its own). */
  command?: string;
}

interface Waiter {
  what: string;
  check: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A running `deno` subprocess whose stdout is read line by line as it comes.
 *
 * @example
 * ```ts ignore
 * await using proc = Proc.script(CLIENT_SCRIPT, ["--help"]);
 * const { code, stdout } = await proc.output();
 * ```
 */
export class Proc implements AsyncDisposable {
  /** Lines of stdout read so far. */
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #stdoutChunks: Uint8Array[] = [];
  readonly #stderrChunks: Uint8Array[] = [];
  readonly #reading: Promise<void>;
  readonly #events: Record<string, unknown>[] = [];
  readonly #waiters = new Set<Waiter>();
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #stdoutEnded = false;
  #exited: Deno.CommandStatus | undefined;
  readonly #label: string;

  /** Runs `deno ARGS…` (or `COMMAND ARGS…` with `options.command`). */
  constructor(args: string[], options: ProcOptions = {}) {
    this.#label = options.command !== undefined
      ? options.command
      : args[0] === "eval"
      ? "deno eval (snippet)"
      : args.slice(2, 5).join(" ");
    this.#child = new Deno.Command(options.command ?? Deno.execPath(), {
      args,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    }).spawn();
    if (options.stdin === "piped") this.#stdin = this.#child.stdin.getWriter();
    this.#status = this.#child.status.then((status) => this.#exited = status);
    this.#reading = Promise.all([this.#readStdout(), this.#readStderr()]).then(() => {});
  }

  /** Runs `deno run -A SCRIPT ARGS…`. */
  static script(script: string, args: string[], options: ProcOptions = {}): Proc {
    return new Proc(["run", "-A", script, ...args], options);
  }

  /** Runs `deno eval CODE -- ARGS…`. */
  static eval(code: string, args: string[] = [], options: ProcOptions = {}): Proc {
    return new Proc(["eval", code, "--", ...args], options);
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited !== undefined;
  }

  /** stderr read so far. */
  get stderr(): string {
    return decoder.decode(concat(this.#stderrChunks));
  }

  /** The stdout lines read so far that are JSON objects, parsed. */
  get events(): readonly Record<string, unknown>[] {
    return this.#events;
  }

  /**
   * Resolves once `check()` holds; it is evaluated now and after each new stdout line. Rejects
   * if stdout ends first, or after a generous guard time, with the output so far.
   */
  until(check: () => boolean, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    if (this.#stdoutEnded) return Promise.reject(this.#failure(what, "stdout ended"));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: Waiter = { what, check, resolve, reject };
    this.#waiters.add(waiter);
    const timer = setTimeout(
      () => reject(this.#failure(what, `nothing after ${WAIT_LIMIT_MS} ms`)),
      WAIT_LIMIT_MS,
    );
    return promise.finally(() => {
      clearTimeout(timer);
      this.#waiters.delete(waiter);
    });
  }

  /**
   * Resolves with the exit status without closing stdin (a process that must end on its own);
   * rejects after the guard time.
   */
  async waitForExit(what: string): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.#failure(what, `still running after ${WAIT_LIMIT_MS} ms`)),
        WAIT_LIMIT_MS,
      );
    });
    try {
      return await Promise.race([this.#status, guard]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the first stdout line (already read or coming) for which `match` holds. */
  async waitForLine(match: (line: string) => boolean, what: string): Promise<string> {
    let found: string | undefined;
    await this.until(() => (found = this.lines.find(match)) !== undefined, what);
    return found!;
  }

  /** Resolves with the first JSON event (already read or coming) for which `match` holds. */
  async waitForEvent(
    match: (event: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await this.until(() => (found = this.events.find(match)) !== undefined, what);
    return found!;
  }

  /** Writes to stdin (`stdin: "piped"`); rejects if the process no longer reads it. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#stdin === undefined) throw new Error("stdin is not piped or already closed");
    await this.#stdin.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Closes stdin (end of input for the process); errors of a gone process are ignored. */
  async closeStdin(): Promise<void> {
    const stdin = this.#stdin;
    this.#stdin = undefined;
    await stdin?.close().catch(() => {});
  }

  /** Sends `signal` unless the process has already exited. */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    if (this.exited) return;
    try {
      this.#child.kill(signal);
    } catch (error) {
      // It exited between the check and the kill.
      if (!(error instanceof TypeError) && !(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /** Waits for the process to exit and its output to end (closing stdin first). */
  async output(): Promise<Output> {
    await this.closeStdin();
    const status = await this.#status;
    await this.#reading;
    const stdoutBytes = concat(this.#stdoutChunks);
    return {
      code: status.code,
      signal: status.signal,
      stdout: decoder.decode(stdoutBytes),
      stdoutBytes,
      lines: [...this.lines],
      stderr: this.stderr,
    };
  }

  /** Kills the process if it still runs, then releases everything. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.#stdin?.abort().catch(() => {});
    this.#stdin = undefined;
    await this.#status;
    await this.#reading;
  }

  async #readStdout(): Promise<void> {
    // The chunks of an unfinished line, joined only once its end comes: a 20 MB line read in
    // 64 KiB chunks would otherwise be copied hundreds of times.
    let pending: Uint8Array[] = [];
    for await (const chunk of this.#child.stdout) {
      this.#stdoutChunks.push(chunk);
      let start = 0;
      for (let end; (end = chunk.indexOf(0x0a, start)) >= 0; start = end + 1) {
        pending.push(chunk.subarray(start, end));
        this.#addLine(decoder.decode(concat(pending)));
        pending = [];
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
      this.#notify();
    }
    if (pending.length > 0) this.#addLine(decoder.decode(concat(pending)));
    this.#stdoutEnded = true;
    this.#notify();
  }

  #addLine(line: string): void {
    this.lines.push(line);
    if (!line.startsWith("{")) return;
    try {
      this.#events.push(JSON.parse(line));
    } catch {
      // Not JSON after all; tests that expect JSON parse `lines` themselves.
    }
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.#child.stderr) this.#stderrChunks.push(chunk);
  }

  #notify(): void {
    for (const waiter of this.#waiters) {
      let done: boolean;
      try {
        done = waiter.check();
      } catch (error) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (done) waiter.resolve();
      else if (this.#stdoutEnded) waiter.reject(this.#failure(waiter.what, "stdout ended"));
    }
  }

  #failure(what: string, why: string): Error {
    const tail = this.lines.slice(-20).join("\n");
    return new Error(
      `${this.#label}: waiting for ${what}: ${why}\n--- stdout (last lines) ---\n${tail}\n` +
        `--- stderr ---\n${this.stderr}`,
    );
  }
}

/** Options of {@linkcode Server.start}. */
export interface ServerOptions extends ProcOptions {
  /** Endpoint name; default a fresh {@linkcode uniqueName}. */
  name?: string;
  /** Print JSON events (`--json`, the default) or human lines. */
  json?: boolean;
}

/**
 * A running `server.ts`, started and waited for until it listens.
 *
 * @example
 * ```ts ignore
 * await using server = await Server.start(["--reply", "echo"]);
 * const output = await runClient(["--name", server.name, "hello"]);
 * ```
 */
export class Server extends Proc {
  /** The endpoint name. */
  readonly name: string;
  /** The endpoint's OS path (socket file or `\\.\pipe\…`). */
  path: string;

  private constructor(args: string[], name: string, options: ProcOptions) {
    super(args, options);
    this.name = name;
    this.path = endpointPath(name);
  }

  /** Starts `server.ts --name NAME [--json] ARGS…` and resolves once it listens. */
  static async start(args: string[] = [], options: ServerOptions = {}): Promise<Server> {
    const name = options.name ?? uniqueName("srv");
    const json = options.json ?? true;
    const server = new Server(
      ["run", "-A", SERVER_SCRIPT, "--name", name, ...(json ? ["--json"] : []), ...args],
      name,
      options,
    );
    try {
      if (json) {
        const event = await server.waitForEvent((e) => e.event === "listening", "listening");
        server.path = String(event.path);
      } else {
        await server.waitForLine((line) => line.startsWith("listening on "), "listening");
      }
    } catch (error) {
      await server[Symbol.asyncDispose]();
      throw error;
    }
    return server;
  }

  /** Kills the server if it still runs; removes the socket file a killed server leaves. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await super[Symbol.asyncDispose]();
    await removeSocketFile(this.path);
  }

  /** The JSON events of one kind (optionally of one client). */
  eventsOf(kind: string, client?: number): Record<string, unknown>[] {
    return this.events.filter((e) =>
      e.event === kind && (client === undefined || e.client === client)
    );
  }

  /** Resolves once `count` events of `kind` have been printed. */
  async waitForCount(kind: string, count: number): Promise<void> {
    await this.until(() => this.eventsOf(kind).length >= count, `${count} "${kind}" events`);
  }
}

/** Removes the Unix socket file at `path` if there is one (a test's own, leftover endpoint). */
export async function removeSocketFile(path: string): Promise<void> {
  if (IS_WINDOWS) return;
  try {
    if ((await Deno.lstat(path)).isSocket) await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Asserts that a CLI failed with exactly one line on stderr, `PROGRAM: error: …`, containing
 * `text`, and printed nothing on stdout.
 */
export function assertOneLineError(output: Output, program: string, text: string): void {
  assertStringIncludes(output.stderr, text);
  assert(output.stderr.startsWith(`${program}: error: `), `stderr: ${output.stderr}`);
  assert(
    output.stderr.endsWith("\n") && output.stderr.indexOf("\n") === output.stderr.length - 1,
    `expected one line on stderr, got ${JSON.stringify(output.stderr)}`,
  );
  assertEquals(output.stdout, "");
}

/** Options of {@linkcode runClient}. */
export interface RunOptions extends ProcOptions {
  /** Bytes written to stdin, which is then closed; stdin is null when absent. */
  input?: string | Uint8Array;
  /**
   * On Windows, connect the process's stdin, stdout and stderr to files through `cmd.exe`
   * instead of pipes. Deno reads child pipes on a small pool of blocking threads there, so with
   * dozens of piped children at once it stops reading some of them and everything stalls.
   */
  viaFiles?: boolean;
}

// Characters that need no quoting for cmd.exe (paths, URLs, names, flags, numbers).
const PLAIN_ARG = /^[\w.:\\/=-]+$/;

async function runViaFiles(script: string, args: string[], options: RunOptions): Promise<Output> {
  const dir = await Deno.makeTempDir({ prefix: "duct-run-" });
  try {
    const [input, out, err] = ["in", "out", "err"].map((name) => `${dir}\\${name}`);
    await Deno.writeFile(
      input,
      typeof options.input === "string"
        ? encoder.encode(options.input)
        : options.input ?? new Uint8Array(0),
    );
    const words = [Deno.execPath(), "run", "-A", script, ...args];
    for (const word of [...words, dir]) {
      if (!PLAIN_ARG.test(word)) throw new Error(`viaFiles cannot pass ${word} through cmd.exe`);
    }
    const command = `${words.join(" ")} < ${input} > ${out} 2> ${err}`;
    const status = await new Deno.Command("cmd.exe", {
      args: ["/d", "/s", "/c", command],
      env: options.env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(RUN_LIMIT_MS),
    }).output();
    const stdoutBytes = await Deno.readFile(out);
    const stdout = decoder.decode(stdoutBytes);
    // Split as Proc does: on "\n", a last unterminated line kept.
    const lines = stdout.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stdoutBytes,
      lines,
      stderr: decoder.decode(await Deno.readFile(err)),
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `deno run -A SCRIPT ARGS…` to completion, feeding `input` to its stdin. */
export async function runScript(
  script: string,
  args: string[],
  options: RunOptions = {},
): Promise<Output> {
  if (options.viaFiles && IS_WINDOWS) return await runViaFiles(script, args, options);
  const { input, viaFiles: _, ...rest } = options;
  await using proc = Proc.script(script, args, {
    ...rest,
    stdin: input === undefined ? rest.stdin : "piped",
  });
  // Written concurrently with reading the output, so large inputs cannot deadlock.
  const writing = input === undefined ? Promise.resolve() : proc.write(input).catch(() => {});
  // A hung process fails its test (through the exit status) instead of hanging the suite.
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    proc.kill("SIGKILL");
  }, RUN_LIMIT_MS);
  try {
    const [output] = await Promise.all([proc.output(), writing]);
    if (hung) output.stderr += `\n[killed by the test: still running after ${RUN_LIMIT_MS} ms]`;
    return output;
  } finally {
    clearTimeout(guard);
  }
}

/** A background writer of numbered lines; see {@linkcode feedNumberedLines}. */
export interface Feeder {
  /** Stops writing and resolves once the last write has settled. */
  stop(): Promise<void>;
}

/**
 * Writes `m0`, `m1`, … to `proc`'s stdin, 50 lines a write, until stopped or until the process
 * stops reading, so that it is still sending when something happens to its server.
 */
export function feedNumberedLines(proc: Proc): Feeder {
  let feeding = true;
  const done = (async () => {
    for (let batch = 0; feeding; batch++) {
      const lines = Array.from({ length: 50 }, (_, i) => `m${batch * 50 + i}\n`).join("");
      try {
        await proc.write(lines);
      } catch {
        return; // The process exited.
      }
    }
  })();
  return {
    stop() {
      feeding = false;
      return done;
    },
  };
}

/** Runs `client.ts ARGS…` to completion. */
export function runClient(args: string[], options: RunOptions = {}): Promise<Output> {
  return runScript(CLIENT_SCRIPT, args, options);
}

/** Runs `server.ts ARGS…` to completion (for `--help`, usage errors, refusals). */
export function runServer(args: string[], options: RunOptions = {}): Promise<Output> {
  return runScript(SERVER_SCRIPT, args, options);
}

/** The JSON objects printed one per line in `output`. */
export function jsonLines(output: Output): Record<string, unknown>[] {
  return output.lines.filter((line) => line !== "").map((line) => JSON.parse(line));
}

/**
 * Whether `bytes` holds a control byte other than `\n` (C0, ESC, DEL): raw payload bytes or
 * colour codes leaking into output meant for a terminal or a pipe.
 */
export function hasRawControlBytes(bytes: Uint8Array): boolean {
  return bytes.some((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
}

/** `chunks` joined into one array. */
