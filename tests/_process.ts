/**
 * A program under test as a subprocess: `server.ts`, `client.ts`, a `deno eval` snippet or any
 * executable, its stdout read line by line (JSON lines parsed into events) as it comes, so that
 * tests wait for what it printed instead of sleeping; always cleaned up with `await using`.
 *
 * Synchronisation is by output: {@linkcode Proc.until} re-checks its condition after each chunk of
 * stdout or stderr and fails at once when the process's output ends first. The only time limit,
 * {@linkcode FAILSAFE_MS}, turns a hang into a failure with a readable message.
 *
 * @module
 */

import { concat } from "../lib/mod.ts";

/** `server.ts`, as a file URL: `deno run` takes one on every OS. */
export const SERVER_SCRIPT: string = new URL("../server.ts", import.meta.url).href;
/** `client.ts`, the client entrypoint. */
export const CLIENT_SCRIPT: string = new URL("../client.ts", import.meta.url).href;
/** `lib/mod.ts`, for `deno eval` snippets that speak the protocol themselves. */
export const LIB_URL: string = new URL("../lib/mod.ts", import.meta.url).href;
/** The repository root as a path, with a trailing slash (a Unix path: Unix-only tests use it). */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** Whether the tests run on Windows (named pipes, no POSIX signals; Wine too). */
export const IS_WINDOWS: boolean = Deno.build.os === "windows";
/** A hang becomes a failure after this long (a failsafe, never a synchronisation). */
export const FAILSAFE_MS = 90_000;
/**
 * Whether the Windows tests run under Wine, which shows Linux's `/proc` as `Z:\proc`: some checks
 * (a DACL against another user, Ctrl+Break, listing `\\.\pipe\`) are provable on real Windows only.
 */
export const UNDER_WINE: boolean = IS_WINDOWS && (() => {
  try {
    Deno.statSync("Z:\\proc\\self\\stat");
    return true;
  } catch {
    return false;
  }
})();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One JSON line a program printed, such as a `server.ts --json` event. */
export type Event = Record<string, unknown> & {
  event?: string;
  client?: number;
  bytes?: number;
  text?: string;
  base64?: string;
  message?: string;
  path?: string;
};

/** JSON lines past this size are not parsed up front: their leading fields are taken by pattern. */
const HUGE_LINE = 64 * 1024;

/** The event of a JSON line, or `undefined` for any other line. */
export function parseJsonLine(line: string): Event | undefined {
  if (!line.startsWith("{")) return undefined;
  const huge = line.length > HUGE_LINE &&
    /^\{"event":"(\w+)","client":(\d+),"bytes":(\d+),"(\w+)":/.exec(line);
  if (huge) {
    // A `message` event of a large payload: parsing megabytes of JSON per frame would make the
    // test, not the program, the bottleneck. The payload field is parsed when a test reads it.
    const [, event, client, bytes, payload] = huge;
    let value: unknown;
    return Object.defineProperty(
      { event, client: Number(client), bytes: Number(bytes) },
      payload,
      { enumerable: true, get: () => value ??= JSON.parse(line)[payload] },
    );
  }
  try {
    return JSON.parse(line);
  } catch {
    return undefined; // Not JSON after all; tests that expect JSON parse `lines` themselves.
  }
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
  /** Start from an empty environment (plus `env`). */
  clearEnv?: boolean;
  /** Working directory. */
  cwd?: string;
  /** Executable to run instead of Deno (the arguments are then its own). */
  command?: string;
  /** Options for `deno run` itself, such as `--preload` ({@linkcode Proc.script} only). */
  denoArgs?: string[];
  /** What a stdout line says as an event, if anything; default: JSON lines, parsed. */
  parse?: (line: string) => Event | undefined;
}

/**
 * A running subprocess whose stdout is read line by line as it comes.
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
  /** The stdout lines read so far that are JSON objects, parsed. */
  readonly events: Event[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #stdoutChunks: Uint8Array[] = [];
  readonly #stderrChunks: Uint8Array[] = [];
  readonly #reading: Promise<void>;
  #wake: PromiseWithResolvers<void> = Promise.withResolvers();
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #outputEnded = false;
  #exited: Deno.CommandStatus | undefined;
  readonly #label: string;
  readonly #parse: (line: string) => Event | undefined;

  /** Runs `deno ARGS…` (or `COMMAND ARGS…` with `options.command`). */
  constructor(args: string[], options: ProcOptions = {}) {
    this.#label = options.command !== undefined
      ? options.command
      : args[0] === "eval"
      ? "deno eval (snippet)"
      : args.slice(2, 5).join(" ");
    this.#parse = options.parse ?? parseJsonLine;
    this.#child = new Deno.Command(options.command ?? Deno.execPath(), {
      args,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      clearEnv: options.clearEnv,
      cwd: options.cwd,
    }).spawn();
    if (options.stdin === "piped") this.#stdin = this.#child.stdin.getWriter();
    this.#status = this.#child.status.then((status) => this.#exited = status);
    this.#reading = Promise.all([this.#readStdout(), this.#readStderr()]).then(() => {
      this.#outputEnded = true;
      this.#notify();
    });
  }

  /** Runs `deno run -A [denoArgs] SCRIPT ARGS…`. */
  static script(script: string, args: string[], options: ProcOptions = {}): Proc {
    return new Proc(["run", "-A", ...options.denoArgs ?? [], script, ...args], options);
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

  /** stdout read so far. */
  get stdout(): string {
    return decoder.decode(concat(this.#stdoutChunks));
  }

  /** stderr read so far. */
  get stderr(): string {
    return decoder.decode(concat(this.#stderrChunks));
  }

  /**
   * Resolves once `check()` holds; it is evaluated now and after each chunk of output. Rejects if
   * the process's output ends first, or after {@linkcode FAILSAFE_MS}, with the output so far.
   */
  async until(check: () => boolean, what: string): Promise<void> {
    const failsafe = Date.now() + FAILSAFE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (!check()) {
        if (this.#outputEnded) throw this.#failure(what, "the process exited first");
        const left = failsafe - Date.now();
        if (left <= 0) throw this.#failure(what, `failsafe: nothing after ${FAILSAFE_MS} ms`);
        const expired = new Promise<void>((resolve) => timer = setTimeout(resolve, left));
        await Promise.race([this.#wake.promise, expired]);
        clearTimeout(timer);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with the exit status without closing stdin (a process that must end on its own);
   * rejects after {@linkcode FAILSAFE_MS}.
   */
  async waitForExit(what: string): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failsafe = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.#failure(what, `still running after ${FAILSAFE_MS} ms`)),
        FAILSAFE_MS,
      );
    });
    try {
      const status = await Promise.race([this.#status, failsafe]);
      await this.#reading;
      return status;
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
  async waitForEvent(match: (event: Event) => boolean, what: string): Promise<Event> {
    let found: Event | undefined;
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

  /** Asks the process to stop (SIGTERM, then SIGKILL as a failsafe) and waits for it. */
  async stop(): Promise<Deno.CommandStatus> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), FAILSAFE_MS);
    try {
      const status = await this.#status;
      await this.#reading;
      return status;
    } finally {
      clearTimeout(timer);
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
  }

  #addLine(line: string): void {
    this.lines.push(line);
    const event = this.#parse(line);
    if (event !== undefined) this.events.push(event);
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.#child.stderr) {
      this.#stderrChunks.push(chunk);
      this.#notify();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  }

  #failure(what: string, why: string): Error {
    const tail = this.lines.slice(-20).join("\n");
    return new Error(
      `${this.#label}: waiting for ${what}: ${why}\n--- stdout (last lines) ---\n${tail}\n` +
        `--- stderr ---\n${this.stderr}`,
    );
  }
}

/**
 * Waits for `proc` to end and returns its output; kills it and fails after `limit` ms instead of
 * hanging the suite.
 */
export async function outputWithin(proc: Proc, limit: number): Promise<Output> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`the program was still running after ${limit} ms`));
    }, limit);
  });
  try {
    return await Promise.race([proc.output(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
